import { describe, expect, it } from 'vitest';
import { PageHealthLog } from './pageHealthLog.js';

const T0 = 1_700_000_000_000;
const health = (atMs: number, lagMaxMs: number, intervalMs = 1000) => ({ type: 'pageHealth' as const, atMs, intervalMs, lagMaxMs });

describe('PageHealthLog: how late a page\'s timers ran while a call lived', () => {
  it('the worst lag of the windows that overlap the span asked, per page', () => {
    const log = new PageHealthLog();
    log.note('p1', health(T0 + 1000, 20)); // window T0..T0+1000
    log.note('p1', health(T0 + 2000, 400)); // T0+1000..T0+2000
    log.note('p1', health(T0 + 3000, 30)); // T0+2000..T0+3000
    log.note('p2', health(T0 + 2000, 900));
    expect(log.worstLagMs('p1', T0, T0 + 3000)).toBe(400);
    expect(log.worstLagMs('p1', T0 + 2100, T0 + 2900)).toBe(30);
    // Windows that only touch the span's ends count: a stall at the edge of a call is near enough.
    expect(log.worstLagMs('p1', T0 + 2000, T0 + 2000)).toBe(400);
    expect(log.worstLagMs('p2', T0, T0 + 3000)).toBe(900);
  });

  it('undefined for a page that reported nothing then, an unknown page, or no page', () => {
    const log = new PageHealthLog();
    log.note('p1', health(T0 + 1000, 20));
    expect(log.worstLagMs('p1', T0 + 5000, T0 + 6000)).toBeUndefined();
    expect(log.worstLagMs('p9', T0, T0 + 1000)).toBeUndefined();
    expect(log.worstLagMs(undefined, T0, T0 + 1000)).toBeUndefined();
  });

  it('forgets windows more than 15 minutes older than the newest, so a long run stays flat', () => {
    const log = new PageHealthLog();
    log.note('p1', health(T0 + 1000, 700));
    log.note('p1', health(T0 + 15 * 60_000 + 1000, 10));
    expect(log.worstLagMs('p1', T0, T0 + 1000)).toBe(700);
    log.note('p1', health(T0 + 15 * 60_000 + 1001, 10));
    expect(log.worstLagMs('p1', T0, T0 + 1000)).toBeUndefined();
  });
});
