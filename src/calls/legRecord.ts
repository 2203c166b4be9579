import type { AgentEvent, CandidatePair, LegDirection, LegEndCause, MediaSample, OutboundRtp, TransportLayer } from '../protocol/events.js';
import type { SipWireTimes } from './sipWireTimes.js';
import { sendsNo } from '../sdp/mediaDirection.js';
import { ReceivedVideo, receivedCounters, sentCounters, videoRates, type VideoRates } from './videoQuality.js';
import type { StreamCodecs } from '../sdp/transcoding.js';

type StatsEvent = Extract<AgentEvent, { type: 'stats' }>;
type GatheringEvent = Extract<AgentEvent, { type: 'iceGathered' }>;

/** Below this many packets per second a direction counts as stopped. */
export const MIN_PACKET_RATE = 5;
/** Received audio energy per second below this is silence (about -50 dBFS). */
export const SILENCE_ENERGY_RATE = 1e-5;
/** A first sample this long after the call came up gives rates against the zero it started from. */
const FIRST_RATES_AFTER_MS = 500;
/** Stopped or silent audio is judged over stats intervals at least this long. */
const MIN_INTERRUPTION_INTERVAL_MS = 500;

/** Rates over the last sampling interval, from two cumulative samples. */
export interface MediaRates {
  atMs: number;
  inAudioPacketRate: number;
  outAudioPacketRate: number;
  inVideoFrameRate: number;
  outVideoPacketRate: number;
  /** Received audio energy per second; undefined when the browser does not report it. */
  inAudioEnergyRate?: number;
  concealedRatio?: number;
  /** Received / sent video over the interval; undefined when the later sample has no such stream. */
  videoIn?: VideoRates;
  videoOut?: VideoRates;
}

/**
 * Everything Node knows about one leg, built only from page events. Checks
 * and the call result read it; nothing here talks to the page.
 */
export class LegRecord {
  callKey: string | undefined;
  sipCallId: string | undefined;
  from = '';
  to = '';
  createdAtMs: number | undefined;
  inviteSentAtMs: number | undefined;
  inviteBytes: number | undefined;
  firstProgressAtMs: number | undefined;
  progressStatuses: number[] = [];
  establishedAtMs: number | undefined;
  endedAtMs: number | undefined;
  endCause: LegEndCause | undefined;
  firstAudioAtMs: number | undefined;
  firstVideoAtMs: number | undefined;
  held = false;
  referredByLegId: string | undefined;
  commandError: string | undefined;
  lost: string | undefined;
  readonly dtmfReceived: string[] = [];
  readonly dtmfSent: { tone: string; ok: boolean; mode: 'rfc4733' | 'info'; status?: number }[] = [];
  readonly dtmfWindows: Extract<AgentEvent, { type: 'dtmfWindow' }>[] = [];
  readonly sdp: Extract<AgentEvent, { type: 'sdp' }>[] = [];
  holdResults: Extract<AgentEvent, { type: 'holdChanged' }>[] = [];
  transferResult: Extract<AgentEvent, { type: 'transferResult' }> | undefined;
  latest: StatsEvent | undefined;
  previous: StatsEvent | undefined;
  /** The last codec getStats named for each stream (a late sample may no longer name it). */
  readonly codecs: StreamCodecs = {};
  /**
   * Audio packets this leg had sent when the far end's last RTCP report was made: a report shows
   * up as a change in what the far end reports (loss, jitter, RTT) between two samples, so it was
   * made between them: the midpoint of their packetsSent. The far end's loss is a ratio of that.
   */
  sentAtFarEndReport: number | undefined;
  rates: MediaRates | undefined;
  /** SIP moments at this agent's WebSocket (shared with RunState's table, filled as messages arrive). */
  wire: SipWireTimes | undefined;
  /** ICE gathering of this leg's offer or answer (the last one, for a re-INVITE). */
  gathering: GatheringEvent | undefined;
  /** Transport state changes in order (ICE, DTLS, connection). */
  readonly transport: { layer: TransportLayer; state: string; atMs: number }[] = [];
  firstAudioSentAtMs: number | undefined;
  selectedPair: CandidatePair | undefined;
  /** The page hosting the leg, for its health (main-thread lag). */
  pageId: string | undefined;
  /** Who carries the leg: a browser page or a lite agent process. */
  agentKind: 'browser' | 'lite' | undefined;
  /** Received audio had flowed: from then on, packets stopping or silence is an interruption. */
  audioFlowed = false;
  audioStoppedAtMs: number | undefined;
  audioSilentAtMs: number | undefined;
  /** Concealed share of the samples in the interval audio went silent: near 1, packets came but none was played. */
  audioSilentConcealedRatio: number | undefined;
  /** The far end's leg is on hold (callwright far ends): its silence is expected. */
  farEndHeld = false;
  /** Last hold or unhold at either end: media takes a moment to stop or resume around it. */
  lastHoldChangeAtMs: number | undefined;
  /** Received video over the call: freezes with their time, means for calls.csv. */
  readonly receivedVideo = new ReceivedVideo();

