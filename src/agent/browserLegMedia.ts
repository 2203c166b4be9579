import { Web } from 'sip.js';
import type { PageConfig } from '../protocol/commands.js';
import type { MediaSample } from '../protocol/events.js';
import { GatheringSessionDescriptionHandler, gatheringHandlerFactory } from './gatheringHandler.js';
import type { DtmfWindow, LegMedia, LegMediaHooks, MediaBackend } from './legMedia.js';
import type { SharedCapture } from './mediaCapture.js';
import { playsReceivedAudio } from './playout.js';
import { readMediaSample } from './statsReader.js';

/** A page's legs: Chromium's peer connections, the page's one capture, received audio played as configured. */
export function browserMediaBackend(config: PageConfig, capture: SharedCapture): MediaBackend {
  return {
    sessionDescriptionHandlerFactory: gatheringHandlerFactory((constraints) => capture.streamFor(constraints), {
      mode: config.iceGatheringMode,
      timeoutMs: config.iceGatheringTimeoutMs,
      // rtpengine answers without a=group:BUNDLE, which Chrome rejects under max-bundle.
      peerConnectionConfiguration: { iceServers: config.iceServers, iceTransportPolicy: config.iceTransportPolicy ?? 'all', bundlePolicy: 'balanced' },
    }),
    legMedia: (legId) => new BrowserLegMedia(playsReceivedAudio(config, legId)),
  };
}

/**
 * One leg's media in Chromium: its peer connection watched for the transport
 * timeline and first media, the remote audio played (so it is decoded and
 * its level measured), getStats sampled, DTMF and faults on its senders.
 */
export class BrowserLegMedia implements LegMedia {
  private sdh: Web.SessionDescriptionHandler | undefined;
  private player: HTMLAudioElement | undefined;
  private readonly firstMediaSeen = new Set<string>();
  private readonly watchedDtls = new Set<RTCDtlsTransport>();
  /** The senders a 'stop' fault took the track off, by kind, with the track to put back on 'restore'. */
  private readonly stopped = new Map<'audio' | 'video', { sender: RTCRtpSender; track: MediaStreamTrack }>();

  constructor(private readonly playReceivedAudio: boolean) {}

  attach(handler: unknown, hooks: LegMediaHooks): void {
    const sdh = handler as Web.SessionDescriptionHandler;
    this.sdh = sdh;
    if (sdh instanceof GatheringSessionDescriptionHandler) sdh.onGathered = (outcome) => hooks.gathered(outcome);
    const pc = sdh.peerConnection;
    if (pc) {
      // Listeners beside SIP.js's own on* handlers: the leg's transport timeline.
      pc.addEventListener('iceconnectionstatechange', () => {
        hooks.transport('ice', pc.iceConnectionState);
        this.watchDtls(pc, hooks);
      });
      pc.addEventListener('connectionstatechange', () => hooks.transport('connection', pc.connectionState));
    }
    sdh.peerConnectionDelegate = {
      ontrack: (event: RTCTrackEvent) => {
        const track = event.track;
        const seen = () => {
          if (this.firstMediaSeen.has(track.kind)) return;
          this.firstMediaSeen.add(track.kind);
          hooks.firstMedia(track.kind === 'video' ? 'video' : 'audio');
        };
        // A remote track unmutes when its first RTP packet arrives.
        if (!track.muted) seen();
        else track.addEventListener('unmute', seen, { once: true });
        if (track.kind === 'audio' && this.playReceivedAudio) this.play(sdh.remoteMediaStream);
      },
    };
  }

  async sendRfc4733(tones: string, durationMs: number, gapMs: number, onTone: (tone: string) => void): Promise<DtmfWindow> {
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
          onTone(event.tone);
        }
      };
    });
    const before = await outboundAudio(sender);
    dtmf.insertDTMF(tones, durationMs, gapMs);
    await done;
    const after = await outboundAudio(sender);
    // RFC 4733 events replace audio packets while a tone plays: their 4-byte
    // payloads show in the outbound counters, the proof they were sent.
    return { packetsSent: after.packetsSent - before.packetsSent, payloadBytesSent: after.bytesSent - before.bytesSent, seconds: (after.atMs - before.atMs) / 1000 };
  }

  setHeld(held: boolean): void {
    // As SIP.js's SessionManager does: held legs neither send nor play.
    this.sdh?.enableSenderTracks(!held);
    this.sdh?.enableReceiverTracks(!held);
  }

  /**
   * Fault injection on the audio or video sender: 'stop' takes the track off it
   * (no RTP at all; for video no frames, which the far end sees as a freeze once
   * they resume), 'silence' disables it (Chromium keeps sending packets of
   * silence, or black frames), 'restore' undoes both.
   */
  async fault(fault: 'stop' | 'silence' | 'restore', kind: 'audio' | 'video'): Promise<void> {
    const stopped = this.stopped.get(kind);
    const sender = stopped?.sender ?? this.peerConnection()?.getSenders().find((s) => s.track?.kind === kind);
    if (!sender) throw new Error(`this leg has no ${kind} sender`);
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

  async sample(): Promise<MediaSample | undefined> {
    const pc = this.peerConnection();
    if (!pc || pc.connectionState === 'closed') return undefined;
    const sample = readMediaSample(await pc.getStats());
    if (!this.playReceivedAudio && sample.audioIn) {
      // Not played, so not decoded: Chromium reports zero energy and no samples, which would read as silence.
      delete sample.audioIn.audioLevel;
      delete sample.audioIn.totalAudioEnergy;
      delete sample.audioIn.totalSamplesReceived;
      delete sample.audioIn.concealedSamples;
    }
    return sample;
  }

  close(): void {
    this.player?.remove();
    this.player = undefined;
  }

  private peerConnection(): RTCPeerConnection | undefined {
    return this.sdh?.peerConnection;
  }

  /** DTLS transports exist once descriptions are set; ICE starting is the moment to look for them. */
  private watchDtls(pc: RTCPeerConnection, hooks: LegMediaHooks): void {
    const transports = [...pc.getSenders(), ...pc.getReceivers()].map((x) => x.transport).filter((t): t is RTCDtlsTransport => t !== null);
    for (const transport of transports) {
      if (this.watchedDtls.has(transport)) continue;
      this.watchedDtls.add(transport);
      if (transport.state !== 'new') hooks.transport('dtls', transport.state);
      transport.addEventListener('statechange', () => hooks.transport('dtls', transport.state));
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

async function outboundAudio(sender: RTCRtpSender): Promise<{ packetsSent: number; bytesSent: number; atMs: number }> {
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
