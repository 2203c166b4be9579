import type { FailureReason, StepResult } from '../results.js';
import type { Party, Scenario, Step } from '../scenario/types.js';
import type { AgentDirectory } from './agentDirectory.js';
import { evaluateCheck } from './checks.js';
import { LegRecord } from '../calls/legRecord.js';
import { abortableSleep } from '../common/abortableSleep.js';
import { newCallRecord, outgoingLegId, type CallRecord } from '../calls/callRecord.js';
import type { AgentInfo, RunState } from './runState.js';

export interface IterationContext {
  scenario: Scenario;
  iteration: number;
  slot: number;
  state: RunState;
  agents: AgentDirectory;
  signal: AbortSignal;
  /** How long this iteration's `wait: holdTime` steps last (the plan's draw from load.holdTime). */
  holdSeconds?: number;
  onStepEnd(step: StepResult): void;
  onCallStarted(call: CallRecord): void;
  /** Roles' impaired networks, for `network` steps (runner/roleNetworkSetup.ts). */
  networks?: { switchTo(role: string, profile: string): Promise<string> };
}

type StepOutcome = { ok: true; detail?: string } | { ok: false; reason: FailureReason; detail: string; sipStatus?: number; call?: CallRecord };

/** caller_role of a call that came from outside callwright (no role can be named so: role names start with a letter). */
export const OUTSIDE_CALLER_ROLE = '(outside)';

const pass = (detail?: string): StepOutcome => ({ ok: true, detail });
const fail = (reason: FailureReason, detail: string, call?: CallRecord, sipStatus?: number): StepOutcome => ({ ok: false, reason, detail, call, sipStatus });

/**
 * Runs one pass of the scenario's steps in one slot (a set of accounts).
 * Stops at the first failed step, like a SIPp scenario; the caller then
 * hangs up whatever is still up.
 */
export class IterationRunner {
  /** Calls of this iteration by scenario name. */
  readonly calls = new Map<string, CallRecord>();
  private messageCounter = 0;

  constructor(private readonly ctx: IterationContext) {}

  async run(): Promise<boolean> {
    const { scenario } = this.ctx;
    for (const [index, step] of scenario.steps.entries()) {
      if (this.ctx.signal.aborted) return false;
      const startedAtMs = Date.now();
      let outcome: StepOutcome;
      try {
        outcome = await this.execute(step);
      } catch (error) {
        outcome = fail('command_failed', error instanceof Error ? error.message : String(error));
      }
      if (this.ctx.signal.aborted && !outcome.ok) outcome = fail('interrupted', `stopped: ${outcome.detail}`);
      const result: StepResult = {
        scenario: scenario.name,
        iteration: this.ctx.iteration,
        index,
        name: step.name,
        kind: step.kind,
        role: 'role' in step ? step.role : 'from' in step ? step.from : undefined,
        call: 'call' in step ? step.call : undefined,
        ok: outcome.ok,
        failureReason: outcome.ok ? undefined : outcome.reason,
        detail: outcome.detail,
        sipStatus: outcome.ok ? undefined : outcome.sipStatus,
        startedAtMs,
        durationSeconds: (Date.now() - startedAtMs) / 1000,
      };
      this.ctx.onStepEnd(result);
      if (!outcome.ok) {
        if (outcome.call && !outcome.call.failure) outcome.call.failure = { reason: outcome.reason, detail: `${step.name}: ${outcome.detail}` };
        return false;
      }
    }
    return true;
  }

  /** Hang up every leg of this iteration that is still up and wait (bounded) for them to end. */
  async cleanup(timeoutMs = 5_000): Promise<void> {
    const { state } = this.ctx;
    const live = [...this.calls.values()].flatMap((call) => state.legsOf(call)).filter((leg) => !leg.ended);
    const hangUp = (legs: LegRecord[]) =>
      Promise.all(
        legs.map((leg) => {
          const agent = state.agents.get(leg.agentId);
          return agent ? agent.page.dispatch({ type: 'hangup', legId: leg.legId }) : undefined;
        }),
      );
    // Callers first, one BYE per call: hanging up both ends at once crosses two BYEs, each answered 481.
    const callers = live.filter((leg) => leg.direction === 'outgoing');
    await hangUp(callers);
    await state.waitFor(() => live.every((leg) => leg.ended), callers.length > 0 ? timeoutMs / 2 : 0);
    await hangUp(live.filter((leg) => !leg.ended));
    await state.waitFor(() => live.every((leg) => leg.ended), timeoutMs / 2);
  }

