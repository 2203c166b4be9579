import { Web, type Session, type SessionDescriptionHandlerFactory } from 'sip.js';
import { candidateCoverage, usableCandidateTypes } from './iceCandidates.js';

export type IceGatheringMode = 'usable' | 'complete';

/**
 * Once every section is covered, candidates still arriving this soon are waited
 * for: Chromium finds all host interfaces at nearly the same moment, and a
 * description with all of them survives an interface the far end cannot reach.
 */
const SETTLE_AFTER_USABLE_MS = 20;

/** A STUN or TURN server's failure as Chromium reports it (icecandidateerror): 401 refused credentials, 701 no connection or answer... */
export interface IceServerError {
  url: string;
  errorCode: number;
  errorText: string;
}

export interface GatheringOutcome {
  durationMs: number;
  candidates: number;
  candidateTypes: string[];
  endedBy: 'complete' | 'usable' | 'timeout' | 'fixed';
  missingMids: string[];
  /** setLocalDescription -> first relay candidate: the TURN allocation, its 401 challenge round trip included. */
  relayAllocationMs?: number;
  /** STUN/TURN servers that failed during this gathering; absent when none did. */
  iceServerErrors?: IceServerError[];
  /** The peer connection takes relay candidates only (iceTransportPolicy relay). */
  relayOnly?: true;
}

/** What one gathering saw of the ICE servers, from setLocalDescription on. */
interface ServerWatch {
  relayAtMs?: number;
  errors: Map<string, IceServerError>;
}

/** A description that would leave with a media section no candidate reaches: it could never carry media. */
export class NoCandidateError extends Error {
  constructor(readonly outcome: GatheringOutcome) {
    super(`ICE gathering found no usable candidate for media section(s) ${outcome.missingMids.join(', ')} within ${outcome.durationMs.toFixed(0)} ms (${outcome.candidates} candidates)`);
    this.name = 'NoCandidateError';
  }
}

/**
 * SIP.js's session description handler with callwright's ICE gathering: in
 * 'usable' mode the offer or answer leaves as soon as every media section has
 * a usable candidate (or gathering completes), within an upper bound; in
 * 'complete' mode it waits for completion up to the bound (SIP.js's own rule,
 * a fixed timeout). Either way a description with a section no candidate
 * reaches is refused with NoCandidateError, and every gathering is reported.
 */
export class GatheringSessionDescriptionHandler extends Web.SessionDescriptionHandler {
  /** Set by the leg that owns this handler: told of every gathering. */
  onGathered: ((outcome: GatheringOutcome) => void) | undefined;

  constructor(
    logger: ConstructorParameters<typeof Web.SessionDescriptionHandler>[0],
    mediaStreamFactory: Web.MediaStreamFactory,
    configuration: Web.SessionDescriptionHandlerConfiguration,
    private readonly mode: IceGatheringMode,
    private readonly usableTypes: readonly string[],
  ) {
    super(logger, mediaStreamFactory, configuration);
  }

  /**
   * A listen-only leg (options.receiveOnly): which media it receives. Latched from the first
   * options that say so, since re-INVITEs (hold) come with options of their own.
   */
  private receiveOnly: { audio: boolean; video: boolean } | undefined;

  /** A receive-only leg captures nothing: no getUserMedia, no sender track. */
  protected override getLocalMediaStream(options?: Web.SessionDescriptionHandlerOptions): Promise<void> {
    const asked = receiveOnlyOf(options);
    if (asked) this.receiveOnly = asked;
    return this.receiveOnly ? Promise.resolve() : super.getLocalMediaStream(options);
  }

  /**
   * SIP.js picks each transceiver's direction from the hold state and the offer; a receive-only
   * leg then never sends: sendrecv becomes recvonly, sendonly inactive. Its first offer needs
   * transceivers of its own (there is no track to add): recvonly, one per medium.
   */
  protected override async updateDirection(options?: Web.SessionDescriptionHandlerOptions): Promise<void> {
    const pc = this.peerConnection;
    const wanted = this.receiveOnly;
    if (pc && wanted && pc.signalingState === 'stable') {
      for (const kind of ['audio', 'video'] as const) {
        if (wanted[kind] && !pc.getTransceivers().some((t) => t.receiver.track.kind === kind)) pc.addTransceiver(kind, { direction: 'recvonly' });
      }
    }
    await super.updateDirection(options);
    if (!pc || !wanted) return;
    for (const transceiver of pc.getTransceivers()) {
      if (transceiver.currentDirection === 'stopped' || transceiver.direction === 'stopped') continue;
      const receives = transceiver.direction === 'sendrecv' || transceiver.direction === 'recvonly';
      const direction = receives && wanted[transceiver.receiver.track.kind as 'audio' | 'video'] ? 'recvonly' : 'inactive';
      if (transceiver.direction !== direction) transceiver.direction = direction;
    }
  }

  /** Gathering starts with setLocalDescription; it may even complete before the wait begins. */
  private gatheringStartedMs: number | undefined;
  /** Relay candidates and server errors of the current gathering. */
  private servers: ServerWatch = { errors: new Map() };
  private watchedConnection: RTCPeerConnection | undefined;

  protected override setLocalSessionDescription(sessionDescription: RTCSessionDescriptionInit): Promise<void> {
    this.gatheringStartedMs = performance.now();
    this.servers = { errors: new Map() };
    this.watchIceServers();
    return super.setLocalSessionDescription(sessionDescription);
  }

