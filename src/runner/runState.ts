import type { AgentHome } from '../protocol/agentHome.js';
import type { AgentEvent } from '../protocol/events.js';
import type { Account } from '../scenario/types.js';
import type { CallRecord } from '../calls/callRecord.js';
import { LegRecord } from '../calls/legRecord.js';
import { noteSipMessage, type SipWireTimes } from '../calls/sipWireTimes.js';
import { PageHealthLog } from '../calls/pageHealthLog.js';

/** A Call-ID no leg claimed (a stray or unanswered message) is forgotten after this long. */
const UNCLAIMED_WIRE_TIMES_MS = 10 * 60_000;

export interface AgentInfo {
  agentId: string;
  role: string;
  account: Account;
  page: AgentHome;
  created: boolean;
  registered: boolean;
  /** When the last REGISTER was asked for, to time registrations. */
  registerSentAtMs: number | undefined;
  registrationError: string | undefined;
  /** The SIP status of the last failed REGISTER, when it had one. */
  registrationStatus?: number;
  transportUp: boolean;
  /** Why the agent's WebSocket could not be opened (a connect command failed). */
  transportError?: string;
  messagesReceived: { from: string; body: string; atMs: number }[];
  messageResults: Map<string, Extract<AgentEvent, { type: 'messageResult' }>>;
}

interface Waiter {
  check: () => boolean;
  resolve: (met: boolean) => void;
  timer: NodeJS.Timeout;
}

/**
 * The runner's model of the world, fed only by page events. Steps wait on it
 * with waitFor(); nothing here sends commands.
 */
export class RunState {
  readonly agents = new Map<string, AgentInfo>();
  readonly legs = new Map<string, LegRecord>();
  readonly calls = new Map<string, CallRecord>();
  private readonly callsBySipCallId = new Map<string, CallRecord>();
  private readonly callsByCallerLeg = new Map<string, CallRecord>();
  /** Calls to a callwright agent whose incoming leg has not shown up yet, oldest first. */
  private readonly waitingForCallee = new Set<CallRecord>();
  private readonly waiters = new Set<Waiter>();
  /** Transfer steps waiting for the transferee's new leg: they make its call record. */
  readonly pendingTransfers = new Map<string, (leg: LegRecord) => CallRecord>();
  /** SIP moments per agent and Call-ID, filled as messages arrive (an incoming INVITE comes before its leg). */
  private readonly wireTimes = new Map<string, { times: SipWireTimes; firstAtMs: number; claimed: boolean }>();
  private forgotten = 0;
  /** Each page's main-thread health, to tell the harness's stalls from the server's faults. */
  readonly pageHealth = new PageHealthLog();

  constructor(
    private readonly hooks: {
      onLegStats(leg: LegRecord): void;
      onLegEstablished(leg: LegRecord): void;
      onRegistration(agent: AgentInfo, ok: boolean, atMs: number, status?: number): void;
      onDtmfBurst(leg: LegRecord, burst: Extract<AgentEvent, { type: 'dtmfWindow' }>): void;
      onDtmf(leg: LegRecord, sent: boolean, mode: 'rfc4733' | 'info', tone: string, atMs: number): void;
      onLog(level: 'error' | 'warn' | 'info' | 'debug', message: string, atMs: number): void;
      onIncomingLeg(leg: LegRecord, agent: AgentInfo): void;
      onSip(event: Extract<AgentEvent, { type: 'sip' }>): void;
      onPageHealth(pageId: string, event: Extract<AgentEvent, { type: 'pageHealth' }>): void;
    },
  ) {}

  registerCall(call: CallRecord): void {
    this.calls.set(call.key, call);
    this.callsByCallerLeg.set(call.callerLegId, call);
    // A call adopted from an incoming leg (an incoming answer) already has its callee leg.
    if (call.calleeAgentId && !call.calleeLegId) this.waitingForCallee.add(call);
  }

