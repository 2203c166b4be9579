/**
 * Events a page pushes to Node, batched per flush interval through one exposed
 * function. Timestamps are epoch milliseconds taken in the page (same machine
 * clock as Node), so batching delays delivery but never skews measurements.
 */

/** Cumulative counters of one leg, as getStats reports them at `atMs`. */
export interface MediaSample {
  audioIn?: InboundAudio;
  audioOut?: OutboundRtp;
  videoIn?: InboundVideo;
  videoOut?: OutboundVideo;
  /** From the selected candidate pair (STUN round trips), when available. */
  candidateRttSeconds?: number;
  /** The selected candidate pair; only in the first sample that sees it and when it changes (samples stay small). */
  selectedPair?: CandidatePair;
}

/** One side of the ICE candidate pair a leg's media uses. */
export interface CandidateInfo {
  /** host, srflx, prflx or relay. */
  type: string;
  /** udp or tcp. */
  protocol: string;
  address: string;
  port: number;
  /** For relay candidates: how the client reaches the TURN server (udp, tcp, tls). */
  relayProtocol?: string;
}

export interface CandidatePair {
  local: CandidateInfo;
  remote: CandidateInfo;
}

/** `host/udp 127.0.0.1:50000`: how reports name a candidate. Chromium hides the address of a peer-reflexive remote one. */
export function candidateLabel(c: CandidateInfo): string {
  return `${c.type}/${c.protocol}${c.relayProtocol ? `(${c.relayProtocol})` : ''} ${c.address || '(hidden)'}:${c.port}`;
}

/** `host/udp 127.0.0.1:50000 -> host/udp 127.0.0.1:50002`: how reports name a candidate pair (both sides use it). */
export function pairKey(pair: CandidatePair): string {
  return `${candidateLabel(pair.local)} -> ${candidateLabel(pair.remote)}`;
}

/** Which transport layer a leg's timeline entry is about. */
export type TransportLayer = 'ice' | 'dtls' | 'connection';

export interface InboundRtp {
  codec?: string;
  packetsReceived: number;
  bytesReceived: number;
  packetsLost: number;
  jitterSeconds: number;
}

export interface InboundAudio extends InboundRtp {
  /** 0..1, latest level of the received audio (needs playout). */
  audioLevel?: number;
  totalAudioEnergy?: number;
  totalSamplesReceived?: number;
  concealedSamples?: number;
  /** Received packets whose payload is one of the fixture frames: our own audio echoed back, or another lite agent's (lite agents only). */
  knownFrames?: number;
}

/** Received video (inbound-rtp, kind video); optional fields are absent when the browser does not report them. */
export interface InboundVideo extends InboundRtp {
  framesDecoded: number;
  frameWidth?: number;
  frameHeight?: number;
  /** The browser's own figure: frames decoded over the last second. */
  framesPerSecond?: number;
  /** Freezes (a frame rendered at least max(3 x, + 150 ms) the mean frame duration late) and their total length. */
  freezeCount?: number;
  totalFreezesSeconds?: number;
  keyFramesDecoded?: number;
  /** Feedback this receiver SENT: keyframe requests (PLI, FIR) and retransmission requests (NACK). */
  pliCount?: number;
  firCount?: number;
  nackCount?: number;
}

/** Sent video (outbound-rtp, kind video). */
export interface OutboundVideo extends OutboundRtp {
  framesEncoded: number;
  frameWidth?: number;
  frameHeight?: number;
  framesPerSecond?: number;
  keyFramesEncoded?: number;
  /** Feedback this sender RECEIVED from the far end: PLI, FIR, NACK. */
  pliCount?: number;
  firCount?: number;
  nackCount?: number;
  /** Why the encoder sends less than asked: none, cpu, bandwidth or other. */
  qualityLimitationReason?: string;
}

export interface OutboundRtp {
  codec?: string;
  packetsSent: number;
  bytesSent: number;
  /** From the far end's RTCP receiver reports (remote-inbound-rtp). */
  roundTripTimeSeconds?: number;
  remotePacketsLost?: number;
  remoteFractionLost?: number;
  remoteJitterSeconds?: number;
}

export type LegDirection = 'outgoing' | 'incoming';

/** Why a leg ended, as the page saw it. */
export type LegEndCause =
  | { kind: 'hangup'; by: 'local' | 'remote' }
  | { kind: 'sipStatus'; status: number; reasonPhrase?: string }
  | { kind: 'canceled' }
  | { kind: 'transportLost' }
  | { kind: 'error'; message: string };

