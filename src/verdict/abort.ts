/**
 * abortOnFail: a threshold that is already lost stops the run early instead
 * of burning the rest of the load on it. The runner calls shouldAbort() every
 * few seconds with what it has so far; the verdict at the end is made as usual.
 */
import { evaluateThreshold, type ThresholdResult } from './evaluate.js';
import type { ThresholdData } from './observe.js';
import type { ParsedThreshold } from './parseThresholds.js';

export interface AbortDecision {
  abort: boolean;
  /** The abortOnFail thresholds failing now (empty when abort is false). */
  failed: ThresholdResult[];
  /** One line for the log when aborting: which thresholds, by how much. */
  reason?: string;
}

/** Only the thresholds that may abort; when empty the runner need not poll at all. */
export function abortingThresholds(parsed: readonly ParsedThreshold[]): ParsedThreshold[] {
  return parsed.filter((threshold) => threshold.abortOnFail);
}

/**
 * @param elapsedSeconds time since the run started; a threshold is not judged
 *   before its delayAbortEval has passed.
 * Thresholds with no data yet never abort: early in a run there is simply
 * nothing measured, which is not a failure.
 */
export function shouldAbort(parsed: readonly ParsedThreshold[], data: ThresholdData, elapsedSeconds: number): AbortDecision {
  const failed: ThresholdResult[] = [];
  for (const threshold of parsed) {
    if (!threshold.abortOnFail || elapsedSeconds < threshold.delayAbortEvalSeconds) continue;
    const result = evaluateThreshold(threshold, data);
    if (result.observed !== null && !result.passed) failed.push(result);
  }
  if (failed.length === 0) return { abort: false, failed };
  const reason = `aborting: threshold${failed.length === 1 ? '' : 's'} failed: ${failed
    .map((result) => `${result.threshold.metricLabel} ${result.threshold.expression} (${result.detail})`)
    .join('; ')}`;
  return { abort: true, failed, reason };
}