  /**
   * Drops a reported call and its ended legs, so a long run's memory stays flat
   * (its CallResult already holds what the reports need). A leg still up is kept.
   */
  forget(call: CallRecord): void {
    for (const leg of this.legsOf(call)) {
      if (!leg.ended) return;
    }
    for (const leg of this.legsOf(call)) {
      this.legs.delete(leg.legId);
      if (leg.sipCallId && this.callsBySipCallId.get(leg.sipCallId) === call) this.callsBySipCallId.delete(leg.sipCallId);
      if (leg.sipCallId) this.wireTimes.delete(wireKey(leg.agentId, leg.sipCallId));
    }
    if (++this.forgotten % 100 === 0) this.pruneWireTimes(Date.now());
    this.calls.delete(call.key);
    this.callsByCallerLeg.delete(call.callerLegId);
    this.waitingForCallee.delete(call);
  }

  legOf(call: CallRecord, role: string | undefined): LegRecord | undefined {
    if (role === undefined || role === call.callerRole) return this.legs.get(call.callerLegId);
    if (role === call.calleeRole && call.calleeLegId) return this.legs.get(call.calleeLegId);
    return undefined;
  }

  legsOf(call: CallRecord): LegRecord[] {
    // A call from a device has one callwright leg, recorded as both caller and callee leg: count it once.
    const ids = new Set([call.callerLegId, call.calleeLegId]);
    return [...ids].flatMap((id) => (id && this.legs.get(id) ? [this.legs.get(id)!] : []));
  }