  constructor(
    readonly legId: string,
    readonly agentId: string,
    readonly role: string,
    readonly direction: LegDirection,
  ) {}

  get ended(): boolean {
    return this.endedAtMs !== undefined;
  }

  get established(): boolean {
    return this.establishedAtMs !== undefined;
  }

  get sipStatus(): number | undefined {
    return this.endCause?.kind === 'sipStatus' ? this.endCause.status : undefined;
  }

  addStats(event: StatsEvent): void {
    this.previous = this.latest;
    this.latest = event;
    this.receivedVideo.observe(this.previous, event);
    rememberCodecs(this.codecs, event.sample);
    const before = this.previous?.sample.audioOut;
    const now = event.sample.audioOut;
    if (now && now.remotePacketsLost !== undefined) {
      if (!before) this.sentAtFarEndReport ??= now.packetsSent;
      else if (farEndReportChanged(before, now)) this.sentAtFarEndReport = (before.packetsSent + now.packetsSent) / 2;
    }
    if (event.sample.selectedPair) this.selectedPair = event.sample.selectedPair;
    // The first sample that shows audio sent: an upper bound on the first RTP, within one stats interval.
    if ((event.sample.audioOut?.packetsSent ?? 0) > 0) this.firstAudioSentAtMs ??= event.atMs;
    // Counters start at zero when the call comes up: the first sample, if it is not too early, already gives rates.
    const baseline = this.previous ?? (this.establishedAtMs !== undefined && event.atMs - this.establishedAtMs >= FIRST_RATES_AFTER_MS ? { ...event, atMs: this.establishedAtMs, sample: {} } : undefined);
    if (baseline) {
      this.rates = ratesBetween(baseline, event);
      this.watchAudio(baseline.atMs, this.rates);
    }
  }

  /** Last state of a transport layer. */
  transportState(layer: TransportLayer): string | undefined {
    return this.transport.findLast((entry) => entry.layer === layer)?.state;
  }

  /** When a layer first reached a state. */
  reachedAtMs(layer: TransportLayer, state: string): number | undefined {
    return this.transport.find((entry) => entry.layer === layer && entry.state === state)?.atMs;
  }

  /**
   * Received audio that stops or goes silent after having flowed, outside a hold
   * at either end: the moment is the start of the first interval it was seen in.
   * Silence needs the audio decoded (energy); packets are counted on every leg.
   */
  private watchAudio(intervalStartMs: number, rates: MediaRates): void {
    // Over a short stretch a few packets early or late look like a stop: judge whole intervals only.
    if (rates.atMs - intervalStartMs < MIN_INTERRUPTION_INTERVAL_MS) return;
    const flowing = rates.inAudioPacketRate >= MIN_PACKET_RATE;
    const silent = flowing && rates.inAudioEnergyRate !== undefined && rates.inAudioEnergyRate <= SILENCE_ENERGY_RATE;
    if (!this.audioFlowed) {
      this.audioFlowed = flowing && !silent;
      return;
    }
    if (this.held || this.farEndHeld || this.ended) return;
    if (this.lastHoldChangeAtMs !== undefined && this.lastHoldChangeAtMs > intervalStartMs - 500) return;
    if (!flowing) this.audioStoppedAtMs ??= intervalStartMs;
    else if (silent && this.audioSilentAtMs === undefined) {
      this.audioSilentAtMs = intervalStartMs;
      this.audioSilentConcealedRatio = rates.concealedRatio;
    }
  }

