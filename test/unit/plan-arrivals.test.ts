import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { arrivalTimes, expectedArrivals, expectedArrivalsBy, rateAt, timeOfArrival, totalSeconds } from '../../src/plan/arrivals.js';
import { holdSecondsFor, maxHoldSeconds, meanHoldSeconds } from '../../src/plan/holdTime.js';
import type { HoldTime, RatePhase } from '../../src/scenario/types.js';

const constant = (rate: number, seconds: number): RatePhase => ({ durationSeconds: seconds, rate, endRate: rate });
const ramp = (from: number, to: number, seconds: number): RatePhase => ({ durationSeconds: seconds, rate: from, endRate: to });
const uniform = { arrivals: 'uniform' as const, seed: 1 };

describe('open-model arrivals', () => {
  it('space a constant rate evenly from the start, as SIPp -r does', () => {
    expect(arrivalTimes([constant(2, 5)], uniform)).toEqual([0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5]);
    expect(arrivalTimes([constant(0.5, 10)], uniform)).toEqual([0, 2, 4, 6, 8]);
  });

  it('ramp 1 -> 4 calls/s over 10 s: 25 calls, ever closer, each when the rate integral reaches its index', () => {
    const phases = [ramp(1, 4, 10)];
    const times = arrivalTimes(phases, uniform);
    expect(expectedArrivals(phases)).toBe(25);
    expect(times).toHaveLength(25);
    times.forEach((t, i) => expect(expectedArrivalsBy(phases, t)).toBeCloseTo(i, 9));
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]!).toBeLessThan(gaps[i - 1]!);
    // The first gap is about 1/1 s, the last about 1/4 s.
    expect(gaps[0]).toBeCloseTo(0.883, 3);
    expect(gaps.at(-1)).toBeCloseTo(0.257, 3);
    expect(times.at(-1)!).toBeLessThan(10);
  });

  it('ramp down and ramp from zero', () => {
    expect(arrivalTimes([ramp(4, 1, 10)], uniform)).toHaveLength(25);
    const fromZero = arrivalTimes([ramp(0, 2, 10)], uniform);
    expect(fromZero).toHaveLength(10);
    // N(t) = t^2/10: arrival i at sqrt(10 i).
    fromZero.forEach((t, i) => expect(t).toBeCloseTo(Math.sqrt(10 * i), 9));
  });

  it('chain phases: a ramp then a hold, the count carried across the boundary', () => {
    const phases = [ramp(1, 5, 4), constant(5, 2), constant(0, 3), constant(1, 2)];
    expect(totalSeconds(phases)).toBe(11);
    expect(expectedArrivals(phases)).toBe(12 + 10 + 0 + 2);
    const times = arrivalTimes(phases, uniform);
    expect(times).toHaveLength(24);
    expect(times.filter((t) => t >= 6 && t < 9)).toEqual([]); // the rate-0 phase plans nothing
    expect(times.filter((t) => t >= 9)).toEqual([9, 10]);
    expect(rateAt(phases, 2)).toBe(3);
    expect(rateAt(phases, 5)).toBe(5);
    expect(rateAt(phases, 7)).toBe(0);
    expect(rateAt(phases, 11)).toBe(0);
  });

  it('stop at load.iterations', () => {
    expect(arrivalTimes([constant(10, 60)], { ...uniform, limit: 7 })).toHaveLength(7);
  });

  it('timeOfArrival stays inside the phase for a count too small to square (CI counterexample)', () => {
    const phases = [{ durationSeconds: 1.569021792694131, rate: 0, endRate: 6.373397773417303e-7 }, { durationSeconds: 0.5, rate: 0.399998, endRate: 0 }];
    const t = timeOfArrival(phases, 2.5e-323)!;
    expect(t).toBeLessThan(1e-100);
    expect(expectedArrivalsBy(phases, t)).toBeCloseTo(2.5e-323, 6);
  });

  it('timeOfArrival inverts the integral for any phases (property)', () => {
    const phase = fc.record({ durationSeconds: fc.double({ min: 0.5, max: 100, noNaN: true }), rate: fc.double({ min: 0, max: 50, noNaN: true }), endRate: fc.double({ min: 0, max: 50, noNaN: true }) });
    fc.assert(
      fc.property(fc.array(phase, { minLength: 1, maxLength: 4 }), fc.double({ min: 0, max: 1, noNaN: true }), (phases, fraction) => {
        const total = expectedArrivals(phases);
        fc.pre(total > 0.01);
        const count = fraction * total * 0.999;
        const t = timeOfArrival(phases, count)!;
        expect(t).toBeGreaterThanOrEqual(0);
        expect(t).toBeLessThanOrEqual(totalSeconds(phases));
        expect(expectedArrivalsBy(phases, t)).toBeCloseTo(count, 6);
      }),
    );
  });

  it('Poisson arrivals keep the mean rate, vary with the seed and repeat with it', () => {
    const phases = [constant(50, 100)];
    const a = arrivalTimes(phases, { arrivals: 'poisson', seed: 7 });
    // 5000 expected; a Poisson count has sd sqrt(5000) ~ 71.
    expect(Math.abs(a.length - 5000)).toBeLessThan(300);
    expect(arrivalTimes(phases, { arrivals: 'poisson', seed: 7 })).toEqual(a);
    expect(arrivalTimes(phases, { arrivals: 'poisson', seed: 8 })).not.toEqual(a);
    for (let i = 1; i < a.length; i++) expect(a[i]!).toBeGreaterThanOrEqual(a[i - 1]!);
    // Exponential gaps: their coefficient of variation is about 1 (uniform gaps: 0).
    const gaps = a.slice(1).map((t, i) => t - a[i]!);
    const mean = gaps.reduce((s, g) => s + g, 0) / gaps.length;
    const sd = Math.sqrt(gaps.reduce((s, g) => s + (g - mean) ** 2, 0) / gaps.length);
    expect(mean).toBeCloseTo(0.02, 2);
    expect(sd / mean).toBeGreaterThan(0.9);
    expect(sd / mean).toBeLessThan(1.1);
    // Ramped Poisson: more arrivals in the second half, where the rate is higher.
    const ramped = arrivalTimes([ramp(1, 20, 100)], { arrivals: 'poisson', seed: 3 });
    expect(ramped.filter((t) => t >= 50).length).toBeGreaterThan(2 * ramped.filter((t) => t < 50).length);
  });
});