  /** Resolves true once check() holds, false after timeoutMs. */
  waitFor(check: () => boolean, timeoutMs: number): Promise<boolean> {
    if (check()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        check,
        resolve,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          resolve(check());
        }, Math.max(0, timeoutMs)),
      };
      this.waiters.add(waiter);
    });
  }

  /** Wake every waiter whose condition now holds (after events, or a page loss). */
  settle(): void {
    for (const waiter of this.waiters) {
      if (waiter.check()) {
        clearTimeout(waiter.timer);
        this.waiters.delete(waiter);
        waiter.resolve(true);
      }
    }
  }

  apply(events: AgentEvent[], pageId?: string): void {
    for (const event of events) {
      if (event.type === 'pageHealth') {
        if (pageId) {
          this.pageHealth.note(pageId, event);
          this.hooks.onPageHealth(pageId, event);
        }
      } else this.applyOne(event);
    }
    this.settle();
  }

  /** The wire times of one agent's side of a Call-ID, made on first use. */
  private wireTimesOf(agentId: string, sipCallId: string, atMs: number): { times: SipWireTimes; firstAtMs: number; claimed: boolean } {
    const key = wireKey(agentId, sipCallId);
    let entry = this.wireTimes.get(key);
    if (!entry) {
      entry = { times: { challenges: 0 }, firstAtMs: atMs, claimed: false };
      this.wireTimes.set(key, entry);
    }
    return entry;
  }

  private pruneWireTimes(nowMs: number): void {
    for (const [key, entry] of this.wireTimes) if (!entry.claimed && nowMs - entry.firstAtMs > UNCLAIMED_WIRE_TIMES_MS) this.wireTimes.delete(key);
  }

  /** The page hosting these agents died: end their live legs as browser_crashed. */
  pageLost(pageId: string, reason: string): void {
    const now = Date.now();
    for (const agent of this.agents.values()) {
      if (agent.page.pageId !== pageId) continue;
      agent.registered = false;
      agent.transportUp = false;
      agent.registrationError = reason;
      for (const leg of this.legs.values()) {
        if (leg.agentId === agent.agentId && !leg.ended) {
          leg.lost = reason;
          leg.endedAtMs = now;
          leg.endCause = { kind: 'error', message: reason };
        }
      }
    }
    this.settle();
  }

  private applyOne(event: AgentEvent): void {
    switch (event.type) {
      case 'registered': {
        const agent = this.agents.get(event.agentId);
        if (!agent) return;
        const first = !agent.registered;
        agent.registered = true;
        agent.registrationError = undefined;
        agent.registrationStatus = undefined;
        if (first) this.hooks.onRegistration(agent, true, event.atMs);
        return;
      }
      case 'registrationFailed': {
        const agent = this.agents.get(event.agentId);
        if (!agent) return;
        agent.registered = false;
        agent.registrationError = event.status ? `${event.status} ${event.reason}` : event.reason;
        agent.registrationStatus = event.status;
        this.hooks.onRegistration(agent, false, event.atMs, event.status);
        return;
      }
      case 'unregistered': {
        const agent = this.agents.get(event.agentId);
        if (agent) agent.registered = false;
        return;
      }
      case 'transport':
        return this.transportChanged(event);
      case 'legCreated': {
        const agent = this.agents.get(event.agentId);
        if (!agent) return;
        let leg = this.legs.get(event.legId);
        if (!leg) {
          leg = new LegRecord(event.legId, event.agentId, agent.role, event.direction);
          this.legs.set(event.legId, leg);
        }
        leg.createdAtMs = event.atMs;
        leg.sipCallId = event.sipCallId;
        leg.pageId = agent.page.pageId;
        leg.agentKind = agent.page.kind;
        const wire = this.wireTimesOf(event.agentId, event.sipCallId, event.atMs);
        wire.claimed = true;
        leg.wire = wire.times;
        leg.from = event.from;
        leg.to = event.to;
        leg.referredByLegId = event.referredByLegId;
        if (event.direction === 'outgoing') {
          let owner = this.callsByCallerLeg.get(event.legId);
          const makeTransferCall = event.referredByLegId ? this.pendingTransfers.get(event.referredByLegId) : undefined;
          if (!owner && makeTransferCall) {
            this.pendingTransfers.delete(event.referredByLegId!);
            owner = makeTransferCall(leg);
            this.registerCall(owner);
          }
          if (owner) {
            leg.callKey = owner.key;
            this.callsBySipCallId.set(event.sipCallId, owner);
          }
        } else {
          this.attachIncoming(leg);
          this.hooks.onIncomingLeg(leg, agent);
        }
        return;
      }
      case 'sip':
        noteSipMessage(this.wireTimesOf(event.agentId, event.sipCallId, event.atMs).times, event);
        this.hooks.onSip(event);
        return;
      case 'iceGathered':
        return this.withLeg(event.legId, (leg) => void (leg.gathering = event));
      case 'legTransport':
        return this.withLeg(event.legId, (leg) => void leg.transport.push({ layer: event.layer, state: event.state, atMs: event.atMs }));
      case 'inviteSent':
        return this.withLeg(event.legId, (leg) => {
          leg.inviteSentAtMs ??= event.atMs;
          leg.inviteBytes = event.bytes;
        });
      case 'progress':
        return this.withLeg(event.legId, (leg) => {
          leg.progressStatuses.push(event.status);
          if (event.status >= 180) leg.firstProgressAtMs ??= event.atMs;
        });
      case 'established':
        return this.withLeg(event.legId, (leg) => {
          leg.establishedAtMs ??= event.atMs;
          this.hooks.onLegEstablished(leg);
        });
      case 'firstMedia':
        return this.withLeg(event.legId, (leg) => {
          if (event.kind === 'audio') leg.firstAudioAtMs ??= event.atMs;
          else leg.firstVideoAtMs ??= event.atMs;
        });
      case 'sdp':
        return this.withLeg(event.legId, (leg) => void leg.sdp.push(event));
      case 'stats':
        return this.withLeg(event.legId, (leg) => {
          leg.addStats(event);
          this.hooks.onLegStats(leg);
        });
      case 'holdChanged':
        return this.withLeg(event.legId, (leg) => {
          leg.holdResults.push(event);
          if (!event.ok) return;
          leg.held = event.held;
          leg.lastHoldChangeAtMs = event.atMs;
          const call = leg.callKey ? this.calls.get(leg.callKey) : undefined;
          for (const other of call ? this.legsOf(call) : []) {
            if (other === leg) continue;
            other.farEndHeld = event.held;
            other.lastHoldChangeAtMs = event.atMs;
          }
        });
      case 'dtmfSent':
        return this.withLeg(event.legId, (leg) => {
          leg.dtmfSent.push({ tone: event.tone, ok: event.ok, mode: event.mode, status: event.status });
          this.hooks.onDtmf(leg, true, event.mode, event.tone, event.atMs);
        });
      case 'dtmfWindow':
        return this.withLeg(event.legId, (leg) => {
          leg.dtmfWindows.push(event);
          this.hooks.onDtmfBurst(leg, event);
        });
      case 'dtmfReceived':
        return this.withLeg(event.legId, (leg) => {
          leg.dtmfReceived.push(event.tone);
          this.hooks.onDtmf(leg, false, 'info', event.tone, event.atMs);
        });
      case 'transferResult':
        return this.withLeg(event.legId, (leg) => void (leg.transferResult = event));
      case 'messageReceived': {
        const agent = this.agents.get(event.agentId);
        agent?.messagesReceived.push({ from: event.from, body: event.body, atMs: event.atMs });
        return;
      }
      case 'messageResult': {
        this.agents.get(event.agentId)?.messageResults.set(event.requestId, event);
        return;
      }
      case 'ended':
        return this.withLeg(event.legId, (leg) => {
          if (leg.ended) return;
          leg.endedAtMs = event.atMs;
          leg.endCause = event.cause;
        });
      case 'commandFailed': {
        const leg = event.id ? this.legs.get(event.id) : undefined;
        if (leg) leg.commandError = `${event.command}: ${event.error}`;
        const agent = event.id ? this.agents.get(event.id) : undefined;
        if (agent && event.command === 'register') agent.registrationError = event.error;
        if (agent && event.command === 'connect') agent.transportError = event.error;
        this.hooks.onLog('warn', `command ${event.command}${event.id ? ` (${event.id})` : ''} failed in the page: ${event.error}`, event.atMs);
        return;
      }
      case 'log':
        this.hooks.onLog(event.level, event.message, event.atMs);
        return;
    }
  }

  /**
   * A dropped WebSocket takes the registration with it (the registrar binds
   * the contact to the connection): the agent counts as unregistered until
   * the page reports the re-registration that follows its reconnection.
   */
  private transportChanged(event: Extract<AgentEvent, { type: 'transport' }>): void {
    const agent = this.agents.get(event.agentId);
    if (agent) agent.transportUp = event.state === 'connected';
    switch (event.state) {
      case 'disconnected':
        if (!event.error) return; // closed on purpose (unregister, shutdown)
        if (agent) {
          agent.registered = false;
          // A re-registration is timed from its own REGISTER, not from the register step long before.
          agent.registerSentAtMs = undefined;
        }
        this.hooks.onLog('warn', `${event.agentId}: SIP WebSocket lost (${event.error}); its calls end as transport_lost, reconnecting`, event.atMs);
        return;
      case 'reconnecting':
        this.hooks.onLog('debug', `${event.agentId}: reconnection attempt ${event.attempt ?? '?'} in ${event.delayMs ?? '?'} ms`, event.atMs);
        return;
      case 'connected':
        if (agent) agent.transportError = undefined;
        if (event.downMs !== undefined) {
          this.hooks.onLog('info', `${event.agentId}: SIP WebSocket back after ${(event.downMs / 1000).toFixed(1)} s (${event.attempt ?? '?'} attempts); re-registering`, event.atMs);
        }
        return;
    }
  }

  /** Join an incoming leg to its call: same SIP Call-ID (proxies), else the oldest call waiting on this agent (B2BUAs change Call-IDs). */
  private attachIncoming(leg: LegRecord): void {
    const bySipId = leg.sipCallId ? this.callsBySipCallId.get(leg.sipCallId) : undefined;
    const call =
      (bySipId && bySipId.calleeAgentId === leg.agentId && !bySipId.calleeLegId ? bySipId : undefined) ??
      [...this.waitingForCallee].find((c) => c.calleeAgentId === leg.agentId);
    if (!call) return;
    this.waitingForCallee.delete(call);
    call.calleeLegId = leg.legId;
    leg.callKey = call.key;
  }

  private withLeg(legId: string, apply: (leg: LegRecord) => void): void {
    const leg = this.legs.get(legId);
    if (leg) apply(leg);
  }
}

const wireKey = (agentId: string, sipCallId: string) => `${agentId} ${sipCallId}`;