  private async execute(step: Step): Promise<StepOutcome> {
    const timeoutMs = step.timeoutSeconds * 1000;
    switch (step.kind) {
      case 'register':
        return this.register(step.roles, timeoutMs);
      case 'unregister':
        return this.unregister(step.roles, timeoutMs);
      case 'call':
        return this.call(step, timeoutMs);
      case 'answer':
        return this.answer(step, timeoutMs);
      case 'expect':
        return this.expect(step, timeoutMs);
      case 'wait':
        await this.sleep((step.holdTime ? (this.ctx.holdSeconds ?? 0) : step.seconds) * 1000);
        return pass();
      case 'dtmf':
        return this.dtmf(step, timeoutMs);
      case 'hold':
      case 'unhold':
        return this.hold(step.call, step.role, step.kind === 'hold', timeoutMs);
      case 'transfer':
        return this.transfer(step, timeoutMs);
      case 'message':
        return this.message(step, timeoutMs);
      case 'hangup':
        return this.hangup(step.call, step.role, timeoutMs);
      case 'fault':
        return this.fault(step);
      case 'network':
        return this.switchNetwork(step);
    }
  }

  private async register(roles: string[], timeoutMs: number): Promise<StepOutcome> {
    const agents = await Promise.all(roles.map((role) => this.ctx.agents.ensure(role, this.ctx.slot)));
    const broken = agents.find((agent) => !agent.created);
    if (broken) return fail('command_failed', `${broken.agentId}: ${broken.registrationError}`);
    const pending = agents.filter((agent) => !agent.registered);
    for (const agent of pending) {
      agent.registrationError = undefined;
      agent.registrationStatus = undefined;
      agent.registerSentAtMs = Date.now();
    }
    await Promise.all(pending.map((agent) => agent.page.dispatch({ type: 'register', agentId: agent.agentId })));
    await this.ctx.state.waitFor(() => pending.every((a) => a.registered || a.registrationError !== undefined), timeoutMs);
    const failed = agents.filter((agent) => !agent.registered);
    if (failed.length === 0) return pass(`${agents.length} registered`);
    const detail = failed.map((a) => `${a.role} (${a.account.user}): ${a.registrationError ?? 'no answer'}`).join('; ');
    return fail(failed.some((a) => a.registrationError) ? 'registration_failed' : 'timeout', detail, undefined, failed[0]!.registrationStatus);
  }

  private async unregister(roles: string[], timeoutMs: number): Promise<StepOutcome> {
    const agents = roles.map((role) => this.ctx.agents.get(this.ctx.agents.agentIdFor(role, this.ctx.slot))).filter((a): a is AgentInfo => a !== undefined);
    await Promise.all(agents.map((agent) => agent.page.dispatch({ type: 'unregister', agentId: agent.agentId })));
    const ok = await this.ctx.state.waitFor(() => agents.every((a) => !a.registered), timeoutMs);
    return ok ? pass() : fail('timeout', `still registered: ${agents.filter((a) => a.registered).map((a) => a.role).join(', ')}`);
  }

