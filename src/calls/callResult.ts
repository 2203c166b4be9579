import { estimateMos } from '../metrics/mos.js';
import { candidateLabel, pairKey } from '../protocol/events.js';
import { HARNESS_FAILURE_REASONS, type CallResult, type FailureReason, type LegResult } from '../results.js';
import type { LegRecord } from './legRecord.js';
import { farEndView, receivedLossRatio } from './lossViews.js';
import type { CallRecord } from './callRecord.js';
import { secondsBetween as seconds } from './sipWireTimes.js';
import { callVideoSummary } from './videoQuality.js';
import { codecWays, transcodedColumn } from '../sdp/transcoding.js';

/**
 * A sample taken this soon after the leg came up may predate its first packet
 * (pages sample every leg on one timer): a short call's only sample then says
 * 0 packets though audio flowed. Such a sample is no evidence of one-way audio.
 */
const ONE_WAY_EVIDENCE_AFTER_MS = 1000;
/** Audio stopping this close to a leg's end is the hangup arriving, not an interruption. */
const INTERRUPTION_BEFORE_END_MS = 1500;
/** Silence with at least this share of the samples concealed: the packets were not played at all. */
const CONCEALED_NOT_PLAYED = 0.95;
/** Failures that are not the server's whatever the harness's load (its own, or never reached the wire): never re-attributed. */
const NOT_RE_ATTRIBUTED: readonly FailureReason[] = [...HARNESS_FAILURE_REASONS, 'dropped', 'interrupted', 'command_failed'];

function receivedNoAudio(leg: LegRecord): boolean {
  // A listen-only far end sends nothing by agreement: no audio here is no evidence of one-way audio.
  if (leg.farEndSendsNoAudio) return false;
  const latest = leg.latest;
  if (latest === undefined || (latest.sample.audioIn?.packetsReceived ?? 0) > 0) return false;
  return leg.establishedAtMs === undefined || latest.atMs - leg.establishedAtMs >= ONE_WAY_EVIDENCE_AFTER_MS;
}

/** What the call's row needs beyond its record and legs. */
export interface CallJudgement {
  /** Worst main-thread lag of a page over [fromMs, toMs] (ms), undefined when unknown. */
  pageLagMs(pageId: string | undefined, fromMs: number, toMs: number): number | undefined;
  /** A page lagging this much (ms) was stalled: the watchdog's event-loop bound. */
  stalledLagMs: number;
}

type Failure = { reason: FailureReason; detail: string };

/**
 * The row a call leaves in calls.csv, from its record and its legs' last
 * statistics. Media figures are the worst leg's, as a user hears the worst side.
 * Timings come from the SIP messages' moments at the caller's WebSocket.
 */
