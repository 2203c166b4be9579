import type { SessionDescriptionHandlerFactory } from 'sip.js';
import type { MediaSample, TransportLayer } from '../protocol/events.js';
import type { GatheringOutcome } from './gatheringHandler.js';

/** What a leg's media tells the leg as it happens; the leg turns it into events. */
export interface LegMediaHooks {
  firstMedia(kind: 'audio' | 'video'): void;
  transport(layer: TransportLayer, state: string): void;
  gathered(outcome: GatheringOutcome): void;
  /** An RFC 4733 event arrived (agents that can see them: the lite agent). */
  dtmfReceived(tone: string): void;
}

/** Outbound counters over an RFC 4733 burst. */
export interface DtmfWindow {
  packetsSent: number;
  payloadBytesSent: number;
  seconds: number;
}

/**
 * The media side of one leg, whatever carries it: Chromium's RTCPeerConnection
 * (browserLegMedia.ts) or the lite agent's own RTP (src/lite). SIP.js drives
 * the session; this is what a scenario step needs beyond SIP.
 */
export interface LegMedia {
  /** The session's description handler exists: start watching it. */
  attach(sessionDescriptionHandler: unknown, hooks: LegMediaHooks): void;
  /** RFC 4733 tones on the audio sender; onTone at each tone's start. */
  sendRfc4733(tones: string, durationMs: number, gapMs: number, onTone: (tone: string) => void): Promise<DtmfWindow>;
  /** A hold or unhold re-INVITE was answered: held legs neither send nor play. */
  setHeld(held: boolean): void;
  fault(fault: 'stop' | 'silence' | 'restore', kind: 'audio' | 'video'): Promise<void>;
  /** Cumulative counters now; undefined when there is nothing to sample (not connected, closed). */
  sample(): Promise<MediaSample | undefined>;
  /** The leg ended: release what the media holds beyond the session (a player element). */
  close(): void;
}

/** How an agent's legs get their media: the description handlers SIP.js builds, and each leg's media. */
export interface MediaBackend {
  sessionDescriptionHandlerFactory: SessionDescriptionHandlerFactory;
  legMedia(legId: string): LegMedia;
}
