import type { InboundVideo, MediaSample, OutboundVideo } from '../protocol/events.js';
import type { CallResult, LegSample } from '../results.js';

/** One direction's video over a stats interval, from two cumulative samples. */
export interface VideoRates {
  /** Frames decoded (received) or encoded (sent) per second. */
  framesPerSecond: number;
  /** RTP payload kilobits per second (bytesReceived / bytesSent, so no headers or padding). */
  kbps: number;
}

/**
 * A counter that went down belongs to a new stream (renegotiation, new SSRC)
 * counting from zero again: the whole new value is what was added.
 */
export function counterIncrease(before: number | undefined, after: number): number {
  return before === undefined || after < before ? after : after - before;
}

export function videoRates(
  before: { frames: number; bytes: number } | undefined,
  after: { frames: number; bytes: number },
  seconds: number,
): VideoRates {
  const span = Math.max(0.001, seconds);
  return {
    framesPerSecond: counterIncrease(before?.frames, after.frames) / span,
    kbps: (counterIncrease(before?.bytes, after.bytes) * 8) / 1000 / span,
  };
}

export const receivedCounters = (video: InboundVideo) => ({ frames: video.framesDecoded, bytes: video.bytesReceived });
export const sentCounters = (video: OutboundVideo) => ({ frames: video.framesEncoded, bytes: video.bytesSent });

interface TimedSample {
  atMs: number;
  sample: MediaSample;
}

/**
 * A leg's received video over the whole call: its freezes with their time, and
 * what it received in total for per-call means.
 *
 * getStats counts a freeze when the frame that ends it is rendered, and adds
 * its length to totalFreezesDuration then: a rise of freezeCount between two
 * samples says a freeze ended between them. It began that long before it
 * ended, so its time is taken as the midpoint of the two samples minus the
 * freeze seconds added: within half a stats interval of the truth (two freezes
 * in one interval make it the earlier bound).
 */
export class ReceivedVideo {
  /** Some sample of the leg showed received video. */
  seen = false;
  /** The browser reports freezes (freezeCount) for this leg's video. */
  freezesReported = false;
  freezes = 0;
  freezeSeconds = 0;
  firstFreezeAtMs: number | undefined;
  /** Totals over the intervals between consecutive samples that both had received video. */
  private sampledSeconds = 0;
  private frames = 0;
  private bytes = 0;
  /** The last received frame size. */
  width: number | undefined;
  height: number | undefined;

  observe(before: TimedSample | undefined, now: TimedSample): void {
    const video = now.sample.videoIn;
    if (!video) return;
    this.seen = true;
    if (video.frameWidth !== undefined && video.frameHeight !== undefined) {
      this.width = video.frameWidth;
      this.height = video.frameHeight;
    }
    const earlier = before?.sample.videoIn;
    if (video.freezeCount !== undefined) {
      this.freezesReported = true;
      const added = counterIncrease(earlier?.freezeCount, video.freezeCount);
      const addedSeconds = video.totalFreezesSeconds === undefined ? 0 : counterIncrease(earlier?.totalFreezesSeconds, video.totalFreezesSeconds);
      if (added > 0) {
        const endedAtMs = before === undefined ? now.atMs : (before.atMs + now.atMs) / 2;
        this.firstFreezeAtMs ??= endedAtMs - addedSeconds * 1000;
        this.freezes += added;
        this.freezeSeconds += addedSeconds;
      }
    }
    if (before !== undefined && earlier !== undefined && now.atMs > before.atMs) {
      this.sampledSeconds += (now.atMs - before.atMs) / 1000;
      this.frames += counterIncrease(earlier.framesDecoded, video.framesDecoded);
      this.bytes += counterIncrease(earlier.bytesReceived, video.bytesReceived);
    }
  }

  /** Frames per second received over the sampled intervals; undefined before a whole interval with video. */
  get meanFps(): number | undefined {
    return this.sampledSeconds > 0 ? this.frames / this.sampledSeconds : undefined;
  }

  get meanKbps(): number | undefined {
    return this.sampledSeconds > 0 ? (this.bytes * 8) / 1000 / this.sampledSeconds : undefined;
  }
}

