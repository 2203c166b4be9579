/**
 * The end-of-run summary on stdout, k6-style: a compact table of the figures
 * people look at first, the thresholds with pass/fail marks, failures by
 * reason. `summaryObject` is the same content for `--json`.
 */
import { HARNESS_FAILURE_REASONS, type CallResult, type RunSummary, type ShardsSummary, type StepResult } from '../results.js';
import { THRESHOLD_METRICS } from '../verdict/metrics.js';
import type { ThresholdResult } from '../verdict/evaluate.js';
import { exitCodeMeaning, verdictExitCode } from '../verdict/exitCodes.js';
import { aggregateCalls, StepTally, type CallAggregates, type Distribution } from './aggregate.js';
import { formatRatio, formatValue } from '../common/format.js';

export interface SummaryStyle {
  /** ANSI colours (green pass, red fail). */
  color: boolean;
  /** ✓ ✗ and a dotted leader; plain ASCII otherwise (logs, CI consoles, NO_COLOR). */
  unicode: boolean;
}

export const PLAIN_STYLE: SummaryStyle = { color: false, unicode: false };

/** Colour and marks only on an interactive terminal that did not ask for NO_COLOR (https://no-color.org). */
export function summaryStyleFor(stream: { isTTY?: boolean }, env: Readonly<Record<string, string | undefined>> = process.env): SummaryStyle {
  const fancy = stream.isTTY === true && (env.NO_COLOR ?? '') === '' && env.TERM !== 'dumb';
  return { color: fancy, unicode: fancy };
}

/** The figures of the summary, for `--json` (and what the table shows). */
export interface SummaryObject {
  scenario: string;
  runId: string;
  verdict: 'pass' | 'fail';
  exitCode: number;
  exitMeaning: string;
  interrupted: boolean;
  durationSeconds: number;
  iterations: RunSummary['iterations'];
  calls: RunSummary['calls'] & { successRate: number | null };
  steps: RunSummary['steps'];
  registrations: RunSummary['registrations'];
  setupSeconds: Pick<Distribution, 'p50' | 'p95' | 'p99' | 'count'>;
  pddSeconds: Pick<Distribution, 'p50' | 'p95'>;
  /** Harness time before each INVITE: never part of setupSeconds. */
  harnessPrepSeconds: Pick<Distribution, 'p50' | 'p95'>;
  /** Failed calls that are callwright's own (HARNESS_FAILURE_REASONS). */
  harnessFailures: number;
  firstAudioSeconds: Pick<Distribution, 'p95' | 'count'>;
  mos: Pick<Distribution, 'avg' | 'min' | 'count'>;
  packetLossRatio: Pick<Distribution, 'avg' | 'max'>;
  jitterSeconds: Pick<Distribution, 'avg' | 'max'>;
  rttSeconds: Pick<Distribution, 'avg' | 'max'>;
  oneWayAudioCalls: number;
  /** Calls transcoded between their callwright legs, by pair (`audio opus->PCMU`), and calls it could not be told for. */
  transcoded: CallAggregates['transcoded'];
  failuresByReason: { calls: Record<string, number>; steps: Record<string, number> };
  thresholds: {
    metric: string;
    expression: string;
    passed: boolean;
    observed: number | null;
    difference: number | null;
    sampleCount: number;
    detail: string;
    abortOnFail: boolean;
  }[];
  outDir: string;
  /** A merged run's shards (`callwright merge`): which were joined, which are missing. */
  shards?: ShardsSummary;
}

/** Calls that succeeded or failed as an expect step asked, over all calls. */
export function callSuccessRate(calls: readonly CallResult[]): number | null {
  if (calls.length === 0) return null;
  return calls.filter((call) => call.result === 'success' || call.failureExpected).length / calls.length;
}

