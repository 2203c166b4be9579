/**
 * The media side of one lite-agent call leg: a node-datachannel (libdatachannel)
 * PeerConnection for ICE, DTLS-SRTP and rtcp-mux; SDP in Chromium's shape
 * (chromeSdp.ts); pre-encoded 20 ms frames sent as RTP from one shared timer;
 * receive statistics, RTCP SR/RR and RFC 4733 of our own (rtp.ts), since
 * libdatachannel has none of these for raw RTP.
 *
 * libdatachannel notes that shape this code:
 * - its own SDP is never sent: it is told our ICE credentials, and we read
 *   its fingerprint, setup role and candidate port off its description;
 * - it always thinks the audio is sendrecv (hold and direction are ours to
 *   enforce), and is never renegotiated: re-offers in either direction are
 *   answered from the stored description (libjuice has no ICE restart);
 * - close() closes the track, then the connection, and every native callback
 *   that keeps Node's loop alive is one we registered (onStateChange and
 *   track.onClosed release theirs when they fire). cleanup() is never called:
 *   at exit after closed connections it crashed the process (bench/lite-stack).
 */
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import nodeDataChannel from 'node-datachannel';
import type { PeerConnection, RtcConfig, Track } from 'node-datachannel';
import type { CandidateInfo, CandidatePair, MediaSample } from '../protocol/events.js';
import { restrictCodecs } from '../sdp/sdp.js';
import type { AudioFrames, KnownFrames, LiteCodec } from './audioFrames.js';
import {
  answerDirection,
  chromeAnswer,
  chromeOffer,
  isPrimaryAudio,
  libdatachannelLocal,
  libdatachannelRemote,
  maySend,
  mayReceive,
  parseSdp,
  rewriteLocal,
  type LocalIdentity,
  type LocalTransport,
  type ParsedAudio,
  type SdpCodec,
  type SdpDirection,
} from './chromeSdp.js';
import {
  buildBye,
  buildReceiverReport,
  buildRtp,
  buildSdesCname,
  buildSenderReport,
  buildTelephoneEvent,
  dtmfEventCode,
  dtmfTone,
  isRtcp,
  ntpFromUnixMs,
  ntpMiddle32,
  parseRtcp,
  parseRtp,
  parseTelephoneEvent,
  ReceiveStatistics,
  redPrimary,
  roundTripSeconds,
  type ReportBlock,
} from './rtp.js';

export type Direction = SdpDirection;

export interface LiteMediaOptions {
  /** What we can send: one set of 20 ms frames per codec. */
  frames: Map<LiteCodec, AudioFrames>;
  /** To recognise our own frames coming back (echo), or another lite agent's. */
  known: KnownFrames;
  /** Default '127.0.0.1': host candidates on this address only. */
  bindAddress?: string;
  portRange?: { begin: number; end: number };
  /** Mean RTCP report interval (RFC 3550: each one 0.5-1.5 times it; the first after a fifth of it). Default 5000 ms, as Chrome's audio. */
  rtcpIntervalMs?: number;
  /** Transport changes: 'ice' in RTCPeerConnection iceConnectionState names, 'dtls' (connecting/connected/failed/closed), 'connection' (connecting/connected/disconnected/failed/closed). Not called after close(). */
  onTransport?(layer: 'ice' | 'dtls' | 'connection', state: string): void;
  /** The first RTP packet of audio (not telephone-event) arrived. */
  onFirstMedia?(): void;
  /** An RFC 4733 event arrived: once per event (its first packet; events are told apart by RTP timestamp). */
  onDtmf?(tone: string): void;
  /**
   * The process's DTLS certificate (certificate.ts): every connection presents it, so one rebuilt
   * under a description already sent keeps its fingerprint. Without it libdatachannel makes one per connection.
   */
  certificate?: { certificatePemFile: string; keyPemFile: string };
}

export interface DtmfBurst {
  packetsSent: number;
  payloadBytesSent: number;
  seconds: number;
}

// ---------------------------------------------------------------------------
// One 20 ms timer for every sending session of the process

const TICK_MS = 20;
/** Ticks run back to back after a stall before the rest are skipped (their frames never sent, their timestamps still advance). */
const MAX_CATCH_UP_TICKS = 5;

interface Ticker {
  tick(atMs: number): void;
  skip(ticks: number): void;
}

class SendScheduler {
  private readonly tickers = new Set<Ticker>();
  private timer: NodeJS.Timeout | undefined;
  private nextMs = 0;
  /** How late ticks ran (ms past their time): for tests and benchmarks. */
  lateMsMax = 0;

  add(ticker: Ticker): void {
    this.tickers.add(ticker);
    if (this.timer === undefined) {
      this.nextMs = performance.now() + TICK_MS;
      this.arm();
    }
  }

