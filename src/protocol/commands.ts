/**
 * Commands Node sends into a page, one dispatch function per page
 * (`window.callwrightAgent.dispatch(command)`). Shared by both sides, so this
 * module imports nothing.
 */

export interface PageConfig {
  pageId: string;
  /** How often each leg's getStats is sampled. */
  statsIntervalMs: number;
  /** How often batched events are pushed to Node. */
  flushIntervalMs: number;
  /**
   * 'usable': an offer or answer leaves once every media section has a usable
   * candidate (or gathering completes), at the latest after iceGatheringTimeoutMs;
   * 'complete': it waits for gathering to complete, cut at iceGatheringTimeoutMs.
   * Either way one with a section lacking any candidate is refused (no_candidates).
   */
  iceGatheringMode: 'usable' | 'complete';
  iceGatheringTimeoutMs: number;
  /** STUN and TURN servers (RTCIceServer), TURN credentials already made (scenario target.iceServers); empty: host candidates only. */
  iceServers: { urls: string | string[]; username?: string; credential?: string }[];
  /** 'relay': TURN relay candidates only (target.iceTransportPolicy); undefined: 'all'. */
  iceTransportPolicy?: 'all' | 'relay';
  /** Play received audio so it is decoded: concealment and audio level need it. */
  playReceivedAudio: boolean;
  /** Fraction of legs (0..1, chosen per leg) whose received audio is played when playReceivedAudio is on; undefined: all. */
  receivedAudioSample?: number;
  /** Audio packet time in ms (60 lowers CPU): a=ptime on the audio section of local and remote descriptions; undefined keeps the browser default (20). */
  opusPtimeMs?: number;
  logLevel: 'error' | 'warn' | 'info' | 'debug';
}

export interface CreateAgentCommand {
  type: 'createAgent';
  agentId: string;
  /** SIP user part of the address of record. */
  user: string;
  domain: string;
  authUser?: string;
  password?: string;
  displayName?: string;
  wsUrl: string;
  registerExpiresSeconds: number;
  /** Transfers (REFER) received by this agent are followed with a new call. */
  acceptTransfers: boolean;
  /** Answer every incoming call this long after it arrives (audio only), in the page, with no command from Node. */
  autoAnswerAfterMs?: number;
  /** Those automatic answers are receive-only (a=recvonly, no microphone, no RTP sent). */
  autoAnswerReceiveOnly?: boolean;
}

export interface CallCommand {
  type: 'call';
  agentId: string;
  legId: string;
  /** Full SIP URI of the callee. */
  target: string;
  audio: boolean;
  video: boolean;
  /** Offer a=recvonly for each medium: no getUserMedia, no sender track, no RTP sent; the far end's media is still received. */
  receiveOnly?: boolean;
  /** Allow-list of codec names for the offer; empty or undefined keeps all. */
  codecs?: string[];
  /** Extra SDP lines for the offer (e.g. b=AS:3000), inserted at session level. */
  extraSdp?: string[];
  /** Extra SDP lines for the offer's audio or video sections (a browser reads b=AS there only). */
  extraMediaSdp?: { audio?: string[]; video?: string[] };
  /** Extra SIP headers for the INVITE, `Name: value`. */
  headers?: string[];
}

export interface AnswerCommand {
  type: 'answer';
  legId: string;
  audio: boolean;
  video: boolean;
  /** Answer a=recvonly for each medium: no getUserMedia, no sender track, no RTP sent. */
  receiveOnly?: boolean;
  codecs?: string[];
  /** Extra SDP lines for the 200 OK. */
  extraSdp?: string[];
  extraMediaSdp?: { audio?: string[]; video?: string[] };
}

export type AgentCommand =
  | CreateAgentCommand
  /** Open the agent's SIP WebSocket without registering: proves the browser reaches the server. */
  | { type: 'connect'; agentId: string }
  | { type: 'register'; agentId: string }
  | { type: 'unregister'; agentId: string }
  | CallCommand
  | AnswerCommand
  | { type: 'reject'; legId: string; status: number }
  | { type: 'dtmf'; legId: string; tones: string; mode: 'rfc4733' | 'info'; durationMs: number; gapMs: number }
  | { type: 'hold'; legId: string }
  | { type: 'unhold'; legId: string }
  | { type: 'transfer'; legId: string; target: string }
  /** Fault injection on the leg's audio (default) or video sender: stop sending, send silence (black frames), or restore. */
  | { type: 'mediaFault'; legId: string; fault: 'stop' | 'silence' | 'restore'; mediaKind?: 'audio' | 'video' }
  | { type: 'message'; agentId: string; requestId: string; target: string; body: string; contentType: string }
  | { type: 'hangup'; legId: string }
  | { type: 'destroyAgent'; agentId: string }
  /** Hang up every leg and unregister every agent: graceful stop. */
  | { type: 'shutdown' };

export type AgentCommandType = AgentCommand['type'];

/** What dispatch returns at once; outcomes that take time come back as events. */
export type DispatchResult = { ok: true } | { ok: false; error: string };