  private async call(step: Extract<Step, { kind: 'call' }>, timeoutMs: number): Promise<StepOutcome> {
    const { state, agents, slot } = this.ctx;
    const caller = await agents.ensure(step.from, slot);
    if (!caller.created) return fail('command_failed', `${caller.agentId}: ${caller.registrationError}`);
    const target = this.uriOf(step.to);
    const calleeRole = 'role' in step.to ? step.to.role : undefined;
    const legId = outgoingLegId(this.ctx.iteration, step.call, step.from);
    const record = newCallRecord({
      iteration: this.ctx.iteration,
      name: step.call,
      callerRole: step.from,
      calleeRole,
      calleeAgentId: calleeRole ? agents.agentIdFor(calleeRole, slot) : undefined,
      from: agents.addressOf(step.from, slot),
      to: target,
      startedAtMs: Date.now(),
      callerLegId: legId,
    });
    const leg = new LegRecord(legId, caller.agentId, step.from, 'outgoing');
    leg.callKey = record.key;
    state.legs.set(legId, leg);
    state.registerCall(record);
    this.calls.set(step.call, record);
    this.ctx.onCallStarted(record);
    const result = await caller.page.dispatch({
      type: 'call',
      agentId: caller.agentId,
      legId,
      target,
      audio: step.audio,
      video: step.video,
      ...(step.receiveOnly ? { receiveOnly: true } : {}),
      codecs: step.codecs,
      extraSdp: step.extraSdp,
      ...(step.extraMediaSdp ? { extraMediaSdp: step.extraMediaSdp } : {}),
      headers: step.headers,
    });
    if (!result.ok) {
      leg.commandError = result.error;
      leg.endedAtMs = Date.now();
      return fail('command_failed', result.error, record);
    }
    const reached = () =>
      leg.ended ||
      leg.commandError !== undefined ||
      (step.until === 'sent' ? leg.inviteSentAtMs !== undefined : step.until === 'ringing' ? leg.firstProgressAtMs !== undefined || leg.established : leg.established);
    const ok = await state.waitFor(reached, timeoutMs);
    if (leg.commandError) return fail('command_failed', leg.commandError, record);
    if (!ok) return fail('timeout', `INVITE to ${target} not ${step.until} within ${step.timeoutSeconds} s`, record);
    if (leg.ended && step.until !== 'sent' && !leg.established) {
      return fail(leg.lost ? 'browser_crashed' : 'sip_status', `call ended: ${describeEnd(leg)}`, record, leg.sipStatus);
    }
    return pass(`INVITE ${leg.inviteBytes ?? '?'} bytes to ${target}`);
  }

  private async answer(step: Extract<Step, { kind: 'answer' }>, timeoutMs: number): Promise<StepOutcome> {
    const { state } = this.ctx;
    const deadline = Date.now() + timeoutMs;
    if (step.incoming && !(await this.adoptIncomingCall(step, timeoutMs))) {
      return fail('timeout', `no call from outside callwright reached ${step.role} within ${step.timeoutSeconds} s`);
    }
    const call = this.callNamed(step.call);
    const arrived = await state.waitFor(() => call.calleeLegId !== undefined || state.legs.get(call.callerLegId)?.ended === true, Math.max(0, deadline - Date.now()));
    const callerLeg = state.legs.get(call.callerLegId);
    if (!arrived || !call.calleeLegId) {
      return fail(callerLeg?.ended ? 'sip_status' : 'timeout', `no incoming call for ${step.role}${callerLeg?.ended ? `: caller ${describeEnd(callerLeg)}` : ''}`, call, callerLeg?.sipStatus);
    }
    const leg = state.legs.get(call.calleeLegId)!;
    const agent = state.agents.get(leg.agentId)!;
    call.answerDelaySeconds = step.afterSeconds;
    await this.sleep(step.afterSeconds * 1000);
    if (step.rejectStatus !== undefined) {
      const result = await agent.page.dispatch({ type: 'reject', legId: leg.legId, status: step.rejectStatus });
      if (!result.ok) return fail('command_failed', result.error, call);
      const ended = await state.waitFor(() => leg.ended, deadline - Date.now());
      return ended ? pass(`rejected with ${step.rejectStatus}`) : fail('timeout', 'reject did not end the call', call);
    }
    const result = await agent.page.dispatch({
      type: 'answer',
      legId: leg.legId,
      audio: step.audio,
      video: step.video,
      ...(step.receiveOnly ? { receiveOnly: true } : {}),
      codecs: step.codecs,
      extraSdp: step.extraSdp,
      ...(step.extraMediaSdp ? { extraMediaSdp: step.extraMediaSdp } : {}),
    });
    if (!result.ok) return fail('command_failed', result.error, call);
    const up = await state.waitFor(() => leg.established || leg.ended || leg.commandError !== undefined, Math.max(0, deadline - Date.now()));
    if (leg.commandError) return fail('command_failed', leg.commandError, call);
    if (!up) return fail('timeout', 'answered, but the call did not get established', call);
    if (!leg.established) return fail('sip_status', `call ended while answering: ${describeEnd(leg)}`, call);
    return pass();
  }

