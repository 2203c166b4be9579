import type { AgentEvent } from '../protocol/events.js';

/**
 * Batches events and pushes them to Node through the exposed function. The
 * page pushes; Node never polls pages, which would not scale to hundreds of legs.
 * Lifecycle events are flushed soon (a few ms); stats ride the regular interval.
 */
export class EventSink {
  private batch: AgentEvent[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly push: (events: AgentEvent[]) => Promise<void> | void,
    private readonly flushIntervalMs: number,
  ) {}

  emit(event: AgentEvent): void {
    this.batch.push(event);
    const soon = event.type !== 'stats' && event.type !== 'log' && event.type !== 'pageHealth';
    this.schedule(soon ? 5 : this.flushIntervalMs);
  }

  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.batch.length === 0) return;
    const events = this.batch;
    this.batch = [];
    try {
      void Promise.resolve(this.push(events)).catch(() => undefined);
    } catch {
      // Node side gone (page closing): nothing left to tell.
    }
  }

  private schedule(delayMs: number): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => this.flush(), delayMs);
  }
}
