/**
 * Spreads getStats over the sampling interval and bounds it per page: at most
 * `maxPerSecond` calls whatever the number of legs and checks, in slices of
 * the interval rather than one burst. With more legs than the budget, each leg
 * is sampled less often (rates are computed over the real time between a leg's
 * samples, so they stay right). Checks read these samples; they never ask for more.
 * A page slower than its sampling never piles calls up: a leg whose last sample
 * is still pending is skipped, and only a few run at once. Legs with no rates
 * yet (fewer than two samples) go first, so a media check on a new call gets
 * its figures within two intervals even when the page is busy.
 */
const SLICES_PER_INTERVAL = 10;
const MAX_IN_FLIGHT = 16;

export class StatsScheduler<Leg> {
  private readonly timer: ReturnType<typeof setInterval>;
  private cursor = 0;
  /** getStats calls started since the last take(). */
  private started = 0;
  private readonly inFlight = new Set<Leg>();
  /** New legs sampled out of turn since the round robin last wrapped. */
  private readonly recentlyNew = new Set<Leg>();

  constructor(
    intervalMs: number,
    maxPerSecond: number,
    private readonly legs: () => Leg[],
    private readonly sample: (leg: Leg) => Promise<void>,
    /** True for a leg that has no rates yet: sampled before the round robin. */
    private readonly isNew: (leg: Leg) => boolean = () => false,
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
    let started = 0;
    // New legs first, within the same budget (a new leg's next sample waits for the round robin).
    for (const leg of legs) {
      if (started >= wanted || this.inFlight.size >= MAX_IN_FLIGHT) return;
      if (this.isNew(leg) && !this.inFlight.has(leg) && !this.recentlyNew.has(leg)) {
        this.start(leg);
        this.recentlyNew.add(leg);
        started++;
      }
    }
    for (let i = 0; i < legs.length && started < wanted && this.inFlight.size < MAX_IN_FLIGHT; i++) {
      this.cursor = this.cursor % legs.length;
      const leg = legs[this.cursor]!;
      this.cursor++;
      if (this.inFlight.has(leg)) continue;
      this.start(leg);
      started++;
    }
    // A new leg sampled out of turn waits a whole interval before it may jump the queue again.
    if (this.cursor >= legs.length) this.recentlyNew.clear();
  }

  private start(leg: Leg): void {
    this.inFlight.add(leg);
    this.started++;
    void this.sample(leg)
      .catch(() => undefined)
      .finally(() => this.inFlight.delete(leg));
  }
}