  /**
   * The far end's offer or answer said it sends no audio (a=recvonly or inactive: a
   * listen-only leg): receiving none is what was negotiated, not one-way audio.
   */
  get farEndSendsNoAudio(): boolean {
    const received = this.sdp.findLast((event) => !event.sent);
    return received !== undefined && sendsNo(received.sdp, 'audio');
  }

  lastSample(): MediaSample | undefined {
    return this.latest?.sample;
  }
}

/**
 * Keeps the codecs a sample names; a sample without one (a stream not started yet, or already
 * stopped at the end of the call) leaves the last one seen.
 */
function rememberCodecs(codecs: StreamCodecs, sample: MediaSample): void {
  codecs.audioOut = sample.audioOut?.codec ?? codecs.audioOut;
  codecs.audioIn = sample.audioIn?.codec ?? codecs.audioIn;
  codecs.videoOut = sample.videoOut?.codec ?? codecs.videoOut;
  codecs.videoIn = sample.videoIn?.codec ?? codecs.videoIn;
}

function ratesBetween(a: StatsEvent, b: StatsEvent): MediaRates {
  const seconds = Math.max(0.001, (b.atMs - a.atMs) / 1000);
  const rate = (x: number | undefined, y: number | undefined) => Math.max(0, ((y ?? 0) - (x ?? 0)) / seconds);
  const pa = a.sample;
  const pb = b.sample;
  const energyKnown = pb.audioIn?.totalAudioEnergy !== undefined;
  const samplesDelta = (pb.audioIn?.totalSamplesReceived ?? 0) - (pa.audioIn?.totalSamplesReceived ?? 0);
  const concealedDelta = (pb.audioIn?.concealedSamples ?? 0) - (pa.audioIn?.concealedSamples ?? 0);
  return {
    atMs: b.atMs,
    inAudioPacketRate: rate(pa.audioIn?.packetsReceived, pb.audioIn?.packetsReceived),
    outAudioPacketRate: rate(pa.audioOut?.packetsSent, pb.audioOut?.packetsSent),
    inVideoFrameRate: rate(pa.videoIn?.framesDecoded, pb.videoIn?.framesDecoded),
    outVideoPacketRate: rate(pa.videoOut?.packetsSent, pb.videoOut?.packetsSent),
    inAudioEnergyRate: energyKnown ? rate(pa.audioIn?.totalAudioEnergy, pb.audioIn?.totalAudioEnergy) : undefined,
    concealedRatio: samplesDelta > 0 ? Math.max(0, concealedDelta) / samplesDelta : undefined,
    videoIn: pb.videoIn ? videoRates(pa.videoIn && receivedCounters(pa.videoIn), receivedCounters(pb.videoIn), seconds) : undefined,
    videoOut: pb.videoOut ? videoRates(pa.videoOut && sentCounters(pa.videoOut), sentCounters(pb.videoOut), seconds) : undefined,
  };
}

/** A new RTCP report from the far end between two samples: any of its figures moved. */
function farEndReportChanged(a: OutboundRtp, b: OutboundRtp): boolean {
  return a.remotePacketsLost !== b.remotePacketsLost || a.remoteJitterSeconds !== b.remoteJitterSeconds || a.roundTripTimeSeconds !== b.roundTripTimeSeconds || a.remoteFractionLost !== b.remoteFractionLost;
}
