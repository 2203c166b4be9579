import { formatValue } from '../common/format.js';
import { aggregationLabel, compare, type Operator } from './expression.js';
import { THRESHOLD_METRICS } from './metrics.js';
import { observe, type ThresholdData } from './observe.js';
import type { ParsedThreshold } from './parseThresholds.js';

export interface ThresholdResult {
  threshold: ParsedThreshold;
  /** The measured figure in the metric's base unit; null when there was nothing to measure. */
  observed: number | null;
  /** How many calls, steps or values it was measured over. */
  sampleCount: number;
  /**
   * A threshold with no data fails: a gate that measured nothing (no call
   * got established, so no setup time) must not let a run through.
   */
  passed: boolean;
  /** observed - limit, in the metric's base unit; null without data. */
  difference: number | null;
  /** One line for people: what was measured against what, and by how much it missed or held. */
  detail: string;
}

export function evaluateThresholds(parsed: readonly ParsedThreshold[], data: ThresholdData): ThresholdResult[] {
  return parsed.map((threshold) => evaluateThreshold(threshold, data));
}

export function evaluateThreshold(threshold: ParsedThreshold, data: ThresholdData): ThresholdResult {
  const { value, sampleCount } = observe(threshold.metric, threshold.aggregation, threshold.tags, data);
  const unit = THRESHOLD_METRICS[threshold.metric].unit;
  const show = (figure: number) => formatValue(figure, unit);
  const measured = `${aggregationLabel(threshold.aggregation)}=`;
  const limit = `${threshold.operator}${show(threshold.limit)}`;
  if (value === null) {
    return { threshold, observed: null, sampleCount, passed: false, difference: null, detail: `no data to measure ${threshold.metricLabel} on, limit ${limit}` };
  }
  const passed = compare(value, threshold.operator, threshold.limit);
  const difference = value - threshold.limit;
  const distance = show(Math.abs(difference));
  return {
    threshold,
    observed: value,
    sampleCount,
    passed,
    difference,
    detail: `${measured}${show(value)}, limit ${limit}: ${passed ? heldBy(threshold.operator, distance, difference) : missedBy(threshold.operator, distance)}`,
  };
}

function missedBy(operator: Operator, distance: string): string {
  switch (operator) {
    case '<':
    case '<=':
      return `over by ${distance}`;
    case '>':
    case '>=':
      return `under by ${distance}`;
    case '==':
      return `off by ${distance}`;
    case '!=':
      return 'equal to the limit';
  }
}

function heldBy(operator: Operator, distance: string, difference: number): string {
  if (operator === '==') return 'holds';
  if (difference === 0) return 'holds, at the limit';
  return `holds, ${distance} to spare`;
}

export function thresholdsFailed(results: readonly ThresholdResult[]): ThresholdResult[] {
  return results.filter((result) => !result.passed);
}
