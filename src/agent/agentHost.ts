import { Invitation, Inviter, Messager, Registerer, RegistererState, RequestPendingError, UserAgent, UserAgentState } from 'sip.js';
import type { CallCommand, CreateAgentCommand, PageConfig } from '../protocol/commands.js';
import { Leg, type Emit } from './leg.js';
import type { MediaBackend } from './legMedia.js';
import { addMediaLines, addSessionLines } from '../sdp/sdp.js';
import { codecModifiers } from './sdpModifiers.js';
import { redactAuthorizationHeaders } from '../protocol/sipRedaction.js';
import { readSipMessage, replaceSipBody, TappedTransport, utf8Length, type SipTapMessage } from './sipTap.js';

/** Methods whose messages are no call's: not streamed to Node as SIP evidence. */
const NOT_CALL_METHODS = new Set(['REGISTER', 'OPTIONS', 'MESSAGE', 'SUBSCRIBE', 'PUBLISH']);

/** Backoff between reconnection attempts after the SIP WebSocket drops: 0.5 s, doubling, at most 4 s; until the agent is destroyed. */
export const RECONNECT_FIRST_DELAY_MS = 500;
export const RECONNECT_MAX_DELAY_MS = 4_000;

export interface LegRegistry {
  add(leg: Leg): void;
  remove(leg: Leg): void;
  nextIncomingLegId(agentId: string): string;
}

/**
 * One SIP.js user agent: registration, outgoing and incoming calls, MESSAGE.
 * Several share a page (and its one media capture) or a lite agent process;
 * the media backend is what differs.
 */
export class AgentHost {
  readonly ua: UserAgent;
  private readonly registerer: Registerer;
  private readonly transport: TappedTransport;
  /** Legs of this agent by SIP Call-ID, to attribute what the tap sees. */
  private readonly legsByCallId = new Map<string, Leg>();
  /** Extra SDP lines to add on the wire, keyed by Call-ID: for the INVITE (caller) or the 200 OK (callee). */
  /** Extra SDP for a call's offer or answer on the wire: session-level lines, and lines per media section. */
  private readonly extraSdpByCallId = new Map<string, ExtraSdp>();
  /** Incoming legs whose 200 OK's SDP was reported: later 2xx (re-INVITE answers) are not the call's answer. */
  private readonly answerRecorded = new WeakSet<Leg>();
  /** Registered on purpose (a register command, no unregister since): re-register after a reconnection. */
  private wantRegistered = false;
  private destroyed = false;
  /** The reconnection loop after a drop, while it runs. */
  private reconnecting: Promise<void> | undefined;
  /** When the WebSocket dropped and how many attempts so far, for the 'connected' event that ends the outage. */
  private outage: { sinceMs: number; attempts: number } | undefined;
  /** Commands waiting for the reconnection loop to get the WebSocket back. */
  private readonly connectWaiters = new Set<{ resolve(): void; reject(error: Error): void }>();

  constructor(
    readonly command: CreateAgentCommand,
    private readonly config: PageConfig,
    private readonly media: MediaBackend,
    private readonly emit: Emit,
    private readonly legs: LegRegistry,
  ) {
    const uri = UserAgent.makeURI(`sip:${command.user}@${command.domain}`);
    if (!uri) throw new Error(`invalid SIP address sip:${command.user}@${command.domain}`);
    this.ua = new UserAgent({
      uri,
      authorizationUsername: command.authUser ?? command.user,
      authorizationPassword: command.password,
      displayName: command.displayName,
      transportConstructor: TappedTransport,
      transportOptions: { server: command.wsUrl, connectionTimeout: 5, traceSip: false },
      sessionDescriptionHandlerFactory: media.sessionDescriptionHandlerFactory,
      logBuiltinEnabled: false,
      logLevel: 'error',
      logConnector: (level, category, label, content) => {
        if (level === 'error') this.emit({ type: 'log', atMs: Date.now(), level: 'error', message: `${command.agentId} ${category}: ${content}` });
      },
      delegate: {
        onConnect: () => this.onConnect(),
        onDisconnect: (error) => this.onDisconnect(error),
        onInvite: (invitation) => this.onInvite(invitation),
        onMessage: (message) => {
          void message.accept();
          this.emit({
            type: 'messageReceived',
            agentId: command.agentId,
            atMs: Date.now(),
            from: message.request.from.uri.toString(),
            body: message.request.body ?? '',
          });
        },
      },
    });
    this.transport = this.ua.transport as TappedTransport;
    this.transport.tap = (message) => this.onSipMessage(message);
    this.transport.rewrite = (raw) => this.addExtraSdpLines(raw);
    this.transport.tapIncoming();
    this.registerer = new Registerer(this.ua, { expires: command.registerExpiresSeconds });
    this.registerer.stateChange.addListener((state) => {
      const atMs = Date.now();
      if (state === RegistererState.Registered) this.emit({ type: 'registered', agentId: command.agentId, atMs });
      else if (state === RegistererState.Unregistered) this.emit({ type: 'unregistered', agentId: command.agentId, atMs });
    });
  }

