/**
 * Two runs side by side, for nightly regression checks: the key figures of a
 * baseline run and of the current one, and which got worse beyond the
 * tolerance.
 *
 * A figure regresses when it moved in its bad direction (setup time up, MOS
 * down...) by more than BOTH the tolerance relative to the baseline AND the
 * figure's absolute floor. The floor keeps noise near zero from tripping
 * it: jitter going from 1 ms to 1.5 ms is +50% but means nothing, so jitter
 * must also worsen by more than 2 ms. For the call success rate, the
 * tolerance applies to the failure rate (1 - success): 99% -> 98% doubles
 * the failures, which a 10% tolerance on the success rate would not see.
 */
import type { CallResult, RunSummary } from '../results.js';
import { InputError } from '../errors.js';
import { aggregateCalls } from './aggregate.js';
import { formatValue, round, type DisplayUnit } from '../common/format.js';
import { callSuccessRate, type SummaryStyle } from './summaryTable.js';

export interface KeyFigures {
  scenario: string;
  calls: number;
  callSuccessRate: number | null;
  setupP50Seconds: number | null;
  setupP95Seconds: number | null;
  firstAudioP95Seconds: number | null;
  mosAvg: number | null;
  packetLossAvg: number | null;
  jitterAvgSeconds: number | null;
  rttAvgSeconds: number | null;
}

export type FigureKey = Exclude<keyof KeyFigures, 'scenario' | 'calls'>;

export function keyFigures(summary: Pick<RunSummary, 'info'>, calls: readonly CallResult[]): KeyFigures {
  const aggregates = aggregateCalls(calls);
  return {
    scenario: summary.info.scenario,
    calls: calls.length,
    callSuccessRate: callSuccessRate(calls),
    setupP50Seconds: aggregates.callSetupSeconds.p50,
    setupP95Seconds: aggregates.callSetupSeconds.p95,
    firstAudioP95Seconds: aggregates.timeToFirstAudioSeconds.p95,
    mosAvg: aggregates.mos.avg,
    packetLossAvg: aggregates.packetLossRatio.avg,
    jitterAvgSeconds: aggregates.jitterSeconds.avg,
    rttAvgSeconds: aggregates.rttSeconds.avg,
  };
}

export interface FigureRule {
  key: FigureKey;
  label: string;
  unit: DisplayUnit;
  better: 'lower' | 'higher';
  /** The smallest worsening, in the figure's unit, that can count as a regression. */
  floor: number;
  /** Apply the relative tolerance to 1 - value (failure rate) instead of the value. */
  toleranceOnComplement?: boolean;
}

/** What compare looks at, the floors in base units (seconds, ratio 0..1, MOS points). docs/reports.md lists them. */
export const COMPARED_FIGURES: readonly FigureRule[] = [
  { key: 'callSuccessRate', label: 'call success', unit: 'ratio', better: 'higher', floor: 0.01, toleranceOnComplement: true },
  { key: 'setupP50Seconds', label: 'setup p50', unit: 'seconds', better: 'lower', floor: 0.02 },
  { key: 'setupP95Seconds', label: 'setup p95', unit: 'seconds', better: 'lower', floor: 0.05 },
  { key: 'firstAudioP95Seconds', label: 'first audio p95', unit: 'seconds', better: 'lower', floor: 0.05 },
  { key: 'mosAvg', label: 'MOS avg', unit: 'score', better: 'higher', floor: 0.1 },
  { key: 'packetLossAvg', label: 'packet loss avg', unit: 'ratio', better: 'lower', floor: 0.005 },
  { key: 'jitterAvgSeconds', label: 'jitter avg', unit: 'seconds', better: 'lower', floor: 0.002 },
  { key: 'rttAvgSeconds', label: 'RTT avg', unit: 'seconds', better: 'lower', floor: 0.005 },
];

export type FigureVerdict = 'regression' | 'improvement' | 'same' | 'not compared';

export interface FigureComparison {
  rule: FigureRule;
  baseline: number | null;
  current: number | null;
  /** current - baseline, in the figure's unit. */
  change: number | null;
  /** change / |baseline|; null when the baseline is 0 or missing. */
  relativeChange: number | null;
  /** How far it may worsen before it is a regression: max(tolerance x baseline, floor). */
  allowed: number | null;
  verdict: FigureVerdict;
}

export interface RunComparison {
  baseline: KeyFigures;
  current: KeyFigures;
  /** Relative, 0.1 for 10%. */
  tolerance: number;
  figures: FigureComparison[];
  regressions: FigureComparison[];
  /** Things that make the comparison weaker (other scenario, few calls); printed, not failing. */
  warnings: string[];
}

/** Runs with fewer calls than this have figures too noisy to compare with confidence. */
const FEW_CALLS = 10;

export function compareRuns(baseline: KeyFigures, current: KeyFigures, tolerance: number): RunComparison {
  const figures = COMPARED_FIGURES.map((rule) => compareFigure(rule, baseline[rule.key], current[rule.key], tolerance));
  const warnings: string[] = [];
  if (baseline.scenario !== current.scenario) warnings.push(`the runs are of different scenarios: ${baseline.scenario} and ${current.scenario}`);
  for (const [which, figures] of [['baseline', baseline], ['current', current]] as const) {
    if (figures.calls < FEW_CALLS) warnings.push(`the ${which} run has only ${figures.calls} call${figures.calls === 1 ? '' : 's'}: its figures are noisy`);
  }
  for (const figure of figures) {
    if (figure.verdict === 'not compared' && figure.baseline !== null) warnings.push(`${figure.rule.label}: the baseline has it, the current run does not`);
  }
  return { baseline, current, tolerance, figures, regressions: figures.filter((figure) => figure.verdict === 'regression'), warnings };
}

