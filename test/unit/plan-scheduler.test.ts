import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { pairSlots, sharedAccounts, SlotPool } from '../../src/plan/slots.js';
import { decideStart, StartTally } from '../../src/plan/starts.js';
import { runSchedule, type IterationStart, type SchedulePlan } from '../../src/runner/scheduler.js';
import type { Role } from '../../src/scenario/types.js';
import { FakeClock } from './planClock.js';

const rules = { lateAfterSeconds: 0.1, dropAfterSeconds: 2 };

describe('start decisions: late and dropped', () => {
  it('starts on time, late past lateAfter, drops past dropAfter, with no slot, or when stopping', () => {
    const at = (nowMs: number, slotFree = true, stopping = false) => decideStart({ plannedAtMs: 1000, nowMs, slotFree, stopping }, rules);
    expect(at(1000)).toEqual({ start: true, delaySeconds: 0, late: false });
    expect(at(1050)).toEqual({ start: true, delaySeconds: 0.05, late: false });
    expect(at(1300)).toEqual({ start: true, delaySeconds: 0.3, late: true });
    expect(at(3500)).toEqual({ start: false, reason: 'late', delaySeconds: 2.5 });
    expect(at(1000, false)).toEqual({ start: false, reason: 'capacity', delaySeconds: 0 });
    expect(at(1000, true, true)).toEqual({ start: false, reason: 'stopped', delaySeconds: 0 });
    // Too late wins over no slot: the harness being behind is the first thing to know.
    expect(at(4000, false)).toMatchObject({ reason: 'late' });
  });

  it('tally: planned is always started + dropped; delays and the peak are kept', () => {
    const tally = new StartTally();
    tally.record({ start: true, delaySeconds: 0, late: false });
    tally.record({ start: true, delaySeconds: 0.4, late: true });
    tally.record({ start: false, reason: 'capacity', delaySeconds: 0 });
    tally.finished();
    tally.record({ start: true, delaySeconds: 0.2, late: true });
    tally.dropRemaining(3);
    const counts = tally.counts();
    expect(counts).toMatchObject({ planned: 7, started: 3, late: 2, dropped: 4, droppedByReason: { capacity: 1, late: 0, stopped: 3 }, peakConcurrent: 2 });
    expect(counts.startDelaySeconds).toEqual({ p50: 0.2, p95: expect.closeTo(0.38, 6), max: 0.4 });
  });
});

describe('slots and pairing', () => {
  it('hands out the lowest free slot and never one in use (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.boolean(), { maxLength: 200 }), (size, ops) => {
        const pool = new SlotPool(size);
        const held: number[] = [];
        for (const acquire of ops) {
          if (acquire) {
            const slot = pool.acquire();
            if (held.length === size) expect(slot).toBeUndefined();
            else {
              expect(slot).toBe(Math.min(...Array.from({ length: size }, (_, i) => i).filter((i) => !held.includes(i))));
              held.push(slot!);
            }
          } else if (held.length > 0) {
            pool.release(held.splice(Math.floor(held.length / 2), 1)[0]!);
          }
          expect(new Set(held).size).toBe(held.length);
          expect(pool.inUse + pool.available).toBe(size);
        }
      }),
    );
    expect(() => new SlotPool(2).release(0)).toThrow(/not in use/);
  });

  const role = (name: string, users: string[]): Role => ({ name, accounts: users.map((user) => ({ user })) });

  it('pairs the s-th caller with the s-th callee; no account in two slots when every role has one per slot', () => {
    const roles = [role('caller', ['1000', '1001', '1002']), role('callee', ['2000', '2001', '2002', '2003'])];
    expect(pairSlots(roles, 3)).toEqual([
      { slot: 0, users: { caller: '1000', callee: '2000' } },
      { slot: 1, users: { caller: '1001', callee: '2001' } },
      { slot: 2, users: { caller: '1002', callee: '2002' } },
    ]);
    expect(sharedAccounts(roles, 3)).toEqual([]);
    expect(sharedAccounts(roles, 4)).toEqual(['1000']);
    expect(() => pairSlots(roles, 4)).toThrow(/no account for slot 3/);
  });
});