  remove(ticker: Ticker): void {
    this.tickers.delete(ticker);
    if (this.tickers.size === 0 && this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  get size(): number {
    return this.tickers.size;
  }

  private arm(): void {
    this.timer = setTimeout(this.run, Math.max(0, this.nextMs - performance.now()));
    // The connections keep the process alive while calls last; the timer alone must not.
    this.timer.unref();
  }

  private readonly run = (): void => {
    this.timer = undefined;
    const now = performance.now();
    this.lateMsMax = Math.max(this.lateMsMax, now - this.nextMs);
    let due = Math.floor((now - this.nextMs) / TICK_MS) + 1;
    if (due > MAX_CATCH_UP_TICKS) {
      const skipped = due - MAX_CATCH_UP_TICKS;
      for (const ticker of this.tickers) ticker.skip(skipped);
      this.nextMs += skipped * TICK_MS;
      due = MAX_CATCH_UP_TICKS;
    }
    for (let i = 0; i < due; i++) {
      for (const ticker of this.tickers) ticker.tick(this.nextMs);
      this.nextMs += TICK_MS;
    }
    if (this.tickers.size > 0) this.arm();
  };
}

/** The process's send timer (exported for tests and benchmarks to read its lateness). */
export const sendScheduler = new SendScheduler();

// ---------------------------------------------------------------------------
// Codecs

const LITE_CODEC_BY_NAME: Record<string, LiteCodec> = { opus: 'opus', pcmu: 'PCMU', pcma: 'PCMA', g722: 'G722' };

/**
 * A codec's "silence" for setFault('silence'): G.711 zero samples, a 3-byte
 * Opus packet (TOC 0xF8: CELT fullband 20 ms, then an all-silence frame), and
 * for G.722 the byte spandsp's encoder gives for silence from a fresh state.
 */
const SILENCE: Record<LiteCodec, Buffer> = {
  opus: Buffer.from([0xf8, 0xff, 0xfe]),
  PCMU: Buffer.alloc(160, 0xff),
  PCMA: Buffer.alloc(160, 0xd5),
  G722: Buffer.alloc(160, 0xfa),
};

/** Chrome's insertDTMF limits (W3C webrtc-pc: duration 40-6000 ms, gap at least 30 ms) and its volume. */
const DTMF_MIN_MS = 40;
const DTMF_MAX_MS = 6000;
const DTMF_MIN_GAP_MS = 30;
const DTMF_COMMA_MS = 2000;
const DTMF_VOLUME = 10;

interface PayloadInfo {
  name: string;
  clockRate: number;
  kind: 'audio' | 'dtmf' | 'red' | 'other';
}

interface SendPlan {
  codec: SdpCodec;
  frames: AudioFrames;
  silence: Buffer;
  telephoneEvent?: { payloadType: number; clockRate: number };
}

interface DtmfPlay {
  tones: string[];
  durationMs: number;
  gapMs: number;
  onTone: (tone: string) => void;
  nextToneAtMs: number;
  event?: { code: number; timestamp: number; ticks: number; lengthSamples: number; first: boolean };
  before: { packets: number; bytes: number; atMs: number };
  resolve: (burst: DtmfBurst) => void;
  reject: (error: Error) => void;
}

const GATHER_TIMEOUT_MS = 10_000;
let connectionCounter = 0;

export class LiteMediaSession implements Ticker {
  private readonly options: LiteMediaOptions;
  private readonly bindAddress: string;
  private readonly rtcpIntervalMs: number;
  private readonly identity: LocalIdentity;
  private readonly iceUfrag = randomToken(4);
  private readonly icePwd = randomToken(24);

  private pc: PeerConnection | undefined;
  private track: Track | undefined;
  private trackOpen = false;
  private closed = false;
  private transport: LocalTransport | undefined;
  /** Our DTLS role once negotiated: the setup of every answer we write after the first. */
  private dtlsRole: 'active' | 'passive' | undefined;
  private version = 1;
  private localSdp: string | undefined;
  private remoteSdp: string | undefined;
  private localDirection: Direction = 'sendrecv';
  private remoteDirection: Direction = 'sendrecv';
  private dtlsState: string | undefined;

  // Sending
  private plan: SendPlan | undefined;
  private readonly payloadTypes = new Map<number, PayloadInfo>();
  private fault: 'stop' | 'silence' | undefined;
  private sequence = randomInt(0x10000);
  private timestamp = randomInt(2 ** 32);
  private frameIndex = 0;
  private markerPending = true;
  private lastTickMs = 0;
  private packetsSent = 0;
  private bytesSent = 0;
  private sentSinceReport = false;
  private dtmf: DtmfPlay | undefined;

  // Receiving
  private stats: ReceiveStatistics | undefined;
  private remoteSsrc: number | undefined;
  private retired = { packets: 0, lost: 0 };
  private bytesReceived = 0;
  private knownFrames = 0;
  private lastAudioCodec: string | undefined;
  private firstMediaSeen = false;
  private lastDtmfTimestamp: number | undefined;

  // RTCP
  private nextRtcpAtMs = Infinity;
  private lastSrFromRemote: { ssrc: number; middle32: number; arrivalMs: number } | undefined;
  private remoteReport: { rttSeconds?: number; lost: number; fraction: number; jitterSeconds?: number } | undefined;

  private lastPairKey: string | undefined;

  constructor(options: LiteMediaOptions) {
    this.options = options;
    this.bindAddress = options.bindAddress ?? '127.0.0.1';
    this.rtcpIntervalMs = options.rtcpIntervalMs ?? 5000;
    this.identity = {
      sessionId: (randomBytes(8).readBigUInt64BE() & 0x7fffffffffffffffn).toString(),
      streamId: randomUUID(),
      trackId: randomUUID(),
      ssrc: randomInt(1, 2 ** 32 - 1),
      cname: randomToken(16),
    };
  }

  /** Negotiated send codec as in the SDP's rtpmap ('opus', 'PCMU'...), undefined before negotiation. */
  get codec(): string | undefined {
    return this.plan?.codec.name;
  }

  // -------------------------------------------------------------------------
  // Negotiation

  /** Our offer (audio only, Chromium's shape), ICE gathering done, candidates inline. */
  async createOffer(direction: Direction, codecs?: string[]): Promise<string> {
    if (this.pc) throw new Error('createOffer: this leg already has a transport (a re-offer is reOffer())');
    const pc = this.newPeerConnection();
    this.attachTrack(pc.addTrack(this.newAudioDescription()));
    const gathered = this.gathered(pc);
    pc.setLocalDescription('offer', { iceUfrag: this.iceUfrag, icePwd: this.icePwd });
    await gathered;
    this.transport = this.readTransport(pc);
    let sdp = chromeOffer(this.identity, this.transport, ++this.version, direction, (codec) => this.framesFor(codec) !== undefined);
    if (codecs?.length) sdp = restrictCodecs(sdp, codecs);
    this.localSdp = sdp;
    this.localDirection = direction;
    return sdp;
  }

  /** The far end's answer to our offer (the first one, or a re-offer's). */
  async setRemoteAnswer(sdp: string): Promise<void> {
    if (!this.pc || !this.localSdp) throw new Error('setRemoteAnswer: no offer of ours to answer');
    const answer = parseSdp(sdp);
    const audio = answer.audio;
    if (!audio) throw new Error('the answer refuses audio (no audio m= line with a port)');
    if (this.remoteSdp === undefined) {
      const problem = missingTransport(answer);
      if (problem) throw new Error(`the answer ${problem}`);
      this.expectedFingerprint = answer.fingerprint;
      await this.applyFirstAnswer(sdp);
      this.dtlsRole = answer.setup === 'active' ? 'passive' : 'active';
    } else {
      const problem = this.transportChange(answer);
      if (problem) throw new Error(problem);
    }
    this.remoteSdp = sdp;
    const local = parseSdp(this.localSdp).audio;
    this.localDirection = local?.direction ?? this.localDirection;
    this.remoteDirection = audio.direction;
    this.negotiate(local, audio, audio);
  }

  /** The audio section libdatachannel offers (its own SDP is never sent: chromeSdp.ts writes ours). */
  private newAudioDescription(): InstanceType<typeof nodeDataChannel.Audio> {
    const audio = new nodeDataChannel.Audio('0', 'SendRecv');
    audio.addOpusCodec(111);
    audio.addAudioCodec(9, 'G722/8000');
    audio.addAudioCodec(0, 'PCMU/8000');
    audio.addAudioCodec(8, 'PCMA/8000');
    audio.addSSRC(this.identity.ssrc, this.identity.cname, this.identity.streamId, this.identity.trackId);
    return audio;
  }

  /**
   * The answer to our first offer, into libdatachannel. Its DTLS startup race (describeAnswerError)
   * can close the connection while the answer is applied; then the connection is rebuilt under the
   * description already sent (same ICE credentials, same certificate, so the same fingerprint; only
   * the port differs, which the far end learns from our checks as a peer-reflexive candidate) and
   * the answer applied again. Nothing on the wire changes: the far end sees one offer and one answer.
   */
  private async applyFirstAnswer(sdp: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        this.pc!.setRemoteDescription(libdatachannelRemote(sdp, { bindAddress: this.bindAddress, mid: '0' }), 'answer');
        return;
      } catch (error) {
        const canRebuild = this.options.certificate !== undefined && isStartupRace(error) && attempt < MAX_ANSWER_ATTEMPTS && !this.closed;
        if (!canRebuild) throw new Error(`libdatachannel refused the answer: ${describeAnswerError(error)}`);
        // On the leg's timeline (legs.csv): a failure after it is the lite stack's (lite_dtls_race), not the far end's.
        this.options.onTransport?.('dtls', 'startup-race');
        await this.rebuildTransport();
      }
    }
  }

