/**
 * One threshold expression, k6's syntax: `<aggregation><operator><value>`,
 * e.g. `rate>=0.99`, `p(95)<2s`, `p(99.9)<=3000ms`, `avg>4.0`, `count==0`.
 */
import { DURATION_EXAMPLES, parseDurationText } from '../common/durations.js';
import type { MetricUnit } from './metrics.js';

export type Operator = '<' | '<=' | '>' | '>=' | '==' | '!=';

export type Aggregation =
  | { kind: 'rate' }
  | { kind: 'count' }
  | { kind: 'avg' }
  | { kind: 'min' }
  | { kind: 'max' }
  | { kind: 'med' }
  | { kind: 'percentile'; p: number };

export interface Expression {
  aggregation: Aggregation;
  operator: Operator;
  /** The limit in the metric's base unit (seconds, ratio 0..1, score, count). */
  limit: number;
}

export const EXPRESSION_SYNTAX =
  '<aggregation><operator><value>: aggregation rate | count | avg | min | max | med | p(N); operator < <= > >= == !=; ' +
  'value a number; a time with its unit (200ms, 1.5s, 1m30s) and a ratio as a fraction or with % (99%)';

// The value runs to the end: a number, maybe with a unit, or a compound duration such as 1m30s.
const EXPRESSION = /^\s*([a-z][a-z0-9_]*)\s*(?:\(\s*([^)]*?)\s*\))?\s*(<=|>=|==|!=|<|>|=+)\s*([+-]?)\s*((?:\d|\.\d)[0-9a-z.%\s]*?)\s*$/i;

/**
 * What is wrong with an expression. `part` says whether the metric's
 * aggregations are worth listing (syntax) or not (value); a value problem
 * carries the aggregation, since a wrong aggregation is the one to report first.
 */
export type ExpressionProblem = { problem: string; part: 'syntax' } | { problem: string; part: 'value'; aggregation: Aggregation };

/** Parsed, or a message saying what is wrong with it (without the metric; the caller adds where). */
export function parseExpression(text: string, unit: MetricUnit): Expression | ExpressionProblem {
  const match = EXPRESSION.exec(text);
  if (!match) return { problem: `"${text}" is not an expression (${EXPRESSION_SYNTAX})`, part: 'syntax' };
  const [, name, argument, operatorText, sign, valueText] = match as unknown as [string, string, string | undefined, string, string, string];

  const aggregation = parseAggregation(name.toLowerCase(), argument);
  if ('problem' in aggregation) return { problem: `"${text}": ${aggregation.problem}`, part: 'syntax' };
  if (operatorText !== '==' && /^=+$/.test(operatorText)) return { problem: `"${text}": use == to compare for equality`, part: 'syntax' };
  const operator = operatorText as Operator;

  const limit = parseLimit(valueText.toLowerCase(), unit, `${aggregationLabel(aggregation)}${operator}${sign}`);
  if (typeof limit !== 'number') return { problem: `"${text}": ${limit.problem}`, part: 'value', aggregation };
  return { aggregation, operator, limit: sign === '-' ? -limit : limit };
}

function parseAggregation(name: string, argument: string | undefined): Aggregation | { problem: string } {
  if (name === 'p') {
    if (argument === undefined) return { problem: 'a percentile needs its rank, e.g. p(95)' };
    const p = Number(argument);
    if (argument === '' || !Number.isFinite(p) || p < 0 || p > 100) return { problem: `p(${argument}): the percentile must be a number from 0 to 100` };
    return { kind: 'percentile', p };
  }
  if (argument !== undefined) return { problem: `${name}(${argument}): only p(N) takes an argument` };
  switch (name) {
    case 'rate':
    case 'count':
    case 'avg':
    case 'min':
    case 'max':
    case 'med':
      return { kind: name };
    default:
      return { problem: `unknown aggregation "${name}"` };
  }
}

const NUMBER_AND_SUFFIX = /^(\d+(?:\.\d*)?|\.\d+)\s*([a-z%]*)$/;
const TIME_UNITS = ['ms', 's', 'm', 'h'];

/**
 * The limit in the metric's base unit. A time needs its unit: k6 reads
 * `p(95)<200` as milliseconds, and reading it as seconds would pass runs
 * a thousand times slower than meant, so a bare number is refused, not guessed.
 */
function parseLimit(valueText: string, unit: MetricUnit, prefix: string): number | { problem: string } {
  const single = NUMBER_AND_SUFFIX.exec(valueText);
  if (!single) {
    // Only a time has more than one part (1m30s).
    const seconds = unit === 'seconds' ? parseDurationText(valueText) : undefined;
    if (seconds !== undefined) return seconds;
    return { problem: unit === 'seconds' ? `"${valueText}" is not a time (e.g. ${DURATION_EXAMPLES})` : `"${valueText}" is not a number` };
  }
  const [, numberText = '', suffix = ''] = single;
  const value = Number(numberText);
  if (suffix === '%') {
    if (unit !== 'ratio') return { problem: '"%" applies to ratios (rates, packet loss) only' };
    return value / 100;
  }
  if (TIME_UNITS.includes(suffix)) {
    if (unit !== 'seconds') return { problem: `"${suffix}" is a time unit, and this metric is not a time` };
    return parseDurationText(valueText) ?? { problem: `"${valueText}" is not a time (e.g. ${DURATION_EXAMPLES})` };
  }
  if (suffix !== '') return { problem: `unknown unit "${suffix}"${unit === 'seconds' ? ' (use ms, s, m or h)' : ''}` };
  // Zero is zero in any unit.
  if (unit === 'seconds' && value !== 0) {
    return { problem: `a time needs its unit, e.g. ${prefix}${numberText}ms or ${prefix}${trimmed(value / 1000)}s (a bare number could mean ms, as in k6, or s)` };
  }
  return value;
}

/** Without float noise: 0.30000000000000004 -> "0.3". */
function trimmed(value: number): string {
  return String(Number(value.toPrecision(12)));
}

/** How an aggregation is written back, for messages and reports. */
export function aggregationLabel(aggregation: Aggregation): string {
  return aggregation.kind === 'percentile' ? `p(${aggregation.p})` : aggregation.kind;
}

/**
 * Compares as written, but treats figures within float noise of the limit
 * as equal to it: an average of 0.02 s over 100 calls sums to
 * 0.020000000000000004, and `avg<=0.02` must hold for it.
 */
export function compare(observed: number, operator: Operator, limit: number): boolean {
  const equal = nearlyEqual(observed, limit);
  switch (operator) {
    case '<':
      return observed < limit && !equal;
    case '<=':
      return observed <= limit || equal;
    case '>':
      return observed > limit && !equal;
    case '>=':
      return observed >= limit || equal;
    case '==':
      return equal;
    case '!=':
      return !equal;
  }
}

function nearlyEqual(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}
