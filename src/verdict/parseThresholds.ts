/**
 * Thresholds as written (scenario `thresholds:` or `--threshold`), checked
 * all at once: every bad metric name and expression is reported together,
 * as one InputError (exit 2), with what is allowed.
 */
import { InputError } from '../errors.js';
import { aggregationLabel, EXPRESSION_SYNTAX, parseExpression, type Expression } from './expression.js';
import { AGGREGATIONS_BY_KIND, isThresholdMetricName, THRESHOLD_METRIC_NAMES, THRESHOLD_METRICS, type ThresholdMetricName } from './metrics.js';

/** The object form, for aborting a run early: `{ threshold: 'rate>=0.9', abortOnFail: true, delayAbortEval: '10s' }`. */
export interface ThresholdObject {
  threshold: string;
  abortOnFail?: boolean;
  /** How long into the run before an abort may happen (so the first calls do not decide it): '10s', '500ms', '1m' or seconds. */
  delayAbortEval?: string | number;
}

export type ThresholdSpec = string | ThresholdObject;

export interface ParsedThreshold extends Expression {
  metric: ThresholdMetricName;
  /** Sub-metric selection, e.g. { step: 'register alice' }; empty for the whole metric. */
  tags: Readonly<Record<string, string>>;
  /** The metric as written, tags included: how reports name it. */
  metricLabel: string;
  /** The expression as written. */
  expression: string;
  abortOnFail: boolean;
  delayAbortEvalSeconds: number;
}

export const THRESHOLDS_HINT = 'see docs/reports.md#thresholds for the metrics and the syntax';

/**
 * @param source where the thresholds came from, for messages: a scenario file or `--threshold`.
 */
export function parseThresholds(spec: Readonly<Record<string, readonly ThresholdSpec[] | ThresholdSpec>>, source: string): ParsedThreshold[] {
  const problems: string[] = [];
  const parsed: ParsedThreshold[] = [];
  for (const [metricLabel, listOrOne] of Object.entries(spec)) {
    const where = `${source}: thresholds.${metricLabel}`;
    const metric = parseMetricLabel(metricLabel);
    if ('problem' in metric) {
      problems.push(`${where}: ${metric.problem}`);
      continue;
    }
    const { kind, unit } = THRESHOLD_METRICS[metric.name];
    const list = Array.isArray(listOrOne) ? listOrOne : [listOrOne];
    if (list.length === 0) problems.push(`${where}: needs at least one expression, e.g. ${exampleFor(metric.name)}`);
    list.forEach((item: unknown, index) => {
      const at = `${where}[${index}]`;
      const form = readSpec(item);
      if ('problem' in form) {
        problems.push(`${at}: ${form.problem}`);
        return;
      }
      const expression = parseExpression(form.threshold, unit);
      if ('problem' in expression) {
        problems.push(`${at}: ${expression.problem}; ${metric.name} allows ${allowedFor(metric.name)}`);
        return;
      }
      const allowed = AGGREGATIONS_BY_KIND[kind];
      const aggregation = expression.aggregation.kind === 'percentile' ? 'p(N)' : expression.aggregation.kind;
      if (!allowed.includes(aggregation)) {
        problems.push(`${at}: "${form.threshold}": ${metric.name} is a ${kind} metric and takes ${allowedFor(metric.name)}, not ${aggregationLabel(expression.aggregation)}`);
        return;
      }
      parsed.push({
        ...expression,
        metric: metric.name,
        tags: metric.tags,
        metricLabel,
        expression: form.threshold.trim(),
        abortOnFail: form.abortOnFail,
        delayAbortEvalSeconds: form.delayAbortEvalSeconds,
      });
    });
  }
  if (problems.length > 0) {
    const message = problems.length === 1 ? problems[0]! : `${problems.length} problems with the thresholds in ${source}`;
    throw new InputError(message, THRESHOLDS_HINT, problems);
  }
  return parsed;
}

/**
 * `--threshold` values, `metric:expression` each (`setup_time:p(95)<2s`,
 * `step_success{step:register alice}:rate==1`), grouped like a scenario's thresholds.
 */
export function thresholdsFromOptions(values: readonly string[]): Record<string, string[]> {
  const spec: Record<string, string[]> = {};
  const problems: string[] = [];
  for (const value of values) {
    // The metric ends at the first colon outside a {tag} selector.
    const brace = value.indexOf('{');
    const firstColon = value.indexOf(':');
    const selectorFirst = brace >= 0 && (firstColon < 0 || brace < firstColon);
    const colon = selectorFirst ? value.indexOf(':', Math.max(value.indexOf('}'), brace)) : firstColon;
    if (colon <= 0 || colon === value.length - 1) {
      problems.push(`--threshold "${value}": expected metric:expression, e.g. setup_time:p(95)<2s`);
      continue;
    }
    const metric = value.slice(0, colon).trim();
    (spec[metric] ??= []).push(value.slice(colon + 1).trim());
  }
  if (problems.length > 0) throw new InputError(problems.length === 1 ? problems[0]! : `${problems.length} bad --threshold options`, THRESHOLDS_HINT, problems);
  return spec;
}