/** Runs a schedule on virtual time; runOne holds its slot for holdMs(iteration) of virtual time. */
async function simulate(plan: SchedulePlan, holdMs: (iteration: number) => number, options: { abortAtMs?: number; clock?: FakeClock } = {}) {
  const clock = options.clock ?? new FakeClock();
  const controller = new AbortController();
  const started: (Omit<IterationStart, 'signal'> & { atMs: number })[] = [];
  const dropped: { plannedAtMs?: number; reason: string; atMs: number }[] = [];
  const ended: { iteration: number; atMs: number; aborted: boolean }[] = [];
  let running = 0;
  let peak = 0;
  const slotsInUse = new Set<number>();
  if (options.abortAtMs !== undefined) void clock.sleepUntil(options.abortAtMs, new AbortController().signal).then(() => controller.abort());
  const done = runSchedule(
    plan,
    {
      signal: controller.signal,
      clock,
      hooks: { onStarted: (s) => started.push({ ...s, atMs: clock.now() }), onDropped: (d) => dropped.push({ ...d, atMs: clock.now() }) },
    },
    async ({ iteration, slot, signal }) => {
      expect(slotsInUse.has(slot)).toBe(false);
      slotsInUse.add(slot);
      running++;
      peak = Math.max(peak, running);
      await clock.sleepUntil(clock.now() + holdMs(iteration), signal);
      running--;
      slotsInUse.delete(slot);
      ended.push({ iteration, atMs: clock.now(), aborted: signal.aborted });
    },
  );
  const outcome = await clock.runUntil(done);
  return { outcome, started, dropped, ended, peak, clock };
}

describe('open model on virtual time', () => {
  const open = (arrivalsSeconds: number[], maxConcurrent: number, gracefulStopSeconds = 30): SchedulePlan => ({ model: 'open', arrivalsSeconds, maxConcurrent, gracefulStopSeconds, ...rules });

  it('starts each arrival at its time, with its slot', async () => {
    const { outcome, started, ended } = await simulate(open([0, 0.5, 1, 1.5], 2), () => 400);
    expect(started.map((s) => [s.iteration, s.atMs, s.slot, s.late])).toEqual([
      [1, 0, 0, false],
      [2, 500, 0, false],
      [3, 1000, 0, false],
      [4, 1500, 0, false],
    ]);
    expect(ended).toHaveLength(4);
    expect(outcome).toMatchObject({ planned: 4, started: 4, dropped: 0, late: 0, peakConcurrent: 1 });
  });

  it('drops arrivals that find every slot busy (the cap), and counts them', async () => {
    // 4 calls/s for 2 s, each held 0.9 s, at most 2 at once.
    const arrivals = [0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75];
    const { outcome, started, dropped, peak } = await simulate(open(arrivals, 2), () => 900);
    expect(started.map((s) => s.atMs)).toEqual([0, 250, 1000, 1250]);
    expect(dropped.map((d) => [d.plannedAtMs, d.reason])).toEqual([
      [500, 'capacity'],
      [750, 'capacity'],
      [1500, 'capacity'],
      [1750, 'capacity'],
    ]);
    expect(peak).toBe(2);
    expect(outcome).toMatchObject({ planned: 8, started: 4, dropped: 4, droppedByReason: { capacity: 4, late: 0, stopped: 0 }, peakConcurrent: 2 });
  });

  it('counts a start the harness got to late, and drops one too far behind', async () => {
    const clock = new FakeClock();
    clock.lateWakeUps.set(1000, 300); // woke 0.3 s late: started, late
    clock.lateWakeUps.set(2000, 2500); // woke 2.5 s late: dropped; the next ones are due by then
    const { outcome, started, dropped } = await simulate(open([0, 1, 2, 3, 4, 5], 10), () => 100, { clock });
    expect(started.map((s) => [s.plannedAtMs, s.delaySeconds, s.late])).toEqual([
      [0, 0, false],
      [1000, 0.3, true],
      [3000, 1.5, true], // caught up at once, still within dropAfter
      [4000, 0.5, true],
      [5000, 0, false],
    ]);
    expect(dropped).toEqual([{ plannedAtMs: 2000, reason: 'late', atMs: 4500 }]);
    expect(outcome).toMatchObject({ planned: 6, started: 5, late: 3, dropped: 1, droppedByReason: { late: 1 } });
    expect(outcome.startDelaySeconds.max).toBe(1.5);
  });

  it('stopping the run drops every start not yet made, as stopped', async () => {
    const { outcome, dropped, ended } = await simulate(open([0, 1, 2, 3, 4], 5), () => 10_000, { abortAtMs: 1500 });
    expect(outcome).toMatchObject({ planned: 5, started: 2, dropped: 3, droppedByReason: { stopped: 3 } });
    expect(dropped.map((d) => d.plannedAtMs)).toEqual([2000, 3000, 4000]);
    // Running iterations were told to stop at once.
    expect(ended.map((e) => [e.atMs, e.aborted])).toEqual([
      [1500, true],
      [1500, true],
    ]);
  });

  it('gives running iterations gracefulStop after the last arrival, then stops them', async () => {
    const { outcome, ended } = await simulate(open([0, 1], 5, 2), (iteration) => (iteration === 1 ? 1500 : 10_000));
    expect(ended).toEqual([
      { iteration: 1, atMs: 1500, aborted: false },
      { iteration: 2, atMs: 3000, aborted: true }, // last start at 1 s + 2 s graceful stop
    ]);
    expect(outcome.gracefulStopExpired).toBe(true);
  });
});