  get agentId(): string {
    return this.command.agentId;
  }

  /** Open the WebSocket (the first time), or wait for the reconnection loop to get it back. */
  async connect(): Promise<void> {
    await this.ensureConnected();
  }

  async register(): Promise<void> {
    this.wantRegistered = true;
    try {
      await this.ensureConnected();
    } catch (error) {
      this.emit({ type: 'registrationFailed', agentId: this.agentId, atMs: Date.now(), reason: `transport: ${errorText(error)}` });
      return;
    }
    await this.sendRegister();
  }

  async unregister(): Promise<void> {
    this.wantRegistered = false;
    if (this.registerer.state === RegistererState.Registered && this.ua.isConnected()) await this.registerer.unregister();
  }

  async call(command: CallCommand): Promise<void> {
    await this.ensureConnected();
    const target = UserAgent.makeURI(command.target);
    if (!target) throw new Error(`invalid SIP URI ${command.target}`);
    const modifiers = codecModifiers(command.codecs, this.config.opusPtimeMs);
    const inviter = new Inviter(this.ua, target, {
      sessionDescriptionHandlerOptions: { constraints: { audio: command.audio, video: command.video }, ...(command.receiveOnly ? { receiveOnly: true } : {}) } as object,
      sessionDescriptionHandlerModifiers: modifiers,
      sessionDescriptionHandlerModifiersReInvite: modifiers,
      extraHeaders: command.headers,
    });
    const leg = this.track(command.legId, 'outgoing', inviter);
    const extra = extraSdpOf(command);
    if (extra) this.extraSdpByCallId.set(inviter.request.callId, extra);
    this.emit({
      type: 'legCreated',
      agentId: this.agentId,
      legId: command.legId,
      direction: 'outgoing',
      atMs: Date.now(),
      from: this.ua.configuration.uri.toString(),
      to: command.target,
      sipCallId: inviter.request.callId,
    });
    await inviter.invite({ requestDelegate: leg.inviteDelegate() });
  }

  /** Answer an incoming leg; extra SDP lines go into the 200 OK on the wire. */
  async answer(leg: Leg, options: { audio: boolean; video: boolean; receiveOnly?: boolean; codecs?: string[] } & ExtraSdp): Promise<void> {
    const extra = extraSdpOf(options);
    if (extra) this.extraSdpByCallId.set(leg.sipCallId, extra);
    await leg.answer({
      audio: options.audio,
      video: options.video,
      receiveOnly: options.receiveOnly === true,
      modifiers: codecModifiers(options.codecs, this.config.opusPtimeMs),
    });
  }

  async message(requestId: string, target: string, body: string, contentType: string): Promise<void> {
    await this.ensureConnected();
    const uri = UserAgent.makeURI(target);
    if (!uri) throw new Error(`invalid SIP URI ${target}`);
    const done = (ok: boolean, status?: number) =>
      this.emit({ type: 'messageResult', agentId: this.agentId, requestId, atMs: Date.now(), ok, status });
    await new Messager(this.ua, uri, body, contentType).message({
      requestDelegate: {
        onAccept: (response) => done(true, response.message.statusCode),
        onReject: (response) => done(false, response.message.statusCode),
      },
    });
  }

  async destroy(): Promise<void> {
    this.destroyed = true;
    for (const waiter of this.connectWaiters) waiter.reject(new Error(`agent ${this.agentId} stopped`));
    this.connectWaiters.clear();
    for (const leg of [...this.legsByCallId.values()]) await leg.hangup().catch(() => undefined);
    await this.unregister().catch(() => undefined);
    await this.ua.stop().catch(() => undefined);
    for (const leg of [...this.legsByCallId.values()]) leg.finish();
  }

  /**
   * One REGISTER at a time: a register command that finds the one sent by the
   * reconnection loop still waiting leaves it to report. Every 200 OK is an
   * event, so a re-registration (the registerer's state never left
   * Registered) is seen by Node too.
   */
  private async sendRegister(): Promise<void> {
    try {
      await this.registerer.register({
        requestDelegate: {
          onAccept: () => this.emit({ type: 'registered', agentId: this.agentId, atMs: Date.now() }),
          onReject: (response) =>
            this.emit({
              type: 'registrationFailed',
              agentId: this.agentId,
              atMs: Date.now(),
              status: response.message.statusCode,
              reason: response.message.reasonPhrase ?? 'rejected',
            }),
        },
      });
    } catch (error) {
      if (error instanceof RequestPendingError) return;
      throw error;
    }
  }

