import { describe, expect, it } from 'vitest';
import { farEndView, receivedLossRatio } from './lossViews.js';

describe('receivedLossRatio: the receiver\'s own count', () => {
  it('is lost / (received + lost), cumulative', () => {
    expect(receivedLossRatio({ packetsReceived: 95, packetsLost: 5 })).toBe(0.05);
    expect(receivedLossRatio({ packetsReceived: 0, packetsLost: 4 })).toBe(1);
  });

  it('is undefined when nothing was expected yet, or there is no stream', () => {
    expect(receivedLossRatio({ packetsReceived: 0, packetsLost: 0 })).toBeUndefined();
    expect(receivedLossRatio(undefined)).toBeUndefined();
  });

  it('counts negative packetsLost (duplicates) as none lost', () => {
    expect(receivedLossRatio({ packetsReceived: 100, packetsLost: -3 })).toBe(0);
    expect(receivedLossRatio({ packetsReceived: 0, packetsLost: -1 })).toBeUndefined();
  });
});

describe('farEndView: what the far end reported about what this leg sent', () => {
  it('is remote lost / packets sent, with RTCP fraction lost and jitter as reported', () => {
    expect(farEndView({ packetsSent: 200, bytesSent: 0, remotePacketsLost: 10, remoteFractionLost: 0.25, remoteJitterSeconds: 0.007 })).toEqual({
      packetsLost: 10,
      lossRatio: 0.05,
      fractionLost: 0.25,
      jitterSeconds: 0.007,
    });
  });

  it('is empty without a receiver report, or without an outbound stream', () => {
    expect(farEndView({ packetsSent: 200, bytesSent: 0, roundTripTimeSeconds: undefined })).toEqual({
      packetsLost: undefined,
      lossRatio: undefined,
      fractionLost: undefined,
      jitterSeconds: undefined,
    });
    expect(farEndView(undefined)).toEqual({});
  });

  it('has no ratio before anything was sent, counts negative loss (duplicates) as 0 and caps the ratio at 1', () => {
    expect(farEndView({ packetsSent: 0, bytesSent: 0, remotePacketsLost: 0 })).toMatchObject({ packetsLost: 0, lossRatio: undefined });
    expect(farEndView({ packetsSent: 50, bytesSent: 0, remotePacketsLost: -2 })).toMatchObject({ packetsLost: 0, lossRatio: 0 });
    expect(farEndView({ packetsSent: 5, bytesSent: 0, remotePacketsLost: 9 })).toMatchObject({ packetsLost: 9, lossRatio: 1 });
  });
});
