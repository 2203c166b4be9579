import type { Registry } from 'prom-client';
import { pushToGateway, type PushOptions, type PushResult } from './pushgateway.js';

/** Between the Pushgateway's usual 15 s scrape and a live feel; `run --push-interval` changes it. */
export const DEFAULT_PUSH_INTERVAL_SECONDS = 10;

export interface PeriodicPushOptions extends Omit<PushOptions, 'signal'> {
  /** Seconds between pushes while the run goes. */
  intervalSeconds: number;
  /** Told once per kind of failure (a status, a timeout, a refused connection), not at every tick. */
  warn: (message: string) => void;
}

/**
 * Pushes a registry to a Pushgateway every `intervalSeconds` while a run goes
 * (so Prometheus sees a long or sharded run live), then once more at the end.
 *
 * Every push replaces the whole group (PUT), so a push that is skipped or fails
 * costs freshness, nothing else: a tick while a push is in flight is skipped
 * rather than queued, so a slow gateway never piles up requests and an older
 * push never lands after a newer one. The timer never keeps the process alive.
 */
export class PeriodicPush {
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private stopped = false;
  /** Aborted by stop(): a push still in flight is not waited for when the run broke off. */
  private readonly abandon = new AbortController();
  private readonly warnedKinds = new Set<string>();
  /** Ticks that found a push still in flight. */
  skippedTicks = 0;

  constructor(
    private readonly registry: Registry,
    private readonly options: PeriodicPushOptions,
  ) {}

  /** Pushes now (the group exists, with its zero series, from the start) and then every interval. */
  start(): void {
    if (this.timer !== undefined || this.stopped) return;
    this.tick();
    this.timer = setInterval(() => this.tick(), this.options.intervalSeconds * 1000);
    this.timer.unref();
  }

  /** Stops the timer, lets a push in flight land, then pushes the final values. Never rejects. */
  async finish(): Promise<PushResult> {
    this.stopTimer();
    await this.inFlight;
    return this.push();
  }

  /** Stops without a last push (the run broke off); a push in flight is abandoned. */
  stop(): void {
    this.stopTimer();
    this.abandon.abort();
  }

  private stopTimer(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    if (this.inFlight) {
      this.skippedTicks++;
      return;
    }
    // Nothing of a tick may reject unhandled (not even a throwing warn): that would end the process.
    this.inFlight = this.pushOnce()
      .catch(() => undefined)
      .finally(() => (this.inFlight = undefined));
  }

  private async pushOnce(): Promise<void> {
    const pushed = await this.push(this.abandon.signal);
    if (pushed.ok || this.abandon.signal.aborted || this.warnedKinds.has(pushed.kind)) return;
    this.warnedKinds.add(pushed.kind);
    this.options.warn(`${pushed.message} (pushing again every ${this.options.intervalSeconds} s; said once)`);
  }

  private push(signal?: AbortSignal): Promise<PushResult> {
    const { url, job, grouping, timeoutMs } = this.options;
    return pushToGateway(this.registry, { url, job, grouping, timeoutMs, signal });
  }
}