export type AgentEvent =
  | { type: 'registered'; agentId: string; atMs: number }
  | { type: 'registrationFailed'; agentId: string; atMs: number; status?: number; reason: string }
  | { type: 'unregistered'; agentId: string; atMs: number }
  /**
   * The agent's SIP WebSocket. 'disconnected' with an error is a drop (the
   * agent then reconnects: 'reconnecting' before each attempt, with the attempt
   * number and the backoff delay); without one it was closed on purpose.
   * 'connected' after a drop tells how many attempts and how long it took.
   */
  | {
      type: 'transport';
      agentId: string;
      atMs: number;
      state: 'connected' | 'disconnected' | 'reconnecting';
      error?: string;
      attempt?: number;
      delayMs?: number;
      downMs?: number;
    }
  | {
      type: 'legCreated';
      agentId: string;
      legId: string;
      direction: LegDirection;
      atMs: number;
      from: string;
      to: string;
      /** SIP Call-ID: for joining both legs of a call, never a metric label. */
      sipCallId: string;
      /** For transfers: the leg whose REFER made this one. */
      referredByLegId?: string;
    }
  | { type: 'inviteSent'; legId: string; atMs: number; bytes: number }
  /**
   * One SIP message of a call (not REGISTER, OPTIONS or MESSAGE) as this agent's
   * WebSocket sent or received it. atMs is taken where the message meets the
   * WebSocket (just before send, on arrival), so SIP timings are wire timings.
   * Authorization and Proxy-Authorization are redacted in the page: no credential
   * ever leaves it.
   */
  | { type: 'sip'; agentId: string; atMs: number; sent: boolean; sipCallId: string; raw: string }
  /**
   * ICE gathering for a leg's offer or answer ended: all candidates gathered, every
   * media section had a usable one, or the upper bound ran out. missingMids lists the
   * media sections that still had none (the description then went out unusable).
   */
  | {
      type: 'iceGathered';
      legId: string;
      atMs: number;
      durationMs: number;
      candidates: number;
      candidateTypes: string[];
      endedBy: 'complete' | 'usable' | 'timeout' | 'fixed';
      missingMids: string[];
      /** setLocalDescription -> first relay candidate: how long the TURN allocation took (its 401 challenge included). */
      relayAllocationMs?: number;
      /**
       * STUN/TURN servers that failed (Chromium's icecandidateerror), one per server and code:
       * 401 refused the credentials, 403/437/441/486/508 refused the allocation, 701 no connection or answer.
       * The URL carries no credential.
       */
      iceServerErrors?: { url: string; errorCode: number; errorText: string }[];
      /** The leg takes relay candidates only (target.iceTransportPolicy relay). */
      relayOnly?: true;
    }
  /** A transport state change of a leg's peer connection: ICE, DTLS, the connection as a whole. */
  | { type: 'legTransport'; legId: string; atMs: number; layer: TransportLayer; state: string }
  /**
   * The page's own health over the last interval: how late its timers ran (main-thread
   * lag). A stalled page answers commands late and samples media late: calls failing
   * then are the harness's.
   */
  | { type: 'pageHealth'; atMs: number; intervalMs: number; lagMaxMs: number }
  | { type: 'progress'; legId: string; atMs: number; status: number }
  | { type: 'established'; legId: string; atMs: number }
  /** First RTP of a kind arrived on this leg (the remote track unmuted). */
  | { type: 'firstMedia'; legId: string; atMs: number; kind: 'audio' | 'video' }
  | { type: 'sdp'; legId: string; atMs: number; sent: boolean; offer: boolean; bytes: number; sdp: string }
  | { type: 'stats'; legId: string; atMs: number; sample: MediaSample }
  | { type: 'holdChanged'; legId: string; atMs: number; held: boolean; ok: boolean; error?: string }
  | { type: 'dtmfSent'; legId: string; atMs: number; tone: string; mode: 'rfc4733' | 'info'; ok: boolean; status?: number }
  /** Outbound audio counters over an RFC 4733 DTMF burst (bytesSent counts payload bytes only). */
  | { type: 'dtmfWindow'; legId: string; atMs: number; packetsSent: number; payloadBytesSent: number; seconds: number }
  /** A DTMF tone arrived: as SIP INFO (any agent), or as RFC 4733 events (lite agents, which read their RTP; a browser cannot). */
  | { type: 'dtmfReceived'; legId: string; atMs: number; tone: string; via: 'info' | 'rfc4733' }
  | { type: 'transferResult'; legId: string; atMs: number; ok: boolean; status?: number; error?: string }
  | { type: 'messageReceived'; agentId: string; atMs: number; from: string; body: string }
  | { type: 'messageResult'; agentId: string; requestId: string; atMs: number; ok: boolean; status?: number }
  | { type: 'ended'; legId: string; atMs: number; cause: LegEndCause; wasEstablished: boolean }
  | { type: 'commandFailed'; atMs: number; command: string; id?: string; error: string }
  | { type: 'log'; atMs: number; level: 'error' | 'warn' | 'info' | 'debug'; message: string };

export type AgentEventType = AgentEvent['type'];

/** The names both sides agree on for the page globals. */
export const PAGE_GLOBAL = 'callwrightAgent';
export const EMIT_FUNCTION = 'callwrightEmit';
