/**
 * The page's own pulse: a short timer whose lateness is the main thread's lag.
 * A page whose main thread is stalled answers commands and samples media late;
 * Node uses this figure to tell the harness's failures from the server's.
 */
const TICK_MS = 100;

export interface PageHealthWindow {
  intervalMs: number;
  lagMaxMs: number;
}

export class PageHealthMonitor {
  private lagMaxMs = 0;
  private expectedAt = performance.now() + TICK_MS;
  private windowStart = performance.now();
  private readonly tick: ReturnType<typeof setInterval>;
  private readonly report: ReturnType<typeof setInterval>;

  constructor(reportEveryMs: number, onWindow: (window: PageHealthWindow) => void) {
    this.tick = setInterval(() => {
      const now = performance.now();
      this.lagMaxMs = Math.max(this.lagMaxMs, now - this.expectedAt);
      this.expectedAt = now + TICK_MS;
    }, TICK_MS);
    this.report = setInterval(() => {
      const now = performance.now();
      // A stall still going on shows too, not only one that has ended.
      const lag = Math.max(this.lagMaxMs, now - this.expectedAt);
      onWindow({ intervalMs: now - this.windowStart, lagMaxMs: Math.max(0, lag) });
      this.windowStart = now;
      this.lagMaxMs = 0;
    }, reportEveryMs);
  }

  stop(): void {
    clearInterval(this.tick);
    clearInterval(this.report);
  }
}
