/**
 * `<out>/report.html`: one self-contained page for people (QA reading the
 * nightly, capacity planners looking at curves). Inline CSS and SVG, no
 * script and no network: a Content-Security-Policy forbids loading anything,
 * so the file reads the same from a CI artifact, a mail or offline.
 */
import { join } from 'node:path';
import type { CallResult, RunSummary, ShardsSummary, StepResult } from '../results.js';
import type { ThresholdResult } from '../verdict/evaluate.js';
import { exitCodeMeaning } from '../verdict/exitCodes.js';
import { THRESHOLD_METRICS } from '../verdict/metrics.js';
import { percentile } from '../common/statistics.js';
import { aggregateCalls, distribution, measuredValues } from './aggregate.js';
import { writeFileAtomically } from '../common/atomicWrite.js';
import { formatRatio, formatValue } from '../common/format.js';
import { histogramChart, horizontalBarChart, lineChart } from './html/svgCharts.js';
import { bucketsFor, callActivity, callEndMs, callStepEnds, fixedBins, histogram, MediaTimeline } from './html/timeSeries.js';
import { withoutUrlCredentials } from '../common/redact.js';
import { videoSection } from './html/videoSection.js';
import { withoutMissingEvidence } from './sipEvidence.js';
import { callSuccessRate, missingShardReason, summaryObject } from './summaryTable.js';
import { escapeXmlAttribute, escapeXmlText as text } from './xml.js';

export const REPORT_HTML = 'report.html';

/** Failed calls listed one by one; more than this and the page becomes a log. */
const LISTED_FAILED_CALLS = 50;

export interface HtmlReportData {
  summary: RunSummary;
  calls: readonly CallResult[];
  steps: readonly StepResult[];
  /** Leg samples folded over time; its origin must be summary.info.startedAtMs. Absent: no media charts data. */
  media?: MediaTimeline;
  thresholds?: readonly ThresholdResult[];
  /** When the page was made (for the footer); defaults to now. */
  generatedAtMs?: number;
}

