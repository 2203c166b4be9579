/**
 * The arrival clock: starts iterations as the load model says and counts what
 * it could not start.
 *
 * Closed model: `concurrency` iterations kept running; each ending frees its
 * slot for the next, until `iterations` have started or the duration is over.
 * Open model: iterations start at planned times whatever is in progress; one
 * that finds every slot busy, or comes too late, is dropped and counted (see
 * src/plan/starts.ts). Each iteration holds a slot (a distinct set of
 * accounts) while it runs.
 *
 * When the duration or the phases end, iterations still running get
 * gracefulStop seconds, then their signal aborts. Stopping the run (the
 * caller's signal) aborts them at once.
 */
import { setMaxListeners } from 'node:events';
import { abortableSleep } from '../common/abortableSleep.js';
import type { DropReason } from '../results.js';
import { SlotPool } from '../plan/slots.js';
import { decideStart, StartTally, type StartCounts, type StartRules } from '../plan/starts.js';

export type SchedulePlan =
  | { model: 'closed'; concurrency: number; iterations?: number; durationSeconds?: number; gracefulStopSeconds: number }
  | ({ model: 'open'; arrivalsSeconds: readonly number[]; maxConcurrent: number; gracefulStopSeconds: number } & StartRules);

export interface Clock {
  now(): number;
  /** Resolves at `atMs` (clock time) or when the signal aborts, whichever is first. */
  sleepUntil(atMs: number, signal: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleepUntil: (atMs, signal) => abortableSleep(atMs - Date.now(), signal),
};

export interface IterationStart {
  iteration: number;
  slot: number;
  /** Open model: when it was due. */
  plannedAtMs?: number;
  delaySeconds: number;
  late: boolean;
  /** Aborts when the run stops or the graceful stop runs out. */
  signal: AbortSignal;
}

export interface ScheduleHooks {
  onStarted?(start: Omit<IterationStart, 'signal'>): void;
  onDropped?(drop: { plannedAtMs?: number; reason: DropReason }): void;
}

export type ScheduleOutcome = StartCounts & { gracefulStopExpired: boolean };

export async function runSchedule(
  plan: SchedulePlan,
  options: { signal: AbortSignal; clock?: Clock; hooks?: ScheduleHooks },
  runOne: (start: IterationStart) => Promise<void>,
): Promise<ScheduleOutcome> {
  const clock = options.clock ?? systemClock;
  const { signal } = options;
  const hooks = options.hooks ?? {};
  const tally = new StartTally();
  // Iterations stop with the run, or when the graceful stop runs out.
  const iterationStop = new AbortController();
  // Every running iteration listens to it (its waits, its steps): hundreds at once is normal, not a leak.
  setMaxListeners(0, iterationStop.signal);
  const stopIterations = () => iterationStop.abort();
  signal.addEventListener('abort', stopIterations, { once: true });
  const running = new Set<Promise<void>>();
  let slotFreed: (() => void) | undefined;
  const pool = new SlotPool(plan.model === 'closed' ? plan.concurrency : plan.maxConcurrent);

  const launch = (iteration: number, slot: number, plannedAtMs: number | undefined, delaySeconds: number, late: boolean) => {
    hooks.onStarted?.({ iteration, slot, plannedAtMs, delaySeconds, late });
    const work = Promise.resolve()
      .then(() => runOne({ iteration, slot, plannedAtMs, delaySeconds, late, signal: iterationStop.signal }))
      .catch(() => undefined)
      .finally(() => {
        pool.release(slot);
        tally.finished();
        running.delete(work);
        slotFreed?.();
      });
    running.add(work);
  };
  const nextRelease = () => new Promise<void>((resolve) => (slotFreed = resolve));

  if (plan.model === 'closed') {
    const startMs = clock.now();
    const endMs = plan.durationSeconds === undefined ? Number.POSITIVE_INFINITY : startMs + plan.durationSeconds * 1000;
    const timeUp = new AbortController();
    const waitSignal = anySignal(signal, timeUp.signal);
    // One listener and one timer for the whole loop, however many iterations run.
    const stopped = abortedPromise(waitSignal);
    if (Number.isFinite(endMs)) void clock.sleepUntil(endMs, waitSignal).then(() => timeUp.abort());
    let iteration = 0;
    while (!waitSignal.aborted && (plan.iterations === undefined || iteration < plan.iterations) && clock.now() < endMs) {
      const slot = pool.acquire();
      if (slot === undefined) {
        await Promise.race([nextRelease(), stopped]);
        continue;
      }
      iteration++;
      tally.record({ start: true, delaySeconds: 0, late: false });
      launch(iteration, slot, undefined, 0, false);
    }
    timeUp.abort();
    if (signal.aborted && plan.iterations !== undefined) {
      const remaining = plan.iterations - iteration;
      tally.dropRemaining(remaining);
      for (let i = 0; i < remaining; i++) hooks.onDropped?.({ reason: 'stopped' });
    }
    const expired = Number.isFinite(endMs) ? await gracefulStop(running, plan.gracefulStopSeconds, clock, signal, iterationStop) : await drain(running);
    signal.removeEventListener('abort', stopIterations);
    return { ...tally.counts(), gracefulStopExpired: expired };
  }

  const startMs = clock.now();
  const arrivals = plan.arrivalsSeconds;
  for (let index = 0; index < arrivals.length; index++) {
    const plannedAtMs = startMs + arrivals[index]! * 1000;
    if (clock.now() < plannedAtMs) await clock.sleepUntil(plannedAtMs, signal);
    if (signal.aborted) {
      // The run stopped: every start not yet made is dropped as 'stopped'.
      tally.dropRemaining(arrivals.length - index);
      for (let i = index; i < arrivals.length; i++) hooks.onDropped?.({ plannedAtMs: startMs + arrivals[i]! * 1000, reason: 'stopped' });
      break;
    }
    const decision = decideStart({ plannedAtMs, nowMs: clock.now(), slotFree: pool.available > 0, stopping: false }, plan);
    tally.record(decision);
    if (!decision.start) {
      hooks.onDropped?.({ plannedAtMs, reason: decision.reason });
      continue;
    }
    launch(index + 1, pool.acquire()!, plannedAtMs, decision.delaySeconds, decision.late);
  }
  const expired = await gracefulStop(running, plan.gracefulStopSeconds, clock, signal, iterationStop);
  signal.removeEventListener('abort', stopIterations);
  return { ...tally.counts(), gracefulStopExpired: expired };
}

/** Waits for running iterations up to the graceful stop, then aborts them and waits for them to wind down. */
async function gracefulStop(running: Set<Promise<void>>, seconds: number, clock: Clock, signal: AbortSignal, iterationStop: AbortController): Promise<boolean> {
  if (running.size === 0) return false;
  const done = new AbortController();
  const all = drain(running).then(() => done.abort());
  await clock.sleepUntil(clock.now() + seconds * 1000, anySignal(signal, done.signal));
  const expired = running.size > 0;
  if (expired) iterationStop.abort();
  await all;
  return expired && !signal.aborted;
}

async function drain(running: Set<Promise<void>>): Promise<false> {
  while (running.size > 0) await Promise.all([...running]);
  return false;
}

function abortedPromise(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
}

function anySignal(...signals: AbortSignal[]): AbortSignal {
  return AbortSignal.any(signals);
}
