import { describe, expect, it } from 'vitest';
import { LegRecord } from './legRecord.js';
import { toLegSample } from './legSample.js';

const T0 = 1_700_000_000_000;

describe('toLegSample: the samples.csv and metrics view of a leg', () => {
  it('nothing before the first getStats sample', () => {
    expect(toLegSample('s', new LegRecord('1.main.alice', 'alice#0', 'alice', 'outgoing'))).toBeUndefined();
  });

  it('audio and video counters added up, lost packets never negative, audio rates from the last interval', () => {
    const leg = new LegRecord('1.main.alice', 'alice#0', 'alice', 'outgoing');
    leg.callKey = '1.main';
    const sample = (packetsIn: number, packetsOut: number, energy: number) => ({
      audioIn: { codec: 'opus', packetsReceived: packetsIn, bytesReceived: packetsIn * 100, packetsLost: -2, jitterSeconds: 0.004, audioLevel: 0.3, totalAudioEnergy: energy, totalSamplesReceived: packetsIn * 960, concealedSamples: 0 },
      audioOut: { codec: 'opus', packetsSent: packetsOut, bytesSent: packetsOut * 90, roundTripTimeSeconds: 0.012, remotePacketsLost: 4, remoteFractionLost: 0.05, remoteJitterSeconds: 0.006 },
      videoIn: { codec: 'VP8', packetsReceived: 300, bytesReceived: 30_000, packetsLost: 3, jitterSeconds: 0.01, framesDecoded: 150 },
      videoOut: { codec: 'VP8', packetsSent: 310, bytesSent: 31_000, framesEncoded: 151 },
      candidateRttSeconds: 0.001,
    });
    leg.addStats({ type: 'stats', legId: leg.legId, atMs: T0, sample: sample(0, 0, 0) });
    leg.addStats({ type: 'stats', legId: leg.legId, atMs: T0 + 1000, sample: sample(50, 48, 0.02) });
    expect(toLegSample('smoke', leg)).toEqual({
      atMs: T0 + 1000,
      scenario: 'smoke',
      callId: '1.main',
      legId: '1.main.alice',
      role: 'alice',
      direction: 'outgoing',
      codecIn: 'opus',
      codecOut: 'opus',
      packetsReceived: 350,
      packetsSent: 358,
      bytesReceived: 35_000,
      bytesSent: 35_320,
      packetsLost: 3,
      inPacketRate: 50,
      outPacketRate: 48,
      jitterSeconds: 0.004,
      rttSeconds: 0.012,
      audioLevel: 0.3,
      audioEnergyRate: 0.02,
      concealedRatio: 0,
      videoFramesDecoded: 150,
      videoFramesEncoded: 151,
      // Received audio lost -2 (duplicates): none lost; the far end's view of the 48 audio packets sent.
      lossRatio: 0,
      remotePacketsLost: 4,
      remoteLossRatio: 4 / 48,
      remoteFractionLost: 0.05,
      remoteJitterSeconds: 0.006,
      networkProfile: undefined,
      // The video counters did not move over the interval.
      videoFpsIn: 0,
      videoKbpsIn: 0,
      videoFpsOut: 0,
      videoKbpsOut: 0,
    });
  });

  it('video columns: frame rate and kbps over the last interval, the rest as getStats has them; none for an audio-only leg', () => {
    const leg = new LegRecord('1.main.bob', 'bob#0', 'bob', 'incoming');
    const sample = (frames: number, bytes: number, freezes: number) => ({
      audioIn: { codec: 'opus', packetsReceived: frames * 3, bytesReceived: 0, packetsLost: 0, jitterSeconds: 0.002 },
      videoIn: {
        codec: 'VP8', packetsReceived: frames * 2, bytesReceived: bytes, packetsLost: 0, jitterSeconds: 0.01, framesDecoded: frames,
        frameWidth: 320, frameHeight: 240, framesPerSecond: 14, freezeCount: freezes, totalFreezesSeconds: freezes * 1.5, keyFramesDecoded: 2, pliCount: 1, firCount: 0, nackCount: 7,
      },
      videoOut: {
        codec: 'VP8', packetsSent: frames * 2, bytesSent: bytes * 2, framesEncoded: frames, frameWidth: 160, frameHeight: 120, framesPerSecond: 15,
        keyFramesEncoded: 3, pliCount: 4, firCount: 0, nackCount: 2, qualityLimitationReason: 'bandwidth',
      },
    });
    leg.addStats({ type: 'stats', legId: leg.legId, atMs: T0, sample: sample(100, 200_000, 0) });
    // 2 s later: 30 frames and 62 500 bytes (250 kbps) more received.
    leg.addStats({ type: 'stats', legId: leg.legId, atMs: T0 + 2000, sample: sample(130, 262_500, 1) });
    expect(toLegSample('s', leg)).toMatchObject({
      videoWidthIn: 320,
      videoHeightIn: 240,
      videoFpsIn: 15,
      videoKbpsIn: 250,
      videoFreezes: 1,
      videoFreezeSeconds: 1.5,
      videoKeyframesIn: 2,
      videoPliSent: 1,
      videoNackSent: 7,
      videoWidthOut: 160,
      videoHeightOut: 120,
      videoFpsOut: 15,
      videoKbpsOut: 500,
      videoPliReceived: 4,
      videoQualityLimitation: 'bandwidth',
    });

    const audioOnly = new LegRecord('1.main.alice', 'alice#0', 'alice', 'outgoing');
    const audio = (packets: number) => ({ audioIn: { packetsReceived: packets, bytesReceived: 0, packetsLost: 0, jitterSeconds: 0 }, audioOut: { packetsSent: packets, bytesSent: 0 } });
    audioOnly.addStats({ type: 'stats', legId: audioOnly.legId, atMs: T0, sample: audio(0) });
    audioOnly.addStats({ type: 'stats', legId: audioOnly.legId, atMs: T0 + 1000, sample: audio(50) });
    const row = toLegSample('s', audioOnly)!;
    const videoFields = Object.entries(row).filter(([key]) => key.startsWith('video'));
    expect(videoFields.filter(([, value]) => value !== undefined)).toEqual([]);
  });

  it('the browser\'s own frame rate until a whole interval gives one', () => {
    const leg = new LegRecord('1.main.bob', 'bob#0', 'bob', 'incoming');
    const videoIn = { packetsReceived: 20, bytesReceived: 9000, packetsLost: 0, jitterSeconds: 0, framesDecoded: 10, framesPerSecond: 12 };
    leg.addStats({ type: 'stats', legId: leg.legId, atMs: T0, sample: { videoIn } });
    expect(toLegSample('s', leg)).toMatchObject({ videoFpsIn: 12, videoKbpsIn: undefined });
  });

  it('both views of the audio loss: the receiver\'s count and the far end\'s RTCP report; empty where there is none', () => {
    const leg = new LegRecord('leg-a', 'alice#0', 'alice', 'outgoing');
    const audioIn = (packetsReceived: number, packetsLost: number) => ({ packetsReceived, bytesReceived: 0, packetsLost, jitterSeconds: 0.002 });
    leg.addStats({ type: 'stats', legId: leg.legId, atMs: T0, sample: { audioIn: audioIn(0, 0), audioOut: { packetsSent: 0, bytesSent: 0 } } });
    expect(toLegSample('s', leg)).toMatchObject({ lossRatio: undefined, remotePacketsLost: undefined, remoteLossRatio: undefined, remoteFractionLost: undefined, remoteJitterSeconds: undefined });
    leg.addStats({ type: 'stats', legId: leg.legId, atMs: T0 + 1000, sample: { audioIn: audioIn(90, 10), audioOut: { packetsSent: 100, bytesSent: 0, remotePacketsLost: 2, remoteFractionLost: 0.02, remoteJitterSeconds: 0.003 } } });
    // The report came between the two samples: against the packets sent then (midway, 50), not the 100 sent by now.
    expect(toLegSample('s', leg)).toMatchObject({ packetsLost: 10, lossRatio: 0.1, remotePacketsLost: 2, remoteLossRatio: 0.04, remoteFractionLost: 0.02, remoteJitterSeconds: 0.003 });
    // No new report (the same figures): the same denominator, however many more were sent since.
    const out = (packetsSent: number, remotePacketsLost: number, remoteJitterSeconds: number) => ({ packetsSent, bytesSent: 0, remotePacketsLost, remoteFractionLost: 0.02, remoteJitterSeconds });
    leg.addStats({ type: 'stats', legId: leg.legId, atMs: T0 + 2000, sample: { audioIn: audioIn(180, 20), audioOut: out(200, 2, 0.003) } });
    expect(toLegSample('s', leg)?.remoteLossRatio).toBe(0.04);
    // A new report: against the packets sent around it ((200 + 300) / 2).
    leg.addStats({ type: 'stats', legId: leg.legId, atMs: T0 + 3000, sample: { audioIn: audioIn(270, 30), audioOut: out(300, 5, 0.004) } });
    expect(toLegSample('s', leg)?.remoteLossRatio).toBe(0.02);
  });

  it('a video-only leg names its video codecs; without RTCP the round trip is the candidate pair\'s; no call yet is an empty call id', () => {
    const leg = new LegRecord('leg-b', 'bob#0', 'bob', 'incoming');
    leg.addStats({ type: 'stats', legId: leg.legId, atMs: T0, sample: { videoIn: { codec: 'H264', packetsReceived: 10, bytesReceived: 1000, packetsLost: 0, jitterSeconds: 0, framesDecoded: 5 }, videoOut: { codec: 'VP9', packetsSent: 12, bytesSent: 1200, framesEncoded: 6 }, candidateRttSeconds: 0.002 } });
    expect(toLegSample('s', leg)).toMatchObject({ callId: '', direction: 'incoming', codecIn: 'H264', codecOut: 'VP9', rttSeconds: 0.002, inPacketRate: 0, outPacketRate: 0, packetsReceived: 10, packetsSent: 12 });
  });
});
