import type { AgentEvent, LegDirection, LegEndCause, MediaSample } from '../protocol/events.js';

type StatsEvent = Extract<AgentEvent, { type: 'stats' }>;

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
  rates: MediaRates | undefined;

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
    if (this.previous) this.rates = ratesBetween(this.previous, event);
  }

  lastSample(): MediaSample | undefined {
    return this.latest?.sample;
  }
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
  };
}