  /**
   * An incoming answer: waits for the role's oldest ringing leg that no step placed (a SIP device
   * calling its registered account) and makes it the step's call. The leg is the call's only
   * callwright leg, so it is recorded as both caller and callee leg; the caller is no role.
   */
  private async adoptIncomingCall(step: Extract<Step, { kind: 'answer' }>, timeoutMs: number): Promise<CallRecord | undefined> {
    const { state, agents, slot, iteration } = this.ctx;
    const agent = await agents.ensure(step.role, slot);
    const unclaimed = () =>
      [...state.legs.values()]
        .filter((leg) => leg.agentId === agent.agentId && leg.direction === 'incoming' && leg.callKey === undefined && !leg.ended)
        .sort((a, b) => (a.createdAtMs ?? 0) - (b.createdAtMs ?? 0))[0];
    await state.waitFor(() => unclaimed() !== undefined, timeoutMs);
    const leg = unclaimed();
    if (!leg) return undefined;
    // A call from outside callwright: its only leg is the callee's, which stands for the caller's too.
    const record = newCallRecord({
      iteration,
      name: step.call,
      callerRole: OUTSIDE_CALLER_ROLE,
      calleeRole: step.role,
      calleeAgentId: agent.agentId,
      from: leg.from,
      to: leg.to,
      startedAtMs: leg.createdAtMs ?? Date.now(),
      callerLegId: leg.legId,
    });
    record.calleeLegId = leg.legId;
    leg.callKey = record.key;
    state.registerCall(record);
    this.calls.set(step.call, record);
    this.ctx.onCallStarted(record);
    return record;
  }

  private async expect(step: Extract<Step, { kind: 'expect' }>, timeoutMs: number): Promise<StepOutcome> {
    const { state } = this.ctx;
    const call = step.check.kind === 'message' ? undefined : this.callNamed(step.call);
    const context = () => ({
      call: call!,
      legs: call ? (step.role ? [state.legOf(call, step.role)].filter((l): l is LegRecord => l !== undefined) : state.legsOf(call)) : [],
      agents: step.role ? [state.agents.get(this.ctx.agents.agentIdFor(step.role, this.ctx.slot))].filter((a): a is AgentInfo => a !== undefined) : [],
    });
    await state.waitFor(() => evaluateCheck(step.check, context()).ok, timeoutMs);
    const outcome = evaluateCheck(step.check, context());
    if (outcome.ok) {
      if (call && step.check.kind === 'state' && step.check.state === 'failed') call.failureExpected = true;
      return pass(outcome.detail);
    }
    const callerLeg = call ? state.legs.get(call.callerLegId) : undefined;
    return fail(outcome.reason, outcome.detail, call, callerLeg?.sipStatus);
  }

  private async dtmf(step: Extract<Step, { kind: 'dtmf' }>, timeoutMs: number): Promise<StepOutcome> {
    const { leg, agent, call } = this.liveLeg(step.call, step.role);
    const before = leg.dtmfSent.length;
    const result = await agent.page.dispatch({ type: 'dtmf', legId: leg.legId, tones: step.tones, mode: step.mode, durationMs: step.durationMs, gapMs: step.gapMs });
    if (!result.ok) return fail('command_failed', result.error, call);
    const windowsBefore = leg.dtmfWindows.length;
    const allSent = () =>
      leg.dtmfSent.length - before >= step.tones.length && (step.mode !== 'rfc4733' || leg.dtmfWindows.length > windowsBefore);
    const done = await this.ctx.state.waitFor(() => allSent() || leg.commandError !== undefined || leg.ended, timeoutMs);
    const sent = leg.dtmfSent.slice(before);
    if (leg.commandError) return fail('command_failed', leg.commandError, call);
    if (!done) return fail('timeout', `${sent.length} of ${step.tones.length} tones sent`, call);
    const rejected = sent.find((tone) => !tone.ok);
    if (rejected) return fail('sip_status', `INFO for "${rejected.tone}" answered ${rejected.status}`, call, rejected.status);
    const window = leg.dtmfWindows[windowsBefore];
    const packets = window ? `: ${window.packetsSent} packets, ${(window.payloadBytesSent / Math.max(1, window.packetsSent)).toFixed(1)} payload bytes per packet` : '';
    return pass(`sent "${sent.map((t) => t.tone).join('')}" (${step.mode})${packets}`);
  }