  /**
   * A new connection and track in place of the closed ones, with the local description already
   * sent, on the same port when it can be had again: the far end's DTLS client then keeps
   * retransmitting to the address it already has, and the handshake completes with the new one.
   */
  private async rebuildTransport(): Promise<void> {
    const port = this.transport?.port;
    this.trackClosed();
    this.releaseNative();
    for (const samePort of port === undefined ? [false] : [true, false]) {
      const pc = this.newPeerConnection(samePort ? port : undefined);
      this.attachTrack(pc.addTrack(this.newAudioDescription()));
      const gathered = this.gathered(pc);
      pc.setLocalDescription('offer', { iceUfrag: this.iceUfrag, icePwd: this.icePwd });
      try {
        await gathered;
        if (!samePort || libdatachannelLocal(pc.localDescription()?.sdp ?? '', this.bindAddress).port === port) return;
      } catch {
        // the port is not free yet: any port, which the far end learns from our checks
      }
      this.trackClosed();
      this.releaseNative();
    }
  }

  /**
   * An answerer learns the offerer's address from the offerer's own checks (a peer-reflexive
   * candidate), which start once the offerer has our answer; the offer's candidates are added only
   * if that has not happened after CANDIDATES_AFTER_MS (a path on which the offerer cannot reach us).
   */
  private deferCandidates(pc: PeerConnection, candidates: string[], mid: string): void {
    const timer = setTimeout(() => {
      if (this.closed || pc !== this.pc || this.dtlsState !== undefined) return;
      for (const line of candidates) {
        try {
          pc.addRemoteCandidate(line.slice('a='.length), mid);
        } catch {
          // a candidate libdatachannel will not take: the others may do
        }
      }
    }, CANDIDATES_AFTER_MS);
    timer.unref?.();
  }