describe('closed model on virtual time', () => {
  it('keeps `concurrency` iterations running until `iterations` have started, reusing the lowest slots', async () => {
    const holds = [500, 1000, 300, 700, 200, 900, 400, 100, 600, 800];
    const { outcome, started, peak, ended } = await simulate({ model: 'closed', concurrency: 3, iterations: 10, gracefulStopSeconds: 30 }, (i) => holds[i - 1]!);
    expect(peak).toBe(3);
    expect(started).toHaveLength(10);
    expect(ended).toHaveLength(10);
    expect(started.slice(0, 3).map((s) => s.slot)).toEqual([0, 1, 2]);
    // The 4th starts the moment the first one ends (iteration 3 at 300 ms, slot 2).
    expect(started[3]).toMatchObject({ iteration: 4, atMs: 300, slot: 2 });
    expect(outcome).toMatchObject({ planned: 10, started: 10, dropped: 0, late: 0, peakConcurrent: 3 });
  });

  it('with a duration: starts until time is up, then waits for the running ones', async () => {
    const { outcome, started, ended } = await simulate({ model: 'closed', concurrency: 2, durationSeconds: 5, gracefulStopSeconds: 30 }, () => 1000);
    expect(started.map((s) => s.atMs)).toEqual([0, 0, 1000, 1000, 2000, 2000, 3000, 3000, 4000, 4000]);
    expect(ended.every((e) => !e.aborted)).toBe(true);
    expect(outcome).toMatchObject({ planned: 10, started: 10, dropped: 0 });
  });

  it('stopping the run counts the iterations never started as dropped', async () => {
    const { outcome } = await simulate({ model: 'closed', concurrency: 2, iterations: 10, gracefulStopSeconds: 30 }, () => 1000, { abortAtMs: 2500 });
    expect(outcome).toMatchObject({ planned: 10, started: 6, dropped: 4, droppedByReason: { stopped: 4 } });
  });
});