  private async ensureConnected(): Promise<void> {
    if (this.ua.isConnected()) return;
    if (this.destroyed) throw new Error(`agent ${this.agentId} stopped`);
    // First use: start() connects, and fails fast when the server is unreachable.
    if (this.ua.state !== UserAgentState.Started) return this.ua.start();
    if (!this.reconnecting) return this.ua.reconnect();
    await new Promise<void>((resolve, reject) => {
      const waiter = { resolve: () => (this.connectWaiters.delete(waiter), resolve()), reject };
      this.connectWaiters.add(waiter);
    });
  }

  private onConnect(): void {
    const outage = this.outage;
    this.outage = undefined;
    this.emit({
      type: 'transport',
      agentId: this.agentId,
      atMs: Date.now(),
      state: 'connected',
      ...(outage ? { attempt: outage.attempts, downMs: Date.now() - outage.sinceMs } : {}),
    });
    for (const waiter of [...this.connectWaiters]) waiter.resolve();
  }

  /**
   * SIP.js passes an error only when the network or the server dropped the
   * WebSocket (not for our own stop). Then no BYE can reach the far end: the
   * legs end here as transport lost, and the agent reconnects with backoff.
   */
  private onDisconnect(error: Error | undefined): void {
    for (const leg of [...this.legsByCallId.values()]) {
      if (error) leg.endForTransportLoss();
      else leg.markTransportLost();
    }
    this.emit({ type: 'transport', agentId: this.agentId, atMs: Date.now(), state: 'disconnected', error: error?.message });
    if (error && !this.destroyed) void this.reconnect();
  }

  private reconnect(): Promise<void> {
    this.reconnecting ??= (async () => {
      this.outage = { sinceMs: Date.now(), attempts: 0 };
      for (let attempt = 1; !this.destroyed && !this.ua.isConnected(); attempt++) {
        const delayMs = Math.min(RECONNECT_MAX_DELAY_MS, RECONNECT_FIRST_DELAY_MS * 2 ** (attempt - 1));
        this.emit({ type: 'transport', agentId: this.agentId, atMs: Date.now(), state: 'reconnecting', attempt, delayMs });
        await sleep(delayMs);
        if (this.destroyed || this.ua.isConnected()) break;
        if (this.outage) this.outage.attempts = attempt;
        try {
          await this.ua.reconnect();
        } catch {
          // Still down: the next attempt waits longer.
        }
      }
      if (!this.destroyed && this.ua.isConnected() && this.wantRegistered) {
        await this.sendRegister().catch((error: unknown) =>
          this.emit({ type: 'registrationFailed', agentId: this.agentId, atMs: Date.now(), reason: `re-register: ${errorText(error)}` }),
        );
      }
    })().finally(() => (this.reconnecting = undefined));
    return this.reconnecting;
  }

  private onInvite(invitation: Invitation): void {
    const legId = this.legs.nextIncomingLegId(this.agentId);
    const leg = this.track(legId, 'incoming', invitation);
    this.emit({
      type: 'legCreated',
      agentId: this.agentId,
      legId,
      direction: 'incoming',
      atMs: Date.now(),
      from: invitation.remoteIdentity.uri.toString(),
      to: this.ua.configuration.uri.toString(),
      sipCallId: invitation.request.callId,
    });
    // The INVITE went through the tap before this leg existed: record the offer it carried now.
    const offer = invitation.request.body;
    if (offer) this.emit({ type: 'sdp', legId, atMs: Date.now(), sent: false, offer: true, bytes: utf8Length(invitation.request.data), sdp: offer });
    const after = this.command.autoAnswerAfterMs;
    if (after !== undefined) {
      setTimeout(() => {
        if (leg.ended || leg.established) return;
        // As a phone with a camera would: video answered when the offer has a video section that is not refused (port 0).
        const video = offer !== undefined && /^m=video [1-9]/m.test(offer);
        this.answer(leg, { audio: true, video, receiveOnly: this.command.autoAnswerReceiveOnly === true }).catch((error: unknown) =>
          this.emit({ type: 'commandFailed', atMs: Date.now(), command: 'answer', id: legId, error: errorText(error) }),
        );
      }, after);
    }
  }

