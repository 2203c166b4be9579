/**
 * callwright's exit codes: stable, so CI can rely on them.
 *
 *   code  meaning                                    when
 *   ----  -----------------------------------------  ----------------------------------------------
 *      0  pass                                       everything held
 *      1  calls or steps failed                      a call failed that no expect step asked for, a
 *                                                    step failed, or the run was interrupted; and no
 *                                                    threshold failed
 *     99  thresholds failed                          at least one threshold did not hold (outranks 1)
 *      2  bad input                                  scenario, option, fixture or threshold is wrong
 *      3  infrastructure failure                     SIP server unreachable, browser would not start
 *
 * `callwright compare` has its own meaning for 1: a regression beyond the
 * tolerance (see src/report/compareRuns.ts); 2 is still bad input.
 *
 * Outcome thresholds (call_success, step_success, failed_calls) state how
 * many failures a run may have, so when a run has one, the thresholds judge
 * failed calls and steps instead of "any failure is 1": a load test with
 * `call_success: ['rate>=0.99']` and 0.5% failed calls exits 0. Without an
 * outcome threshold, any failed call or step still exits 1, whatever the
 * other thresholds (setup_time, mos...) say: those judge quality, not failures.
 */
import { ExitCode } from '../errors.js';
import type { RunSummary } from '../results.js';
import type { ThresholdResult } from './evaluate.js';
import { OUTCOME_METRICS } from './metrics.js';

export { ExitCode };

/**
 * The run's final exit code from the runner's own code (summary.exitCode:
 * 0 or 1, counting failed calls/steps and interruption) and the thresholds.
 */
export function verdictExitCode(summary: Pick<RunSummary, 'exitCode' | 'interrupted'>, thresholds: readonly ThresholdResult[]): number {
  // The run never measured what it set out to: that is the news, not the thresholds.
  if (summary.exitCode === ExitCode.badInput || summary.exitCode === ExitCode.infrastructure) return summary.exitCode;
  if (thresholds.some((result) => !result.passed)) return ExitCode.thresholdsFailed;
  const thresholdsJudgeFailures = thresholds.some((result) => OUTCOME_METRICS.has(result.threshold.metric));
  if (thresholdsJudgeFailures) return summary.interrupted ? ExitCode.failed : ExitCode.pass;
  return summary.exitCode === ExitCode.pass ? ExitCode.pass : ExitCode.failed;
}

/**
 * The run's own code before thresholds: 1 when a step failed, a call failed
 * that no expect step asked for, an iteration failed or the run was
 * interrupted; else 0. The runner and `merge` both judge by it.
 */
export function outcomeExitCode(summary: Pick<RunSummary, 'calls' | 'steps' | 'iterations' | 'interrupted'>): number {
  const unexpectedFailures = summary.calls.failed - summary.calls.failedExpected;
  return summary.steps.failed > 0 || unexpectedFailures > 0 || summary.interrupted || summary.iterations.failed > 0 ? ExitCode.failed : ExitCode.pass;
}

/** `callwright compare`: 1 means a regression beyond the tolerance; 2 (bad input) as everywhere. */
export const COMPARE_EXIT = { noRegression: 0, regression: 1 } as const;

/** Short words for a code, for the summary line and reports. */
export function exitCodeMeaning(code: number): string {
  switch (code) {
    case ExitCode.pass:
      return 'pass';
    case ExitCode.failed:
      return 'calls or steps failed';
    case ExitCode.thresholdsFailed:
      return 'thresholds failed';
    case ExitCode.badInput:
      return 'bad input';
    case ExitCode.infrastructure:
      return 'infrastructure failure';
    default:
      return `exit ${code}`;
  }
}
