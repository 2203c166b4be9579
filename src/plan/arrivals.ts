/**
 * Open-model arithmetic: the arrival rate over time (phases that hold or ramp
 * linearly, Artillery `arrivalRate`/`rampTo`, SIPp -r/-rp), the expected count
 * of arrivals (the rate's integral), and arrival times.
 *
 * Uniform arrivals (SIPp, k6): arrival i (from 0) comes when the integral of
 * the rate reaches i, so a constant 2 calls/s starts calls at 0, 0.5, 1 ... s
 * and a ramp packs them ever closer. Poisson arrivals: the integral between
 * arrivals is exponential with mean 1 (a non-homogeneous Poisson process), so
 * the mean rate is the same and the gaps are random.
 */
import type { RatePhase } from '../scenario/types.js';
import { sequence } from './random.js';

/** Calls per second at `seconds` from the start (0 after the last phase). */
export function rateAt(phases: readonly RatePhase[], seconds: number): number {
  let start = 0;
  for (const phase of phases) {
    if (seconds < start + phase.durationSeconds) {
      const into = Math.max(0, seconds - start);
      return phase.rate + ((phase.endRate - phase.rate) * into) / phase.durationSeconds;
    }
    start += phase.durationSeconds;
  }
  return 0;
}

export function totalSeconds(phases: readonly RatePhase[]): number {
  return phases.reduce((sum, phase) => sum + phase.durationSeconds, 0);
}

/** The integral of the rate from 0 to `seconds`: how many arrivals are due by then. */
export function expectedArrivalsBy(phases: readonly RatePhase[], seconds: number): number {
  let start = 0;
  let total = 0;
  for (const phase of phases) {
    const into = Math.min(Math.max(0, seconds - start), phase.durationSeconds);
    total += phase.rate * into + ((phase.endRate - phase.rate) * into * into) / (2 * phase.durationSeconds);
    start += phase.durationSeconds;
    if (seconds <= start) break;
  }
  return total;
}

export function expectedArrivals(phases: readonly RatePhase[]): number {
  return expectedArrivalsBy(phases, totalSeconds(phases));
}

/** The time at which the rate's integral reaches `count`; undefined if it never does within the phases. */
export function timeOfArrival(phases: readonly RatePhase[], count: number): number | undefined {
  let start = 0;
  let before = 0;
  for (const phase of phases) {
    const inPhase = ((phase.rate + phase.endRate) / 2) * phase.durationSeconds;
    if (count < before + inPhase) {
      const wanted = count - before;
      // Solve rate*t + slope/2*t^2 = wanted; this form stays exact when slope is 0 and stable when it is negative.
      const half = (phase.endRate - phase.rate) / (2 * phase.durationSeconds);
      const root = Math.sqrt(Math.max(0, phase.rate * phase.rate + 4 * half * wanted));
      const denominator = phase.rate + root;
      // A tiny count on a ramp from 0 underflows 4*half*wanted to 0: then rate*t is 0 too and t = sqrt(wanted/half).
      const into = wanted === 0 ? 0 : denominator > 0 ? (2 * wanted) / denominator : Math.sqrt(wanted) / Math.sqrt(half);
      return start + Math.min(Math.max(0, into), phase.durationSeconds);
    }
    before += inPhase;
    start += phase.durationSeconds;
  }
  return undefined;
}

export interface ArrivalOptions {
  arrivals: 'uniform' | 'poisson';
  seed: number;
  /** Stop after this many (load.iterations). */
  limit?: number;
}

/** Every arrival time, in seconds from the start, in order. */
export function arrivalTimes(phases: readonly RatePhase[], options: ArrivalOptions): number[] {
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const total = expectedArrivals(phases);
  const times: number[] = [];
  if (options.arrivals === 'uniform') {
    // A tiny tolerance keeps float noise from adding or losing the arrival that lands exactly at the end.
    for (let i = 0; i < total - 1e-9 && times.length < limit; i++) {
      const at = timeOfArrival(phases, i);
      if (at === undefined) break;
      times.push(at);
    }
    return times;
  }
  const next = sequence(options.seed);
  let integral = 0;
  while (times.length < limit) {
    integral += -Math.log(1 - next());
    if (integral >= total) break;
    const at = timeOfArrival(phases, integral);
    if (at === undefined) break;
    times.push(at);
  }
  return times;
}