  /**
   * The far end's offer (initial INVITE or a re-INVITE): our answer, Chromium's
   * shape. A re-offer on the live transport (same ICE credentials and
   * fingerprint) is answered without touching libdatachannel.
   */
  async acceptOffer(sdp: string, direction: Direction, codecs?: string[]): Promise<string> {
    const offer = parseSdp(sdp);
    const audio = offer.audio;
    if (!audio) throw new Error('the offer has no audio m= line with a port: a lite agent carries audio only');
    let setup: 'active' | 'passive';
    if (this.pc) {
      if (this.remoteSdp === undefined) throw new Error('acceptOffer: our own offer is still unanswered (offer glare)');
      const problem = this.transportChange(offer);
      if (problem) throw new Error(problem);
      setup = this.dtlsRole ?? 'active';
    } else {
      const problem = missingTransport(offer);
      if (problem) throw new Error(`the offer ${problem}`);
      const pc = this.newPeerConnection();
      const track = new Promise<Track>((resolve) => pc.onTrack(resolve));
      this.expectedFingerprint = offer.fingerprint;
      // The offer's candidates wait (deferCandidates): our checks would otherwise reach the offerer
      // before our answer does, the moment libdatachannel's DTLS startup race needs on its side.
      const remote = libdatachannelRemote(sdp, { bindAddress: this.bindAddress });
      const candidates = remote.split('\r\n').filter((line) => line.startsWith('a=candidate:'));
      pc.setRemoteDescription(remote.split('\r\n').filter((line) => !line.startsWith('a=candidate:') && line !== 'a=end-of-candidates').join('\r\n'), 'offer');
      this.deferCandidates(pc, candidates, audio.mid ?? '0');
      const gathered = this.gathered(pc);
      pc.setLocalDescription('answer', { iceUfrag: this.iceUfrag, icePwd: this.icePwd });
      await gathered;
      this.transport = this.readTransport(pc);
      this.attachTrack(await withTimeout(track, GATHER_TIMEOUT_MS, 'libdatachannel made no track for the offer'));
      setup = libdatachannelLocal(pc.localDescription()?.sdp ?? '', this.bindAddress).setup === 'passive' ? 'passive' : 'active';
      this.dtlsRole = setup;
    }
    const transport = this.transport;
    if (!transport) throw new Error('acceptOffer: no transport');
    let answer = chromeAnswer(sdp, this.identity, transport, ++this.version, {
      direction: answerDirection(audio.direction, direction),
      setup,
      canSend: (codec) => this.framesFor(codec) !== undefined,
    });
    if (codecs?.length) answer = restrictCodecs(answer, codecs);
    const local = parseSdp(answer).audio;
    this.localSdp = answer;
    this.remoteSdp = sdp;
    this.localDirection = local?.direction ?? 'inactive';
    this.remoteDirection = audio.direction;
    this.negotiate(local, audio, local);
    return answer;
  }

  /** A re-offer of ours (hold: 'sendonly'; unhold: 'sendrecv'): the stored description, direction changed, o= version + 1, setup:actpass. */
  reOffer(direction: Direction): string {
    if (!this.pc || !this.localSdp || this.remoteSdp === undefined) throw new Error('reOffer: nothing negotiated yet');
    this.localSdp = rewriteLocal(this.localSdp, { direction, version: ++this.version, setup: 'actpass' });
    return this.localSdp;
  }

  private negotiate(local: ParsedAudio | undefined, remote: ParsedAudio, answer: ParsedAudio | undefined): void {
    this.payloadTypes.clear();
    for (const codec of [...(local?.codecs ?? []), ...remote.codecs]) {
      if (this.payloadTypes.has(codec.payloadType)) continue;
      const name = codec.name.toLowerCase();
      const kind = name === 'telephone-event' ? 'dtmf' : name === 'red' ? 'red' : isPrimaryAudio(codec) ? 'audio' : 'other';
      this.payloadTypes.set(codec.payloadType, { name: codec.name, clockRate: codec.clockRate, kind });
    }
    const offered = new Set((local?.codecs ?? []).map((c) => `${c.payloadType} ${c.name.toLowerCase()}`));
    const sendable = (answer?.codecs ?? []).find(
      (codec) => isPrimaryAudio(codec) && this.framesFor(codec) !== undefined && (answer === local || offered.has(`${codec.payloadType} ${codec.name.toLowerCase()}`)),
    );
    const frames = sendable && this.framesFor(sendable);
    if (!sendable || !frames) {
      this.plan = undefined;
      return;
    }
    const events = (answer?.codecs ?? []).filter((c) => c.name.toLowerCase() === 'telephone-event');
    const event = events.find((c) => c.clockRate === sendable.clockRate) ?? events.find((c) => c.clockRate === 8000) ?? events[0];
    const previous = this.plan;
    this.plan = {
      codec: sendable,
      frames,
      silence: SILENCE[frames.codec],
      ...(event ? { telephoneEvent: { payloadType: event.payloadType, clockRate: event.clockRate } } : {}),
    };
    // A new codec is a new timestamp clock: a marker bit tells the far end's jitter buffer.
    if (previous && previous.codec.payloadType !== sendable.payloadType) this.markerPending = true;
  }

  private framesFor(codec: SdpCodec): AudioFrames | undefined {
    const lite = LITE_CODEC_BY_NAME[codec.name.toLowerCase()];
    const frames = lite && this.options.frames.get(lite);
    return frames && frames.clockRate === codec.clockRate ? frames : undefined;
  }

