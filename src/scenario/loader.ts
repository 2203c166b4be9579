/**
 * Reads a scenario file: YAML -> plain values -> every section validated ->
 * the typed Scenario. All problems are collected and thrown together as one
 * InputError, so a user fixes a file in one pass.
 */
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { LineCounter, parseDocument, visit, type Document } from 'yaml';
import { z } from 'zod';
import { InputError } from '../errors.js';
import type { Scenario } from './types.js';
import { readRoles, type Env } from './accounts.js';
import { strictFields, text } from './fields.js';
import { checkRoleNetworks, readNetwork, scenarioNetwork } from './network.js';
import { locator, type Locate } from './positions.js';
import { joinPath, Problems, type Problem } from './problems.js';
import { checkLoadAgainst, readLoad, readOptions, readTarget, readThresholds, scenarioName } from './settings.js';
import { readSteps } from './steps.js';

export const SCENARIO_HINT = 'fix the fields listed above; see README.md "Scenario reference"';
const SYNTAX_HINT = 'fix the YAML at the line and column shown';

export interface LoadOptions {
  /** Where passwordEnv variables are read; defaults to process.env. */
  env?: Env;
  /**
   * Checks the threshold expressions too, so their problems are listed with
   * the file's others, each at its line. verdict/ knows the expressions and
   * scenario/ may not import it: the caller hands the check in (cli/prepare.ts).
   */
  thresholds?: ThresholdCheck;
}

/** A problem per bad threshold: the metric as written, the expression's index in its list (none: the metric itself). */
export interface ThresholdCheck {
  problems: (thresholds: Scenario['thresholds']) => readonly { metricLabel: string; index?: number; message: string }[];
  /** Shown when the thresholds are all that is wrong. */
  hint: string;
}

/** Reads, parses and validates; throws InputError listing every problem found. */
export async function loadScenario(file: string, options: LoadOptions = {}): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a folder, not a file' : `cannot read it (${code ?? String(error)})`;
    const message = `${file}: ${reason}`;
    throw new InputError(message, 'check the scenario path (scenarios live in scenarios/*.yaml)', [message]);
  }
  return parseScenario(text, file, options);
}

/** Same as loadScenario, from text; `file` is used in messages and to resolve relative paths. */
export function parseScenario(text: string, file: string, options: LoadOptions = {}): Scenario {
  const { value, locate } = parseYaml(text, file);
  const problems = new Problems();
  const { scenario, thresholdProblems } = readScenario(value, file, { env: options.env ?? process.env, thresholds: options.thresholds }, problems);
  if (problems.count > 0 || !scenario) {
    const hint = options.thresholds && thresholdProblems === problems.count ? options.thresholds.hint : SCENARIO_HINT;
    throw scenarioError(file, problems.list.map((problem) => formatProblem(file, problem, locate)), hint);
  }
  return scenario;
}

/** `file:LINE:COL: path: message`, the form editors and CI annotators read; the line is the field's, or its nearest parent's. */
function formatProblem(file: string, { path, message }: Problem, locate: Locate): string {
  const position = locate(path);
  const where = position ? `${file}:${position.line}:${position.col}` : file;
  return path === '' ? `${where}: ${message}` : `${where}: ${path}: ${message}`;
}

function scenarioError(file: string, lines: string[], hint: string): InputError {
  const message = lines.length === 1 && lines[0] !== undefined ? lines[0] : `${file}: ${lines.length} problems`;
  return new InputError(message, hint, lines);
}

function parseYaml(text: string, file: string): { value: unknown; locate: Locate } {
  const lineCounter = new LineCounter();
  let document: Document.Parsed;
  try {
    // logLevel 'error': yaml's warnings (e.g. collection keys) would go to the console, not to the user's report.
    document = parseDocument(text, { lineCounter, prettyErrors: false, logLevel: 'error' });
  } catch (error) {
    // Nesting deep enough to exhaust the stack is not a scenario anyone wrote by hand.
    throw scenarioError(file, [`${file}: cannot parse the YAML (${error instanceof Error ? error.message : String(error)})`], SYNTAX_HINT);
  }
  if (document.errors.length > 0) {
    const lines = document.errors.map((error) => {
      const { line, col } = lineCounter.linePos(error.pos[0]);
      const message = error.code === 'MULTIPLE_DOCS' ? 'a scenario file holds one YAML document; remove the second "---"' : error.message;
      return `${file}:${line}:${col}: ${message}`;
    });
    throw scenarioError(file, lines, SYNTAX_HINT);
  }
  keepIntegerText(document, text);
  try {
    return { value: document.toJS(), locate: locator(document, lineCounter) };
  } catch (error) {
    // Unresolved aliases and alias bombs surface here, not as parse errors.
    throw scenarioError(file, [`${file}: ${error instanceof Error ? error.message : String(error)}`], SYNTAX_HINT);
  }
}