describe('hold times', () => {
  const draws = (holdTime: HoldTime, n = 4000) => Array.from({ length: n }, (_, i) => holdSecondsFor(holdTime, 42, i + 1));
  const mean = (values: number[]) => values.reduce((s, v) => s + v, 0) / values.length;

  it('fixed', () => {
    expect(draws({ kind: 'fixed', seconds: 30 }, 10)).toEqual(Array(10).fill(30));
  });

  it('uniform stays within its bounds, mean in the middle', () => {
    const values = draws({ kind: 'uniform', minSeconds: 20, maxSeconds: 40 });
    expect(Math.min(...values)).toBeGreaterThanOrEqual(20);
    expect(Math.max(...values)).toBeLessThanOrEqual(40);
    expect(mean(values)).toBeCloseTo(30, 0);
  });

  it('exponential has its mean and is cut at its max', () => {
    const holdTime: HoldTime = { kind: 'exponential', meanSeconds: 10, maxSeconds: 100 };
    expect(mean(draws(holdTime))).toBeGreaterThan(9.3);
    expect(mean(draws(holdTime))).toBeLessThan(10.7);
    expect(Math.max(...draws({ kind: 'exponential', meanSeconds: 10, maxSeconds: 15 }))).toBe(15);
    expect(meanHoldSeconds(holdTime)).toBe(10);
    expect(maxHoldSeconds(holdTime)).toBe(100);
  });

  it('normal has its mean and spread, clamped to its bounds', () => {
    const values = draws({ kind: 'normal', meanSeconds: 30, stddevSeconds: 5, minSeconds: 0, maxSeconds: 100 });
    const m = mean(values);
    expect(m).toBeCloseTo(30, 0);
    expect(Math.sqrt(mean(values.map((v) => (v - m) ** 2)))).toBeCloseTo(5, 0);
    const clamped = draws({ kind: 'normal', meanSeconds: 30, stddevSeconds: 20, minSeconds: 25, maxSeconds: 35 });
    expect(Math.min(...clamped)).toBe(25);
    expect(Math.max(...clamped)).toBe(35);
  });

  it('depend only on seed and iteration, not on the order they are drawn in', () => {
    const holdTime: HoldTime = { kind: 'uniform', minSeconds: 1, maxSeconds: 9 };
    const forward = [1, 2, 3, 4, 5].map((i) => holdSecondsFor(holdTime, 9, i));
    const backward = [5, 4, 3, 2, 1].map((i) => holdSecondsFor(holdTime, 9, i)).reverse();
    expect(backward).toEqual(forward);
    expect(holdSecondsFor(holdTime, 10, 1)).not.toBe(forward[0]);
  });
});
