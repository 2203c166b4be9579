import { describe, expect, it } from 'vitest';
import type { InboundVideo } from '../protocol/events.js';
import { callVideoSummary, counterIncrease, ReceivedVideo, videoRates } from './videoQuality.js';

const T0 = 1_700_000_000_000;

const received = (atMs: number, frames: number, bytes: number, freezes?: number, freezeSeconds?: number, size = [320, 240]): { atMs: number; sample: { videoIn: InboundVideo } } => ({
  atMs,
  sample: {
    videoIn: {
      packetsReceived: frames * 2,
      bytesReceived: bytes,
      packetsLost: 0,
      jitterSeconds: 0,
      framesDecoded: frames,
      frameWidth: size[0],
      frameHeight: size[1],
      ...(freezes === undefined ? {} : { freezeCount: freezes, totalFreezesSeconds: freezeSeconds ?? 0 }),
    },
  },
});

describe('video rates', () => {
  it('frames per second and payload kbps over the interval; a counter that went down is a new stream from zero', () => {
    expect(videoRates({ frames: 100, bytes: 10_000 }, { frames: 115, bytes: 41_250 }, 1)).toEqual({ framesPerSecond: 15, kbps: 250 });
    expect(videoRates(undefined, { frames: 30, bytes: 50_000 }, 2)).toEqual({ framesPerSecond: 15, kbps: 200 });
    expect(counterIncrease(500, 40)).toBe(40);
    expect(counterIncrease(undefined, 7)).toBe(7);
  });
});

describe('ReceivedVideo: freezes with their time, means over the call', () => {
  it('a freezeCount rise dates the freeze at the midpoint of the interval minus the seconds it added', () => {
    const video = new ReceivedVideo();
    let before: ReturnType<typeof received> | undefined;
    const add = (next: ReturnType<typeof received>) => {
      video.observe(before, next);
      before = next;
    };
    add(received(T0, 15, 30_000, 0, 0));
    add(received(T0 + 1000, 30, 60_000, 0, 0));
    add(received(T0 + 2000, 32, 62_000, 0, 0)); // frames stopped
    add(received(T0 + 3000, 32, 62_000, 0, 0));
    // The first frame after 2.2 s ends a freeze: counted at this sample.
    add(received(T0 + 4000, 40, 80_000, 1, 2.2));
    expect(video.freezes).toBe(1);
    expect(video.freezeSeconds).toBeCloseTo(2.2);
    expect(video.firstFreezeAtMs).toBe(T0 + 3500 - 2200);
    add(received(T0 + 5000, 55, 110_000, 2, 2.6));
    expect(video.freezes).toBe(2);
    expect(video.freezeSeconds).toBeCloseTo(2.6);
    // The first freeze keeps its time.
    expect(video.firstFreezeAtMs).toBe(T0 + 1300);
    // Means over the 5 intervals between samples with video: 40 frames, 80 000 bytes in 5 s.
    expect(video.meanFps).toBeCloseTo(8);
    expect(video.meanKbps).toBeCloseTo(128);
    expect([video.width, video.height]).toEqual([320, 240]);
  });

  it('no freezes reported by the browser: freezesReported stays false; a sample without video changes nothing', () => {
    const video = new ReceivedVideo();
    video.observe(undefined, { atMs: T0, sample: {} });
    expect(video.seen).toBe(false);
    video.observe(undefined, received(T0, 10, 1000));
    expect(video.seen).toBe(true);
    expect(video.freezesReported).toBe(false);
    expect(video.meanFps).toBeUndefined();
  });

  it('per call: the worse leg for each figure, seconds after the call was established for the first freeze', () => {
    const smooth = new ReceivedVideo();
    smooth.observe(undefined, received(T0, 0, 0, 0, 0, [640, 480]));
    smooth.observe(received(T0, 0, 0, 0, 0), received(T0 + 2000, 60, 100_000, 0, 0, [640, 480]));
    const frozen = new ReceivedVideo();
    frozen.observe(undefined, received(T0, 0, 0, 0, 0));
    frozen.observe(received(T0, 0, 0, 0, 0), received(T0 + 2000, 20, 50_000, 1, 1.5));
    const summary = callVideoSummary([{ receivedVideo: smooth }, { receivedVideo: frozen }], T0 - 4000);
    expect(summary).toEqual({
      videoFpsIn: 10,
      videoResolutionIn: '320x240',
      videoKbpsIn: 200,
      videoFreezes: 1,
      videoFreezeSeconds: 1.5,
      // Midpoint T0 + 1 s minus 1.5 s: 3.5 s after the call came up at T0 - 4 s.
      videoFirstFreezeAtSeconds: 3.5,
    });
    expect(callVideoSummary([{ receivedVideo: new ReceivedVideo() }], T0)).toEqual({});
    // Video without freezes: zero freezes, no first freeze.
    expect(callVideoSummary([{ receivedVideo: smooth }], T0)).toMatchObject({ videoFreezes: 0, videoFreezeSeconds: 0, videoFirstFreezeAtSeconds: undefined });
  });
});
