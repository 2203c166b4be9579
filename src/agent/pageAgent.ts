import type { AgentCommand, DispatchResult, PageConfig } from '../protocol/commands.js';
import type { AgentEvent } from '../protocol/events.js';
import { AgentHost, errorText } from './agentHost.js';
import type { MediaBackend } from './legMedia.js';
import { EventSink } from './eventSink.js';
import type { Leg } from './leg.js';
import { PageHealthMonitor } from './pageHealth.js';
import { StatsScheduler } from './statsScheduler.js';

/** getStats calls a page may start per second, whatever its number of legs (docs/load.md). */
export const STATS_PER_SECOND = 60;
/** How often the page reports its main-thread health. */
const HEALTH_EVERY_MS = 1000;

/**
 * Everything one page (or lite agent process) runs: its user agents, their
 * legs, their media backend and one stats timer. Commands come in through
 * dispatch; outcomes go out as events. It never decides pass or fail.
 */
export class PageAgent {
  private readonly sink: EventSink;
  private readonly agents = new Map<string, AgentHost>();
  private readonly legs = new Map<string, Leg>();
  private incomingCounter = 0;
  private readonly stats: StatsScheduler<Leg>;
  private readonly health: PageHealthMonitor;

  constructor(
    private readonly config: PageConfig,
    push: (events: AgentEvent[]) => Promise<void> | void,
    private readonly media: MediaBackend,
    statsPerSecond = STATS_PER_SECOND,
  ) {
    this.sink = new EventSink(push, config.flushIntervalMs);
    this.stats = new StatsScheduler(
      config.statsIntervalMs,
      statsPerSecond,
      () => [...this.legs.values()].filter((leg) => leg.established && !leg.ended),
      (leg) => leg.sampleStats(),
      (leg) => leg.samplesTaken < 2,
    );
    this.health = new PageHealthMonitor(HEALTH_EVERY_MS, (window) =>
      this.sink.emit({ type: 'pageHealth', atMs: Date.now(), ...window }),
    );
  }

  /** Starts the command and returns at once; failures that come later are events. */
  dispatch(command: AgentCommand): DispatchResult {
    try {
      const work = this.run(command);
      void work.catch((error: unknown) => this.failed(command, error));
      return { ok: true };
    } catch (error) {
      return { ok: false, error: errorText(error) };
    }
  }

  private run(command: AgentCommand): Promise<void> {
    switch (command.type) {
      case 'createAgent': {
        if (this.agents.has(command.agentId)) throw new Error(`agent ${command.agentId} exists`);
        const legs = {
          add: (leg: Leg) => this.legs.set(leg.legId, leg),
          remove: (leg: Leg) => this.legs.delete(leg.legId),
          // The page id keeps leg ids unique across pages: an agent recreated on a new page (crash, hang) starts counting again.
          nextIncomingLegId: (agentId: string) => `${agentId}:${this.config.pageId}:in${++this.incomingCounter}`,
        };
        this.agents.set(command.agentId, new AgentHost(command, this.config, this.media, (e) => this.sink.emit(e), legs));
        return Promise.resolve();
      }
      case 'connect':
        return this.agent(command.agentId).connect();
      case 'register':
        return this.agent(command.agentId).register();
      case 'unregister':
        return this.agent(command.agentId).unregister();
      case 'call':
        return this.agent(command.agentId).call(command);
      case 'answer': {
        const leg = this.leg(command.legId);
        return this.agent(leg.agentId).answer(leg, command);
      }
      case 'reject':
        return this.leg(command.legId).reject(command.status);
      case 'dtmf':
        return this.leg(command.legId).sendDtmf(command.tones, command.mode, command.durationMs, command.gapMs);
      case 'hold':
        return this.leg(command.legId).setHold(true);
      case 'unhold':
        return this.leg(command.legId).setHold(false);
      case 'transfer':
        return this.leg(command.legId).transfer(command.target);
      case 'mediaFault':
        return this.leg(command.legId).mediaFault(command.fault, command.mediaKind ?? 'audio');
      case 'message':
        return this.agent(command.agentId).message(command.requestId, command.target, command.body, command.contentType);
      case 'hangup':
        return this.leg(command.legId).hangup();
      case 'destroyAgent': {
        const agent = this.agent(command.agentId);
        this.agents.delete(command.agentId);
        return agent.destroy();
      }
      case 'shutdown':
        return this.shutdown();
    }
  }

  private async shutdown(): Promise<void> {
    this.stats.stop();
    this.health.stop();
    await Promise.all([...this.agents.values()].map((agent) => agent.destroy()));
    this.agents.clear();
    this.sink.flush();
  }

  private agent(agentId: string): AgentHost {
    const agent = this.agents.get(agentId);
    if (!agent) throw new Error(`no agent ${agentId} in this page`);
    return agent;
  }

  private leg(legId: string): Leg {
    const leg = this.legs.get(legId);
    if (!leg) throw new Error(`no live leg ${legId} in this page`);
    return leg;
  }

  private failed(command: AgentCommand, error: unknown): void {
    const id = 'legId' in command ? command.legId : 'agentId' in command ? command.agentId : undefined;
    this.sink.emit({ type: 'commandFailed', atMs: Date.now(), command: command.type, id, error: errorText(error) });
    if (command.type === 'call') this.legs.get(command.legId)?.finish();
  }
}
