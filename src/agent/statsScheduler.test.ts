import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StatsScheduler } from './statsScheduler.js';

describe('StatsScheduler', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('samples every leg once per interval when the budget allows, spread over the interval', async () => {
    const counts = new Map<number, number>();
    const legs = Array.from({ length: 20 }, (_, i) => i);
    const scheduler = new StatsScheduler(1000, 60, () => legs, (leg) => (counts.set(leg, (counts.get(leg) ?? 0) + 1), Promise.resolve()));
    await vi.advanceTimersByTimeAsync(100);
    expect([...counts.values()].reduce((a, b) => a + b, 0)).toBe(2); // a tenth of the legs per tenth of the interval, not a burst
    await vi.advanceTimersByTimeAsync(900);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(counts.size).toBe(20);
    scheduler.stop();
  });

  it('never starts more than its budget per second, whatever the number of legs', async () => {
    const legs = Array.from({ length: 500 }, (_, i) => i);
    let started = 0;
    const scheduler = new StatsScheduler(1000, 60, () => legs, () => (started++, Promise.resolve()));
    await vi.advanceTimersByTimeAsync(1000);
    expect(started).toBeGreaterThan(0);
    expect(started).toBeLessThanOrEqual(60);
    scheduler.stop();
  });

  it('does not pile calls up on a slow page: a leg still pending is skipped, and only a few run at once', async () => {
    const legs = Array.from({ length: 50 }, (_, i) => i);
    let running = 0;
    let most = 0;
    const scheduler = new StatsScheduler(1000, 60, () => legs, () => {
      most = Math.max(most, ++running);
      return new Promise<void>(() => undefined); // never answers
    });
    await vi.advanceTimersByTimeAsync(5000);
    expect(most).toBe(16);
    scheduler.stop();
  });

  it('never samples a leg more often than once per interval, even alone on its page', async () => {
    let samples = 0;
    const scheduler = new StatsScheduler(1000, 60, () => ['only'], () => (samples++, Promise.resolve()), () => true);
    await vi.advanceTimersByTimeAsync(3000);
    // At 0.1 s, then about once a second: rates over a shorter stretch would be noise.
    expect(samples).toBeGreaterThanOrEqual(3);
    expect(samples).toBeLessThanOrEqual(4);
    scheduler.stop();
  });

  it('samples new legs (no rates yet) before the round robin', () => {
    const legs = Array.from({ length: 300 }, (_, i) => i);
    const sampled: number[] = [];
    const fresh = new Set([250, 299]);
    const scheduler = new StatsScheduler(1000, 60, () => legs, (leg) => (sampled.push(leg), Promise.resolve()), (leg) => fresh.has(leg));
    vi.advanceTimersByTime(100);
    expect(sampled.slice(0, 2)).toEqual([250, 299]);
    scheduler.stop();
  });
});
