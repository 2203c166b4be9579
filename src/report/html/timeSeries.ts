/**
 * The run over time, in buckets sized for a chart (at most ~120 points):
 * active calls and call rate from the call results, jitter / RTT / loss
 * from the leg samples. Pure: no DOM, no files.
 */
import type { CallResult, LegSample, StepResult } from '../../results.js';

/** Bucket widths a person reads easily on a time axis. */
const BUCKET_SECONDS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400];
export const MAX_POINTS = 120;

export interface Buckets {
  originMs: number;
  widthSeconds: number;
  count: number;
}

export function bucketsFor(originMs: number, endMs: number, maxPoints = MAX_POINTS): Buckets {
  const spanSeconds = Math.max(1, (endMs - originMs) / 1000);
  const widthSeconds = BUCKET_SECONDS.find((width) => spanSeconds / width <= maxPoints) ?? BUCKET_SECONDS.at(-1)!;
  return { originMs, widthSeconds, count: Math.max(1, Math.ceil(spanSeconds / widthSeconds)) };
}

function bucketOf(buckets: Buckets, atMs: number): number {
  const index = Math.floor((atMs - buckets.originMs) / 1000 / buckets.widthSeconds);
  return Math.min(buckets.count - 1, Math.max(0, index));
}

/** One chart point: x in seconds since the run started, y in the series' unit; null y is a gap. */
export interface Point {
  x: number;
  y: number | null;
}

/** When a call stopped occupying the harness: hangup if it was established, else the end of its call step. */
export function callEndMs(call: CallResult, callStepEndMs: ReadonlyMap<string, number>): number {
  if (call.setupSeconds !== undefined && call.durationSeconds !== undefined) {
    return call.startedAtMs + (call.setupSeconds + call.durationSeconds) * 1000;
  }
  return Math.max(call.startedAtMs, callStepEndMs.get(`${call.scenario}|${call.iteration}|${call.name}`) ?? call.startedAtMs);
}

/** End of each call step, keyed `scenario|iteration|call`, for calls that ended without being established. */
export function callStepEnds(steps: readonly StepResult[]): Map<string, number> {
  const ends = new Map<string, number>();
  for (const step of steps) {
    if (step.kind !== 'call' || step.call === undefined) continue;
    const key = `${step.scenario}|${step.iteration}|${step.call}`;
    ends.set(key, Math.max(ends.get(key) ?? 0, step.startedAtMs + step.durationSeconds * 1000));
  }
  return ends;
}

export interface CallActivity {
  /** Most calls up at once within each bucket. */
  activeCalls: Point[];
  /** Calls started per second, averaged over each bucket. */
  callsPerSecond: Point[];
}

export function callActivity(calls: readonly CallResult[], steps: readonly StepResult[], buckets: Buckets): CallActivity {
  if (calls.length === 0) return { activeCalls: [], callsPerSecond: [] }; // "no data", not a flat zero line
  const stepEnds = callStepEnds(steps);
  // Starts sort before ends at the same instant, so a call that failed at once still shows as up.
  const changes: [atMs: number, delta: number][] = [];
  const starts = new Array<number>(buckets.count).fill(0);
  for (const call of calls) {
    changes.push([call.startedAtMs, 1], [callEndMs(call, stepEnds), -1]);
    starts[bucketOf(buckets, call.startedAtMs)]!++;
  }
  changes.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  const peak = new Array<number>(buckets.count).fill(0);
  let active = 0;
  let next = 0;
  for (let bucket = 0; bucket < buckets.count; bucket++) {
    const bucketStartMs = buckets.originMs + bucket * buckets.widthSeconds * 1000;
    const bucketEndMs = bucketStartMs + buckets.widthSeconds * 1000;
    // What happens at the very start of a bucket counts before its first value: a call ending at 2.0 s is not up at 2.0 s.
    while (bucket > 0 && next < changes.length && changes[next]![0] <= bucketStartMs) active += changes[next++]![1];
    let most = active;
    while (next < changes.length && (changes[next]![0] < bucketEndMs || bucket === buckets.count - 1)) {
      active += changes[next]![1];
      most = Math.max(most, active);
      next++;
    }
    peak[bucket] = most;
  }
  const x = (bucket: number) => bucket * buckets.widthSeconds;
  return {
    activeCalls: peak.map((y, bucket) => ({ x: x(bucket), y })),
    callsPerSecond: starts.map((started, bucket) => ({ x: x(bucket), y: started / buckets.widthSeconds })),
  };
}

interface MediaAccumulator {
  jitterSum: number;
  jitterCount: number;
  rttSum: number;
  rttCount: number;
  lost: number;
  received: number;
}

