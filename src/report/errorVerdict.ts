/**
 * The verdict of a run that ended in an error instead of a verdict: bad input
 * (exit 2), broken infrastructure (3), a bug (70), or a forced stop (130).
 * junit.xml gets one testcase, `<scenario>.run` / `run` as in a finished
 * run's, with an <error> naming the problem and the exit code; summary.json
 * gets the run's summary with zero counts, the exit code and an `error`
 * object. So CI reads this run's failure, never an older run's PASS.
 *
 * Written synchronously: a forced stop writes it from its signal handler,
 * just before the process exits.
 */
import { randomBytes } from 'node:crypto';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { CallwrightError, exitCodeOf, ExitCode, InputError } from '../errors.js';
import type { RunInfo, RunSummary } from '../results.js';
import { withoutUrlCredentials } from '../common/redact.js';
import { exitCodeMeaning } from '../verdict/exitCodes.js';
import { StepTally } from './aggregate.js';
import { JUNIT_XML } from './junitXml.js';
import { redactSip } from './sipEvidence.js';
import { SUMMARY_JSON, summaryDocument, type SummaryDocument } from './summaryJson.js';
import { escapeXmlText, xmlAttributes } from './xml.js';

export type RunErrorType = 'bad_input' | 'infrastructure' | 'internal_error' | 'interrupted';

/** summary.json's `error`, and junit.xml's <error>. */
export interface RunError {
  exitCode: number;
  type: RunErrorType;
  message: string;
  hint?: string;
  /** Every problem, when input validation found several. */
  problems?: readonly string[];
  /** A bug's stack, for its report. */
  stack?: string;
}

/** summary.json of a run that ended in an error. */
export interface ErrorSummaryDocument extends SummaryDocument {
  error: RunError;
}

const TYPES: Readonly<Record<number, RunErrorType>> = {
  [ExitCode.badInput]: 'bad_input',
  [ExitCode.infrastructure]: 'infrastructure',
  [ExitCode.internalError]: 'internal_error',
  [ExitCode.interrupted]: 'interrupted',
};

/** What a thrown error says, as the CLI tells it (src/cli/reportError.ts): ours with message and hint; anything else is a bug. */
export function runErrorOf(error: unknown): RunError {
  const exitCode = exitCodeOf(error);
  const type = TYPES[exitCode] ?? 'internal_error';
  if (error instanceof CallwrightError) {
    const problems = error instanceof InputError && error.problems.length > 1 ? { problems: error.problems } : {};
    return { exitCode, type, message: error.message, ...(error.hint ? { hint: error.hint } : {}), ...problems };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { exitCode, type, message: `unexpected error (a bug; please report it): ${message}`, ...(error instanceof Error && error.stack ? { stack: error.stack } : {}) };
}

export interface ErrorVerdict {
  /** As far as the run got to know it (the scenario may not have loaded). */
  info: RunInfo;
  error: RunError;
  endedAtMs?: number;
  /** Account passwords: never written, should one appear in an error message. */
  secrets?: readonly string[];
}

/**
 * Writes junit.xml, and summary.json unless `summaryJson` is false (a shard:
 * `merge` counts a shard folder without summary.json as missing, which an
 * errored shard is; a forced stop: its CSV files are partial and its counts
 * unknown). Returns the paths written.
 */
export function writeErrorVerdict(outDir: string, verdict: ErrorVerdict, options: { summaryJson: boolean }): string[] {
  const scrubbed = { ...verdict, error: scrub(verdict.error, verdict.secrets ?? []) };
  const junit = join(outDir, JUNIT_XML);
  writeFileAtomicallySync(junit, renderErrorJunit(scrubbed));
  if (!options.summaryJson) return [junit];
  const summary = join(outDir, SUMMARY_JSON);
  writeFileAtomicallySync(summary, `${JSON.stringify(errorSummaryDocument(scrubbed), null, 2)}\n`);
  return [junit, summary];
}

export function errorSummaryDocument(verdict: ErrorVerdict): ErrorSummaryDocument {
  const endedAtMs = verdict.endedAtMs ?? Date.now();
  const summary: RunSummary = {
    info: verdict.info,
    endedAtMs,
    durationSeconds: Math.max(0, endedAtMs - verdict.info.startedAtMs) / 1000,
    interrupted: verdict.error.exitCode === ExitCode.interrupted,
    iterations: { planned: verdict.info.plannedIterations, started: 0, passed: 0, failed: 0, dropped: 0 },
    calls: { total: 0, succeeded: 0, failed: 0, failedExpected: 0, byReason: {} },
    steps: { total: 0, passed: 0, failed: 0 },
    registrations: { attempted: 0, succeeded: 0 },
    exitCode: verdict.error.exitCode,
  };
  return { ...summaryDocument(summary, [], new StepTally()), error: verdict.error };
}

export function renderErrorJunit(verdict: ErrorVerdict, host = hostname()): string {
  const { info, error } = verdict;
  const durationSeconds = Math.max(0, (verdict.endedAtMs ?? Date.now()) - info.startedAtMs) / 1000;
  const time = durationSeconds > 0 ? durationSeconds.toFixed(3) : '0.000';
  const headline = `exit ${error.exitCode} (${exitCodeMeaning(error.exitCode)}): ${error.message}`;
  const body = [error.message, ...(error.problems ?? []).map((problem) => `  ${problem}`), ...(error.hint ? [`hint: ${error.hint}`] : []), ...(error.stack ? [error.stack] : [])].join('\n');
  const properties = {
    runId: info.runId,
    scenarioFile: info.scenarioFile,
    target: withoutUrlCredentials(info.target.url),
    exitCode: String(error.exitCode),
    ...(info.shard ? { shard: `${info.shard.index}/${info.shard.count}` } : {}),
  };
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${xmlAttributes({ name: 'callwright', tests: 1, failures: 0, errors: 1, time })}>`,
    `  <testsuite${xmlAttributes({
      name: info.scenario,
      tests: 1,
      failures: 0,
      errors: 1,
      skipped: 0,
      time,
      timestamp: new Date(info.startedAtMs).toISOString().slice(0, 19),
      hostname: host,
      id: 0,
      package: 'callwright',
    })}>`,
    '    <properties>',
    ...Object.entries(properties).map(([name, value]) => `      <property${xmlAttributes({ name, value })}/>`),
    '    </properties>',
    `    <testcase${xmlAttributes({ classname: `${info.scenario}.run`, name: 'run', time })}>`,
    `      <error${xmlAttributes({ type: error.type, message: headline })}>${escapeXmlText(`${body}\n`)}</error>`,
    '    </testcase>',
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

/** Passwords, digest responses and URL credentials out of everything the error says. */
function scrub(error: RunError, secrets: readonly string[]): RunError {
  const clean = (text: string) => redactSip(text, secrets).replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, '$1');
  return {
    ...error,
    message: clean(error.message),
    ...(error.hint ? { hint: clean(error.hint) } : {}),
    ...(error.problems ? { problems: error.problems.map(clean) } : {}),
    ...(error.stack ? { stack: clean(error.stack) } : {}),
  };
}

/** Readers see the old file or the new one, never half (as common/atomicWrite.ts, but usable from a signal handler). */
function writeFileAtomicallySync(path: string, content: string): void {
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(temporary, content);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}