  private async hold(callName: string, role: string, held: boolean, timeoutMs: number): Promise<StepOutcome> {
    const { leg, agent, call } = this.liveLeg(callName, role);
    const before = leg.holdResults.length;
    const result = await agent.page.dispatch({ type: held ? 'hold' : 'unhold', legId: leg.legId });
    if (!result.ok) return fail('command_failed', result.error, call);
    const done = await this.ctx.state.waitFor(() => leg.holdResults.length > before || leg.commandError !== undefined || leg.ended, timeoutMs);
    const outcome = leg.holdResults[before];
    if (leg.commandError) return fail('command_failed', leg.commandError, call);
    if (!done || !outcome) return fail('timeout', `re-INVITE for ${held ? 'hold' : 'unhold'} not answered`, call);
    return outcome.ok ? pass() : fail('sip_status', outcome.error ?? 're-INVITE rejected', call);
  }

  private async transfer(step: Extract<Step, { kind: 'transfer' }>, timeoutMs: number): Promise<StepOutcome> {
    const { state, agents, slot } = this.ctx;
    const { leg, agent, call } = this.liveLeg(step.call, step.role);
    const transferee = step.role === call.callerRole ? state.legOf(call, call.calleeRole) : state.legOf(call, call.callerRole);
    const transfereeRole = step.role === call.callerRole ? call.calleeRole : call.callerRole;
    const target = this.uriOf(step.to);
    const calleeRole = 'role' in step.to ? step.to.role : undefined;
    if (calleeRole) await agents.ensure(calleeRole, slot);
    if (transferee && transfereeRole) {
      state.pendingTransfers.set(transferee.legId, (newLeg) => {
        const record = newCallRecord({
          iteration: this.ctx.iteration,
          name: step.newCall,
          callerRole: transfereeRole,
          calleeRole,
          calleeAgentId: calleeRole ? agents.agentIdFor(calleeRole, slot) : undefined,
          from: agents.addressOf(transfereeRole, slot),
          to: target,
          startedAtMs: newLeg.createdAtMs ?? Date.now(),
          callerLegId: newLeg.legId,
        });
        this.calls.set(step.newCall, record);
        this.ctx.onCallStarted(record);
        return record;
      });
    }
    const result = await agent.page.dispatch({ type: 'transfer', legId: leg.legId, target });
    if (!result.ok) return fail('command_failed', result.error, call);
    const done = await state.waitFor(() => leg.transferResult !== undefined || leg.ended, timeoutMs);
    if (!done || !leg.transferResult) return fail('timeout', 'REFER not answered', call);
    if (!leg.transferResult.ok) return fail('sip_status', `REFER answered ${leg.transferResult.status ?? leg.transferResult.error}`, call, leg.transferResult.status);
    const placed = await state.waitFor(() => this.calls.has(step.newCall), timeoutMs);
    return placed ? pass(`REFER accepted (${leg.transferResult.status}); transferee calls ${target}`) : fail('timeout', 'REFER accepted but the transferee placed no call', call);
  }

