import type { CallResult, RunSummary, StepResult } from '../results.js';

const percentile = (values: number[], p: number): number | undefined => {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (rank - low);
};
const ms = (seconds: number | undefined) => (seconds === undefined ? '-' : `${Math.round(seconds * 1000)} ms`);

/** The end-of-run lines on stdout: what happened, where the reports are. */
export function printRunSummary(outcome: { summary: RunSummary; calls: CallResult[]; steps: StepResult[] }, write: (line: string) => void): void {
  const { summary, calls, steps } = outcome;
  const setup = calls.flatMap((c) => (c.setupSeconds === undefined ? [] : [c.setupSeconds]));
  const mos = calls.flatMap((c) => (c.mos === undefined ? [] : [c.mos]));
  const verdict = summary.exitCode === 0 ? 'PASS' : 'FAIL';
  write(`${verdict} ${summary.info.scenario}: ${summary.steps.passed}/${summary.steps.total} steps passed, ${summary.calls.succeeded}/${summary.calls.total} calls succeeded${summary.calls.failedExpected ? ` (${summary.calls.failedExpected} failed as expected)` : ''}${summary.interrupted ? ' (interrupted)' : ''}`);
  write(`  setup p50 ${ms(percentile(setup, 50))}, p95 ${ms(percentile(setup, 95))}; MOS avg ${mos.length ? (mos.reduce((a, b) => a + b, 0) / mos.length).toFixed(2) : '-'}; ${summary.durationSeconds.toFixed(1)} s`);
  for (const step of steps.filter((s) => !s.ok)) {
    write(`  FAIL #${step.iteration} ${step.name}: ${step.failureReason}${step.detail ? `: ${step.detail}` : ''}`);
  }
  for (const call of calls.filter((c) => c.result === 'failed' && !c.failureExpected)) {
    write(`  call ${call.callId} failed: ${call.failureReason}${call.failureDetail ? ` (${call.failureDetail})` : ''}`);
  }
  write(`  reports: ${summary.info.outDir}`);
}