  /** Listens once per peer connection for the first relay candidate and for STUN/TURN server errors, which SIP.js ignores. */
  private watchIceServers(): void {
    const pc = this.peerConnection;
    if (!pc || this.watchedConnection === pc) return;
    this.watchedConnection = pc;
    pc.addEventListener('icecandidate', (event) => {
      const candidate = event.candidate;
      if (candidate && (candidate.type ?? / typ (\S+)/.exec(candidate.candidate)?.[1]) === 'relay') this.servers.relayAtMs ??= performance.now();
    });
    pc.addEventListener('icecandidateerror', (event) => {
      const { url, errorCode, errorText } = event as RTCPeerConnectionIceErrorEvent;
      // Each host interface reports the same failure: one per server and code is enough.
      const key = `${url} ${errorCode}`;
      if (!this.servers.errors.has(key)) this.servers.errors.set(key, { url, errorCode, errorText: errorText.slice(0, 120) });
    });
  }

  protected override async waitForIceGatheringComplete(restart = false, timeout = 0): Promise<void> {
    const pc = this.peerConnection;
    const startedMs = this.gatheringStartedMs ?? performance.now();
    this.gatheringStartedMs = undefined;
    let endedBy: GatheringOutcome['endedBy'] = 'complete';
    let timedOut = false;
    const timer = timeout > 0 ? setTimeout(() => (timedOut = true), timeout) : undefined;
    const coverage = () => candidateCoverage(pc?.localDescription?.sdp ?? '', this.usableTypes);
    let settle: ReturnType<typeof setTimeout> | undefined;
    const checkUsable = () => {
      if (this.mode !== 'usable' || settle !== undefined || pc?.iceGatheringState === 'complete') return;
      if (coverage().missing.length === 0) {
        settle = setTimeout(() => {
          if (pc?.iceGatheringState === 'complete') return;
          endedBy = 'usable';
          // SIP.js's documented hook for a completion strategy of one's own: stop waiting now.
          this.iceGatheringComplete();
        }, SETTLE_AFTER_USABLE_MS);
      }
    };
    pc?.addEventListener('icecandidate', checkUsable);
    try {
      const waiting = super.waitForIceGatheringComplete(restart, timeout);
      checkUsable();
      await waiting;
    } finally {
      pc?.removeEventListener('icecandidate', checkUsable);
      clearTimeout(timer);
      clearTimeout(settle);
    }
    if (endedBy === 'complete' && timedOut && pc?.iceGatheringState !== 'complete') endedBy = this.mode === 'usable' ? 'timeout' : 'fixed';
    const seen = coverage();
    const { relayAtMs, errors } = this.servers;
    const outcome: GatheringOutcome = {
      durationMs: performance.now() - startedMs,
      candidates: seen.candidates,
      candidateTypes: seen.types,
      endedBy,
      // Only a section with no candidate at all is unusable; fewer than hoped (host without srflx) still connects on a LAN.
      missingMids: candidateCoverage(pc?.localDescription?.sdp ?? '', ['host', 'srflx', 'prflx', 'relay', 'unknown']).missing,
      ...(relayAtMs === undefined ? {} : { relayAllocationMs: Math.max(0, relayAtMs - startedMs) }),
      ...(errors.size === 0 ? {} : { iceServerErrors: [...errors.values()] }),
      ...(pc?.getConfiguration().iceTransportPolicy === 'relay' ? { relayOnly: true as const } : {}),
    };
    this.onGathered?.(outcome);
    if (outcome.missingMids.length > 0) throw new NoCandidateError(outcome);
  }
}

/** Options carry `receiveOnly: true` beside the constraints (see AgentHost): the media to receive are those asked for. */
function receiveOnlyOf(options: Web.SessionDescriptionHandlerOptions | undefined): { audio: boolean; video: boolean } | undefined {
  if ((options as { receiveOnly?: unknown } | undefined)?.receiveOnly !== true) return undefined;
  const constraints = options?.constraints ?? {};
  return { audio: Boolean(constraints.audio), video: Boolean(constraints.video) };
}

export interface GatheringFactoryOptions {
  mode: IceGatheringMode;
  /** Upper bound in 'usable' mode, the fixed cut-off in 'complete' mode. */
  timeoutMs: number;
  peerConnectionConfiguration: RTCConfiguration;
}

/** SIP.js's default factory, building GatheringSessionDescriptionHandlers. */
export function gatheringHandlerFactory(mediaStreamFactory: Web.MediaStreamFactory, options: GatheringFactoryOptions): SessionDescriptionHandlerFactory {
  const usableTypes = usableCandidateTypes(options.peerConnectionConfiguration.iceServers ?? [], options.peerConnectionConfiguration.iceTransportPolicy === 'relay');
  return (session: Session) =>
    new GatheringSessionDescriptionHandler(
      session.userAgent.getLogger('sip.SessionDescriptionHandler'),
      mediaStreamFactory,
      {
        iceGatheringTimeout: options.timeoutMs,
        peerConnectionConfiguration: { ...Web.defaultPeerConnectionConfiguration(), ...options.peerConnectionConfiguration },
      },
      options.mode,
      usableTypes,
    );
}
