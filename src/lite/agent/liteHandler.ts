import type { BodyAndContentType, SessionDescriptionHandler, SessionDescriptionHandlerModifier, SessionDescriptionHandlerOptions } from 'sip.js';
import type { GatheringOutcome } from '../../agent/gatheringHandler.js';
import type { LegMediaHooks } from '../../agent/legMedia.js';
import { LiteMediaSession, type Direction, type LiteMediaOptions } from '../liteMedia.js';

/** Options SIP.js hands the handler: constraints, and callwright's hold and receiveOnly beside them. */
interface LiteOptions extends SessionDescriptionHandlerOptions {
  constraints?: { audio?: boolean; video?: boolean };
  hold?: boolean;
  receiveOnly?: boolean;
}

/**
 * SIP.js's session description handler for a lite agent: the offer or answer
 * comes from the leg's LiteMediaSession (node-datachannel underneath, shaped as
 * Chrome's), the far end's goes to it. Modifiers (codec allow-lists, ptime) run
 * on both, as SIP.js's own handler does, so a restricted offer and the codec
 * the session sends agree. Audio only: a lite agent has no camera.
 */
export class LiteSessionDescriptionHandler implements SessionDescriptionHandler {
  readonly media: LiteMediaSession;
  /** Set by the leg's LiteLegMedia when SIP.js hands the handler to the session. */
  hooks: LegMediaHooks | undefined;
  /** As RTCPeerConnection's signalingState: whose offer is out. */
  private signaling: 'stable' | 'have-local-offer' | 'have-remote-offer' = 'stable';
  /** The far end's offer waiting for our answer. */
  private pendingOffer = '';
  /** Our first description went out: the next offers are re-offers on the same transport. */
  private negotiated = false;
  /** Receive-only, latched from the first options that say so (re-INVITEs bring options of their own). */
  private receiveOnly = false;

  constructor(options: Omit<LiteMediaOptions, 'onTransport' | 'onFirstMedia' | 'onDtmf'>) {
    this.media = new LiteMediaSession({
      ...options,
      onTransport: (layer, state) => this.hooks?.transport(layer, state),
      onFirstMedia: () => this.hooks?.firstMedia('audio'),
      onDtmf: (tone) => this.hooks?.dtmfReceived(tone),
    });
  }

  async getDescription(options?: LiteOptions, modifiers?: SessionDescriptionHandlerModifier[]): Promise<BodyAndContentType> {
    if (options?.constraints?.video) throw new Error('lite agents carry audio only: use agent: browser for video calls');
    if (options?.receiveOnly) this.receiveOnly = true;
    const startedMs = performance.now();
    let sdp: string;
    if (this.signaling === 'have-remote-offer') {
      sdp = await this.media.acceptOffer(this.pendingOffer, this.wantedDirection(options));
      this.signaling = 'stable';
    } else {
      sdp = this.negotiated ? this.media.reOffer(this.wantedDirection(options)) : await this.media.createOffer(this.wantedDirection(options));
      this.signaling = 'have-local-offer';
    }
    const first = !this.negotiated;
    this.negotiated = true;
    sdp = await applyModifiers(sdp, this.signaling === 'stable' ? 'answer' : 'offer', modifiers);
    if (first) this.hooks?.gathered(gatheringOf(sdp, performance.now() - startedMs));
    return { body: sdp, contentType: 'application/sdp' };
  }

  hasDescription(contentType: string): boolean {
    return contentType === 'application/sdp';
  }

  async setDescription(sdp: string, _options?: LiteOptions, modifiers?: SessionDescriptionHandlerModifier[]): Promise<void> {
    if (this.signaling === 'have-local-offer') {
      // The answer to our offer.
      await this.media.setRemoteAnswer(await applyModifiers(sdp, 'answer', modifiers));
      this.signaling = 'stable';
    } else {
      // An offer: SIP.js asks for our answer next.
      this.pendingOffer = await applyModifiers(sdp, 'offer', modifiers);
      this.signaling = 'have-remote-offer';
    }
  }

  sendDtmf(): boolean {
    // Leg sends RFC 4733 through LiteLegMedia, which reports the burst; SIP.js's path is not used.
    return false;
  }

  rollbackDescription(): Promise<void> {
    this.pendingOffer = '';
    this.signaling = 'stable';
    return Promise.resolve();
  }

  close(): void {
    this.media.close();
  }

  private wantedDirection(options: LiteOptions | undefined): Direction {
    const held = options?.hold === true;
    if (this.receiveOnly) return held ? 'inactive' : 'recvonly';
    return held ? 'sendonly' : 'sendrecv';
  }
}

/** SIP.js's modifiers take and give an RTCSessionDescriptionInit: run them over our text. */
async function applyModifiers(sdp: string, type: 'offer' | 'answer', modifiers: SessionDescriptionHandlerModifier[] | undefined): Promise<string> {
  let description = { type, sdp } as { type: 'offer' | 'answer'; sdp?: string };
  for (const modifier of modifiers ?? []) description = (await modifier(description)) as typeof description;
  return description.sdp ?? sdp;
}

/** The lite agent gathers loopback host candidates only, all at once: its outcome is read off the description. */
function gatheringOf(sdp: string, durationMs: number): GatheringOutcome {
  const candidates = sdp.split(/\r?\n/).filter((line) => line.startsWith('a=candidate:'));
  const types = [...new Set(candidates.map((line) => / typ (\S+)/.exec(line)?.[1] ?? 'unknown'))];
  return { durationMs, candidates: candidates.length, candidateTypes: types, endedBy: 'complete', missingMids: candidates.length ? [] : ['0'] };
}
