import type { DtmfWindow, LegMedia, LegMediaHooks, MediaBackend } from '../../agent/legMedia.js';
import type { MediaSample } from '../../protocol/events.js';
import type { LiteMediaOptions } from '../liteMedia.js';
import { LiteSessionDescriptionHandler } from './liteHandler.js';

type SessionOptions = Omit<LiteMediaOptions, 'onTransport' | 'onFirstMedia' | 'onDtmf'>;

/** A lite agent process's legs: each session's media is a LiteMediaSession sending the fixture's frames. */
export function liteMediaBackend(options: SessionOptions): MediaBackend {
  return {
    sessionDescriptionHandlerFactory: () => new LiteSessionDescriptionHandler(options),
    legMedia: () => new LiteLegMedia(),
  };
}

/**
 * One lite leg's media as the leg sees it: RFC 4733 from the session's own
 * RTP, hold and faults as sending paused or silent, counters read from the
 * session (no getStats: the session counts what it sends and receives).
 */
export class LiteLegMedia implements LegMedia {
  private handler: LiteSessionDescriptionHandler | undefined;
  private held = false;
  private faulted: 'stop' | 'silence' | undefined;

  attach(sessionDescriptionHandler: unknown, hooks: LegMediaHooks): void {
    if (!(sessionDescriptionHandler instanceof LiteSessionDescriptionHandler)) return;
    this.handler = sessionDescriptionHandler;
    sessionDescriptionHandler.hooks = hooks;
  }

  sendRfc4733(tones: string, durationMs: number, gapMs: number, onTone: (tone: string) => void): Promise<DtmfWindow> {
    if (!this.handler) return Promise.reject(new Error('no media on this leg yet'));
    return this.handler.media.sendDtmf(tones, durationMs, gapMs, onTone);
  }

  setHeld(held: boolean): void {
    // As Chrome with SIP.js's hold (sender track disabled): packets of silence go on while held; a fault set meanwhile wins.
    this.held = held;
    this.apply();
  }

  fault(fault: 'stop' | 'silence' | 'restore', kind: 'audio' | 'video'): Promise<void> {
    if (kind === 'video') return Promise.reject(new Error('lite agents carry audio only'));
    if (!this.handler) return Promise.reject(new Error('no media on this leg yet'));
    this.faulted = fault === 'restore' ? undefined : fault;
    this.apply();
    return Promise.resolve();
  }

  sample(): Promise<MediaSample | undefined> {
    return Promise.resolve(this.handler?.media.sample());
  }

  close(): void {
    // The session closes with its description handler (SIP.js calls close()).
  }

  private apply(): void {
    const media = this.handler?.media;
    if (!media) return;
    if (this.faulted) media.setFault(this.faulted);
    else media.setFault(this.held ? 'silence' : 'restore');
  }
}