export function summaryObject(
  summary: RunSummary,
  calls: readonly CallResult[],
  steps: readonly StepResult[],
  thresholds: readonly ThresholdResult[] = [],
): SummaryObject {
  const aggregates = aggregateCalls(calls);
  const exitCode = verdictExitCode(summary, thresholds);
  return {
    scenario: summary.info.scenario,
    runId: summary.info.runId,
    verdict: exitCode === 0 ? 'pass' : 'fail',
    exitCode,
    exitMeaning: exitCodeMeaning(exitCode),
    interrupted: summary.interrupted,
    durationSeconds: summary.durationSeconds,
    iterations: summary.iterations,
    calls: { ...summary.calls, successRate: callSuccessRate(calls) },
    steps: summary.steps,
    registrations: summary.registrations,
    setupSeconds: pick(aggregates.callSetupSeconds, 'p50', 'p95', 'p99', 'count'),
    pddSeconds: pick(aggregates.timeTo180Seconds, 'p50', 'p95'),
    harnessPrepSeconds: pick(aggregates.harnessPrepSeconds, 'p50', 'p95'),
    harnessFailures: aggregates.harnessFailures,
    firstAudioSeconds: pick(aggregates.timeToFirstAudioSeconds, 'p95', 'count'),
    mos: pick(aggregates.mos, 'avg', 'min', 'count'),
    packetLossRatio: pick(aggregates.packetLossRatio, 'avg', 'max'),
    jitterSeconds: pick(aggregates.jitterSeconds, 'avg', 'max'),
    rttSeconds: pick(aggregates.rttSeconds, 'avg', 'max'),
    oneWayAudioCalls: aggregates.oneWayAudioCalls,
    transcoded: aggregates.transcoded,
    failuresByReason: { calls: aggregates.failuresByReason, steps: StepTally.of(steps).toJSON().failuresByReason },
    thresholds: thresholds.map((result) => ({
      metric: result.threshold.metricLabel,
      expression: result.threshold.expression,
      passed: result.passed,
      observed: result.observed,
      difference: result.difference,
      sampleCount: result.sampleCount,
      detail: result.detail,
      abortOnFail: result.threshold.abortOnFail,
    })),
    outDir: summary.info.outDir,
    ...(summary.shards ? { shards: summary.shards } : {}),
  };
}

function pick<Key extends keyof Distribution>(distribution: Distribution, ...keys: Key[]): Pick<Distribution, Key> {
  return Object.fromEntries(keys.map((key) => [key, distribution[key]])) as Pick<Distribution, Key>;
}

const ANSI = { green: '\u001b[32m', red: '\u001b[31m', dim: '\u001b[2m', bold: '\u001b[1m', reset: '\u001b[0m' };

