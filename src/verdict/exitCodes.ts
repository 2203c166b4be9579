/**
 * callwright's exit codes: stable, so CI can rely on them. The first that
 * applies wins, in this order:
 *
 *   code  meaning                  when
 *   ----  -----------------------  -----------------------------------------------------------
 *      2  bad input                scenario, option, fixture, threshold or --out folder is wrong
 *      3  infrastructure failure   SIP server unreachable, browser would not start (merge: a
 *                                  shard missing)
 *     70  internal error           a bug in callwright (EX_SOFTWARE); the message says "please
 *                                  report it" and shows the stack
 *    130  interrupted              stopped from outside (Ctrl-C, SIGINT or SIGTERM) before the
 *                                  end: a first signal stops gracefully and writes the reports,
 *                                  a second kills the browsers at once; either way 130
 *     99  thresholds failed        at least one threshold did not hold (outranks 1)
 *      1  calls or steps failed    a call failed that no expect step asked for, or a step
 *                                  failed; and no threshold failed
 *      0  pass                     everything held
 *
 * 130 outranks the thresholds: a stopped run's figures are partial (its
 * unplaced calls count as failed `interrupted` ones), so a threshold judged on
 * them is not the verdict the run set out to reach. A run stopped by an
 * abortOnFail threshold is not interrupted: that is the threshold's verdict, 99.
 *
 * On 2, 3 and 70 with an existing --out folder, summary.json (unless the run is
 * a shard) and junit.xml carry the error instead of a verdict
 * (src/report/errorVerdict.ts); no exit leaves an older run's verdict there
 * (src/report/runOwnedFiles.ts).
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
 * outcomeExitCode's 0, 1 or 130) and the thresholds.
 */
export function verdictExitCode(summary: Pick<RunSummary, 'exitCode' | 'interrupted'>, thresholds: readonly ThresholdResult[]): number {
  // The run never measured what it set out to: that is the news, not the thresholds.
  if (NO_VERDICT.has(summary.exitCode)) return summary.exitCode;
  if (summary.interrupted) return ExitCode.interrupted;
  if (thresholds.some((result) => !result.passed)) return ExitCode.thresholdsFailed;
  const thresholdsJudgeFailures = thresholds.some((result) => OUTCOME_METRICS.has(result.threshold.metric));
  if (thresholdsJudgeFailures) return ExitCode.pass;
  return summary.exitCode === ExitCode.pass ? ExitCode.pass : ExitCode.failed;
}

/** Codes of a run that ended in an error, before any verdict: kept whatever the thresholds say. */
const NO_VERDICT: ReadonlySet<number> = new Set([ExitCode.badInput, ExitCode.infrastructure, ExitCode.internalError]);

/**
 * The run's own code before thresholds: 130 when it was interrupted; else 1
 * when a step failed, a call failed that no expect step asked for or an
 * iteration failed; else 0. The runner and `merge` both judge by it.
 */
export function outcomeExitCode(summary: Pick<RunSummary, 'calls' | 'steps' | 'iterations' | 'interrupted'>): number {
  if (summary.interrupted) return ExitCode.interrupted;
  const unexpectedFailures = summary.calls.failed - summary.calls.failedExpected;
  return summary.steps.failed > 0 || unexpectedFailures > 0 || summary.iterations.failed > 0 ? ExitCode.failed : ExitCode.pass;
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
    case ExitCode.internalError:
      return 'internal error (a bug)';
    case ExitCode.interrupted:
      return 'interrupted';
    default:
      return `exit ${code}`;
  }
}