  /** A re-offer or re-answer must keep the transport: libjuice cannot restart ICE, and the DTLS association stays. */
  private transportChange(sdp: ReturnType<typeof parseSdp>): string | undefined {
    const previous = parseSdp(this.remoteSdp ?? '');
    if (sdp.iceUfrag !== previous.iceUfrag || sdp.icePwd !== previous.icePwd) return 'an ICE restart (new ice-ufrag/ice-pwd) on a live lite leg is not supported';
    if (sdp.fingerprint !== previous.fingerprint) return 'a new DTLS fingerprint on a live lite leg is not supported';
    return undefined;
  }

  // -------------------------------------------------------------------------
  // libdatachannel

  private newPeerConnection(port?: number): PeerConnection {
    const range = port !== undefined ? { begin: port, end: port } : this.options.portRange;
    const config: RtcConfig = {
      iceServers: [],
      bindAddress: this.bindAddress,
      disableAutoNegotiation: true,
      // libdatachannel 0.24.5 can start DTLS before it has stored the far end's fingerprint (its DTLS startup
      // race, see describeAnswerError): 1-2% of offers failed under load. It skips the check; verifyFingerprint
      // makes it once the connection is up, against the fingerprint of the description we applied.
      disableFingerprintVerification: true,
      ...(this.options.certificate ?? {}),
      ...(range ? { portRangeBegin: range.begin, portRangeEnd: range.end } : {}),
    };
    const pc = new nodeDataChannel.PeerConnection(`lite-${++connectionCounter}`, config);
    this.pc = pc;
    // Both callbacks are needed even if no one listened: the native side lets go of the loop when they fire 'closed'.
    pc.onStateChange((state) => {
      // A connection replaced by rebuildTransport only lets go of its native side.
      if (pc !== this.pc) return;
      this.connectionState(state);
    });
    pc.onIceStateChange((state) => {
      if (this.closed || pc !== this.pc) return;
      this.options.onTransport?.('ice', state);
      if ((state === 'connected' || state === 'completed') && this.dtlsState === undefined) this.dtls('connecting');
    });
    return pc;
  }

  private connectionState(state: string): void {
    if (state === 'closed') {
      // Closed from the far end (DTLS close, ICE failure): let go of the native callbacks
      // now, so a leg nobody closes does not keep the process alive.
      this.trackClosed();
      setImmediate(() => this.releaseNative());
    }
    if (this.closed) return;
    if (state === 'connected' && !this.verifyFingerprint()) return;
    this.options.onTransport?.('connection', state);
    if (state === 'connected') {
      // libdatachannel's callbacks come from different threads: the connection may report before ICE does.
      if (this.dtlsState === undefined) this.dtls('connecting');
      this.dtls('connected');
    }
    else if (state === 'failed' && this.dtlsState === 'connecting') this.dtls('failed');
    else if (state === 'closed' && (this.dtlsState === 'connecting' || this.dtlsState === 'connected')) this.dtls('closed');
  }

  /** The far end's DTLS fingerprint (a=fingerprint of the description applied), checked once connected. */
  private expectedFingerprint: string | undefined;

  /**
   * The check libdatachannel was told to skip: the certificate the far end used is the one its
   * description named. A mismatch fails the transport (as Chrome's DTLS would) and closes it.
   */
  private verifyFingerprint(): boolean {
    const pc = this.pc;
    if (!pc || !this.expectedFingerprint) return true;
    const [algorithm = '', value = ''] = this.expectedFingerprint.trim().split(/\s+/);
    let got: { value: string; algorithm: string } | undefined;
    try {
      got = pc.remoteFingerprint();
    } catch {
      got = undefined;
    }
    const norm = (text: string) => text.replace(/:/g, '').toLowerCase();
    if (got && norm(got.algorithm) === norm(algorithm) && norm(got.value) === norm(value)) return true;
    this.options.onTransport?.('connection', 'failed');
    this.dtls('failed');
    pc.close();
    return false;
  }

  private dtls(state: string): void {
    this.dtlsState = state;
    this.options.onTransport?.('dtls', state);
  }

  private gathered(pc: PeerConnection): Promise<void> {
    return withTimeout(
      new Promise<void>((resolve) => {
        pc.onGatheringStateChange((state) => {
          if (state === 'complete') resolve();
        });
        if (pc.gatheringState() === 'complete') resolve();
      }),
      GATHER_TIMEOUT_MS,
      'ICE gathering did not complete',
    );
  }

  private readTransport(pc: PeerConnection): LocalTransport {
    const local = libdatachannelLocal(pc.localDescription()?.sdp ?? '', this.bindAddress);
    return {
      address: this.bindAddress,
      port: local.port,
      iceUfrag: this.iceUfrag,
      icePwd: this.icePwd,
      fingerprint: local.fingerprint,
      foundationUdp: String(randomInt(2 ** 32 - 1)),
      foundationTcp: String(randomInt(2 ** 32 - 1)),
    };
  }

  private attachTrack(track: Track): void {
    this.track = track;
    track.onOpen(() => {
      if (this.closed || track !== this.track) return;
      this.trackOpen = true;
      this.lastTickMs = performance.now();
      this.nextRtcpAtMs = this.lastTickMs + (this.rtcpIntervalMs / 5) * (0.5 + Math.random());
      sendScheduler.add(this);
    });
    track.onClosed(() => {
      if (track === this.track) this.trackClosed();
    });
    track.onError(() => undefined);
    track.onMessage((message) => {
      if (track === this.track) this.received(message);
    });
  }