export function formatSummaryTable(
  summary: RunSummary,
  calls: readonly CallResult[],
  steps: readonly StepResult[],
  thresholds: readonly ThresholdResult[] = [],
  style: SummaryStyle = PLAIN_STYLE,
): string {
  const figures = summaryObject(summary, calls, steps, thresholds);
  const paint = (code: keyof typeof ANSI, text: string) => (style.color ? `${ANSI[code]}${text}${ANSI.reset}` : text);
  const mark = (passed: boolean) => (passed ? paint('green', style.unicode ? '✓' : '[ok]  ') : paint('red', style.unicode ? '✗' : '[FAIL]'));
  const seconds = (value: number | null) => formatValue(value, 'seconds');
  const ratio = (value: number | null) => formatValue(value, 'ratio');
  const score = (value: number | null) => formatValue(value, 'score');

  const lines: string[] = [];
  const verdictWord = figures.verdict === 'pass' ? paint('green', 'PASS') : paint('red', 'FAIL');
  lines.push(
    `${paint('bold', figures.scenario)}: ${verdictWord} (exit ${figures.exitCode}: ${figures.exitMeaning})${figures.interrupted ? ' - interrupted' : ''}${incompleteNote(summary.shards)}, ${figures.durationSeconds.toFixed(1)}s`,
  );
  lines.push('');

  const callsLine = [
    `${figures.calls.total} total`,
    `${figures.calls.succeeded} ok`,
    `${figures.calls.failed} failed${figures.calls.failedExpected ? ` (${figures.calls.failedExpected} as expected)` : ''}`,
  ].join(', ');
  const rows: [string, string][] = [
    ['iterations', `${figures.iterations.started}/${figures.iterations.planned} started, ${figures.iterations.passed} passed, ${figures.iterations.failed} failed${figures.iterations.dropped ? `, ${figures.iterations.dropped} dropped` : ''}`],
    ['calls', callsLine],
    ['call success', figures.calls.successRate === null ? '-' : formatRatio(figures.calls.successRate)],
    ['setup time', `p50=${seconds(figures.setupSeconds.p50)} p95=${seconds(figures.setupSeconds.p95)} p99=${seconds(figures.setupSeconds.p99)}`],
    ['PDD', `p50=${seconds(figures.pddSeconds.p50)} p95=${seconds(figures.pddSeconds.p95)}`],
    ['harness prep', `p50=${seconds(figures.harnessPrepSeconds.p50)} p95=${seconds(figures.harnessPrepSeconds.p95)} (before the INVITE, not in setup)`],
    ['first audio', `p95=${seconds(figures.firstAudioSeconds.p95)}`],
    ['MOS', `avg=${score(figures.mos.avg)} min=${score(figures.mos.min)}`],
    ['packet loss', `avg=${ratio(figures.packetLossRatio.avg)} max=${ratio(figures.packetLossRatio.max)}`],
    ['jitter', `avg=${seconds(figures.jitterSeconds.avg)} max=${seconds(figures.jitterSeconds.max)}`],
    ['rtt', `avg=${seconds(figures.rttSeconds.avg)} max=${seconds(figures.rttSeconds.max)}`],
    ['steps', `${figures.steps.passed}/${figures.steps.total} passed`],
  ];
  // A merged run says first what it is made of: its figures are not the whole run's when shards are missing.
  if (summary.shards) rows.unshift(['shards', shardsLine(summary.shards, paint)]);
  // One shard's own summary covers only its part of the run.
  const shard = summary.info.shard;
  if (shard) rows.unshift(['shard', `${shard.index}/${shard.count} of run ${summary.info.runId}: its part only; \`callwright merge\` gives the run's verdict`]);
  if (figures.registrations.attempted > 0) rows.push(['registrations', `${figures.registrations.succeeded}/${figures.registrations.attempted} ok`]);
  if (figures.oneWayAudioCalls > 0) rows.push(['one-way audio', `${figures.oneWayAudioCalls} calls`]);
  if (figures.transcoded.calls > 0) {
    const pairs = Object.entries(figures.transcoded.byPair).map(([pair, count]) => `${pair}: ${count}`).join(', ');
    rows.push(['transcoded', `${figures.transcoded.calls} call${figures.transcoded.calls === 1 ? '' : 's'} (${pairs})`]);
  }
  if (figures.harnessFailures > 0) rows.push(['harness failures', `${figures.harnessFailures} of the failed calls are callwright's own, not the server's (${HARNESS_FAILURE_REASONS.join(', ')})`]);
  if (summary.load && summary.load.late > 0) rows.push(['late starts', `${summary.load.late} (started over load.lateAfter behind plan; max ${seconds(summary.load.startDelaySeconds.max ?? null)})`]);
  const harness = summary.harness;
  const saturatedShards = summary.shards?.byShard.filter((shard) => shard.harnessSaturated) ?? [];
  if (saturatedShards.length > 0) {
    const where = saturatedShards.map((shard) => `shard ${shard.index} ${shard.harnessSaturatedSeconds.toFixed(0)} s`).join(', ');
    rows.push(['harness', paint('red', `SATURATED in ${where}; ${harness?.failedCallsDuringSaturation ?? 0} failed call(s) overlap it: they measure those machines, not the server`)]);
  } else if (harness?.saturated && !summary.shards) {
    const reasons = [...new Set(harness.windows.flatMap((w) => w.reasons))].join(', ');
    rows.push(['harness', paint('red', `SATURATED ${harness.saturatedSeconds.toFixed(0)} s (${reasons}); ${harness.failedCallsDuringSaturation} failed call(s) overlap it: they measure this machine, not the server`)]);
  }
  const labelWidth = Math.max(...rows.map(([label]) => label.length)) + 3;
  const leader = style.unicode ? '.' : ' ';
  for (const [label, value] of rows) lines.push(`  ${label}${paint('dim', leader.repeat(labelWidth - label.length))}: ${value}`);

  if (thresholds.length > 0) {
    lines.push('', '  thresholds');
    const metricWidth = Math.max(...figures.thresholds.map((t) => t.metric.length));
    const expressionWidth = Math.max(...figures.thresholds.map((t) => t.expression.length));
    for (const [index, threshold] of figures.thresholds.entries()) {
      const unit = THRESHOLD_METRICS[thresholds[index]!.threshold.metric].unit;
      const observed = threshold.observed === null ? 'no data' : formatValue(threshold.observed, unit);
      lines.push(
        `    ${mark(threshold.passed)} ${threshold.metric.padEnd(metricWidth)}  ${threshold.expression.padEnd(expressionWidth)}  observed ${observed}${threshold.passed ? '' : `  (${threshold.detail})`}`,
      );
    }
  }

  const callFailures = Object.entries(figures.failuresByReason.calls);
  const stepFailures = Object.entries(figures.failuresByReason.steps);
  if (callFailures.length + stepFailures.length > 0) {
    lines.push('', '  failures by reason');
    const reasons = [...new Set([...callFailures, ...stepFailures].map(([reason]) => reason))].sort();
    const reasonWidth = Math.max(...reasons.map((reason) => reason.length));
    for (const reason of reasons) {
      const callCount = figures.failuresByReason.calls[reason] ?? 0;
      const stepCount = figures.failuresByReason.steps[reason] ?? 0;
      lines.push(`    ${reason.padEnd(reasonWidth)}  ${callCount} call${callCount === 1 ? '' : 's'}, ${stepCount} step${stepCount === 1 ? '' : 's'}`);
    }
    const firstFailures = steps.filter((step) => !step.ok).slice(0, 5);
    for (const step of firstFailures) {
      lines.push(`    ${paint('red', style.unicode ? '✗' : '-')} #${step.iteration} ${step.name}: ${step.failureReason ?? 'failed'}${step.sipStatus ? ` (SIP ${step.sipStatus})` : ''}${step.detail ? `: ${step.detail}` : ''}`);
    }
    const moreFailures = summary.steps.failed - firstFailures.length;
    if (moreFailures > 0) lines.push(`    ... and ${moreFailures} more failed step${moreFailures === 1 ? '' : 's'} (steps.csv)`);
  }

  lines.push('', `  reports: ${figures.outDir}`);
  return `${lines.join('\n')}\n`;
}