  /** A REFER received on one of our legs: accept it and call the target, as a phone would. */
  followReferral(fromLeg: Leg, newLegId: string): void {
    fromLeg.session.delegate = {
      ...fromLeg.session.delegate,
      onRefer: (referral) => {
        if (!this.command.acceptTransfers) {
          void referral.reject();
          return;
        }
        void referral.accept().then(() => {
          const inviter = referral.makeInviter({
            sessionDescriptionHandlerOptions: { constraints: { audio: true, video: false } } as object,
          });
          const leg = this.track(newLegId, 'outgoing', inviter);
          this.emit({
            type: 'legCreated',
            agentId: this.agentId,
            legId: newLegId,
            direction: 'outgoing',
            atMs: Date.now(),
            from: this.ua.configuration.uri.toString(),
            to: inviter.remoteIdentity.uri.toString(),
            sipCallId: inviter.request.callId,
            referredByLegId: fromLeg.legId,
          });
          void inviter.invite({ requestDelegate: leg.inviteDelegate() }).catch((error: unknown) => {
            this.emit({ type: 'commandFailed', atMs: Date.now(), command: 'transfer-follow', id: newLegId, error: errorText(error) });
          });
          // The transferee leaves the original call once the new one is placed.
          void fromLeg.hangup().catch(() => undefined);
        });
      },
    };
  }

  private track(legId: string, direction: 'outgoing' | 'incoming', session: Inviter | Invitation): Leg {
    const callId = session.request.callId;
    const leg = new Leg(legId, this.agentId, direction, session, callId, this.emit, this.media.legMedia(legId), (ended) => {
      this.legsByCallId.delete(callId);
      this.extraSdpByCallId.delete(callId);
      this.legs.remove(ended);
    });
    this.legsByCallId.set(callId, leg);
    this.legs.add(leg);
    this.followReferral(leg, `${legId}:transfer`);
    return leg;
  }

  private addExtraSdpLines(raw: string): string {
    const message = readSipMessage(raw);
    if (!message.callId || message.cseqMethod !== 'INVITE' || !message.body) return raw;
    const extra = this.extraSdpByCallId.get(message.callId);
    if (!extra) return raw;
    const leg = this.legsByCallId.get(message.callId);
    const initialInvite = message.method === 'INVITE' && !message.hasToTag && leg?.direction === 'outgoing';
    const okToInvite = message.status !== undefined && message.status >= 200 && message.status < 300 && leg?.direction === 'incoming' && !leg.established;
    if (!initialInvite && !okToInvite) return raw;
    let body = extra.extraSdp?.length ? addSessionLines(message.body, extra.extraSdp) : message.body;
    for (const kind of ['audio', 'video'] as const) {
      const lines = extra.extraMediaSdp?.[kind];
      if (lines?.length) body = addMediaLines(body, kind, lines);
    }
    return replaceSipBody(raw, body);
  }

  private onSipMessage(tap: SipTapMessage): void {
    const message = readSipMessage(tap.raw);
    if (!message.callId) return;
    if (message.cseqMethod && !NOT_CALL_METHODS.has(message.cseqMethod)) {
      this.emit({ type: 'sip', agentId: this.agentId, atMs: tap.atMs, sent: tap.sent, sipCallId: message.callId, raw: redactAuthorizationHeaders(tap.raw) });
    }
    if (message.cseqMethod !== 'INVITE') return;
    const leg = this.legsByCallId.get(message.callId);
    if (!leg) return;
    const atMs = tap.atMs;
    if (tap.sent && message.method === 'INVITE' && !message.hasToTag) {
      this.emit({ type: 'inviteSent', legId: leg.legId, atMs, bytes: tap.bytes });
    }
    const isOffer = message.method === 'INVITE';
    const isAnswer = message.status !== undefined && message.status >= 200 && message.status < 300;
    // A callee's leg is established by the time its 200 OK passes the tap: its first answer still counts (re-INVITEs' do not).
    const calleeAnswer = isAnswer && tap.sent && leg.direction === 'incoming';
    const initial = !leg.established || (calleeAnswer && !this.answerRecorded.has(leg));
    if (message.body && (isOffer || isAnswer) && initial) {
      if (calleeAnswer) this.answerRecorded.add(leg);
      this.emit({ type: 'sdp', legId: leg.legId, atMs, sent: tap.sent, offer: isOffer, bytes: tap.bytes, sdp: message.body });
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

interface ExtraSdp {
  extraSdp?: string[];
  extraMediaSdp?: { audio?: string[]; video?: string[] };
}

/** The extra SDP a call or answer command asks for, or undefined when none. */
function extraSdpOf(command: ExtraSdp): ExtraSdp | undefined {
  const any = Boolean(command.extraSdp?.length || command.extraMediaSdp?.audio?.length || command.extraMediaSdp?.video?.length);
  return any ? { ...(command.extraSdp ? { extraSdp: command.extraSdp } : {}), ...(command.extraMediaSdp ? { extraMediaSdp: command.extraMediaSdp } : {}) } : undefined;
}
