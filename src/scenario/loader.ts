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
import { Problems, type Problem } from './problems.js';
import { checkLoadAgainst, readLoad, readOptions, readTarget, readThresholds, scenarioName } from './settings.js';
import { readSteps } from './steps.js';

export const SCENARIO_HINT = 'fix the fields listed above; see README.md "Scenario reference"';
const SYNTAX_HINT = 'fix the YAML at the line and column shown';

export interface LoadOptions {
  /** Where passwordEnv variables are read; defaults to process.env. */
  env?: Env;
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
  const value = parseYaml(text, file);
  const problems = new Problems();
  const scenario = readScenario(value, file, options.env ?? process.env, problems);
  if (problems.count > 0 || !scenario) throw scenarioError(file, problems.list.map((problem) => formatProblem(file, problem)), SCENARIO_HINT);
  return scenario;
}

function formatProblem(file: string, { path, message }: Problem): string {
  return path === '' ? `${file}: ${message}` : `${file}: ${path}: ${message}`;
}

function scenarioError(file: string, lines: string[], hint: string): InputError {
  const message = lines.length === 1 && lines[0] !== undefined ? lines[0] : `${file}: ${lines.length} problems`;
  return new InputError(message, hint, lines);
}

function parseYaml(text: string, file: string): unknown {
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
    return document.toJS();
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

const topLevel = strictFields(
  {
    name: z.unknown().optional(),
    description: z.unknown().optional(),
    target: z.unknown().optional(),
    options: z.unknown().optional(),
    load: z.unknown().optional(),
    thresholds: z.unknown().optional(),
    roles: z.unknown().optional(),
    steps: z.unknown().optional(),
  },
  'a scenario: a mapping with name, roles and steps',
);

function readScenario(value: unknown, file: string, env: Env, problems: Problems): Scenario | undefined {
  if (value === null || value === undefined) {
    problems.add('', 'the file is empty; a scenario needs at least name, roles and steps');
    return undefined;
  }
  // Unknown top-level fields are reported, then each section is read on its own so one bad section does not hide the others.
  problems.parse(topLevel, value, '');
  if (typeof value !== 'object' || Array.isArray(value)) return undefined;
  const fields = value as Record<string, unknown>;
  const name = problems.parse(scenarioName, fields.name, 'name');
  const description = problems.parse(text('a description').optional(), fields.description, 'description');
  const target = readTarget(fields.target, dirname(file), problems);
  const { options, stepTimeoutSeconds } = readOptions(fields.options, problems);
  const problemsBeforeLoad = problems.count;
  const load = readLoad(fields.load, problems);
  const loadRead = problems.count === problemsBeforeLoad;
  const thresholds = readThresholds(fields.thresholds, problems);
  const { roles, names } = readRoles(fields.roles, env, problems, dirname(file));
  const steps = readSteps(fields.steps, { roles, roleNames: names, stepTimeoutSeconds }, problems);
  // A load section with problems of its own would only add noise here.
  if (loadRead) checkLoadAgainst(load, roles, steps, problems);
  if (name === undefined) return undefined;
  return {
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
}
