/** Thresholds -> verdict -> exit code: what the runner and the CLI call. */
export { parseThresholds, parseRunThresholds, thresholdProblems, optionThresholdProblems, thresholdsFromOptions, mergeThresholdSpecs, THRESHOLDS_HINT } from './parseThresholds.js';
export type { ParsedThreshold, ThresholdSpec, ThresholdObject } from './parseThresholds.js';
export { evaluateThresholds, evaluateThreshold, thresholdsFailed, type ThresholdResult } from './evaluate.js';
export { shouldAbort, abortingThresholds, type AbortDecision } from './abort.js';
export { outcomeExitCode, verdictExitCode, exitCodeMeaning, ExitCode, COMPARE_EXIT } from './exitCodes.js';
export type { ThresholdData } from './observe.js';
export { THRESHOLD_METRICS, THRESHOLD_METRIC_NAMES, type ThresholdMetricName, type ThresholdMetric } from './metrics.js';
export { EXPRESSION_SYNTAX, type Aggregation, type Operator } from './expression.js';