export function buildCallResult(scenario: string, call: CallRecord, caller: LegRecord | undefined, callee: LegRecord | undefined, judge?: CallJudgement): CallResult {
  const legs = [caller, callee].filter((leg, i, all): leg is LegRecord => leg !== undefined && all.indexOf(leg) === i);
  const media = legs.map(legMedia);
  const worst = <K extends keyof LegMedia>(key: K, pick: (a: number, b: number) => number) =>
    media.map((m) => m[key]).reduce<number | undefined>((acc, v) => (v === undefined ? acc : acc === undefined ? (v as number) : pick(acc, v as number)), undefined);
  const established = caller?.established ?? false;
  const oneWayAudio = established && legs.some(receivedNoAudio);
  const interruption = audioInterruption(legs);
  let failure = faultOf(caller) ?? faultOf(callee) ?? gatheringFailure(legs) ?? failureOf(call, caller, oneWayAudio);
  if (failure) failure = transportCause(failure, legs);
  else if (interruption) failure = interruption.failure;
  if (failure && judge && !call.failureExpected) failure = harnessStall(failure, call, legs, judge);
  const sample = caller?.lastSample();
  // The far end's RTCP view of the caller's audio, beside what callwright's legs received.
  const farEnd = farEndView(sample?.audioOut, caller?.sentAtFarEndReport);
  const wire = caller?.wire;
  const calleeWire = callee && callee !== caller ? callee.wire : undefined;
  const hungUpBy = [caller, callee].find((leg) => leg?.wire?.byeSentAtMs !== undefined);
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
    timeTo180Seconds: seconds(wire?.inviteSentAtMs, wire?.provisionalReceivedAtMs),
    setupSeconds: setupOf(caller),
    timeToFirstAudioSeconds: seconds(wire?.finalReceivedAtMs ?? caller?.establishedAtMs, caller?.firstAudioAtMs),
    durationSeconds: seconds(caller?.establishedAtMs, caller?.endedAtMs),
    result: failure ? 'failed' : 'success',
    failureExpected: failure !== undefined && call.failureExpected,
    sipStatus: caller?.sipStatus ?? (established ? 200 : undefined),
    failureReason: failure?.reason,
    failureDetail: failure?.detail,
    inviteBytes: caller?.inviteBytes,
    // The last codec each stream named: the caller's final sample may come after its streams stopped.
    codecOut: caller?.codecs.audioOut ?? caller?.codecs.videoOut,
    codecIn: caller?.codecs.audioIn ?? caller?.codecs.videoIn,
    packetsLost: worst('packetsLost', Math.max),
    packetLossRatio: worst('lossRatio', Math.max),
    jitterSeconds: worst('jitterSeconds', Math.max),
    rttSeconds: worst('rttSeconds', Math.max),
    mos: worst('mos', Math.min),
    concealedRatio: worst('concealedRatio', Math.max),
    oneWayAudio,
    harnessPrepSeconds: seconds(call.startedAtMs, wire?.inviteSentAtMs),
    answerDelaySeconds: call.answerDelaySeconds,
    calleeAnswerSeconds: seconds(calleeWire?.inviteReceivedAtMs, calleeWire?.okSentAtMs),
    disconnectSeconds: seconds(hungUpBy?.wire?.byeSentAtMs, hungUpBy?.wire?.byeAnsweredAtMs),
    inviteSentAtMs: wire?.inviteSentAtMs,
    iceGatheringMs: caller?.gathering?.durationMs,
    iceConnectedMs: msBetween(wire?.inviteSentAtMs, caller?.reachedAtMs('ice', 'connected') ?? caller?.reachedAtMs('ice', 'completed')),
    candidatePair: caller?.selectedPair ? pairKey(caller.selectedPair) : undefined,
    audioInterruptedAtSeconds: interruption ? (interruption.atMs - call.startedAtMs) / 1000 : undefined,
    farEndLossRatio: farEnd.lossRatio,
    farEndJitterSeconds: farEnd.jitterSeconds,
    ...callVideoSummary(legs, caller?.establishedAtMs),
    videoCodecOut: caller?.codecs.videoOut,
    videoCodecIn: caller?.codecs.videoIn,
    transcoded: transcodedColumn(caller && callee && caller !== callee ? codecWays({ role: caller.role, codecs: caller.codecs }, { role: callee.role, codecs: callee.codecs }) : undefined),
    callerAgent: caller?.agentKind,
    calleeAgent: callee && callee !== caller ? callee.agentKind : undefined,
    knownFramesRatio: knownFramesRatio(legs),
    legs: legs.map((leg) => legResult(call.key, leg, judge)),
  };
}

/** The lowest share of received audio packets that were the lite fixture's frames, over the call's lite legs. */
function knownFramesRatio(legs: readonly LegRecord[]): number | undefined {
  const ratios = legs.flatMap((leg) => {
    const audioIn = leg.lastSample()?.audioIn;
    if (leg.agentKind !== 'lite' || !audioIn || audioIn.knownFrames === undefined || audioIn.packetsReceived === 0) return [];
    return [audioIn.knownFrames / audioIn.packetsReceived];
  });
  return ratios.length ? Math.min(...ratios) : undefined;
}

/**
 * First INVITE sent -> 200 OK received at the caller's WebSocket. A call from
 * outside callwright (a SIP device) has only our answering leg: its setup is
 * what that leg's WebSocket saw, INVITE received -> 200 OK sent.
 */