export function renderHtmlReport(data: HtmlReportData): string {
  const { summary, calls, steps } = data;
  const thresholds = data.thresholds ?? [];
  const figures = summaryObject(summary, calls, steps, thresholds);
  const aggregates = aggregateCalls(calls);

  const stepEnds = callStepEnds(steps);
  const lastCallEndMs = calls.reduce((latest, call) => Math.max(latest, callEndMs(call, stepEnds)), 0);
  const buckets = bucketsFor(summary.info.startedAtMs, Math.max(summary.endedAtMs, lastCallEndMs));
  const activity = callActivity(calls, steps, buckets);
  const media = (data.media ?? new MediaTimeline(summary.info.startedAtMs)).series(buckets);
  const ms = (seconds: number) => formatValue(seconds, 'seconds');

  const failureReasons = [...new Set([...Object.keys(figures.failuresByReason.calls), ...Object.keys(figures.failuresByReason.steps)])].sort();
  const charts = [
    lineChart({ id: 'active-calls', title: 'Active calls', formatY: (value) => String(Math.round(value)), series: [{ name: 'active calls', points: activity.activeCalls }], step: true }),
    lineChart({ id: 'call-rate', title: 'Call rate (calls started per second)', formatY: (value) => value.toFixed(value < 10 ? 2 : 0), series: [{ name: 'calls/s', points: activity.callsPerSecond }] }),
    histogramChart({ id: 'setup-time', title: 'Call setup time distribution', formatY: String, formatX: ms, bins: histogram(measuredValues(calls, (call) => call.setupSeconds)) }),
    histogramChart({
      id: 'mos',
      title: 'MOS distribution (estimated, E-model)',
      formatY: String,
      formatX: (value) => value.toFixed(2),
      bins: fixedBins(measuredValues(calls, (call) => call.mos), 1, 0.25, 14),
      color: '#2a9d5c',
    }),
    lineChart({
      id: 'jitter-rtt',
      title: 'Jitter and RTT over time (mean of leg samples)',
      formatY: ms,
      series: [
        { name: 'jitter', points: media.jitterSeconds },
        { name: 'RTT', points: media.rttSeconds },
      ],
    }),
    lineChart({ id: 'packet-loss', title: 'Packet loss over time (all legs)', formatY: (value) => formatRatio(value), series: [{ name: 'loss', points: media.packetLossRatio, color: '#c23b5a' }] }),
    horizontalBarChart({
      id: 'failures',
      title: 'Failures by reason',
      seriesNames: ['failed calls', 'failed steps'],
      groups: failureReasons.map((reason) => ({ label: reason, values: [figures.failuresByReason.calls[reason] ?? 0, figures.failuresByReason.steps[reason] ?? 0] })),
    }),
  ];

  const verdictClass = figures.verdict === 'pass' ? 'pass' : 'fail';
  const cards: [string, string][] = [
    ['calls', `${figures.calls.total}`],
    ['call success', figures.calls.successRate === null ? '-' : formatRatio(figures.calls.successRate)],
    ['setup p50', formatValue(aggregates.callSetupSeconds.p50, 'seconds')],
    ['setup p95', formatValue(aggregates.callSetupSeconds.p95, 'seconds')],
    ['setup p99', formatValue(aggregates.callSetupSeconds.p99, 'seconds')],
    ['PDD p95', formatValue(aggregates.timeTo180Seconds.p95, 'seconds')],
    ['harness prep p95', formatValue(aggregates.harnessPrepSeconds.p95, 'seconds')],
    ['ICE gathering p95', aggregates.iceGatheringMs.p95 === null ? '-' : `${aggregates.iceGatheringMs.p95.toFixed(0)} ms`],
    ['ICE connected p95', aggregates.iceConnectedMs.p95 === null ? '-' : `${aggregates.iceConnectedMs.p95.toFixed(0)} ms`],
    ['first audio p95', formatValue(aggregates.timeToFirstAudioSeconds.p95, 'seconds')],
    ['MOS avg / min', `${formatValue(aggregates.mos.avg, 'score')} / ${formatValue(aggregates.mos.min, 'score')}`],
    ['packet loss avg', formatValue(aggregates.packetLossRatio.avg, 'ratio')],
    ['jitter avg', formatValue(aggregates.jitterSeconds.avg, 'seconds')],
    ['RTT avg', formatValue(aggregates.rttSeconds.avg, 'seconds')],
    ['steps passed', `${summary.steps.passed} / ${summary.steps.total}`],
    ['one-way / no audio', String(aggregates.oneWayAudioCalls)],
    ['harness own failures', String(aggregates.harnessFailures)],
    ['candidate pairs', Object.entries(aggregates.candidatePairs).map(([pair, count]) => `${pair} ${count}`).join(', ') || '-'],
  ];

  const body = [
    `<header class="${verdictClass}">`,
    `<h1>${text(summary.info.scenario)} <span class="badge ${verdictClass}">${figures.verdict === 'pass' ? 'PASS' : 'FAIL'}</span></h1>`,
    `<p class="meta">exit ${figures.exitCode} (${text(figures.exitMeaning)})${summary.interrupted ? ' &middot; <strong>interrupted</strong>' : ''} &middot; started ${text(new Date(summary.info.startedAtMs).toISOString())} &middot; ${summary.durationSeconds.toFixed(1)} s &middot; ${summary.iterations.started}/${summary.iterations.planned} iterations, concurrency ${summary.info.concurrency} &middot; target ${text(withoutUrlCredentials(summary.info.target.url))}${summary.info.target.embedded ? ' (embedded)' : ''} &middot; run ${text(summary.info.runId)}${summary.info.shard ? `, shard ${summary.info.shard.index}/${summary.info.shard.count}` : ''}</p>`,
    '</header>',
    incompleteBanner(summary.shards, figures.exitCode),
    '<section class="cards">',
    ...cards.map(([label, value]) => `<div class="card"><div class="value">${text(value)}</div><div class="label">${text(label)}</div></div>`),
    '</section>',
    thresholdsSection(thresholds),
    shardsSection(summary.shards),
    '<section><h2>Charts</h2><div class="charts">',
    ...charts.map((chart) => `<figure>${chart}</figure>`),
    '</div></section>',
    stepsSection(steps),
    failedCallsSection(calls),
    videoSection(calls),
    `<footer>callwright &middot; generated ${text(new Date(data.generatedAtMs ?? Date.now()).toISOString())} &middot; call success ${text(formatValue(callSuccessRate(calls), 'ratio'))} over ${calls.length} calls</footer>`,
  ];

  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    // Nothing may load from anywhere: the report is complete in itself.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${text(`callwright: ${summary.info.scenario} - ${figures.verdict.toUpperCase()}`)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    ...body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

export async function writeHtmlReport(outDir: string, data: HtmlReportData): Promise<string> {
  const path = join(outDir, REPORT_HTML);
  await writeFileAtomically(path, renderHtmlReport({ ...data, calls: withoutMissingEvidence(outDir, data.calls) }));
  return path;
}

/** A merged run with shards missing says so before any figure: they are not the whole run's. */
function incompleteBanner(shards: ShardsSummary | undefined, exitCode: number): string {
  if (!shards || shards.missing.length === 0) return '';
  const missing = shards.missing.map((shard) => `<li>shard ${shard.index}/${shards.count}: ${text(missingShardReason(shard))}${shard.folder ? ` (<code>${text(shard.folder)}</code>)` : ''}</li>`);
  const partial = shards.partialExitCode === undefined ? '' : ` The merged shards alone would exit ${shards.partialExitCode} (${text(exitCodeMeaning(shards.partialExitCode))}).`;
  return [
    '<section class="banner">',
    `<strong>Incomplete run: ${shards.merged.length} of ${shards.count} shards merged.</strong> The figures below are those of the merged shards only, not the whole run's; the verdict is exit ${exitCode} (${text(exitCodeMeaning(exitCode))}).${partial}`,
    `<ul>${missing.join('')}</ul>`,
    '</section>',
  ].join('\n');
}

/** Per shard of a merged run: its own exit code, calls, failures, late and dropped starts, and its machine's saturation. */
function shardsSection(shards: ShardsSummary | undefined): string {
  if (!shards) return '';
  const rows: string[] = [];
  for (let index = 1; index <= shards.count; index++) {
    const joined = shards.byShard.find((shard) => shard.index === index);
    const missing = shards.missing.find((shard) => shard.index === index);
    if (joined) {
      const saturation = joined.harnessSaturated ? `saturated ${joined.harnessSaturatedSeconds.toFixed(0)} s` : 'no';
      const cpu = joined.peakMachineCpuCores === undefined ? '-' : `${joined.peakMachineCpuCores.toFixed(2)}${joined.cores === undefined ? '' : ` of ${joined.cores}`}`;
      rows.push(
        `<tr class="${joined.harnessSaturated || joined.exitCode !== 0 ? 'fail' : 'pass'}"><td class="num">${index}</td><td class="num">${joined.exitCode}</td><td class="num">${joined.calls}</td><td class="num">${joined.failedCalls}</td><td class="num">${joined.failedSteps}</td><td class="num">${joined.lateStarts}</td><td class="num">${joined.droppedStarts}</td><td>${text(saturation)}</td><td class="num">${text(cpu)}</td><td><code>${text(joined.folder)}</code></td></tr>`,
      );
    } else {
      rows.push(`<tr class="fail"><td class="num">${index}</td><td colspan="8">missing: ${text(missing ? missingShardReason(missing) : 'no folder')}</td><td>${missing?.folder ? `<code>${text(missing.folder)}</code>` : ''}</td></tr>`);
    }
  }
  return [
    `<section><h2>Shards <span class="muted">(${shards.merged.length} of ${shards.count} merged)</span></h2>`,
    '<table class="shards"><thead><tr><th>shard</th><th>exit</th><th>calls</th><th>failed calls</th><th>failed steps</th><th>late starts</th><th>dropped starts</th><th>harness</th><th>peak CPU (cores)</th><th>folder</th></tr></thead><tbody>',
    ...rows,
    '</tbody></table></section>',
  ].join('\n');
}

function thresholdsSection(thresholds: readonly ThresholdResult[]): string {
  if (thresholds.length === 0) return '<section><h2>Thresholds</h2><p class="muted">No thresholds in this run.</p></section>';
  const rows = thresholds.map((result) => {
    const unit = THRESHOLD_METRICS[result.threshold.metric].unit;
    return `<tr class="${result.passed ? 'pass' : 'fail'}"><td class="mark">${result.passed ? '✓' : '✗'}</td><td><code>${text(result.threshold.metricLabel)}</code></td><td><code>${text(result.threshold.expression)}</code></td><td class="num">${text(result.observed === null ? 'no data' : formatValue(result.observed, unit))}</td><td class="num">${result.sampleCount}</td><td>${text(result.detail)}</td></tr>`;
  });
  return [
    '<section><h2>Thresholds</h2>',
    '<table class="thresholds"><thead><tr><th></th><th>metric</th><th>threshold</th><th>observed</th><th>values</th><th>detail</th></tr></thead><tbody>',
    ...rows,
    '</tbody></table></section>',
  ].join('\n');
}

function stepsSection(steps: readonly StepResult[]): string {
  const scenarios = [...new Set(steps.map((step) => step.scenario))];
  if (scenarios.length === 0) return '<section><h2>Steps</h2><p class="muted">No steps ran.</p></section>';
  const parts = ['<section><h2>Steps</h2>'];
  for (const scenario of scenarios) {
    const byIndex = new Map<number, StepResult[]>();
    for (const step of steps) {
      if (step.scenario !== scenario) continue;
      const runs = byIndex.get(step.index) ?? [];
      runs.push(step);
      byIndex.set(step.index, runs);
    }
    parts.push(`<h3>${text(scenario)}</h3>`, '<table class="steps"><thead><tr><th>#</th><th>step</th><th>kind</th><th>runs</th><th>passed</th><th>failed</th><th>pass rate</th><th>p50</th><th>p95</th><th>failure reasons</th><th>first failure</th></tr></thead><tbody>');
    for (const index of [...byIndex.keys()].sort((a, b) => a - b)) {
      const runs = byIndex.get(index)!;
      const failed = runs.filter((run) => !run.ok).sort((a, b) => a.iteration - b.iteration);
      const durations = runs.map((run) => run.durationSeconds);
      const reasons = new Map<string, number>();
      for (const run of failed) reasons.set(run.failureReason ?? 'unspecified', (reasons.get(run.failureReason ?? 'unspecified') ?? 0) + 1);
      const first = failed[0];
      parts.push(
        `<tr class="${failed.length ? 'fail' : 'pass'}"><td class="num">${index + 1}</td><td>${text(runs[0]!.name)}</td><td>${text(runs[0]!.kind)}</td><td class="num">${runs.length}</td><td class="num">${runs.length - failed.length}</td><td class="num">${failed.length}</td><td class="num">${formatRatio((runs.length - failed.length) / runs.length)}</td><td class="num">${formatValue(percentile(durations, 50), 'seconds')}</td><td class="num">${formatValue(percentile(durations, 95), 'seconds')}</td><td>${text([...reasons].map(([reason, count]) => `${reason} ${count}`).join(', '))}</td><td>${first ? text(`#${first.iteration}${first.sipStatus ? ` SIP ${first.sipStatus}` : ''}: ${first.detail ?? first.failureReason ?? 'failed'}`) : ''}</td></tr>`,
      );
    }
    parts.push('</tbody></table>');
  }
  parts.push('</section>');
  return parts.join('\n');
}

function failedCallsSection(calls: readonly CallResult[]): string {
  const failed = calls.filter((call) => call.result === 'failed' && !call.failureExpected);
  if (failed.length === 0) return '';
  const setup = distribution(measuredValues(calls, (call) => call.setupSeconds));
  const rows = failed.slice(0, LISTED_FAILED_CALLS).map(
    (call) =>
      `<tr><td><code>${text(call.callId)}</code></td><td>${text(new Date(call.startedAtMs).toISOString().slice(11, 23))}</td><td>${text(call.failureReason ?? 'unspecified')}</td><td class="num">${call.sipStatus ?? ''}</td><td>${text(call.failureDetail ?? '')}</td><td>${text(transportOf(call))}</td><td>${evidenceLink(call.evidence)}</td></tr>`,
  );
  return [
    `<section><h2>Failed calls <span class="muted">(${failed.length}${failed.length > LISTED_FAILED_CALLS ? `, first ${LISTED_FAILED_CALLS} shown; all in calls.csv` : ''}; ${setup.count} calls established)</span></h2>`,
    '<table class="calls"><thead><tr><th>call</th><th>started (UTC)</th><th>reason</th><th>SIP</th><th>detail</th><th>transport</th><th>evidence</th></tr></thead><tbody>',
    ...rows,
    '</tbody></table></section>',
  ].join('\n');
}

/** The caller's transport in a few words: when ICE connected, over which pair (legs.csv has the whole timeline). */
function transportOf(call: CallResult): string {
  const ice = call.iceConnectedMs === undefined ? 'ICE never connected' : `ICE connected ${call.iceConnectedMs.toFixed(0)} ms after the INVITE`;
  return call.candidatePair ? `${ice}; ${call.candidatePair}` : call.iceGatheringMs === undefined ? '' : ice;
}

/** A relative link beside the report; anything else (a scheme, an absolute path) is shown, not linked. */
function evidenceLink(path: string | undefined): string {
  if (path === undefined) return '';
  if (!/^[A-Za-z0-9_.~-][A-Za-z0-9_.~\/-]*$/.test(path) || path.split('/').includes('..')) return text(path);
  return `<a href="${escapeXmlAttribute(encodeURI(path))}">SIP log</a>`;
}

const STYLE = `
:root { --pass: #1f8a4c; --fail: #c62828; --muted: #6b7280; --line: #e5e7eb; --bg: #f8fafc; }
* { box-sizing: border-box; }
body { margin: 0; padding: 0 24px 24px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #111827; background: var(--bg); }
header { margin: 0 -24px 16px; padding: 16px 24px; background: #fff; border-bottom: 4px solid var(--pass); }
header.fail { border-bottom-color: var(--fail); }
h1 { margin: 0 0 4px; font-size: 22px; }
h2 { font-size: 17px; margin: 24px 0 8px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
.meta, .muted { color: var(--muted); }
.badge { display: inline-block; padding: 1px 10px; border-radius: 10px; color: #fff; font-size: 14px; vertical-align: middle; }
.badge.pass { background: var(--pass); } .badge.fail { background: var(--fail); }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(160px, 1fr)); gap: 10px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.card .value { font-size: 18px; font-weight: 600; font-variant-numeric: tabular-nums; }
.card .label { color: var(--muted); font-size: 12px; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(480px, 1fr)); gap: 12px; }
figure { margin: 0; background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 6px; }
svg.chart { width: 100%; height: auto; display: block; }
svg .chart-title { font-size: 13px; font-weight: 600; fill: #111827; }
svg .tick, svg .legend, svg .label, svg .axis-label { font-size: 11px; fill: #4b5563; }
svg .grid { stroke: #eef0f3; } svg .axis { stroke: #9ca3af; }
svg .no-data { font-size: 13px; fill: var(--muted); }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); font-size: 13px; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: #f1f5f9; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.mark { font-weight: 700; text-align: center; }
tr.pass td.mark { color: var(--pass); } tr.fail td.mark { color: var(--fail); }
table.steps tr.fail td:nth-child(6) { color: var(--fail); font-weight: 600; }
.banner { margin: 0 0 16px; padding: 10px 14px; background: #fdecea; border: 1px solid var(--fail); border-radius: 8px; }
.banner ul { margin: 6px 0 0; }
footer { margin-top: 24px; color: var(--muted); font-size: 12px; }
@media print { body { background: #fff; } .charts { grid-template-columns: 1fr 1fr; } }
`;
