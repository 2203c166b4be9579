import { estimateMos } from '../metrics/mos.js';
import type { CallResult, FailureReason } from '../results.js';
import type { LegRecord } from './legRecord.js';
import type { CallRecord } from './runState.js';

const seconds = (from: number | undefined, to: number | undefined) =>
  from === undefined || to === undefined ? undefined : Math.max(0, to - from) / 1000;

/**
 * A sample taken this soon after the leg came up may predate its first packet
 * (pages sample every leg on one timer): a short call's only sample then says
 * 0 packets though audio flowed. Such a sample is no evidence of one-way audio.
 */
const ONE_WAY_EVIDENCE_AFTER_MS = 1000;

function receivedNoAudio(leg: LegRecord): boolean {
  const latest = leg.latest;
  if (latest === undefined || (latest.sample.audioIn?.packetsReceived ?? 0) > 0) return false;
  return leg.establishedAtMs === undefined || latest.atMs - leg.establishedAtMs >= ONE_WAY_EVIDENCE_AFTER_MS;
}

/**
 * The row a call leaves in calls.csv, from its record and its legs' last
 * statistics. Media figures are the worst leg's, as a user hears the worst side.
 */
export function buildCallResult(scenario: string, call: CallRecord, caller: LegRecord | undefined, callee: LegRecord | undefined): CallResult {
  const legs = [caller, callee].filter((leg): leg is LegRecord => leg !== undefined);
  const media = legs.map(legMedia);
  const worst = <K extends keyof LegMedia>(key: K, pick: (a: number, b: number) => number) =>
    media.map((m) => m[key]).reduce<number | undefined>((acc, v) => (v === undefined ? acc : acc === undefined ? (v as number) : pick(acc, v as number)), undefined);
  const established = caller?.established ?? false;
  const oneWayAudio = established && legs.some(receivedNoAudio);
  const failure = faultOf(caller) ?? faultOf(callee) ?? failureOf(call, caller, oneWayAudio);
  const sample = caller?.lastSample();
  return {
    callId: call.key,
    scenario,
    iteration: call.iteration,
    name: call.name,
    callerRole: call.callerRole,
    calleeRole: call.calleeRole,
    from: call.from,
    to: call.to,
    sipCallId: caller?.sipCallId,
    startedAtMs: call.startedAtMs,
    timeTo180Seconds: seconds(caller?.inviteSentAtMs, caller?.firstProgressAtMs),
    setupSeconds: seconds(call.startedAtMs, caller?.establishedAtMs),
    timeToFirstAudioSeconds: seconds(caller?.establishedAtMs, caller?.firstAudioAtMs),
    durationSeconds: seconds(caller?.establishedAtMs, caller?.endedAtMs),
    result: failure ? 'failed' : 'success',
    failureExpected: failure !== undefined && call.failureExpected,
    sipStatus: caller?.sipStatus ?? (established ? 200 : undefined),
    failureReason: failure?.reason,
    failureDetail: failure?.detail,
    inviteBytes: caller?.inviteBytes,
    codecOut: sample?.audioOut?.codec ?? sample?.videoOut?.codec,
    codecIn: sample?.audioIn?.codec ?? sample?.videoIn?.codec,
    packetsLost: worst('packetsLost', Math.max),
    packetLossRatio: worst('lossRatio', Math.max),
    jitterSeconds: worst('jitterSeconds', Math.max),
    rttSeconds: worst('rttSeconds', Math.max),
    mos: worst('mos', Math.min),
    concealedRatio: worst('concealedRatio', Math.max),
    oneWayAudio,
  };
}

interface LegMedia {
  packetsLost?: number;
  lossRatio?: number;
  jitterSeconds?: number;
  rttSeconds?: number;
  mos?: number;
  concealedRatio?: number;
}

function legMedia(leg: LegRecord): LegMedia {
  const sample = leg.lastSample();
  const audioIn = sample?.audioIn;
  if (!sample || !audioIn) return {};
  const received = audioIn.packetsReceived;
  const lost = Math.max(0, audioIn.packetsLost);
  const lossRatio = received + lost > 0 ? lost / (received + lost) : 0;
  const rttSeconds = sample.audioOut?.roundTripTimeSeconds ?? sample.candidateRttSeconds;
  const concealedRatio =
    audioIn.totalSamplesReceived && audioIn.concealedSamples !== undefined ? audioIn.concealedSamples / audioIn.totalSamplesReceived : undefined;
  const { mos } = estimateMos({ codec: audioIn.codec, rttSeconds, jitterSeconds: audioIn.jitterSeconds, packetLossRatio: lossRatio });
  return { packetsLost: lost, lossRatio, jitterSeconds: audioIn.jitterSeconds, rttSeconds, mos, concealedRatio };
}

/**
 * A leg cut by a fault outside the call (its page or browser died, its SIP
 * WebSocket dropped) fails the call for that reason, whichever step noticed
 * it first: a check that then failed is a symptom, not the cause.
 */
function faultOf(leg: LegRecord | undefined): { reason: FailureReason; detail: string } | undefined {
  if (!leg) return undefined;
  if (leg.lost) return { reason: 'browser_crashed', detail: `${leg.role}: ${leg.lost}` };
  if (leg.endCause?.kind === 'transportLost') {
    return { reason: 'transport_lost', detail: `${leg.role}: SIP WebSocket lost ${leg.established ? 'during the call' : 'during setup'}` };
  }
  return undefined;
}

function failureOf(call: CallRecord, caller: LegRecord | undefined, oneWayAudio: boolean): { reason: FailureReason; detail: string } | undefined {
  if (call.failure) return call.failure;
  if (!caller) return { reason: 'command_failed', detail: 'the call never started' };
  if (caller.lost) return { reason: 'browser_crashed', detail: caller.lost };
  if (!caller.established) {
    const cause = caller.endCause;
    if (cause?.kind === 'sipStatus') return { reason: 'sip_status', detail: `SIP ${cause.status}${cause.reasonPhrase ? ` ${cause.reasonPhrase}` : ''}` };
    if (cause?.kind === 'transportLost') return { reason: 'transport_lost', detail: 'SIP WebSocket lost during setup' };
    if (cause?.kind === 'canceled') return { reason: 'canceled', detail: 'hung up before answer' };
    if (caller.commandError) return { reason: 'command_failed', detail: caller.commandError };
    return { reason: 'timeout', detail: 'not established' };
  }
  if (caller.endCause?.kind === 'transportLost') return { reason: 'transport_lost', detail: 'SIP WebSocket lost during the call' };
  if (oneWayAudio) return { reason: 'one_way_audio', detail: 'a leg received no audio packets' };
  return undefined;
}
