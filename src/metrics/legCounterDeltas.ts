import type { LegSample } from '../results.js';

/** The cumulative counters a LegSample carries, which Prometheus counters take as increments. */
export interface LegCounters {
  packetsReceived: number;
  packetsSent: number;
  bytesReceived: number;
  bytesSent: number;
  packetsLost: number;
  /** Freezes of received video and their seconds (0 for a leg without video). */
  videoFreezes: number;
  videoFreezeSeconds: number;
}

const ZERO: LegCounters = { packetsReceived: 0, packetsSent: 0, bytesReceived: 0, bytesSent: 0, packetsLost: 0, videoFreezes: 0, videoFreezeSeconds: 0 };

/**
 * Turns each leg's cumulative counters into increments since its previous
 * sample. The last value is kept per leg while its call is running and
 * dropped when the call ends, so memory follows the calls in progress, not
 * the run's length. Legs are keyed by leg id, not call id: a leg may be
 * sampled before the runner knows its call. A bounded number of recently
 * ended legs keep their values, so a sample delivered just after its call
 * ended (page batches arrive late) adds its increment instead of the leg's
 * whole total a second time.
 */
export class LegCounterDeltas {
  private readonly running = new Map<string, { callId: string; counters: LegCounters }>();
  private readonly legIdsByCall = new Map<string, Set<string>>();
  private readonly recentlyEnded = new Map<string, LegCounters>();

  constructor(private readonly recentlyEndedLegLimit = 2000) {}

  /** What this sample adds to each counter since the leg's previous sample; never negative. */
  take(sample: LegSample): LegCounters {
    const ended = this.recentlyEnded.get(sample.legId);
    const previous = ended ?? this.running.get(sample.legId)?.counters ?? ZERO;
    const current: LegCounters = {
      packetsReceived: validCount(sample.packetsReceived, previous.packetsReceived),
      packetsSent: validCount(sample.packetsSent, previous.packetsSent),
      bytesReceived: validCount(sample.bytesReceived, previous.bytesReceived),
      bytesSent: validCount(sample.bytesSent, previous.bytesSent),
      // Lost counts from RTCP may dip (late duplicates): keep the highest, count only new highs.
      packetsLost: Math.max(previous.packetsLost, validCount(sample.packetsLost, previous.packetsLost)),
      videoFreezes: validCount(sample.videoFreezes ?? previous.videoFreezes, previous.videoFreezes),
      videoFreezeSeconds: validCount(sample.videoFreezeSeconds ?? previous.videoFreezeSeconds, previous.videoFreezeSeconds),
    };
    if (ended) this.recentlyEnded.set(sample.legId, current);
    else this.track(sample.legId, sample.callId, current);
    return {
      packetsReceived: increment(previous.packetsReceived, current.packetsReceived),
      packetsSent: increment(previous.packetsSent, current.packetsSent),
      bytesReceived: increment(previous.bytesReceived, current.bytesReceived),
      bytesSent: increment(previous.bytesSent, current.bytesSent),
      packetsLost: current.packetsLost - previous.packetsLost,
      videoFreezes: increment(previous.videoFreezes, current.videoFreezes),
      videoFreezeSeconds: increment(previous.videoFreezeSeconds, current.videoFreezeSeconds),
    };
  }

  endCall(callId: string): void {
    for (const legId of this.legIdsByCall.get(callId) ?? []) {
      this.recentlyEnded.set(legId, this.running.get(legId)!.counters);
      this.running.delete(legId);
    }
    this.legIdsByCall.delete(callId);
    // Maps iterate in insertion order: the first keys are the legs that ended longest ago.
    for (const legId of this.recentlyEnded.keys()) {
      if (this.recentlyEnded.size <= this.recentlyEndedLegLimit) break;
      this.recentlyEnded.delete(legId);
    }
  }

  /** Legs being tracked for running calls (for tests and leak checks). */
  get runningLegCount(): number {
    return this.running.size;
  }

  private track(legId: string, callId: string, counters: LegCounters): void {
    const known = this.running.get(legId);
    if (known && known.callId !== callId) this.legIdsByCall.get(known.callId)?.delete(legId);
    this.running.set(legId, { callId, counters });
    let legIds = this.legIdsByCall.get(callId);
    if (!legIds) {
      legIds = new Set();
      this.legIdsByCall.set(callId, legIds);
    }
    legIds.add(legId);
  }
}

/**
 * A packet or byte counter that went down means the stream behind it was
 * replaced (renegotiation, new SSRC) and counts from zero again: the same
 * reset rule Prometheus applies to its own counters.
 */
function increment(previous: number, current: number): number {
  return current >= previous ? current - previous : current;
}

/** A missing or broken reading (NaN, negative) changes nothing. */
function validCount(value: number, previous: number): number {
  return Number.isFinite(value) && value >= 0 ? value : previous;
}
