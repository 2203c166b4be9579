/**
 * Chromium lets a page create 500 RTCPeerConnections in its lifetime; the
 * 501st fails. A long load run makes one per leg, so pages are recycled
 * before that: once a page has created `limit` peer connections it takes no
 * new agents, its agents move to a fresh page at their next iteration (they
 * are idle then: a slot's agents serve one iteration at a time), and the
 * page closes when the last one has left. The limit sits under 500 so legs
 * already under way on a retired page still fit.
 */
import type { AgentHome } from '../protocol/agentHome.js';
import type { AgentEvent } from '../protocol/events.js';

export interface RetiringPool {
  pages(): AgentHome[];
  retire(page: AgentHome): void;
  isRetired(page: AgentHome): boolean;
}

export class PageRecycler {
  private readonly created = new Map<string, number>();
  retiredPages = 0;

  constructor(
    private readonly pool: RetiringPool,
    private readonly limit: number,
    private readonly log: (message: string) => void = () => undefined,
  ) {}

  /** Counts the legs (one RTCPeerConnection each) a page creates. */
  noteEvents(pageId: string, events: readonly AgentEvent[]): void {
    let legs = 0;
    for (const event of events) if (event.type === 'legCreated') legs++;
    if (legs === 0) return;
    const count = (this.created.get(pageId) ?? 0) + legs;
    this.created.set(pageId, count);
    if (count < this.limit) return;
    const page = this.pool.pages().find((p) => p.pageId === pageId);
    // Chromium's limit: a lite process has none (node-datachannel frees what a closed connection held).
    if (page && page.kind === 'browser' && !page.lost && !this.pool.isRetired(page)) {
      this.pool.retire(page);
      this.retiredPages++;
      this.log(`page ${pageId} created ${count} peer connections (Chromium allows 500 per page): its agents move to a new page`);
    }
  }

  peerConnectionsOf(pageId: string): number {
    return this.created.get(pageId) ?? 0;
  }

  shouldMove(page: AgentHome): boolean {
    return this.pool.isRetired(page);
  }
}
