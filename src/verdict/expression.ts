/**
 * One threshold expression, k6's syntax: `<aggregation><operator><value>`,
 * e.g. `rate>=0.99`, `p(95)<2s`, `p(99.9)<=3000ms`, `avg>4.0`, `count==0`.
 */
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
  'value a number, with ms or s for times (default seconds) and % for ratios';

const EXPRESSION = /^\s*([a-z][a-z0-9_]*)\s*(?:\(\s*([^)]*?)\s*\))?\s*(<=|>=|==|!=|<|>|=+)\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*([a-z%]*)\s*$/i;

/** Parsed, or a message saying what is wrong with it (without the metric; the caller adds where). */
export function parseExpression(text: string, unit: MetricUnit): Expression | { problem: string } {
  const match = EXPRESSION.exec(text);
  if (!match) return { problem: `"${text}" is not an expression (${EXPRESSION_SYNTAX})` };
  const [, name, argument, operatorText, numberText, suffix] = match as unknown as [string, string, string | undefined, string, string, string];

  const aggregation = parseAggregation(name.toLowerCase(), argument);
  if ('problem' in aggregation) return { problem: `"${text}": ${aggregation.problem}` };
  if (operatorText !== '==' && /^=+$/.test(operatorText)) return { problem: `"${text}": use == to compare for equality` };
  const operator = operatorText as Operator;

  const limit = parseLimit(Number(numberText), suffix.toLowerCase(), unit);
  if (typeof limit !== 'number') return { problem: `"${text}": ${limit.problem}` };
  return { aggregation, operator, limit };
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

function parseLimit(value: number, suffix: string, unit: MetricUnit): number | { problem: string } {
  switch (suffix) {
    case '':
      return value;
    case 'ms':
    case 's':
      if (unit !== 'seconds') return { problem: `"${suffix}" is a time unit, and this metric is not a time` };
      return suffix === 'ms' ? value / 1000 : value;
    case '%':
      if (unit !== 'ratio') return { problem: '"%" applies to ratios (rates, packet loss) only' };
      return value / 100;
    default:
      return { problem: `unknown unit "${suffix}"${unit === 'seconds' ? ' (use ms or s)' : ''}` };
  }
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