  private trackClosed(): void {
    this.trackOpen = false;
    sendScheduler.remove(this);
    this.dtmf?.reject(new Error('the media connection closed during DTMF'));
    this.dtmf = undefined;
  }

  // -------------------------------------------------------------------------
  // Sending (called by the shared scheduler every 20 ms while the track is open)

  /** @internal */
  tick(atMs: number): void {
    const plan = this.plan;
    this.lastTickMs = atMs;
    if (plan) this.timestamp = (this.timestamp + plan.frames.timestampStep) >>> 0;
    this.frameIndex++;
    if (!this.trackOpen || this.closed) return;
    try {
      const sending = plan !== undefined && this.fault !== 'stop' && maySend(this.localDirection, this.remoteDirection);
      const dtmfBusy = this.dtmf !== undefined && plan !== undefined && this.dtmfTick(atMs, plan, sending);
      if (sending && !dtmfBusy) {
        const frame = this.fault === 'silence' ? plan.silence : plan.frames.frames[this.frameIndex % plan.frames.frames.length]!;
        this.sendRtp(plan.codec.payloadType, this.timestamp, frame, this.markerPending);
        this.markerPending = false;
      }
      if (atMs >= this.nextRtcpAtMs) {
        this.sendRtcp(false);
        this.nextRtcpAtMs = atMs + this.rtcpIntervalMs * (0.5 + Math.random());
      }
    } catch {
      // The track closed under us (libdatachannel throws "Track is closed"): stop ticking it.
      this.trackClosed();
    }
  }

  /** @internal */
  skip(ticks: number): void {
    const step = this.plan?.frames.timestampStep ?? 0;
    this.timestamp = (this.timestamp + step * ticks) >>> 0;
    this.frameIndex += ticks;
  }

  private sendRtp(payloadType: number, timestamp: number, payload: Uint8Array, marker: boolean): void {
    this.sequence = (this.sequence + 1) & 0xffff;
    const packet = buildRtp({ payloadType, sequenceNumber: this.sequence, timestamp, ssrc: this.identity.ssrc, marker }, payload);
    if (this.track?.sendMessageBinary(packet)) {
      this.packetsSent++;
      this.bytesSent += payload.length;
      this.sentSinceReport = true;
    }
  }

  /**
   * One tick of an RFC 4733 burst, as Chrome's RTP sender plays insertDTMF: a
   * tone starts on a frame that sends nothing (duration 0), then one event
   * packet per frame (marker on the first) until its duration is reached, then
   * the end packet three times; no audio while the event is on. Tones start
   * duration + gap apart (a comma: 2 s). True when audio must not go out this tick.
   */
  private dtmfTick(atMs: number, plan: SendPlan, sending: boolean): boolean {
    const play = this.dtmf!;
    const te = plan.telephoneEvent;
    if (!te) return false;
    const event = play.event;
    if (!event) {
      if (atMs < play.nextToneAtMs) return false;
      const tone = play.tones.shift();
      if (tone === undefined) {
        this.dtmf = undefined;
        play.resolve({ packetsSent: this.packetsSent - play.before.packets, payloadBytesSent: this.bytesSent - play.before.bytes, seconds: (performance.now() - play.before.atMs) / 1000 });
        return false;
      }
      try {
        play.onTone(tone);
      } catch {
        // the caller's callback: its failure is not the media's
      }
      if (tone === ',') {
        play.nextToneAtMs = atMs + DTMF_COMMA_MS;
        return false;
      }
      play.nextToneAtMs = atMs + play.durationMs + play.gapMs;
      play.event = { code: dtmfEventCode(tone) ?? 0, timestamp: this.timestamp, ticks: 0, lengthSamples: (play.durationMs * te.clockRate) / 1000, first: true };
      return true;
    }
    event.ticks++;
    const duration = (event.ticks * TICK_MS * te.clockRate) / 1000;
    const ended = duration >= event.lengthSamples;
    const payload = buildTelephoneEvent({ event: event.code, end: ended, volume: DTMF_VOLUME, duration });
    if (sending) {
      for (let i = 0; i < (ended ? 3 : 1); i++) this.sendRtp(te.payloadType, event.timestamp, payload, event.first && i === 0);
    }
    event.first = false;
    if (ended) play.event = undefined;
    return true;
  }

  /**
   * RFC 4733 tones replacing audio packets while they play (Chrome's
   * insertDTMF: duration 40-6000 ms, gap at least 30 ms, ',' a 2 s pause);
   * onTone at each tone's start; resolves with the outbound counters'
   * difference over the burst, after the last tone's gap.
   */
  sendDtmf(tones: string, durationMs: number, gapMs: number, onTone: (tone: string) => void): Promise<DtmfBurst> {
    const plan = this.plan;
    if (!plan?.telephoneEvent) return Promise.reject(new Error('no telephone-event was negotiated on this leg'));
    if (!this.trackOpen || this.fault === 'stop' || !maySend(this.localDirection, this.remoteDirection)) {
      return Promise.reject(new Error('this leg is not sending audio now: RFC 4733 DTMF cannot be inserted'));
    }
    if (this.dtmf) return Promise.reject(new Error('a DTMF burst is already playing on this leg'));
    const bad = [...tones].find((tone) => tone !== ',' && dtmfEventCode(tone) === undefined);
    if (bad !== undefined) return Promise.reject(new Error(`not a DTMF tone: ${JSON.stringify(bad)} (0-9, A-D, *, #, and ',' for a 2 s pause)`));
    return new Promise<DtmfBurst>((resolve, reject) => {
      this.dtmf = {
        tones: [...tones.toUpperCase()],
        durationMs: Math.min(DTMF_MAX_MS, Math.max(DTMF_MIN_MS, durationMs)),
        gapMs: Math.max(DTMF_MIN_GAP_MS, gapMs),
        onTone,
        nextToneAtMs: 0,
        before: { packets: this.packetsSent, bytes: this.bytesSent, atMs: performance.now() },
        resolve,
        reject,
      };
    });
  }

