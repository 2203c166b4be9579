/**
 * Thresholds as written (scenario `thresholds:` or `--threshold`), checked
 * all at once: every bad metric name and expression is reported together,
 * as one InputError (exit 2), with what is allowed.
 */
import { parseDurationText } from '../common/durations.js';
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

/** A problem with one threshold: the metric as written, and the expression's index in its list (none: the metric itself). */
export interface ThresholdProblem {
  metricLabel: string;
  index?: number;
  message: string;
}

/**
 * @param source where the thresholds came from, for messages: a scenario file or `--threshold`.
 */
export function parseThresholds(spec: Readonly<Record<string, readonly ThresholdSpec[] | ThresholdSpec>>, source: string): ParsedThreshold[] {
  const { parsed, problems } = readThresholdSpecs(spec);
  if (problems.length > 0) {
    const lines = problems.map((problem) => `${source}: ${thresholdPath(problem)}: ${problem.message}`);
    throw new InputError(lines.length === 1 ? lines[0]! : `${lines.length} problems with the thresholds in ${source}`, THRESHOLDS_HINT, lines);
  }
  return parsed;
}

/**
 * Every problem in a scenario's thresholds, for the scenario loader, which
 * places each at its line and column (scenario/ may not import verdict/, so
 * the CLI hands this in: see scenario/loader.ts, LoadOptions.thresholds).
 */
export function thresholdProblems(spec: Readonly<Record<string, readonly ThresholdSpec[] | ThresholdSpec>>): ThresholdProblem[] {
  return readThresholdSpecs(spec).problems;
}

/**
 * Every problem in `--threshold` values, each naming its option as it was
 * given (`--threshold 'setup_time:p(95)<200': ...`), not the scenario file.
 */
export function optionThresholdProblems(optionValues: readonly string[]): string[] {
  return optionValues.flatMap((value) => {
    const option = splitOption(value);
    if ('problem' in option) return [option.problem];
    return readThresholdSpecs({ [option.metric]: [option.expression] }).problems.map((problem) => `${optionName(value)}: ${problem.message}`);
  });
}

/**
 * A run's thresholds: the scenario's, with the `--threshold` options added to
 * them (k6 style), parsed as one list. A problem in the scenario names the
 * file (`source`); a problem in an option names the option. Every problem is
 * reported at once.
 */
export function parseRunThresholds(
  scenarioSpec: Readonly<Record<string, readonly ThresholdSpec[]>>,
  source: string,
  optionValues: readonly string[],
): ParsedThreshold[] {
  const problems = [
    ...readThresholdSpecs(scenarioSpec).problems.map((problem) => `${source}: ${thresholdPath(problem)}: ${problem.message}`),
    ...optionThresholdProblems(optionValues),
  ];
  if (problems.length > 0) throw new InputError(problems.length === 1 ? problems[0]! : `${problems.length} problems with the thresholds`, THRESHOLDS_HINT, problems);
  return readThresholdSpecs(mergeThresholdSpecs(scenarioSpec, thresholdsFromOptions(optionValues))).parsed;
}

/** Each threshold parsed, and a problem for each one that is not; throws nothing. */
function readThresholdSpecs(spec: Readonly<Record<string, readonly ThresholdSpec[] | ThresholdSpec>>): { parsed: ParsedThreshold[]; problems: ThresholdProblem[] } {
  const problems: ThresholdProblem[] = [];
  const parsed: ParsedThreshold[] = [];
  for (const [metricLabel, listOrOne] of Object.entries(spec)) {
    const metric = parseMetricLabel(metricLabel);
    if ('problem' in metric) {
      problems.push({ metricLabel, message: metric.problem });
      continue;
    }
    const { kind, unit } = THRESHOLD_METRICS[metric.name];
    const list = Array.isArray(listOrOne) ? listOrOne : [listOrOne];
    if (list.length === 0) problems.push({ metricLabel, message: `needs at least one expression, e.g. ${exampleFor(metric.name)}` });
    list.forEach((item: unknown, index) => {
      const problem = (message: string): void => void problems.push({ metricLabel, index, message });
      const form = readSpec(item);
      if ('problem' in form) return problem(form.problem);
      const expression = parseExpression(form.threshold, unit);
      if ('problem' in expression && expression.part === 'syntax') return problem(`${expression.problem}; ${metric.name} allows ${allowedFor(metric.name)}`);
      const aggregation = expression.aggregation;
      if (!AGGREGATIONS_BY_KIND[kind].includes(aggregation.kind === 'percentile' ? 'p(N)' : aggregation.kind)) {
        return problem(`"${form.threshold}": ${metric.name} is a ${kind} metric and takes ${allowedFor(metric.name)}, not ${aggregationLabel(aggregation)}`);
      }
      if ('problem' in expression) return problem(expression.problem);
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
  return { parsed, problems };
}

function thresholdPath({ metricLabel, index }: ThresholdProblem): string {
  return `thresholds.${metricLabel}${index === undefined ? '' : `[${index}]`}`;
}

/**
 * `--threshold` values, `metric:expression` each (`setup_time:p(95)<2s`,
 * `step_success{step:register alice}:rate==1`), grouped like a scenario's thresholds.
 */
export function thresholdsFromOptions(values: readonly string[]): Record<string, string[]> {
  const spec: Record<string, string[]> = {};
  const problems: string[] = [];
  for (const value of values) {
    const option = splitOption(value);
    if ('problem' in option) problems.push(option.problem);
    else (spec[option.metric] ??= []).push(option.expression);
  }
  if (problems.length > 0) throw new InputError(problems.length === 1 ? problems[0]! : `${problems.length} bad --threshold options`, THRESHOLDS_HINT, problems);
  return spec;
}

function splitOption(value: string): { metric: string; expression: string } | { problem: string } {
  // The metric ends at the first colon outside a {tag} selector.
  const brace = value.indexOf('{');
  const firstColon = value.indexOf(':');
  const selectorFirst = brace >= 0 && (firstColon < 0 || brace < firstColon);
  const colon = selectorFirst ? value.indexOf(':', Math.max(value.indexOf('}'), brace)) : firstColon;
  if (colon <= 0 || colon === value.length - 1) return { problem: `${optionName(value)}: expected metric:expression, e.g. setup_time:p(95)<2s` };
  return { metric: value.slice(0, colon).trim(), expression: value.slice(colon + 1).trim() };
}

/** The option as a shell would take it back: `--threshold 'setup_time:p(95)<2s'`. */
function optionName(value: string): string {
  return `--threshold '${value.replaceAll("'", "'\\''")}'`;
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
  const seconds = typeof value === 'string' ? parseDurationText(value) : undefined;
  return seconds ?? { problem: `delayAbortEval: expected a duration such as 10s, 500ms or 1m, got ${JSON.stringify(value)}` };
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
