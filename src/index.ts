/**
 * callwright's public API: what a program needs to drive callwright from
 * code, as the CLI does. Load (and so validate) a scenario, run it, read the
 * results; add a reporter of your own to see every event as it happens.
 * Everything else is internal and may change between versions.
 *
 *   import { loadScenario, runScenario } from 'callwright';
 *   const scenario = await loadScenario('scenarios/smoke.yaml');
 *   const { summary } = await runScenario({ scenario, outDir: 'reports/smoke' });
 *   process.exitCode = summary.exitCode;
 */

import { loadScenario as loadScenarioFile, parseScenario as parseScenarioText, type LoadOptions } from './scenario/index.js';
import type { Scenario } from './scenario/types.js';
import { thresholdProblems, THRESHOLDS_HINT } from './verdict/index.js';

/** Thresholds are checked with the rest of the file, each problem at its line, as `callwright validate` does. */
const CHECKED: LoadOptions = { thresholds: { problems: thresholdProblems, hint: THRESHOLDS_HINT } };

/** Reads and validates a scenario file, thresholds included; an InputError lists every problem as `file:line:column: field: message`. */
export function loadScenario(file: string, options: LoadOptions = {}): Promise<Scenario> {
  return loadScenarioFile(file, { ...CHECKED, ...options });
}

/** The same for YAML text; `file` names it in messages. */
export function parseScenario(yaml: string, file: string, options: LoadOptions = {}): Scenario {
  return parseScenarioText(yaml, file, { ...CHECKED, ...options });
}
export type { LoadOptions };
export type { Scenario, Role, Account, Step, Load, ScenarioOptions, Target } from './scenario/types.js';

/** One run: browsers, calls, reports in outDir, and the verdict in summary.exitCode. */
export { runScenario, type RunOptions, type RunOutcome } from './runner/run.js';

/** k6-style thresholds: parse your own (the scenario's are used when none are given). */
export { parseThresholds, thresholdsFromOptions, mergeThresholdSpecs, exitCodeMeaning, type ParsedThreshold, type ThresholdResult, type ThresholdSpec } from './verdict/index.js';

/** What a run produces: a reporter sees every event and every finished call. */
export type { Reporter, RunEnd } from './report/reporter.js';
export type { RunEvent, RunInfo, RunSummary, CallResult, StepResult, LegSample, FailureReason, ShardInfo } from './results.js';

/** Errors with an exit code and a hint; ExitCode lists the codes CI gates on. */
export { CallwrightError, InputError, InfraError, ExitCode } from './errors.js';
export { createLogger, type Logger, type LogLevel } from './log.js';
