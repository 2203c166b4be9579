import type { AgentEvent } from '../protocol/events.js';

type PageHealth = Extract<AgentEvent, { type: 'pageHealth' }>;

/** How much history is kept per page: calls are judged within minutes of their end. */
const KEEP_MS = 15 * 60_000;

/**
 * Each page's main-thread health over time. A call that fails while its page's
 * timers ran late failed with the harness stalled: callwright, not the server,
 * is the first suspect. A page that stops reporting at all is judged by the
 * hang detection (browser_crashed), not here.
 */
export class PageHealthLog {
  private readonly byPage = new Map<string, { fromMs: number; toMs: number; lagMaxMs: number }[]>();

  note(pageId: string, event: PageHealth): void {
    let windows = this.byPage.get(pageId);
    if (!windows) this.byPage.set(pageId, (windows = []));
    windows.push({ fromMs: event.atMs - event.intervalMs, toMs: event.atMs, lagMaxMs: event.lagMaxMs });
    while (windows.length > 0 && windows[0]!.toMs < event.atMs - KEEP_MS) windows.shift();
  }

  /** Worst main-thread lag the page showed in windows overlapping [fromMs, toMs]; undefined when it reported none. */
  worstLagMs(pageId: string | undefined, fromMs: number, toMs: number): number | undefined {
    const windows = pageId ? this.byPage.get(pageId) : undefined;
    let worst: number | undefined;
    for (const window of windows ?? []) {
      if (window.toMs < fromMs || window.fromMs > toMs) continue;
      worst = Math.max(worst ?? 0, window.lagMaxMs);
    }
    return worst;
  }
}
