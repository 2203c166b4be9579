import { Invitation, Inviter, Session, SessionState, UserAgent } from 'sip.js';
import type { Core, SessionDescriptionHandlerModifier } from 'sip.js';

type IncomingResponse = Core.IncomingResponse;
import { pairKey, type AgentEvent, type LegDirection, type LegEndCause, type TransportLayer } from '../protocol/events.js';
import type { LegMedia } from './legMedia.js';

export type Emit = (event: AgentEvent) => void;

/**
 * One call leg: a SIP.js session seen from this user agent. It turns the
 * session's callbacks and its media's (LegMedia: a browser's peer connection
 * or the lite agent's RTP) into events with the agent's timestamps.
 */
export class Leg {
  established = false;
  ended = false;
  private endCause: LegEndCause | undefined;
  private readonly transportStates = new Map<TransportLayer, string>();
  /** The selected candidate pair last reported, so samples carry it only when it changes. */
  private lastPairKey: string | undefined;

  constructor(
    readonly legId: string,
    readonly agentId: string,
    readonly direction: LegDirection,
    readonly session: Session,
    readonly sipCallId: string,
    private readonly emit: Emit,
    private readonly media: LegMedia,
    private readonly onEnded: (leg: Leg) => void,
  ) {
    session.delegate = {
      ...session.delegate,
      onSessionDescriptionHandler: (sdh) =>
        media.attach(sdh, {
          firstMedia: (kind) => this.emit({ type: 'firstMedia', legId, atMs: Date.now(), kind }),
          transport: (layer, state) => this.transportState(layer, state),
          gathered: (outcome) => this.emit({ type: 'iceGathered', legId, atMs: Date.now(), ...outcome }),
          dtmfReceived: (tone) => this.emit({ type: 'dtmfReceived', legId, atMs: Date.now(), tone, via: 'rfc4733' }),
        }),
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
      const window = await this.media.sendRfc4733(tones, durationMs, gapMs, (tone) =>
        this.emit({ type: 'dtmfSent', legId: this.legId, atMs: Date.now(), tone, mode, ok: true }),
      );
      this.emit({ type: 'dtmfWindow', legId: this.legId, atMs: Date.now(), ...window });
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
    if (result.ok) this.media.setHeld(held);
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

  /** Fault injection on the audio (default) or video sender: see LegMedia. */
  async mediaFault(fault: 'stop' | 'silence' | 'restore', kind: 'audio' | 'video'): Promise<void> {
    await this.media.fault(fault, kind);
  }

  async sampleStats(): Promise<void> {
    if (this.ended) return;
    const sample = await this.media.sample();
    if (!sample || this.ended) return;
    this.samplesTaken++;
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
    this.media.close();
    const cause: LegEndCause = this.endCause ?? (this.established ? { kind: 'hangup', by: 'remote' } : { kind: 'canceled' });
    this.emit({ type: 'ended', legId: this.legId, atMs: Date.now(), cause, wasEstablished: this.established });
    this.onEnded(this);
  }

  private asInvitation(): Invitation {
    if (!(this.session instanceof Invitation)) throw new Error(`leg ${this.legId} is not an incoming call`);
    return this.session;
  }

  private transportState(layer: TransportLayer, state: string): void {
    if (this.ended || this.transportStates.get(layer) === state) return;
    this.transportStates.set(layer, state);
    this.emit({ type: 'legTransport', legId: this.legId, atMs: Date.now(), layer, state });
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
