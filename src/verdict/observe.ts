/**
 * The observed value of a threshold's metric: the numbers a verdict is made
 * of, computed from the run's results only.
 */
import { mean, percentileOfSorted } from '../common/statistics.js';
import type { CallResult, RunSummary, StepResult } from '../results.js';
import type { Aggregation } from './expression.js';
import type { ThresholdMetricName } from './metrics.js';

/**
 * What thresholds are evaluated on. `summary` only needs its registrations,
 * so the runner can evaluate during the run (for abortOnFail) before a
 * RunSummary exists.
 */
export interface ThresholdData {
  calls: readonly CallResult[];
  steps: readonly StepResult[];
  summary: Pick<RunSummary, 'registrations'>;
  /** Moments the load engine could not keep up; 0 until it reports them. */
  harnessSaturatedCount?: number;
}

export interface Observation {
  /** null: nothing to measure (no calls, no established calls, no dtmf steps...). */
  value: number | null;
  /** How many calls, steps, registrations or values the figure is made of. */
  sampleCount: number;
}

export function observe(
  metric: ThresholdMetricName,
  aggregation: Aggregation,
  tags: Readonly<Record<string, string>>,
  data: ThresholdData,
): Observation {
  const { calls, steps } = data;
  switch (metric) {
    case 'call_success':
      return rate(calls, (call) => call.result === 'success' || call.failureExpected);
    case 'registration_success':
      return ratio(data.summary.registrations.succeeded, data.summary.registrations.attempted);
    case 'step_success':
      return rate(
        steps.filter((step) => (tags.step === undefined || step.name === tags.step) && (tags.kind === undefined || step.kind === tags.kind)),
        (step) => step.ok,
      );
    case 'dtmf_delivered':
      return rate(
        steps.filter((step) => step.kind === 'dtmf'),
        (step) => step.ok,
      );
    case 'setup_time':
      return trend(calls, (call) => call.setupSeconds, aggregation);
    case 'time_to_180':
      return trend(calls, (call) => call.timeTo180Seconds, aggregation);
    case 'first_audio':
      return trend(calls, (call) => call.timeToFirstAudioSeconds, aggregation);
    case 'mos':
      return trend(calls, (call) => call.mos, aggregation);
    case 'jitter':
      return trend(calls, (call) => call.jitterSeconds, aggregation);
    case 'packet_loss':
      return trend(calls, (call) => call.packetLossRatio, aggregation);
    case 'rtt':
      return trend(calls, (call) => call.rttSeconds, aggregation);
    case 'video_fps':
      return trend(calls, (call) => call.videoFpsIn, aggregation);
    case 'video_freeze_seconds':
      return trend(calls, (call) => call.videoFreezeSeconds, aggregation);
    case 'one_way_audio':
      return count(calls, (call) => call.oneWayAudio || call.failureReason === 'no_media' || call.failureReason === 'one_way_audio');
    case 'failed_calls':
      return count(calls, (call) => call.result === 'failed' && !call.failureExpected);
    case 'harness_saturated':
      return { value: data.harnessSaturatedCount ?? 0, sampleCount: 1 };
  }
}

function rate<Item>(items: readonly Item[], good: (item: Item) => boolean): Observation {
  let goodCount = 0;
  for (const item of items) if (good(item)) goodCount++;
  return ratio(goodCount, items.length);
}

function ratio(good: number, all: number): Observation {
  return { value: all === 0 ? null : good / all, sampleCount: all };
}

function count<Item>(items: readonly Item[], counted: (item: Item) => boolean): Observation {
  let total = 0;
  for (const item of items) if (counted(item)) total++;
  return { value: total, sampleCount: items.length };
}

function trend(calls: readonly CallResult[], pick: (call: CallResult) => number | undefined, aggregation: Aggregation): Observation {
  const values: number[] = [];
  for (const call of calls) {
    const value = pick(call);
    if (value !== undefined && Number.isFinite(value)) values.push(value);
  }
  values.sort((a, b) => a - b);
  return { value: aggregate(values, aggregation), sampleCount: values.length };
}

function aggregate(sorted: readonly number[], aggregation: Aggregation): number | null {
  if (sorted.length === 0) return null;
  switch (aggregation.kind) {
    case 'avg':
      return mean(sorted) ?? null;
    case 'min':
      return sorted[0]!;
    case 'max':
      return sorted[sorted.length - 1]!;
    case 'med':
      return percentileOfSorted(sorted, 50) ?? null;
    case 'percentile':
      return percentileOfSorted(sorted, aggregation.p) ?? null;
    case 'rate':
    case 'count':
      // The parser only pairs these with rate and count metrics.
      throw new Error(`${aggregation.kind} does not apply to a trend`);
  }
}