/**
 * YAML reads `user: 0123` and `user: +4930123` as the numbers 123 and 4930123,
 * silently changing SIP users and PINs. Integers whose text differs from their
 * value stay text; numeric fields then report them, quoted, instead of guessing.
 */
function keepIntegerText(document: Document.Parsed, text: string): void {
  visit(document, {
    Scalar(_key, node) {
      if (typeof node.value !== 'number' || node.type !== 'PLAIN' || !node.range) return;
      const source = text.slice(node.range[0], node.range[1]);
      if (/^[+-]?\d+$/.test(source) && source !== String(node.value)) node.value = source;
    },
  });
}

export const topLevel = strictFields(
  {
    name: z.unknown().optional(),
    description: z.unknown().optional(),
    target: z.unknown().optional(),
    options: z.unknown().optional(),
    load: z.unknown().optional(),
    thresholds: z.unknown().optional(),
    network: z.unknown().optional(),
    roles: z.unknown().optional(),
    steps: z.unknown().optional(),
  },
  'a scenario: a mapping with name, roles and steps',
);

function readScenario(
  value: unknown,
  file: string,
  { env, thresholds: thresholdCheck }: { env: Env; thresholds: ThresholdCheck | undefined },
  problems: Problems,
): { scenario?: Scenario; thresholdProblems: number } {
  if (value === null || value === undefined) {
    problems.add('', 'the file is empty; a scenario needs at least name, roles and steps');
    return { thresholdProblems: 0 };
  }
  // Unknown top-level fields are reported, then each section is read on its own so one bad section does not hide the others.
  problems.parse(topLevel, value, '');
  if (typeof value !== 'object' || Array.isArray(value)) return { thresholdProblems: 0 };
  const fields = value as Record<string, unknown>;
  const name = problems.parse(scenarioName, fields.name, 'name');
  const description = problems.parse(text('a description').optional(), fields.description, 'description');
  const target = readTarget(fields.target, dirname(file), problems, env);
  const { options, stepTimeoutSeconds } = readOptions(fields.options, problems);
  const problemsBeforeLoad = problems.count;
  const load = readLoad(fields.load, problems);
  const loadRead = problems.count === problemsBeforeLoad;
  const thresholds = readThresholds(fields.thresholds, problems);
  const thresholdProblems = thresholdCheck ? checkThresholds(thresholds, thresholdCheck, problems) : 0;
  const network = readNetwork(fields.network, problems);
  const { roles, names } = readRoles(fields.roles, env, problems, dirname(file));
  checkRoleNetworks(roles, network, problems);
  const steps = readSteps(fields.steps, { roles, roleNames: names, stepTimeoutSeconds, network }, problems);
  // A load section with problems of its own would only add noise here.
  if (loadRead) checkLoadAgainst(load, roles, steps, problems);
  if (name === undefined) return { thresholdProblems };
  const scenario: Scenario = {
    name,
    ...(description === undefined ? {} : { description }),
    file,
    ...(target ? { target } : {}),
    roles,
    steps,
    load,
    options,
    thresholds,
  };
  const impairment = scenarioNetwork(roles, network);
  if (impairment) scenario.network = impairment;
  return { scenario, thresholdProblems };
}

/** The expressions themselves (readThresholds checked only their shape); returns how many problems it found. */
function checkThresholds(thresholds: Scenario['thresholds'], check: ThresholdCheck, problems: Problems): number {
  const found = check.problems(thresholds);
  for (const { metricLabel, index, message } of found) {
    const path = joinPath('thresholds', metricLabel);
    problems.add(index === undefined ? path : joinPath(path, index), message);
  }
  return found.length;
}