export function compareFigure(rule: FigureRule, baseline: number | null, current: number | null, tolerance: number): FigureComparison {
  if (baseline === null || current === null) {
    return { rule, baseline, current, change: null, relativeChange: null, allowed: null, verdict: 'not compared' };
  }
  const change = current - baseline;
  const reference = rule.toleranceOnComplement ? 1 - baseline : baseline;
  const allowed = Math.max(tolerance * Math.abs(reference), rule.floor);
  const worsening = rule.better === 'lower' ? change : -change;
  // Float noise must not decide a verdict at exactly the allowed change.
  const beyond = (amount: number) => amount > allowed + 1e-12;
  const verdict: FigureVerdict = beyond(worsening) ? 'regression' : beyond(-worsening) ? 'improvement' : 'same';
  return { rule, baseline, current, change, relativeChange: baseline === 0 ? null : change / Math.abs(baseline), allowed, verdict };
}

/** `10%`, or a fraction `0.1`. A bare number above 1 is refused: 10 would be 1000%. */
export function parseTolerance(value: string | number): number {
  const textValue = String(value).trim();
  const percent = /^(\d+(?:\.\d+)?)\s*%$/.exec(textValue);
  const tolerance = percent ? Number(percent[1]) / 100 : Number(textValue);
  if (textValue === '' || !Number.isFinite(tolerance) || tolerance < 0 || (!percent && tolerance > 1)) {
    throw new InputError(`--tolerance ${textValue}: expected a percentage such as 10% (or a fraction such as 0.1)`, 'e.g. --tolerance 10%');
  }
  return tolerance;
}

export function formatComparisonTable(comparison: RunComparison, names: { baseline: string; current: string }, style: SummaryStyle): string {
  const paint = (color: 'red' | 'green' | 'dim', textValue: string) =>
    style.color ? `${{ red: '\u001b[31m', green: '\u001b[32m', dim: '\u001b[2m' }[color]}${textValue}\u001b[0m` : textValue;
  const header = ['figure', 'baseline', 'current', 'change', 'allowed', 'verdict'];
  const rows = comparison.figures.map((figure) => {
    const { unit } = figure.rule;
    const verdictText =
      figure.verdict === 'regression'
        ? paint('red', style.unicode ? '✗ REGRESSION' : 'REGRESSION')
        : figure.verdict === 'improvement'
          ? paint('green', 'better')
          : figure.verdict === 'same'
            ? style.unicode
              ? '✓ same'
              : 'same'
            : paint('dim', 'not compared');
    return [
      figure.rule.label,
      formatValue(figure.baseline, unit),
      formatValue(figure.current, unit),
      formatChange(figure),
      figure.allowed === null ? '-' : `${figure.rule.better === 'lower' ? '+' : '-'}${formatDelta(figure.allowed, unit)}`,
      verdictText,
    ];
  });
  // Widths from the unpainted text, so colours do not skew the columns.
  const plain = (cell: string) => cell.replace(/\u001b\[[0-9;]*m/g, '');
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => plain(row[column]!).length)));
  const line = (cells: readonly string[]) => `  ${cells.map((cell, column) => cell + ' '.repeat(widths[column]! - plain(cell).length)).join('  ')}`.trimEnd();
  const lines = [
    `baseline: ${names.baseline} (${comparison.baseline.scenario}, ${comparison.baseline.calls} calls)`,
    `current:  ${names.current} (${comparison.current.scenario}, ${comparison.current.calls} calls)`,
    `tolerance ${round(comparison.tolerance * 100, 2)}% (with a floor per figure)`,
    '',
    line(header),
    ...rows.map(line),
    '',
  ];
  for (const warning of comparison.warnings) lines.push(`warning: ${warning}`);
  const count = comparison.regressions.length;
  lines.push(
    count === 0
      ? paint('green', 'no regression beyond the tolerance')
      : paint('red', `${count} regression${count === 1 ? '' : 's'}: ${comparison.regressions.map((figure) => figure.rule.label).join(', ')}`),
  );
  return `${lines.join('\n')}\n`;
}

function formatChange(figure: FigureComparison): string {
  if (figure.change === null) return '-';
  const sign = figure.change > 0 ? '+' : figure.change < 0 ? '-' : '±';
  const relative = figure.relativeChange === null || figure.change === 0 ? '' : ` (${figure.relativeChange >= 0 ? '+' : ''}${round(figure.relativeChange * 100, 1)}%)`;
  return `${sign}${formatDelta(Math.abs(figure.change), figure.rule.unit)}${relative}`;
}

/** A difference of ratios reads as percentage points: 99% -> 97% is 2pp, not -2.02%. */
function formatDelta(amount: number, unit: DisplayUnit): string {
  return unit === 'ratio' ? `${round(amount * 100, 2)}pp` : formatValue(amount, unit);
}

/** The comparison for --json: plain figures, no formatting. */
export function comparisonObject(comparison: RunComparison, names: { baseline: string; current: string }) {
  return {
    baseline: { dir: names.baseline, ...comparison.baseline },
    current: { dir: names.current, ...comparison.current },
    tolerance: comparison.tolerance,
    regressed: comparison.regressions.length > 0,
    figures: comparison.figures.map((figure) => ({
      figure: figure.rule.key,
      label: figure.rule.label,
      better: figure.rule.better,
      floor: figure.rule.floor,
      baseline: figure.baseline,
      current: figure.current,
      change: figure.change,
      relativeChange: figure.relativeChange,
      allowed: figure.allowed,
      verdict: figure.verdict,
    })),
    warnings: comparison.warnings,
  };
}