  private async message(step: Extract<Step, { kind: 'message' }>, timeoutMs: number): Promise<StepOutcome> {
    const agent = await this.ctx.agents.ensure(step.from, this.ctx.slot);
    if ('role' in step.to) await this.ctx.agents.ensure(step.to.role, this.ctx.slot);
    const requestId = `${this.ctx.iteration}.m${++this.messageCounter}`;
    const result = await agent.page.dispatch({ type: 'message', agentId: agent.agentId, requestId, target: this.uriOf(step.to), body: step.body, contentType: step.contentType });
    if (!result.ok) return fail('command_failed', result.error);
    await this.ctx.state.waitFor(() => agent.messageResults.has(requestId), timeoutMs);
    const answer = agent.messageResults.get(requestId);
    if (!answer) return fail('timeout', 'MESSAGE not answered');
    return answer.ok ? pass(`MESSAGE answered ${answer.status}`) : fail('sip_status', `MESSAGE answered ${answer.status}`, undefined, answer.status);
  }

  private async hangup(callName: string, role: string, timeoutMs: number): Promise<StepOutcome> {
    const call = this.callNamed(callName);
    const leg = this.ctx.state.legOf(call, role);
    if (!leg) return fail('check_failed', `${role} has no leg in call ${callName}`, call);
    if (leg.ended) return pass(`already ended: ${describeEnd(leg)}`);
    const agent = this.ctx.state.agents.get(leg.agentId)!;
    const result = await agent.page.dispatch({ type: 'hangup', legId: leg.legId });
    if (!result.ok) return fail('command_failed', result.error, call);
    const ended = await this.ctx.state.waitFor(() => leg.ended, timeoutMs);
    return ended ? pass() : fail('timeout', 'BYE not answered', call);
  }

  private async fault(step: Extract<Step, { kind: 'fault' }>): Promise<StepOutcome> {
    const { leg, agent, call } = this.liveLeg(step.call, step.role);
    const result = await agent.page.dispatch({ type: 'mediaFault', legId: leg.legId, fault: step.media, mediaKind: step.mediaKind });
    return result.ok ? pass(`${step.role}'s ${step.mediaKind} sender: ${step.media}`) : fail('command_failed', result.error, call);
  }

  private async switchNetwork(step: Extract<Step, { kind: 'network' }>): Promise<StepOutcome> {
    if (!this.ctx.networks) return fail('command_failed', `role ${step.role} has no network of its own (give roles.${step.role} a network: profile)`);
    try {
      return pass(await this.ctx.networks.switchTo(step.role, step.profile));
    } catch (error) {
      return fail('command_failed', `network ${step.role} -> ${step.profile}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private liveLeg(callName: string, role: string): { leg: LegRecord; agent: AgentInfo; call: CallRecord } {
    const call = this.callNamed(callName);
    const leg = this.ctx.state.legOf(call, role);
    if (!leg) throw new Error(`${role} has no leg in call ${callName}`);
    if (leg.ended) throw new Error(`${role}'s leg of ${callName} has ended: ${describeEnd(leg)}`);
    const agent = this.ctx.state.agents.get(leg.agentId);
    if (!agent) throw new Error(`no agent for ${leg.agentId}`);
    return { leg, agent, call };
  }

  private callNamed(name: string): CallRecord {
    const call = this.calls.get(name);
    if (!call) throw new Error(`call "${name}" has not been made in this iteration`);
    return call;
  }

  private uriOf(party: Party): string {
    return 'role' in party ? this.ctx.agents.addressOf(party.role, this.ctx.slot) : this.ctx.agents.resolveUri(party.uri);
  }

  private sleep(ms: number): Promise<void> {
    return abortableSleep(ms, this.ctx.signal);
  }
}

function describeEnd(leg: LegRecord): string {
  const cause = leg.endCause;
  if (leg.lost) return leg.lost;
  if (!cause) return 'ended';
  switch (cause.kind) {
    case 'sipStatus':
      return `SIP ${cause.status}${cause.reasonPhrase ? ` ${cause.reasonPhrase}` : ''}`;
    case 'hangup':
      return `hung up by ${cause.by === 'local' ? leg.role : 'the far end'}`;
    case 'canceled':
      return 'canceled';
    case 'transportLost':
      return 'SIP transport lost';
    case 'error':
      return cause.message;
  }
}
