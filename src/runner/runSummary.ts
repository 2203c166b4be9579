/**
 * The end of a run: its facts summed into the RunSummary, then judged once
 * (thresholds, then the exit code), then handed to every reporter and the
 * run's report files.
 */
import { ExitCode } from '../errors.js';
import type { CallResult, RunInfo, RunSummary, StepResult } from '../results.js';
import type { ReporterMultiplexer } from '../report/index.js';
import { evaluateThresholds, outcomeExitCode, verdictExitCode, type ParsedThreshold, type ThresholdResult } from '../verdict/index.js';

export interface RunFacts {
  interrupted: boolean;
  iterations: RunSummary['iterations'];
  calls: CallResult[];
  steps: StepResult[];
  registrations: RunSummary['registrations'];
}

export interface RunOutcome {
  summary: RunSummary;
  calls: CallResult[];
  steps: StepResult[];
  thresholds: ThresholdResult[];
}

export function summarize(info: RunInfo, facts: RunFacts): RunSummary {
  const byReason: RunSummary['calls']['byReason'] = {};
  for (const call of facts.calls) if (call.failureReason) byReason[call.failureReason] = (byReason[call.failureReason] ?? 0) + 1;
  const failedCalls = facts.calls.filter((c) => c.result === 'failed');
  const unexpectedFailures = failedCalls.filter((c) => !c.failureExpected).length;
  const failedSteps = facts.steps.filter((s) => !s.ok).length;
  const endedAtMs = Date.now();
  return {
    info,
    endedAtMs,
    durationSeconds: (endedAtMs - info.startedAtMs) / 1000,
    interrupted: facts.interrupted,
    iterations: facts.iterations,
    calls: {
      total: facts.calls.length,
      succeeded: facts.calls.length - failedCalls.length,
      failed: failedCalls.length,
      failedExpected: failedCalls.length - unexpectedFailures,
      byReason,
    },
    steps: { total: facts.steps.length, passed: facts.steps.length - failedSteps, failed: failedSteps },
    registrations: facts.registrations,
    exitCode: ExitCode.pass,
  };
}

/** Judges the summed-up run (its own outcome, then the thresholds: the exit code is decided here, once) and writes its end. */
export async function finishRun(
  summary: RunSummary,
  facts: RunFacts,
  thresholds: readonly ParsedThreshold[],
  output: { reporter: ReporterMultiplexer; harnessSaturatedCount: number },
): Promise<RunOutcome> {
  const { calls, steps } = facts;
  const thresholdResults = evaluateThresholds(thresholds, { calls, steps, summary, harnessSaturatedCount: output.harnessSaturatedCount });
  summary.exitCode = summary.harnessFault ? ExitCode.infrastructure : verdictExitCode({ exitCode: outcomeExitCode(summary), interrupted: summary.interrupted }, thresholdResults);
  // Every output, the CSV files first, then junit.xml, report.html and thresholds.json (RunReportsReporter).
  await output.reporter.onEnd({ summary, calls, steps, thresholds: thresholdResults });
  return { summary, calls, steps, thresholds: thresholdResults };
}