  /** 'stop': no RTP at all; 'silence': the codec's silence frame instead of the audio; 'restore': the audio again. */
  setFault(fault: 'stop' | 'silence' | 'restore'): void {
    this.fault = fault === 'restore' ? undefined : fault;
  }

  // -------------------------------------------------------------------------
  // Receiving

  private received(message: Buffer): void {
    if (this.closed) return;
    if (isRtcp(message)) {
      this.receivedRtcp(message);
      return;
    }
    const rtp = parseRtp(message);
    if (!rtp || !mayReceive(this.localDirection)) return;
    if (rtp.ssrc !== this.remoteSsrc || !this.stats) this.newRemoteSource(rtp.ssrc);
    const stats = this.stats!;
    const info = this.payloadTypes.get(rtp.payloadType);
    const payload = message.subarray(rtp.payloadOffset, rtp.payloadOffset + rtp.payloadLength);
    const arrival = performance.now() / 1000;
    if (info?.kind === 'dtmf') {
      const sameClock = info.clockRate === stats.jitterClockRate || stats.jitterClockRate === 0;
      if (!stats.update(rtp.sequenceNumber, rtp.timestamp, arrival, sameClock ? info.clockRate : undefined)) return;
      this.bytesReceived += rtp.payloadLength;
      const event = parseTelephoneEvent(payload);
      const tone = event && dtmfTone(event.event);
      if (tone !== undefined && rtp.timestamp !== this.lastDtmfTimestamp) {
        this.lastDtmfTimestamp = rtp.timestamp;
        this.options.onDtmf?.(tone);
      }
      return;
    }
    if (!stats.update(rtp.sequenceNumber, rtp.timestamp, arrival, info?.clockRate ?? 8000)) return;
    this.bytesReceived += rtp.payloadLength;
    let frame: Uint8Array = payload;
    let codec = info?.name;
    if (info?.kind === 'red') {
      const primary = redPrimary(payload);
      if (primary) {
        frame = primary.data;
        codec = this.payloadTypes.get(primary.payloadType)?.name ?? codec;
      }
    }
    if (this.options.known.has(frame)) this.knownFrames++;
    this.lastAudioCodec = codec ?? `payload ${rtp.payloadType}`;
    if (!this.firstMediaSeen) {
      this.firstMediaSeen = true;
      this.options.onFirstMedia?.();
    }
  }

  private newRemoteSource(ssrc: number): void {
    if (this.stats) {
      this.retired.packets += this.stats.packetsReceived;
      this.retired.lost += this.stats.cumulativeLost;
    }
    this.stats = new ReceiveStatistics();
    this.remoteSsrc = ssrc;
    this.lastDtmfTimestamp = undefined;
  }

  private receivedRtcp(message: Buffer): void {
    const arrivalMs = performance.now();
    for (const packet of parseRtcp(message)) {
      if (packet.type !== 'sr' && packet.type !== 'rr') continue;
      if (packet.type === 'sr') this.lastSrFromRemote = { ssrc: packet.ssrc, middle32: ntpMiddle32(packet.sender.ntp), arrivalMs };
      for (const block of packet.reports) {
        if (block.ssrc === this.identity.ssrc) this.reportAboutUs(block, arrivalMs);
      }
    }
  }

  private reportAboutUs(block: ReportBlock, arrivalMs: number): void {
    const rtt = roundTripSeconds(ntpMiddle32(ntpFromUnixMs(performance.timeOrigin + arrivalMs)), block.lastSr, block.delaySinceLastSr);
    const clockRate = this.plan?.codec.clockRate;
    this.remoteReport = {
      rttSeconds: rtt ?? this.remoteReport?.rttSeconds,
      lost: block.cumulativeLost,
      fraction: block.fractionLost / 256,
      ...(clockRate ? { jitterSeconds: block.jitter / clockRate } : {}),
    };
  }

  // -------------------------------------------------------------------------
  // RTCP reports

  private sendRtcp(bye: boolean): void {
    const track = this.track;
    if (!track || !this.trackOpen) return;
    const nowMs = performance.now();
    const blocks: ReportBlock[] = [];
    if (this.stats && this.remoteSsrc !== undefined) {
      const sr = this.lastSrFromRemote?.ssrc === this.remoteSsrc ? this.lastSrFromRemote : undefined;
      const dlsr = sr ? Math.round(((nowMs - sr.arrivalMs) / 1000) * 65536) : 0;
      blocks.push(this.stats.reportBlock(this.remoteSsrc, sr?.middle32 ?? 0, dlsr));
    }
    const ssrc = this.identity.ssrc;
    const plan = this.plan;
    const report =
      this.sentSinceReport && plan
        ? buildSenderReport(
            ssrc,
            {
              ntp: ntpFromUnixMs(performance.timeOrigin + nowMs),
              rtpTimestamp: (this.timestamp + Math.round(((nowMs - this.lastTickMs) * plan.codec.clockRate) / 1000)) >>> 0,
              packetCount: this.packetsSent,
              octetCount: this.bytesSent,
            },
            blocks,
          )
        : buildReceiverReport(ssrc, blocks);
    this.sentSinceReport = false;
    const parts = [report, buildSdesCname(ssrc, this.identity.cname)];
    if (bye) parts.push(buildBye(ssrc));
    track.sendMessageBinary(Buffer.concat(parts));
  }