export interface MediaSeries {
  /** Mean jitter of the leg samples in each bucket, seconds. */
  jitterSeconds: Point[];
  rttSeconds: Point[];
  /** Packets lost / (lost + received) in each bucket, over all legs. */
  packetLossRatio: Point[];
  /** How many samples went in: 0 means the run had no media samples. */
  sampleCount: number;
}

/**
 * Leg samples folded into per-second buckets as they stream by (samples.csv
 * of a long run is big); series() merges them into chart buckets at the end.
 * Loss comes from the growth of each leg's cumulative counters between samples.
 */
export class MediaTimeline {
  private readonly seconds = new Map<number, MediaAccumulator>();
  private readonly lastCounters = new Map<string, { lost: number; received: number }>();
  private samples = 0;

  constructor(readonly originMs: number) {}

  static of(originMs: number, samples: Iterable<LegSample>): MediaTimeline {
    const timeline = new MediaTimeline(originMs);
    for (const sample of samples) timeline.add(sample);
    return timeline;
  }

  add(sample: LegSample): void {
    this.samples++;
    const second = Math.max(0, Math.floor((sample.atMs - this.originMs) / 1000));
    let accumulator = this.seconds.get(second);
    if (!accumulator) {
      accumulator = { jitterSum: 0, jitterCount: 0, rttSum: 0, rttCount: 0, lost: 0, received: 0 };
      this.seconds.set(second, accumulator);
    }
    if (sample.jitterSeconds !== undefined && Number.isFinite(sample.jitterSeconds)) {
      accumulator.jitterSum += sample.jitterSeconds;
      accumulator.jitterCount++;
    }
    if (sample.rttSeconds !== undefined && Number.isFinite(sample.rttSeconds)) {
      accumulator.rttSum += sample.rttSeconds;
      accumulator.rttCount++;
    }
    const previous = this.lastCounters.get(sample.legId) ?? { lost: 0, received: 0 };
    // A counter going down (a restarted stream) counts as no growth rather than negative loss.
    accumulator.lost += Math.max(0, sample.packetsLost - previous.lost);
    accumulator.received += Math.max(0, sample.packetsReceived - previous.received);
    this.lastCounters.set(sample.legId, { lost: sample.packetsLost, received: sample.packetsReceived });
  }

  series(buckets: Buckets): MediaSeries {
    const merged = Array.from({ length: buckets.count }, (): MediaAccumulator => ({ jitterSum: 0, jitterCount: 0, rttSum: 0, rttCount: 0, lost: 0, received: 0 }));
    for (const [second, accumulator] of this.seconds) {
      const target = merged[bucketOf(buckets, this.originMs + second * 1000)]!;
      target.jitterSum += accumulator.jitterSum;
      target.jitterCount += accumulator.jitterCount;
      target.rttSum += accumulator.rttSum;
      target.rttCount += accumulator.rttCount;
      target.lost += accumulator.lost;
      target.received += accumulator.received;
    }
    const x = (bucket: number) => bucket * buckets.widthSeconds;
    return {
      jitterSeconds: merged.map((a, bucket) => ({ x: x(bucket), y: a.jitterCount ? a.jitterSum / a.jitterCount : null })),
      rttSeconds: merged.map((a, bucket) => ({ x: x(bucket), y: a.rttCount ? a.rttSum / a.rttCount : null })),
      packetLossRatio: merged.map((a, bucket) => ({ x: x(bucket), y: a.lost + a.received > 0 ? a.lost / (a.lost + a.received) : null })),
      sampleCount: this.samples,
    };
  }
}

export interface HistogramBin {
  from: number;
  to: number;
  count: number;
}

/** Equal-width bins over the values' range, widths rounded to 1-2-5 steps so the axis reads well. */
export function histogram(values: readonly number[], targetBins = 20): HistogramBin[] {
  if (values.length === 0) return [];
  let min = Infinity;
  let max = -Infinity;
  for (const value of values) {
    min = Math.min(min, value);
    max = Math.max(max, value);
  }
  const width = niceStep((max - min) / targetBins || Math.abs(max) / targetBins || 1);
  const start = Math.floor(min / width) * width;
  const count = Math.max(1, Math.floor((max - start) / width) + 1);
  return fixedBins(values, start, width, count);
}

export function fixedBins(values: readonly number[], start: number, width: number, count: number): HistogramBin[] {
  const bins = Array.from({ length: count }, (_, index): HistogramBin => ({ from: start + index * width, to: start + (index + 1) * width, count: 0 }));
  for (const value of values) {
    const index = Math.min(count - 1, Math.max(0, Math.floor((value - start) / width + 1e-9)));
    bins[index]!.count++;
  }
  return bins;
}

/** The 1, 2 or 5 times a power of ten nearest above `rough`. */
export function niceStep(rough: number): number {
  if (!(rough > 0) || !Number.isFinite(rough)) return 1;
  const power = 10 ** Math.floor(Math.log10(rough));
  const fraction = rough / power;
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
}
