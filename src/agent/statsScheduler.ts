/**
 * Spreads getStats over the sampling interval and bounds it per page: at most
 * `maxPerSecond` calls whatever the number of legs and checks, in slices of
 * the interval rather than one burst. With more legs than the budget, each leg
 * is sampled less often (rates are computed over the real time between a leg's
 * samples, so they stay right). Checks read these samples; they never ask for more.
 * A page slower than its sampling never piles calls up: a leg whose last sample
 * is still pending is skipped, and only a few run at once.
 */
const SLICES_PER_INTERVAL = 10;
const MAX_IN_FLIGHT = 8;

export class StatsScheduler<Leg> {
  private readonly timer: ReturnType<typeof setInterval>;
  private cursor = 0;
  /** getStats calls started since the last take(). */
  private started = 0;
  private readonly inFlight = new Set<Leg>();

  constructor(
    intervalMs: number,
    maxPerSecond: number,
    private readonly legs: () => Leg[],
    private readonly sample: (leg: Leg) => Promise<void>,
  ) {
    const sliceMs = intervalMs / SLICES_PER_INTERVAL;
    const perSlice = Math.max(1, Math.floor((maxPerSecond * sliceMs) / 1000));
    this.timer = setInterval(() => this.slice(perSlice), sliceMs);
  }

  /** How many samples were started since the last call (for the page's health report). */
  take(): number {
    const started = this.started;
    this.started = 0;
    return started;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private slice(budget: number): void {
    const legs = this.legs();
    if (legs.length === 0) return;
    // Each leg once per interval when the budget allows: a tenth of them per slice.
    const wanted = Math.min(budget, Math.ceil(legs.length / SLICES_PER_INTERVAL));
    for (let i = 0; i < wanted && this.inFlight.size < MAX_IN_FLIGHT; i++) {
      this.cursor = this.cursor % legs.length;
      const leg = legs[this.cursor]!;
      this.cursor++;
      if (this.inFlight.has(leg)) continue;
      this.inFlight.add(leg);
      this.started++;
      void this.sample(leg)
        .catch(() => undefined)
        .finally(() => this.inFlight.delete(leg));
    }
  }
}