  // -------------------------------------------------------------------------
  // Counters

  /** Cumulative counters in callwright's MediaSample shape (src/protocol/events.ts); nothing decoded, so no levels. */
  sample(): MediaSample {
    const sample: MediaSample = {};
    const plan = this.plan;
    if (plan) {
      const report = this.remoteReport;
      sample.audioOut = {
        codec: plan.codec.name,
        packetsSent: this.packetsSent,
        bytesSent: this.bytesSent,
        ...(report?.rttSeconds !== undefined ? { roundTripTimeSeconds: report.rttSeconds } : {}),
        ...(report ? { remotePacketsLost: report.lost, remoteFractionLost: report.fraction } : {}),
        ...(report?.jitterSeconds !== undefined ? { remoteJitterSeconds: report.jitterSeconds } : {}),
      };
    }
    const stats = this.stats;
    if (stats) {
      sample.audioIn = {
        ...(this.lastAudioCodec !== undefined ? { codec: this.lastAudioCodec } : {}),
        packetsReceived: this.retired.packets + stats.packetsReceived,
        bytesReceived: this.bytesReceived,
        packetsLost: Math.max(0, this.retired.lost + stats.cumulativeLost),
        jitterSeconds: stats.jitterClockRate ? stats.jitter / stats.jitterClockRate : 0,
        knownFrames: this.knownFrames,
      };
    }
    const pair = this.selectedPair();
    if (pair) {
      const key = `${pair.local.address}:${pair.local.port}>${pair.remote.address}:${pair.remote.port}`;
      if (key !== this.lastPairKey) {
        this.lastPairKey = key;
        sample.selectedPair = pair;
      }
    }
    return sample;
  }

  private selectedPair(): CandidatePair | undefined {
    if (!this.pc || this.closed) return undefined;
    try {
      const pair = this.pc.getSelectedCandidatePair();
      if (!pair) return undefined;
      const info = (c: { type: string; transportType: string; address: string; port: number }): CandidateInfo => ({
        type: c.type,
        protocol: c.transportType.toLowerCase(),
        address: c.address,
        port: c.port,
      });
      return { local: info(pair.local), remote: info(pair.remote) };
    } catch {
      return undefined;
    }
  }

  /** Ends the leg's media: an RTCP BYE if connected, then the track and the connection. No callbacks after this. */
  close(): void {
    if (this.closed) return;
    try {
      if (this.trackOpen) this.sendRtcp(true);
    } catch {
      // closing anyway
    }
    this.closed = true;
    this.trackClosed();
    this.releaseNative();
  }

  /** Track first, then connection: each native close lets go of the callbacks that keep Node's loop alive. */
  private releaseNative(): void {
    try {
      this.track?.close();
    } catch {
      // already closed
    }
    try {
      this.pc?.close();
    } catch {
      // already closed
    }
  }
}

/** How long an answerer waits for the offerer's checks before it checks the offer's candidates itself. */
const CANDIDATES_AFTER_MS = 2000;

/** A first answer is applied at most this many times (each after a rebuilt connection). */
const MAX_ANSWER_ATTEMPTS = 3;

/**
 * libdatachannel 0.24.5 (node-datachannel 0.33.4) starts DTLS as soon as ICE
 * connects, which can be inside setRemoteDescription when the far end's checks
 * came first; if the far end's DTLS flight arrives before the answer's
 * fingerprint is committed, verification fails, the transport closes and the
 * candidates of the answer find no ICE transport. Fixed upstream by
 * libdatachannel commit 93f4373 ("Fix DTLS startup ordering"), not released.
 */
function isStartupRace(error: unknown): boolean {
  return (error instanceof Error ? error.message : String(error)).includes('without ICE transport');
}

function describeAnswerError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return isStartupRace(error)
    ? `${message} (DTLS failed while the answer was applied: libdatachannel 0.24.5's DTLS startup race, fixed upstream in commit 93f4373)`
    : message;
}

function missingTransport(sdp: ReturnType<typeof parseSdp>): string | undefined {
  if (!sdp.iceUfrag || !sdp.icePwd) return 'has no ICE credentials (a=ice-ufrag/a=ice-pwd): lite agents need ICE';
  if (!sdp.fingerprint) return 'has no DTLS fingerprint: lite agents carry DTLS-SRTP only';
  if (sdp.audio && !sdp.audio.rtcpMux) return 'has no a=rtcp-mux: lite agents multiplex RTCP with RTP';
  return undefined;
}

const TOKEN_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Chromium's ICE credentials and CNAMEs: characters of the base64 alphabet. */
function randomToken(length: number): string {
  const bytes = randomBytes(length);
  let token = '';
  for (const byte of bytes) token += TOKEN_ALPHABET.charAt(byte & 63);
  return token;
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
