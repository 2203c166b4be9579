import { Invitation, Inviter, Messager, Registerer, RegistererState, UserAgent, Web } from 'sip.js';
import type { CallCommand, CreateAgentCommand, PageConfig } from '../protocol/commands.js';
import { Leg, type Emit } from './leg.js';
import type { SharedCapture } from './mediaCapture.js';
import { addSessionLines } from './sdp.js';
import { codecModifiers } from './sdpModifiers.js';
import { readSipMessage, replaceSipBody, TappedTransport, type SipTapMessage } from './sipTap.js';

export interface LegRegistry {
  add(leg: Leg): void;
  remove(leg: Leg): void;
  nextIncomingLegId(agentId: string): string;
}

/**
 * One SIP.js user agent in the page: registration, outgoing and incoming
 * calls, MESSAGE. Several share a page and its one media capture.
 */
export class AgentHost {
  readonly ua: UserAgent;
  private readonly registerer: Registerer;
  private readonly transport: TappedTransport;
  /** Legs of this agent by SIP Call-ID, to attribute what the tap sees. */
  private readonly legsByCallId = new Map<string, Leg>();
  /** Extra SDP lines to add on the wire, keyed by Call-ID: for the INVITE (caller) or the 200 OK (callee). */
  private readonly extraSdpByCallId = new Map<string, string[]>();

  constructor(
    readonly command: CreateAgentCommand,
    private readonly config: PageConfig,
    capture: SharedCapture,
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
      sessionDescriptionHandlerFactory: Web.defaultSessionDescriptionHandlerFactory((constraints) => capture.streamFor(constraints)),
      sessionDescriptionHandlerFactoryOptions: {
        iceGatheringTimeout: config.iceGatheringTimeoutMs,
        // rtpengine answers without a=group:BUNDLE, which Chrome rejects under max-bundle.
        peerConnectionConfiguration: { iceServers: config.iceServers, bundlePolicy: 'balanced' },
      },
      logBuiltinEnabled: false,
      logLevel: 'error',
      logConnector: (level, category, label, content) => {
        if (level === 'error') this.emit({ type: 'log', atMs: Date.now(), level: 'error', message: `${command.agentId} ${category}: ${content}` });
      },
      delegate: {
        onConnect: () => this.emit({ type: 'transport', agentId: command.agentId, atMs: Date.now(), state: 'connected' }),
        onDisconnect: (error) => {
          for (const leg of this.legsByCallId.values()) leg.markTransportLost();
          this.emit({ type: 'transport', agentId: command.agentId, atMs: Date.now(), state: 'disconnected', error: error?.message });
        },
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

  async register(): Promise<void> {
    try {
      if (!this.ua.isConnected()) await this.ua.start();
    } catch (error) {
      this.emit({ type: 'registrationFailed', agentId: this.agentId, atMs: Date.now(), reason: `transport: ${errorText(error)}` });
      return;
    }
    await this.registerer.register({
      requestDelegate: {
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
  }

  async unregister(): Promise<void> {
    if (this.registerer.state === RegistererState.Registered) await this.registerer.unregister();
  }

  async call(command: CallCommand): Promise<void> {
    if (!this.ua.isConnected()) await this.ua.start();
    const target = UserAgent.makeURI(command.target);
    if (!target) throw new Error(`invalid SIP URI ${command.target}`);
    const modifiers = codecModifiers(command.codecs);
    const inviter = new Inviter(this.ua, target, {
      sessionDescriptionHandlerOptions: { constraints: { audio: command.audio, video: command.video } } as object,
      sessionDescriptionHandlerModifiers: modifiers,
      sessionDescriptionHandlerModifiersReInvite: modifiers,
      extraHeaders: command.headers,
    });
    const leg = this.track(command.legId, 'outgoing', inviter);
    if (command.extraSdp?.length) this.extraSdpByCallId.set(inviter.request.callId, command.extraSdp);
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
  async answer(leg: Leg, options: { audio: boolean; video: boolean; codecs?: string[]; extraSdp?: string[] }): Promise<void> {
    if (options.extraSdp?.length) this.extraSdpByCallId.set(leg.sipCallId, options.extraSdp);
    await leg.answer({ audio: options.audio, video: options.video, modifiers: codecModifiers(options.codecs) });
  }

  async message(requestId: string, target: string, body: string, contentType: string): Promise<void> {
    if (!this.ua.isConnected()) await this.ua.start();
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
    for (const leg of [...this.legsByCallId.values()]) await leg.hangup().catch(() => undefined);
    await this.unregister().catch(() => undefined);
    await this.ua.stop().catch(() => undefined);
    for (const leg of [...this.legsByCallId.values()]) leg.finish();
  }

  private onInvite(invitation: Invitation): void {
    const legId = this.legs.nextIncomingLegId(this.agentId);
    this.track(legId, 'incoming', invitation);
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
    const leg = new Leg(legId, this.agentId, direction, session, callId, this.emit, this.config.playReceivedAudio, (ended) => {
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
    const lines = this.extraSdpByCallId.get(message.callId);
    if (!lines) return raw;
    const leg = this.legsByCallId.get(message.callId);
    const initialInvite = message.method === 'INVITE' && !message.hasToTag && leg?.direction === 'outgoing';
    const okToInvite = message.status !== undefined && message.status >= 200 && message.status < 300 && leg?.direction === 'incoming' && !leg.established;
    if (!initialInvite && !okToInvite) return raw;
    return replaceSipBody(raw, addSessionLines(message.body, lines));
  }

  private onSipMessage(tap: SipTapMessage): void {
    const message = readSipMessage(tap.raw);
    if (!message.callId || message.cseqMethod !== 'INVITE') return;
    const leg = this.legsByCallId.get(message.callId);
    if (!leg) return;
    const atMs = Date.now();
    if (tap.sent && message.method === 'INVITE' && !message.hasToTag) {
      this.emit({ type: 'inviteSent', legId: leg.legId, atMs, bytes: tap.bytes });
    }
    const isOffer = message.method === 'INVITE';
    const isAnswer = message.status !== undefined && message.status >= 200 && message.status < 300;
    if (message.body && (isOffer || isAnswer) && !leg.established) {
      this.emit({ type: 'sdp', legId: leg.legId, atMs, sent: tap.sent, offer: isOffer, bytes: tap.bytes, sdp: message.body });
    }
  }
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