type VideoSampleFields = Pick<
  LegSample,
  | 'videoWidthIn'
  | 'videoHeightIn'
  | 'videoFpsIn'
  | 'videoKbpsIn'
  | 'videoFreezes'
  | 'videoFreezeSeconds'
  | 'videoKeyframesIn'
  | 'videoPliSent'
  | 'videoNackSent'
  | 'videoWidthOut'
  | 'videoHeightOut'
  | 'videoFpsOut'
  | 'videoKbpsOut'
  | 'videoPliReceived'
  | 'videoQualityLimitation'
>;

/**
 * samples.csv's video columns of one sample: empty (undefined) for a direction
 * with no video stream, never zeros made up for an audio-only leg. Frame rate
 * and bitrate are over the last interval (the browser's framesPerSecond until
 * there is one).
 */
export function videoSampleFields(sample: MediaSample, rates: { videoIn?: VideoRates; videoOut?: VideoRates } | undefined): VideoSampleFields {
  const fields: VideoSampleFields = {};
  const received = sample.videoIn;
  if (received) {
    fields.videoWidthIn = received.frameWidth;
    fields.videoHeightIn = received.frameHeight;
    fields.videoFpsIn = rates?.videoIn?.framesPerSecond ?? received.framesPerSecond;
    fields.videoKbpsIn = rates?.videoIn?.kbps;
    fields.videoFreezes = received.freezeCount;
    fields.videoFreezeSeconds = received.totalFreezesSeconds;
    fields.videoKeyframesIn = received.keyFramesDecoded;
    fields.videoPliSent = received.pliCount;
    fields.videoNackSent = received.nackCount;
  }
  const sent = sample.videoOut;
  if (sent) {
    fields.videoWidthOut = sent.frameWidth;
    fields.videoHeightOut = sent.frameHeight;
    fields.videoFpsOut = rates?.videoOut?.framesPerSecond ?? sent.framesPerSecond;
    fields.videoKbpsOut = rates?.videoOut?.kbps;
    fields.videoPliReceived = sent.pliCount;
    fields.videoQualityLimitation = sent.qualityLimitationReason;
  }
  return fields;
}

type CallVideoFields = Pick<CallResult, 'videoFpsIn' | 'videoResolutionIn' | 'videoKbpsIn' | 'videoFreezes' | 'videoFreezeSeconds' | 'videoFirstFreezeAtSeconds'>;

/**
 * calls.csv's video summary: each figure is the worse leg's among the legs that
 * received video, as calls.csv's audio figures are (lowest mean frame rate and
 * bitrate, smallest last resolution, most freezes and freeze seconds, earliest
 * first freeze). Empty for a call where no leg received video.
 */
export function callVideoSummary(legs: readonly { receivedVideo: ReceivedVideo; establishedAtMs?: number | undefined }[], callEstablishedAtMs: number | undefined): CallVideoFields {
  const receiving = legs.filter((leg) => leg.receivedVideo.seen);
  if (receiving.length === 0) return {};
  const lowest = (values: (number | undefined)[]) => pick(values, Math.min);
  const highest = (values: (number | undefined)[]) => pick(values, Math.max);
  const videos = receiving.map((leg) => leg.receivedVideo);
  const sized = videos.filter((video) => video.width !== undefined && video.height !== undefined);
  const smallest = sized.sort((a, b) => a.width! * a.height! - b.width! * b.height!)[0];
  const firstFreeze = receiving
    .filter((leg) => leg.receivedVideo.firstFreezeAtMs !== undefined)
    .map((leg) => ({ atMs: leg.receivedVideo.firstFreezeAtMs!, origin: callEstablishedAtMs ?? leg.establishedAtMs }))
    .sort((a, b) => a.atMs - b.atMs)[0];
  return {
    videoFpsIn: lowest(videos.map((video) => video.meanFps)),
    videoResolutionIn: smallest ? `${smallest.width}x${smallest.height}` : undefined,
    videoKbpsIn: lowest(videos.map((video) => video.meanKbps)),
    videoFreezes: highest(videos.map((video) => (video.freezesReported ? video.freezes : undefined))),
    videoFreezeSeconds: highest(videos.map((video) => (video.freezesReported ? video.freezeSeconds : undefined))),
    videoFirstFreezeAtSeconds: firstFreeze && firstFreeze.origin !== undefined ? Math.max(0, firstFreeze.atMs - firstFreeze.origin) / 1000 : undefined,
  };
}

function pick(values: (number | undefined)[], by: (a: number, b: number) => number): number | undefined {
  const known = values.filter((value): value is number => value !== undefined && Number.isFinite(value));
  return known.length === 0 ? undefined : known.reduce((a, b) => by(a, b));
}
