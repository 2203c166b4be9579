/**
 * The metrics a threshold may name, with what each measures, its unit and the
 * aggregations that make sense for it. docs/reports.md mirrors this table;
 * parse errors list it, so a user never has to guess a name.
 */

/**
 * rate: a fraction of good outcomes (0..1), checked with `rate`.
 * trend: one value per call (or step), checked with avg/min/max/med/p(N).
 * count: a number of things, checked with `count`.
 */
export type MetricKind = 'rate' | 'trend' | 'count';

/** How values are written and shown: seconds take ms/s suffixes, ratios take %. */
export type MetricUnit = 'ratio' | 'seconds' | 'score' | 'count';

export interface ThresholdMetric {
  kind: MetricKind;
  unit: MetricUnit;
  /** One line for docs and error messages. */
  measures: string;
  /** Tag keys that select a sub-metric, k6-style: `step_success{step:register alice}`. */
  tags?: readonly string[];
}

export const THRESHOLD_METRICS = {
  call_success: {
    kind: 'rate',
    unit: 'ratio',
    measures: 'calls that succeeded, or failed as an expect step asked (failureExpected), over all calls (dropped ones too)',
  },
  registration_success: {
    kind: 'rate',
    unit: 'ratio',
    measures: 'REGISTER attempts answered 200 OK, over all attempts',
  },
  step_success: {
    kind: 'rate',
    unit: 'ratio',
    measures: 'scenario steps that passed, over all steps run; {step:<name>} or {kind:<kind>} selects some',
    tags: ['step', 'kind'],
  },
  setup_time: {
    kind: 'trend',
    unit: 'seconds',
    measures: 'call start to established (200 OK at the caller), established calls only',
  },
  time_to_180: {
    kind: 'trend',
    unit: 'seconds',
    measures: 'INVITE sent to the first 180/183, calls that got one',
  },
  first_audio: {
    kind: 'trend',
    unit: 'seconds',
    measures: 'established to the first received audio packet at the caller (a late IVR prompt shows here)',
  },
  mos: {
    kind: 'trend',
    unit: 'score',
    measures: 'estimated MOS (E-model, 1..4.5) of each call, from its worst leg',
  },
  jitter: {
    kind: 'trend',
    unit: 'seconds',
    measures: 'received interarrival jitter of each call, worst leg',
  },
  packet_loss: {
    kind: 'trend',
    unit: 'ratio',
    measures: 'lost / expected packets of each call (0..1), worst leg',
  },
  rtt: {
    kind: 'trend',
    unit: 'seconds',
    measures: 'round-trip time of each call, worst leg',
  },
  video_fps: {
    kind: 'trend',
    unit: 'count',
    measures: 'mean received video frame rate of each call with video, worst leg (frames/s)',
  },
  video_freeze_seconds: {
    kind: 'trend',
    unit: 'seconds',
    measures: 'time the received video spent frozen in each call with video, worst leg',
  },
  one_way_audio: {
    kind: 'count',
    unit: 'count',
    measures: 'calls with one-way or no audio (flagged one-way, or failed for no_media / one_way_audio)',
  },
  failed_calls: {
    kind: 'count',
    unit: 'count',
    measures: 'calls that failed when no expect step asked them to (dropped ones too)',
  },
  dtmf_delivered: {
    kind: 'rate',
    unit: 'ratio',
    measures: 'dtmf steps whose tones were all sent (RFC 4733 inserted / SIP INFO answered 2xx), over all dtmf steps',
  },
  harness_saturated: {
    kind: 'count',
    unit: 'count',
    measures: 'moments the harness could not keep up with the planned load (0 until the load engine reports it)',
  },
} as const satisfies Record<string, ThresholdMetric>;

export type ThresholdMetricName = keyof typeof THRESHOLD_METRICS;
export const THRESHOLD_METRIC_NAMES = Object.keys(THRESHOLD_METRICS) as ThresholdMetricName[];

export function isThresholdMetricName(name: string): name is ThresholdMetricName {
  return Object.hasOwn(THRESHOLD_METRICS, name);
}

export function thresholdMetric(name: ThresholdMetricName): ThresholdMetric {
  return THRESHOLD_METRICS[name];
}

/** Metrics that judge calls and steps outright; see exitCodes.ts for why they matter to the exit code. */
export const OUTCOME_METRICS: ReadonlySet<ThresholdMetricName> = new Set(['call_success', 'step_success', 'failed_calls']);

export const AGGREGATIONS_BY_KIND: Readonly<Record<MetricKind, readonly string[]>> = {
  rate: ['rate'],
  trend: ['avg', 'min', 'max', 'med', 'p(N)'],
  count: ['count'],
};