/** The one-line verdict that `run --quiet` and `merge --quiet` print: `PASS smoke (exit 0); reports: <out>`. */
export function verdictLine(summary: RunSummary): string {
  return `${summary.exitCode === 0 ? 'PASS' : 'FAIL'} ${summary.info.scenario} (exit ${summary.exitCode})${incompleteNote(summary.shards)}; reports: ${summary.info.outDir}`;
}

/** ` - INCOMPLETE (2 of 3 shards)` on the verdict line of a merged run with shards missing. */
function incompleteNote(shards: ShardsSummary | undefined): string {
  return shards && shards.missing.length > 0 ? ` - INCOMPLETE (${shards.merged.length} of ${shards.count} shards)` : '';
}

/** `3/3 merged`, or which shards are missing and why, and what the merged ones alone would exit with. */
export function shardsLine(shards: ShardsSummary, paint: (code: 'red', text: string) => string = (_code, text) => text): string {
  const merged = `${shards.merged.length}/${shards.count} merged`;
  if (shards.missing.length === 0) return merged;
  const missing = shards.missing.map((shard) => `shard ${shard.index} (${missingShardReason(shard)})`).join(', ');
  const partial = shards.partialExitCode === undefined ? '' : `; the merged shards alone: exit ${shards.partialExitCode} (${exitCodeMeaning(shards.partialExitCode)})`;
  return `${merged}; ${paint('red', `MISSING ${missing}`)}${partial}`;
}

/** Why a shard is not in the merge, in a few words. */
export function missingShardReason(shard: ShardsSummary['missing'][number]): string {
  if (shard.reason === 'no_folder') return 'no folder';
  const leftOut = shard.unjoinedCalls ? `; its ${shard.unjoinedCalls} calls left out` : '';
  return `no summary.json: crashed, killed or still running${leftOut}`;
}