function setupOf(caller: LegRecord | undefined): number | undefined {
  const wire = caller?.wire;
  if (!wire) return undefined;
  if (caller.direction === 'incoming') return seconds(wire.inviteReceivedAtMs, wire.okSentAtMs);
  return wire.finalStatus !== undefined && wire.finalStatus < 300 ? seconds(wire.inviteSentAtMs, wire.finalReceivedAtMs) : undefined;
}

const msBetween = (from: number | undefined, to: number | undefined) => (from === undefined || to === undefined ? undefined : Math.max(0, to - from));

export function legResult(callId: string, leg: LegRecord, judge?: CallJudgement): LegResult {
  const origin = leg.createdAtMs ?? leg.transport[0]?.atMs ?? 0;
  const gathering = leg.gathering;
  return {
    callId,
    legId: leg.legId,
    role: leg.role,
    agentId: leg.agentId,
    direction: leg.direction,
    sipCallId: leg.sipCallId,
    iceGatheringMs: gathering?.durationMs,
    iceCandidates: gathering?.candidates,
    iceCandidateTypes: gathering?.candidateTypes.join('+') || undefined,
    iceGatheringEndedBy: gathering?.endedBy,
    iceMissingMids: gathering?.missingMids.join(' ') || undefined,
    transportTimeline: leg.transport.map((t) => `${t.layer}:${t.state}@+${((t.atMs - origin) / 1000).toFixed(3)}`).join(';'),
    iceConnectedAtMs: leg.reachedAtMs('ice', 'connected') ?? leg.reachedAtMs('ice', 'completed'),
    dtlsConnectedAtMs: leg.reachedAtMs('dtls', 'connected'),
    iceState: leg.transportState('ice'),
    dtlsState: leg.transportState('dtls'),
    connectionState: leg.transportState('connection'),
    localCandidate: leg.selectedPair ? candidateLabel(leg.selectedPair.local) : undefined,
    remoteCandidate: leg.selectedPair ? candidateLabel(leg.selectedPair.remote) : undefined,
    firstRtpSentAtMs: leg.firstAudioSentAtMs,
    firstRtpReceivedAtMs: leg.firstAudioAtMs,
    createdAtMs: leg.createdAtMs,
    endedAtMs: leg.endedAtMs,
    audioStoppedAtMs: leg.audioStoppedAtMs,
    audioSilentAtMs: leg.audioSilentAtMs,
    pageLagMaxMs: judge?.pageLagMs(leg.pageId, leg.createdAtMs ?? origin, leg.endedAtMs ?? Date.now()),
    candidatePairType: leg.selectedPair ? `${leg.selectedPair.local.type}->${leg.selectedPair.remote.type}` : undefined,
    turnAllocationMs: gathering?.relayAllocationMs,
    iceServerErrors: gathering?.iceServerErrors?.map(describeServerError).join('; ') || undefined,
    lastStats: leg.latest ? { atMs: leg.latest.atMs, ...leg.latest.sample } : undefined,
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
  const lost = Math.max(0, audioIn.packetsLost);
  const lossRatio = receivedLossRatio(audioIn) ?? 0;
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
function faultOf(leg: LegRecord | undefined): Failure | undefined {
  if (!leg) return undefined;
  if (leg.lost) return { reason: 'browser_crashed', detail: `${leg.role}: ${leg.lost}` };
  if (leg.endCause?.kind === 'transportLost') {
    return { reason: 'transport_lost', detail: `${leg.role}: SIP WebSocket lost ${leg.established ? 'during the call' : 'during setup'}` };
  }
  return undefined;
}

/**
 * An offer or answer with a media section no candidate reaches: refused in the page, before it
 * could fail at the far end. The harness's own failure, unless a TURN server explains it.
 */
function gatheringFailure(legs: readonly LegRecord[]): Failure | undefined {
  for (const leg of legs) {
    const gathering = leg.gathering;
    if (!gathering || gathering.missingMids.length === 0) continue;
    return (
      turnFailure(leg.role, gathering) ?? {
        reason: 'no_candidates',
        detail: `${leg.role}: ICE gathering found no candidate for media section ${gathering.missingMids.join(', ')} in ${gathering.durationMs.toFixed(0)} ms (${gathering.candidates} candidates, ended by ${gathering.endedBy}): the harness's machine, not the server`,
      }
    );
  }
  return undefined;
}

type Gathering = NonNullable<LegRecord['gathering']>;

/**
 * No candidate because no TURN relay came: the server refused the allocation (an error code
 * from it: 401 is the credentials), did not answer (Chromium's 701), or, relay-only, gave no
 * relay candidate and no error at all (a UDP TURN server that is down or unreachable is silent).
 */
function turnFailure(role: string, gathering: Gathering): Failure | undefined {
  const turnErrors = (gathering.iceServerErrors ?? []).filter((error) => /^turns?:/i.test(error.url));
  const sections = `media section ${gathering.missingMids.join(', ')}`;
  const consequence = gathering.relayOnly ? `relay-only, so no candidate for ${sections} and no media path` : `no candidate for ${sections}`;
  const refused = turnErrors.find((error) => error.errorCode >= 300 && error.errorCode < 700);
  if (refused) {
    const what = refused.errorCode === 401 ? 'the credentials' : 'the allocation';
    return { reason: 'turn_refused', detail: `${role}: the TURN server refused ${what} (${describeServerError(refused)}); ${consequence}` };
  }
  const silent = turnErrors.find((error) => error.errorCode === 701);
  if (silent) return { reason: 'turn_unreachable', detail: `${role}: no connection to or answer from the TURN server (${describeServerError(silent)}); ${consequence}` };
  if (gathering.relayOnly && !gathering.candidateTypes.includes('relay')) {
    return {
      reason: 'turn_unreachable',
      detail: `${role}: no relay candidate within ${gathering.durationMs.toFixed(0)} ms (ended by ${gathering.endedBy}) and no error from any TURN server: none answered (a UDP TURN server that is down or unreachable stays silent); ${consequence}`,
    };
  }
  return undefined;
}

/** `turn:127.0.0.1:3478?transport=udp 401 Unauthorized.` */
function describeServerError(error: { url: string; errorCode: number; errorText: string }): string {
  return `${error.url} ${error.errorCode}${error.errorText ? ` ${error.errorText}` : ''}`;
}

/** Media that never came is explained by the transport when it failed: ICE (no working pair) or DTLS (no keys). */
function transportCause(failure: Failure, legs: readonly LegRecord[]): Failure {
  if (!['no_media', 'one_way_audio', 'timeout', 'check_failed'].includes(failure.reason)) return failure;
  // The lite stack's own failure first: the far end's DTLS then fails too, which is no fault of the far end's.
  const raced = legs.find((leg) => leg.reachedAtMs('dtls', 'startup-race') !== undefined);
  if (raced) {
    return {
      reason: 'lite_dtls_race',
      detail: `${raced.role}: the lite leg's WebRTC stack (libdatachannel 0.24.5) closed its connection to its DTLS startup race while the answer was applied; rebuilt, but the far end's DTLS had already failed (${describeTransport(raced)}); then ${failure.reason}: ${failure.detail}`,
    };
  }
  for (const leg of legs) {
    if (leg.transportState('ice') === 'failed' || (leg.reachedAtMs('ice', 'failed') !== undefined && leg.reachedAtMs('ice', 'connected') === undefined)) {
      return { reason: 'ice_failed', detail: `${leg.role}: ICE failed (${describeTransport(leg)})${relayNote(leg)}; then ${failure.reason}: ${failure.detail}` };
    }
    const dtlsFailed = leg.reachedAtMs('dtls', 'failed') !== undefined || (leg.reachedAtMs('connection', 'failed') !== undefined && leg.reachedAtMs('ice', 'connected') !== undefined);
    if (dtlsFailed) return { reason: 'dtls_failed', detail: `${leg.role}: DTLS failed after ICE connected (${describeTransport(leg)}); then ${failure.reason}: ${failure.detail}` };
  }
  return failure;
}

/** Relay-only ICE that fails although the relay allocated: the TURN server would not relay to the far end (permissions), or its errors. */
function relayNote(leg: LegRecord): string {
  const gathering = leg.gathering;
  if (!gathering) return '';
  const errors = gathering.iceServerErrors?.map(describeServerError).join('; ');
  if (errors) return `; ICE server errors: ${errors}`;
  if (gathering.relayOnly && gathering.candidateTypes.includes('relay')) {
    return '; relay-only and the relay was allocated: the TURN server may refuse to relay to the far end (coturn: denied-peer-ip, no allow-loopback-peers for 127.x)';
  }
  return '';
}

function describeTransport(leg: LegRecord): string {
  const origin = leg.createdAtMs ?? leg.transport[0]?.atMs ?? 0;
  return leg.transport.map((t) => `${t.layer} ${t.state} +${((t.atMs - origin) / 1000).toFixed(2)} s`).join(', ') || 'no transport events';
}

/** Audio that stopped or went silent mid-call on some leg, not in the moments before its hangup. */
function audioInterruption(legs: readonly LegRecord[]): { atMs: number; failure: Failure } | undefined {
  let found: { atMs: number; failure: Failure } | undefined;
  for (const leg of legs) {
    const end = leg.endedAtMs ?? Number.POSITIVE_INFINITY;
    const stopped = leg.audioStoppedAtMs !== undefined && leg.audioStoppedAtMs < end - INTERRUPTION_BEFORE_END_MS ? leg.audioStoppedAtMs : undefined;
    const silent = leg.audioSilentAtMs !== undefined && leg.audioSilentAtMs < end - INTERRUPTION_BEFORE_END_MS ? leg.audioSilentAtMs : undefined;
    const origin = leg.establishedAtMs ?? leg.createdAtMs ?? 0;
    const candidates: { atMs: number; failure: Failure }[] = [];
    if (stopped !== undefined) candidates.push({ atMs: stopped, failure: { reason: 'media_stopped', detail: `${leg.role}: received audio stopped ${((stopped - origin) / 1000).toFixed(1)} s into the call (not on hold)` } });
    if (silent !== undefined) candidates.push({ atMs: silent, failure: { reason: 'silent_audio', detail: `${leg.role}: received audio went silent ${((silent - origin) / 1000).toFixed(1)} s into the call (${silenceCause(leg.audioSilentConcealedRatio)})` } });
    for (const candidate of candidates) if (!found || candidate.atMs < found.atMs) found = candidate;
  }
  return found;
}

/** Silent packets, or packets the receiver would not play: it conceals (plays filler) when they are late-stamped, undecodable or out of line. */
function silenceCause(concealedRatio: number | undefined): string {
  if (concealedRatio === undefined || concealedRatio < CONCEALED_NOT_PLAYED) return 'packets still arriving';
  return `packets still arriving, but the receiver concealed ${Math.round(Math.min(1, concealedRatio) * 100)}% of the samples: it played none of them (RTP timestamps out of line, as from a relay that restarts its encoder, or undecodable payload)`;
}

/** A failure while a page hosting one of the call's legs was stalled is the harness's first, whatever the symptom. */
function harnessStall(failure: Failure, call: CallRecord, legs: readonly LegRecord[], judge: CallJudgement): Failure {
  if (NOT_RE_ATTRIBUTED.includes(failure.reason)) return failure;
  for (const leg of legs) {
    const lag = judge.pageLagMs(leg.pageId, call.startedAtMs - 1000, leg.endedAtMs ?? Date.now());
    if (lag !== undefined && lag >= judge.stalledLagMs) {
      return {
        reason: 'harness_saturated',
        detail: `${failure.reason} while page ${leg.pageId} (${leg.role}) was stalled (main thread ${(lag / 1000).toFixed(2)} s late): the harness, not the server, is the first suspect; ${failure.detail}`,
      };
    }
  }
  return failure;
}

function failureOf(call: CallRecord, caller: LegRecord | undefined, oneWayAudio: boolean): Failure | undefined {
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
