/**
 * Spreads getStats over the sampling interval and bounds it per page: at most
 * `maxPerSecond` calls whatever the number of legs and checks, in slices of
 * the interval rather than one burst, and never a leg more often than once
 * per interval (rates over a shorter stretch are noise: a few packets early
 * or late would read as audio stopping). With more legs than the budget, each
 * leg is sampled less often; rates are computed over the real time between a
 * leg's samples, so they stay right. Checks read these samples; they never ask
 * for more.
 *
 * A page slower than its sampling never piles calls up: a leg whose last
 * sample is still pending is skipped, and only a few run at once. Legs with no
 * rates yet (fewer than two samples) go first, so a media check on a new call
 * gets its figures within about two intervals even when the page is busy.
 */
const SLICES_PER_INTERVAL = 10;
const MAX_IN_FLIGHT = 16;

export class StatsScheduler<Leg> {
  private readonly timer: ReturnType<typeof setInterval>;
  private cursor = 0;
  private readonly inFlight = new Set<Leg>();
  /** When each leg's last sample started (epoch ms). */
  private readonly lastStartedMs = new Map<Leg, number>();

  constructor(
    private readonly intervalMs: number,
    maxPerSecond: number,
    private readonly legs: () => Leg[],
    private readonly sample: (leg: Leg) => Promise<void>,
    /** True for a leg that has no rates yet: sampled before the round robin. */
    private readonly isNew: (leg: Leg) => boolean = () => false,
    private readonly now: () => number = () => Date.now(),
  ) {
    const sliceMs = intervalMs / SLICES_PER_INTERVAL;
    const perSlice = Math.max(1, Math.floor((maxPerSecond * sliceMs) / 1000));
    this.timer = setInterval(() => this.slice(perSlice), sliceMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private slice(budget: number): void {
    const legs = this.legs();
    if (legs.length === 0) return;
    const nowMs = this.now();
    // Forget legs that are gone (ended, or their page's agent destroyed).
    if (this.lastStartedMs.size > legs.length * 2 + 16) {
      const live = new Set(legs);
      for (const leg of this.lastStartedMs.keys()) if (!live.has(leg)) this.lastStartedMs.delete(leg);
    }
    // Due: never sampled, or last sampled a whole interval ago (a little slack for timer drift).
    const due = (leg: Leg) => {
      const last = this.lastStartedMs.get(leg);
      return !this.inFlight.has(leg) && (last === undefined || nowMs - last >= this.intervalMs * 0.95);
    };
    // A tenth of the legs per tenth of the interval: each due leg once per interval, not in one burst.
    const wanted = Math.min(budget, Math.ceil(legs.length / SLICES_PER_INTERVAL));
    let started = 0;
    for (const leg of legs) {
      if (started >= wanted || this.inFlight.size >= MAX_IN_FLIGHT) return;
      if (this.isNew(leg) && due(leg)) {
        this.start(leg, nowMs);
        started++;
      }
    }
    for (let i = 0; i < legs.length && started < wanted && this.inFlight.size < MAX_IN_FLIGHT; i++) {
      this.cursor = this.cursor % legs.length;
      const leg = legs[this.cursor]!;
      this.cursor++;
      if (!due(leg)) continue;
      this.start(leg, nowMs);
      started++;
    }
  }

  private start(leg: Leg, nowMs: number): void {
    this.inFlight.add(leg);
    this.lastStartedMs.set(leg, nowMs);
    void this.sample(leg)
      .catch(() => undefined)
      .finally(() => this.inFlight.delete(leg));
  }
}
