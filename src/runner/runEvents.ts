/**
 * From what the pages tell to what the run reports: the RunState hooks that
 * turn page events (a leg's stats, a registration, DTMF, a SIP message, a
 * page's health) into run events for every reporter. One table, read top to
 * bottom: page event in, run event out.
 */
import type { Logger } from '../log.js';
import type { RunEvent, RunSummary } from '../results.js';
import type { Scenario } from '../scenario/types.js';
import { toLegSample } from '../calls/legSample.js';
import type { RunState } from './runState.js';

type StateHooks = ConstructorParameters<typeof RunState>[0];

export interface RunEventSink {
  emit(event: RunEvent): void;
  logger: Logger;
  /** During the orderly stop, sockets and pages closing are expected, not news. */
  stopping(): boolean;
}

/** REGISTER outcomes, counted as they come: the summary's registrations. */
export type RegistrationCount = RunSummary['registrations'];

export function runEventHooks(
  scenario: Scenario,
  sink: RunEventSink,
  registrations: RegistrationCount,
  state: () => RunState,
  networkProfileAt: (role: string, atMs: number) => string | undefined = () => undefined,
): StateHooks {
  const { emit, logger } = sink;
  const name = scenario.name;
  return {
    onLegStats: (leg) => {
      const sample = toLegSample(name, leg);
      // The profile its role's network was on when the sample was taken: a switch shows from its time on.
      const networkProfile = sample ? networkProfileAt(leg.role, sample.atMs) : undefined;
      if (sample) emit({ type: 'sample', sample: networkProfile === undefined ? sample : { ...sample, networkProfile } });
    },
    onLegEstablished: (leg) => {
      const call = leg.callKey ? state().calls.get(leg.callKey) : undefined;
      if (!call || call.callerLegId !== leg.legId || leg.establishedAtMs === undefined) return;
      // Setup as the wire saw it: first INVITE sent -> 200 OK received (harness time before the INVITE is not the server's).
      const invitedAtMs = leg.wire?.inviteSentAtMs ?? leg.inviteSentAtMs ?? leg.establishedAtMs;
      const answeredAtMs = leg.wire?.finalReceivedAtMs ?? leg.establishedAtMs;
      emit({ type: 'callEstablished', atMs: leg.establishedAtMs, scenario: name, callId: call.key, setupSeconds: Math.max(0, answeredAtMs - invitedAtMs) / 1000 });
    },
    onRegistration: (agent, ok, atMs, status) => {
      registrations.attempted++;
      if (ok) registrations.succeeded++;
      const began = agent.registerSentAtMs;
      emit({ type: 'registration', atMs, scenario: name, role: agent.role, ok, status, seconds: began ? (atMs - began) / 1000 : undefined });
    },
    onDtmf: (leg, sent, mode, tone, atMs) => emit({ type: 'dtmf', atMs, scenario: name, callId: leg.callKey ?? '', sent, mode, tone }),
    onDtmfBurst: (leg, burst) =>
      emit({ type: 'dtmfBurst', atMs: burst.atMs, scenario: name, callId: leg.callKey ?? '', packetsSent: burst.packetsSent, payloadBytesSent: burst.payloadBytesSent, seconds: burst.seconds }),
    onLog: (level, message, atMs) => {
      if (sink.stopping() && level !== 'error') return;
      logger[level](message);
      emit({ type: 'log', atMs, level, message });
    },
    onSip: (event) => emit({ type: 'sipMessage', atMs: event.atMs, scenario: name, agentId: event.agentId, sipCallId: event.sipCallId, sent: event.sent, raw: event.raw }),
    onPageHealth: (pageId, event) => emit({ type: 'pageHealth', atMs: event.atMs, scenario: name, pageId, lagMaxMs: event.lagMaxMs }),
    onIncomingLeg: (leg, agent) => {
      const autoAnswer = scenario.roles[agent.role]?.autoAnswer;
      if (!autoAnswer) return;
      // The page answers by itself (createAgent's autoAnswerAfterMs); the call notes the configured delay.
      const call = leg.callKey ? state().calls.get(leg.callKey) : undefined;
      if (call) call.answerDelaySeconds = autoAnswer.afterSeconds;
    },
  };
}
