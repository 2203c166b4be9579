import type { Clock } from '../../src/runner/scheduler.js';

/**
 * Virtual time for scheduler tests: sleeps resolve when the test advances the
 * clock, and a wake-up can be made late (as if the event loop had been busy).
 */
export class FakeClock implements Clock {
  nowMs = 0;
  private sleepers: { atMs: number; seq: number; resolve: () => void }[] = [];
  private seq = 0;
  /** Extra delay of the wake-up of a sleep due at this time (ms). */
  readonly lateWakeUps = new Map<number, number>();

  now(): number {
    return this.nowMs;
  }

  sleepUntil(atMs: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted || atMs <= this.nowMs) return resolve();
      const sleeper = { atMs, seq: this.seq++, resolve };
      this.sleepers.push(sleeper);
      signal.addEventListener('abort', () => {
        this.sleepers = this.sleepers.filter((s) => s !== sleeper);
        resolve();
      }, { once: true });
    });
  }

  /** Runs until `done` settles: flush pending work, then jump to the next sleeper. */
  async runUntil<T>(done: Promise<T>, limitMs = 1e9): Promise<T> {
    let settled = false;
    void done.finally(() => (settled = true));
    for (;;) {
      await flush();
      if (settled) return done;
      this.sleepers.sort((a, b) => a.atMs - b.atMs || a.seq - b.seq);
      const next = this.sleepers.shift();
      if (!next) {
        await flush();
        if (settled) return done;
        throw new Error('nothing left to wait for, but the schedule has not finished');
      }
      if (next.atMs > limitMs) throw new Error(`ran past ${limitMs} ms`);
      this.nowMs = Math.max(this.nowMs, next.atMs + (this.lateWakeUps.get(next.atMs) ?? 0));
      next.resolve();
    }
  }
}

async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
