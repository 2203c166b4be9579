import { Invitation, Inviter, Session, SessionState, UserAgent, Web } from 'sip.js';
import type { Core, SessionDescriptionHandlerModifier } from 'sip.js';

type IncomingResponse = Core.IncomingResponse;
import { pairKey, type AgentEvent, type LegDirection, type LegEndCause, type TransportLayer } from '../protocol/events.js';
import { GatheringSessionDescriptionHandler } from './gatheringHandler.js';
import { readMediaSample } from './statsReader.js';

export type Emit = (event: AgentEvent) => void;

/**
 * One call leg: a SIP.js session seen from this user agent. It turns the
 * session's callbacks into events with page timestamps, keeps the remote
 * audio playing (so it is decoded and its level measured) and samples getStats.
 */
export class Leg {
  established = false;
  ended = false;
  private endCause: LegEndCause | undefined;
  private player: HTMLAudioElement | undefined;
  private readonly firstMediaSeen = new Set<string>();
  private readonly transportStates = new Map<TransportLayer, string>();
  private readonly watchedDtls = new Set<RTCDtlsTransport>();
  /** The selected candidate pair last reported, so samples carry it only when it changes. */
  private lastPairKey: string | undefined;

  constructor(
    readonly legId: string,
    readonly agentId: string,
    readonly direction: LegDirection,
    readonly session: Session,
    readonly sipCallId: string,
    private readonly emit: Emit,
    private readonly playReceivedAudio: boolean,
    private readonly onEnded: (leg: Leg) => void,
  ) {
    session.delegate = {
      ...session.delegate,
      onSessionDescriptionHandler: (sdh) => this.watchPeerConnection(sdh as Web.SessionDescriptionHandler),
      onBye: (bye) => {
        this.endCause ??= { kind: 'hangup', by: 'remote' };
        void bye.accept();
      },
      onInfo: (info) => {
        void info.accept();
        const body = info.request.body ?? '';
        const signal = /Signal\s*=\s*([0-9A-Da-d*#])/.exec(body)?.[1];
        if (signal) this.emit({ type: 'dtmfReceived', legId, atMs: Date.now(), tone: signal.toUpperCase(), via: 'info' });
      },
    };
    session.stateChange.addListener((state) => {
      if (state === SessionState.Established && !this.established) {
        this.established = true;
        this.emit({ type: 'established', legId, atMs: Date.now() });
      } else if (state === SessionState.Terminated) {
        // SIP.js calls the INVITE's requestDelegate.onReject (which records the
        // SIP status) right after this transition: end the leg once it has run.
        queueMicrotask(() => this.finish());
      }
    });
  }

  /** Callbacks for an outgoing INVITE transaction. */
  inviteDelegate() {
    return {
      onProgress: (response: IncomingResponse) => {
        const status = response.message.statusCode;
        if (status !== undefined && status > 100) this.emit({ type: 'progress', legId: this.legId, atMs: Date.now(), status });
      },
      onReject: (response: IncomingResponse) => {
        this.endCause ??= { kind: 'sipStatus', status: response.message.statusCode ?? 0, reasonPhrase: response.message.reasonPhrase };
      },
    };
  }

  /** receiveOnly: answer recvonly with no capture (the handler reads it beside the constraints). */
  async answer(options: { audio: boolean; video: boolean; receiveOnly: boolean; modifiers: SessionDescriptionHandlerModifier[] }): Promise<void> {
    const invitation = this.asInvitation();
    invitation.sessionDescriptionHandlerModifiersReInvite = options.modifiers;
    await invitation.accept({
      sessionDescriptionHandlerOptions: { constraints: { audio: options.audio, video: options.video }, ...(options.receiveOnly ? { receiveOnly: true } : {}) } as object,
      sessionDescriptionHandlerModifiers: options.modifiers,
    });
  }

  async reject(status: number): Promise<void> {
    this.endCause ??= { kind: 'sipStatus', status };
    await this.asInvitation().reject({ statusCode: status });
  }

  async hangup(): Promise<void> {
    const session = this.session;
    this.endCause ??= { kind: 'hangup', by: 'local' };
    switch (session.state) {
      case SessionState.Initial:
      case SessionState.Establishing:
        if (session instanceof Inviter) {
          this.endCause = { kind: 'canceled' };
          await session.cancel();
        } else if (session instanceof Invitation) {
          await session.reject({ statusCode: 486 });
        }
        return;
      case SessionState.Established:
        await session.bye();
        return;
      case SessionState.Terminating:
      case SessionState.Terminated:
        return;
    }
  }

  async sendDtmf(tones: string, mode: 'rfc4733' | 'info', durationMs: number, gapMs: number): Promise<void> {
    if (mode === 'rfc4733') {
      const sender = this.peerConnection()
        ?.getSenders()
        .find((s) => s.track?.kind === 'audio' || s.dtmf);
      if (!sender?.dtmf) throw new Error('no audio sender able to send RFC 4733 DTMF on this leg');
      const dtmf = sender.dtmf;
      const done = new Promise<void>((resolve) => {
        dtmf.ontonechange = (event) => {
          if (event.tone === '') {
            dtmf.ontonechange = null;
            resolve();
          } else {
            this.emit({ type: 'dtmfSent', legId: this.legId, atMs: Date.now(), tone: event.tone, mode, ok: true });
          }
        };
      });
      const before = await this.outboundAudio(sender);
      dtmf.insertDTMF(tones, durationMs, gapMs);
      await done;
      const after = await this.outboundAudio(sender);
      // RFC 4733 events replace audio packets while a tone plays: their 4-byte
      // payloads show in the outbound counters, the proof they were sent.
      this.emit({
        type: 'dtmfWindow',
        legId: this.legId,
        atMs: Date.now(),
        packetsSent: after.packetsSent - before.packetsSent,
        payloadBytesSent: after.bytesSent - before.bytesSent,
        seconds: (after.atMs - before.atMs) / 1000,
      });
      return;
    }
    for (const tone of tones) {
      const status = await new Promise<number>((resolve, reject) => {
        this.session
          .info({
            requestOptions: {
              body: { contentDisposition: 'render', contentType: 'application/dtmf-relay', content: `Signal=${tone}\r\nDuration=${durationMs}\r\n` },
            },
            requestDelegate: {
              onAccept: (response) => resolve(response.message.statusCode ?? 200),
              onReject: (response) => resolve(response.message.statusCode ?? 0),
            },
          })
          .catch(reject);
      });
      this.emit({ type: 'dtmfSent', legId: this.legId, atMs: Date.now(), tone, mode, ok: status >= 200 && status < 300, status });
      await sleep(gapMs);
    }
  }

  async setHold(held: boolean): Promise<void> {
    const session = this.session;
    const sdh = session.sessionDescriptionHandler as Web.SessionDescriptionHandler | undefined;
    session.sessionDescriptionHandlerOptionsReInvite = { ...session.sessionDescriptionHandlerOptionsReInvite, hold: held } as object;
    const result = await new Promise<{ ok: boolean; error?: string }>((resolve) => {
      session
        .invite({
          requestDelegate: {
            onAccept: () => resolve({ ok: true }),
            onReject: (response) => resolve({ ok: false, error: `re-INVITE answered ${response.message.statusCode}` }),
          },
        })
        .catch((error: unknown) => resolve({ ok: false, error: String(error) }));
    });
    if (result.ok && sdh) {
      // As SIP.js's SessionManager does: held legs neither send nor play.
      sdh.enableSenderTracks(!held);
      sdh.enableReceiverTracks(!held);
    }
    this.emit({ type: 'holdChanged', legId: this.legId, atMs: Date.now(), held, ok: result.ok, error: result.error });
  }

  async transfer(target: string): Promise<void> {
    const uri = UserAgent.makeURI(target);
    if (!uri) throw new Error(`invalid transfer target ${target}`);
    const result = await new Promise<{ ok: boolean; status?: number; error?: string }>((resolve) => {
      this.session
        .refer(uri, {
          requestDelegate: {
            onAccept: (response) => resolve({ ok: true, status: response.message.statusCode }),
            onReject: (response) => resolve({ ok: false, status: response.message.statusCode }),
          },
        })
        .catch((error: unknown) => resolve({ ok: false, error: String(error) }));
    });
    this.emit({ type: 'transferResult', legId: this.legId, atMs: Date.now(), ...result });
  }

  /** getStats samples taken so far: a leg with fewer than two has no rates yet, so it is sampled first. */
  samplesTaken = 0;

  /** The senders a 'stop' fault took the track off, by kind, with the track to put back on 'restore'. */
  private readonly stopped = new Map<'audio' | 'video', { sender: RTCRtpSender; track: MediaStreamTrack }>();

  /**
   * Fault injection on the audio or video sender: 'stop' takes the track off it
   * (no RTP at all; for video no frames, which the far end sees as a freeze once
   * they resume), 'silence' disables it (Chromium keeps sending packets of
   * silence, or black frames), 'restore' undoes both.
   */
  async mediaFault(fault: 'stop' | 'silence' | 'restore', kind: 'audio' | 'video'): Promise<void> {
    const stopped = this.stopped.get(kind);
    const sender = stopped?.sender ?? this.peerConnection()?.getSenders().find((s) => s.track?.kind === kind);
    if (!sender) throw new Error(`leg ${this.legId} has no ${kind} sender`);
    if (fault === 'stop') {
      if (sender.track) this.stopped.set(kind, { sender, track: sender.track });
      await sender.replaceTrack(null);
    } else if (fault === 'silence') {
      if (sender.track) sender.track.enabled = false;
    } else {
      if (stopped) await sender.replaceTrack(stopped.track);
      this.stopped.delete(kind);
      if (sender.track) sender.track.enabled = true;
    }
  }

  async sampleStats(): Promise<void> {
    const pc = this.peerConnection();
    if (!pc || this.ended || pc.connectionState === 'closed') return;
    const report = await pc.getStats();
    if (this.ended) return;
    const sample = readMediaSample(report);
    this.samplesTaken++;
    if (!this.playReceivedAudio && sample.audioIn) {
      // Not played, so not decoded: Chromium reports zero energy and no samples, which would read as silence.
      delete sample.audioIn.audioLevel;
      delete sample.audioIn.totalAudioEnergy;
      delete sample.audioIn.totalSamplesReceived;
      delete sample.audioIn.concealedSamples;
    }
    const key = sample.selectedPair ? pairKey(sample.selectedPair) : undefined;
    if (key === this.lastPairKey) delete sample.selectedPair;
    else this.lastPairKey = key;
    this.emit({ type: 'stats', legId: this.legId, atMs: Date.now(), sample });
  }

  markTransportLost(): void {
    this.endCause ??= { kind: 'transportLost' };
  }

  /**
   * The SIP WebSocket dropped under this leg: no BYE or CANCEL can reach the
   * far end, and the dialog's route went with the connection. End it here
   * (media closed too) rather than leave a call that looks up but is not.
   */
  endForTransportLoss(): void {
    this.markTransportLost();
    try {
      void this.session.dispose().catch(() => undefined);
    } catch {
      // A session half torn down may throw: it is ending either way.
    }
    this.finish();
  }

  /** A leg whose session is gone without a Terminated state change (agent destroyed). */
  finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.player?.remove();
    this.player = undefined;
    const cause: LegEndCause = this.endCause ?? (this.established ? { kind: 'hangup', by: 'remote' } : { kind: 'canceled' });
    this.emit({ type: 'ended', legId: this.legId, atMs: Date.now(), cause, wasEstablished: this.established });
    this.onEnded(this);
  }

  private async outboundAudio(sender: RTCRtpSender): Promise<{ packetsSent: number; bytesSent: number; atMs: number }> {
    let packetsSent = 0;
    let bytesSent = 0;
    (await sender.getStats()).forEach((stat: Record<string, unknown>) => {
      if (stat.type === 'outbound-rtp') {
        packetsSent += typeof stat.packetsSent === 'number' ? stat.packetsSent : 0;
        bytesSent += typeof stat.bytesSent === 'number' ? stat.bytesSent : 0;
      }
    });
    return { packetsSent, bytesSent, atMs: Date.now() };
  }

  private peerConnection(): RTCPeerConnection | undefined {
    return (this.session.sessionDescriptionHandler as Web.SessionDescriptionHandler | undefined)?.peerConnection;
  }

  private asInvitation(): Invitation {
    if (!(this.session instanceof Invitation)) throw new Error(`leg ${this.legId} is not an incoming call`);
    return this.session;
  }

  private watchPeerConnection(sdh: Web.SessionDescriptionHandler): void {
    if (sdh instanceof GatheringSessionDescriptionHandler) {
      sdh.onGathered = (outcome) => this.emit({ type: 'iceGathered', legId: this.legId, atMs: Date.now(), ...outcome });
    }
    const pc = sdh.peerConnection;
    if (pc) {
      // Listeners beside SIP.js's own on* handlers: the leg's transport timeline.
      pc.addEventListener('iceconnectionstatechange', () => {
        this.transportState('ice', pc.iceConnectionState);
        this.watchDtls(pc);
      });
      pc.addEventListener('connectionstatechange', () => this.transportState('connection', pc.connectionState));
    }
    sdh.peerConnectionDelegate = {
      ontrack: (event: RTCTrackEvent) => {
        const track = event.track;
        const seen = () => {
          if (this.firstMediaSeen.has(track.kind)) return;
          this.firstMediaSeen.add(track.kind);
          this.emit({ type: 'firstMedia', legId: this.legId, atMs: Date.now(), kind: track.kind === 'video' ? 'video' : 'audio' });
        };
        // A remote track unmutes when its first RTP packet arrives.
        if (!track.muted) seen();
        else track.addEventListener('unmute', seen, { once: true });
        if (track.kind === 'audio' && this.playReceivedAudio) this.play(sdh.remoteMediaStream);
      },
    };
  }

  private transportState(layer: TransportLayer, state: string): void {
    if (this.ended || this.transportStates.get(layer) === state) return;
    this.transportStates.set(layer, state);
    this.emit({ type: 'legTransport', legId: this.legId, atMs: Date.now(), layer, state });
  }

  /** DTLS transports exist once descriptions are set; ICE starting is the moment to look for them. */
  private watchDtls(pc: RTCPeerConnection): void {
    const transports = [...pc.getSenders(), ...pc.getReceivers()].map((x) => x.transport).filter((t): t is RTCDtlsTransport => t !== null);
    for (const transport of transports) {
      if (this.watchedDtls.has(transport)) continue;
      this.watchedDtls.add(transport);
      if (transport.state !== 'new') this.transportState('dtls', transport.state);
      transport.addEventListener('statechange', () => this.transportState('dtls', transport.state));
    }
  }

  private play(stream: MediaStream): void {
    if (this.player) return;
    const player = document.createElement('audio');
    player.autoplay = true;
    player.srcObject = stream;
    document.body.appendChild(player);
    void player.play().catch(() => undefined);
    this.player = player;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