/** Scenario thresholds and command-line ones together; the command line adds, it does not replace. */
export function mergeThresholdSpecs(...specs: readonly Readonly<Record<string, readonly ThresholdSpec[]>>[]): Record<string, ThresholdSpec[]> {
  const merged: Record<string, ThresholdSpec[]> = {};
  for (const spec of specs) for (const [metric, list] of Object.entries(spec)) (merged[metric] ??= []).push(...list);
  return merged;
}

function parseMetricLabel(label: string): { name: ThresholdMetricName; tags: Record<string, string> } | { problem: string } {
  const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\{(.*)\})?\s*$/s.exec(label);
  const name = match?.[1];
  if (!match || name === undefined || !isThresholdMetricName(name)) {
    return { problem: `unknown metric "${label}"; metrics: ${THRESHOLD_METRIC_NAMES.join(', ')}` };
  }
  const tagText = match[2];
  if (tagText === undefined) return { name, tags: {} };
  const allowedTags: readonly string[] = 'tags' in THRESHOLD_METRICS[name] ? (THRESHOLD_METRICS[name] as { tags: readonly string[] }).tags : [];
  if (allowedTags.length === 0) return { problem: `${name} takes no {tag} selector` };
  // Split only before a known key: step names may hold commas ("register alice, bob").
  const parts = tagText.split(new RegExp(`,\\s*(?=(?:${allowedTags.join('|')})\\s*:)`));
  const tags: Record<string, string> = {};
  for (const part of parts) {
    const colon = part.indexOf(':');
    const key = part.slice(0, colon).trim();
    const value = part.slice(colon + 1).trim().replace(/^(["'])(.*)\1$/s, '$2');
    if (colon < 0 || !allowedTags.includes(key) || value === '') {
      return { problem: `bad selector {${tagText}}: expected {${allowedTags.map((tag) => `${tag}:<${tag} name>`).join(' or ')}}` };
    }
    tags[key] = value;
  }
  return { name, tags };
}

function readSpec(item: unknown): { threshold: string; abortOnFail: boolean; delayAbortEvalSeconds: number } | { problem: string } {
  if (typeof item === 'string') return { threshold: item, abortOnFail: false, delayAbortEvalSeconds: 0 };
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    return { problem: `expected an expression such as 'rate>=0.99' or { threshold, abortOnFail, delayAbortEval }, got ${JSON.stringify(item)}` };
  }
  const object = item as Record<string, unknown>;
  const unknownKeys = Object.keys(object).filter((key) => !['threshold', 'abortOnFail', 'delayAbortEval'].includes(key));
  if (unknownKeys.length > 0) return { problem: `unknown key ${unknownKeys.join(', ')}; allowed: threshold, abortOnFail, delayAbortEval` };
  if (typeof object.threshold !== 'string') return { problem: 'threshold: expected an expression such as rate>=0.99' };
  if (object.abortOnFail !== undefined && typeof object.abortOnFail !== 'boolean') return { problem: 'abortOnFail: expected true or false' };
  const delay = parseDelay(object.delayAbortEval);
  if (typeof delay !== 'number') return delay;
  return { threshold: object.threshold, abortOnFail: object.abortOnFail ?? false, delayAbortEvalSeconds: delay };
}

function parseDelay(value: unknown): number | { problem: string } {
  if (value === undefined) return 0;
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  const match = typeof value === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(value) : null;
  if (!match) return { problem: `delayAbortEval: expected a duration such as 10s, 500ms or 1m, got ${JSON.stringify(value)}` };
  const amount = Number(match[1]);
  return match[2] === 'ms' ? amount / 1000 : match[2] === 'm' ? amount * 60 : amount;
}

function allowedFor(metric: ThresholdMetricName): string {
  return AGGREGATIONS_BY_KIND[THRESHOLD_METRICS[metric].kind].join(', ');
}

function exampleFor(metric: ThresholdMetricName): string {
  switch (THRESHOLD_METRICS[metric].kind) {
    case 'rate':
      return 'rate>=0.99';
    case 'count':
      return 'count==0';
    case 'trend':
      return THRESHOLD_METRICS[metric].unit === 'seconds' ? 'p(95)<2s' : 'avg>4.0';
  }
}

export { EXPRESSION_SYNTAX };
