import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { delayImpairment, estimateMos, mouthToEarDelayMs, rFactorToMos } from './mos.js';

const perfectNetwork = { rttSeconds: 0, jitterSeconds: 0, packetLossRatio: 0 };

describe('rFactorToMos (G.107 R to MOS)', () => {
  it('maps the worked values', () => {
    // 1 + 0.035*93.2 + 93.2*33.2*6.8*7e-6 = 1 + 3.262 + 0.1473 = 4.4093
    expect(rFactorToMos(93.2)).toBeCloseTo(4.41, 2);
    // 1 + 1.75 + 50*(-10)*50*7e-6 = 2.75 - 0.175 = 2.575, i.e. 2.58 rounded half up
    expect(rFactorToMos(50)).toBeCloseTo(2.575, 10);
    expect(rFactorToMos(0)).toBe(1);
    expect(rFactorToMos(100)).toBe(4.5);
  });

  it('is 1 below 0 and 4.5 above 100', () => {
    expect(rFactorToMos(-20)).toBe(1);
    expect(rFactorToMos(130)).toBe(4.5);
  });

  it('never decreases as R rises (the cubic dips under 1 near R=3; that dip is held at 1)', () => {
    expect(rFactorToMos(3)).toBe(1);
    fc.assert(
      fc.property(fc.double({ min: -10, max: 110, noNaN: true }), fc.double({ min: 0, max: 20, noNaN: true }), (r, step) =>
        rFactorToMos(r + step) >= rFactorToMos(r) - 1e-9,
      ),
    );
  });
});

describe('delayImpairment (Cole & Rosenbluth approximation)', () => {
  it('is linear below the 177.3 ms knee and steeper above it', () => {
    // 0.024 * 100 = 2.4
    expect(delayImpairment(100)).toBeCloseTo(2.4, 10);
    // 0.024 * 300 + 0.11 * (300 - 177.3) = 7.2 + 13.497 = 20.697
    expect(delayImpairment(300)).toBeCloseTo(20.697, 10);
    expect(delayImpairment(0)).toBe(0);
  });
});

describe('mouthToEarDelayMs', () => {
  it('adds half the RTT, a jitter buffer of 2x jitter (at least one packet) and the codec delay', () => {
    // G.711: 0 + max(0, 20) + 20 + 0 = 40 ms even on a perfect network
    expect(mouthToEarDelayMs({ codec: 'PCMU', rttSeconds: 0, jitterSeconds: 0 })).toBe(40);
    // Opus: 200/2 + max(2*30, 20) + 20 + 6.5 = 186.5 ms
    expect(mouthToEarDelayMs({ codec: 'opus', rttSeconds: 0.2, jitterSeconds: 0.03 })).toBeCloseTo(186.5, 10);
    // Missing readings count as zero.
    expect(mouthToEarDelayMs({ codec: undefined, rttSeconds: undefined, jitterSeconds: undefined })).toBeCloseTo(46.5, 10);
  });
});

describe('estimateMos', () => {
  it('G.711 on a perfect network scores ~4.4 (the 40 ms codec and buffer delay costs ~1 R point)', () => {
    // Ta = 40 ms, Id = 0.96, Ie_eff = 0: R = 93.2 - 0.96 = 92.24
    // MOS = 1 + 3.2284 + 92.24*32.24*7.76*7e-6 = 4.3899
    const estimate = estimateMos({ codec: 'PCMU', ...perfectNetwork });
    expect(estimate.rFactor).toBeCloseTo(92.24, 10);
    expect(estimate.mos).toBeCloseTo(4.39, 2);
  });

  it('G.711 with 1% random loss', () => {
    // Ie_eff = 0 + 95 * 1 / (1 + 25.1) = 3.6398; R = 92.24 - 3.6398 = 88.6002
    // MOS = 1 + 0.035*88.6002 + 88.6002*28.6002*11.3998*7e-6 = 4.1010 + 0.2022 = 4.3032
    const estimate = estimateMos({ codec: 'PCMA', ...perfectNetwork, packetLossRatio: 0.01 });
    expect(estimate.rFactor).toBeCloseTo(88.6002, 4);
    expect(estimate.mos).toBeCloseTo(4.3032, 4);
  });

  it('G.711 with 5% random loss', () => {
    // Ie_eff = 95 * 5 / (5 + 25.1) = 15.7807; R = 92.24 - 15.7807 = 76.4593
    // MOS = 1 + 2.6761 + 76.4593*16.4593*23.5407*7e-6 = 3.6761 + 0.2074 = 3.8835
    const estimate = estimateMos({ codec: 'audio/PCMU', ...perfectNetwork, packetLossRatio: 0.05 });
    expect(estimate.rFactor).toBeCloseTo(76.4593, 4);
    expect(estimate.mos).toBeCloseTo(3.8835, 4);
  });

  it('G.729 pays its equipment impairment', () => {
    // Ta = 20 + 20 + 5 = 45 ms, Id = 1.08; R = 93.2 - 1.08 - 11 = 81.12
    expect(estimateMos({ codec: 'G729', ...perfectNetwork }).rFactor).toBeCloseTo(81.12, 10);
  });

  it('long delay past the knee: PCMU, 400 ms RTT, 30 ms jitter', () => {
    // Ta = 200 + 60 + 20 = 280 ms; Id = 6.72 + 0.11*102.7 = 18.017; R = 75.183, MOS 3.83
    const estimate = estimateMos({ codec: 'PCMU', rttSeconds: 0.4, jitterSeconds: 0.03, packetLossRatio: 0 });
    expect(estimate.rFactor).toBeCloseTo(75.183, 10);
    expect(estimate.mos).toBeCloseTo(3.83, 2);
  });

  it('treats unknown and missing codecs like opus', () => {
    const opus = estimateMos({ codec: 'opus', rttSeconds: 0.05, jitterSeconds: 0.005, packetLossRatio: 0.02 });
    expect(estimateMos({ codec: 'iLBC', rttSeconds: 0.05, jitterSeconds: 0.005, packetLossRatio: 0.02 })).toEqual(opus);
    expect(estimateMos({ codec: undefined, rttSeconds: 0.05, jitterSeconds: 0.005, packetLossRatio: 0.02 })).toEqual(opus);
    // Opus loses less than G.729 but more than G.711 with PLC at the same loss (Bpl 20 vs 25.1).
    const pcmu = estimateMos({ codec: 'PCMU', rttSeconds: 0.05, jitterSeconds: 0.005, packetLossRatio: 0.02 });
    expect(opus.rFactor).toBeLessThan(pcmu.rFactor);
  });

  it('stays on the R scale and never returns NaN for bad readings', () => {
    const total = estimateMos({ codec: 'G729', rttSeconds: 10, jitterSeconds: 1, packetLossRatio: 1 });
    expect(total).toEqual({ rFactor: 0, mos: 1 });
    const garbage = estimateMos({ codec: 'PCMU', rttSeconds: Number.NaN, jitterSeconds: -1, packetLossRatio: Number.NaN });
    expect(garbage).toEqual(estimateMos({ codec: 'PCMU', ...perfectNetwork }));
  });

  it('never improves with more loss or more RTT or more jitter', () => {
    const codec = fc.constantFrom('opus', 'PCMU', 'PCMA', 'G722', 'G729', undefined);
    const ratio = fc.double({ min: 0, max: 1, noNaN: true });
    const seconds = fc.double({ min: 0, max: 2, noNaN: true });
    fc.assert(
      fc.property(codec, ratio, ratio, seconds, seconds, seconds, seconds, (name, lossA, lossB, rttA, rttB, jitterA, jitterB) => {
        const better = estimateMos({
          codec: name,
          packetLossRatio: Math.min(lossA, lossB),
          rttSeconds: Math.min(rttA, rttB),
          jitterSeconds: Math.min(jitterA, jitterB),
        });
        const worse = estimateMos({
          codec: name,
          packetLossRatio: Math.max(lossA, lossB),
          rttSeconds: Math.max(rttA, rttB),
          jitterSeconds: Math.max(jitterA, jitterB),
        });
        // 1e-9: rounding in the G.107 ratios can flip the last bit when two inputs differ by one ulp.
        return worse.rFactor <= better.rFactor + 1e-9 && worse.mos <= better.mos + 1e-9;
      }),
      { numRuns: 1000 },
    );
  });

  it('strictly decreases with loss while R is above the floor', () => {
    const losses = [0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2];
    const scores = losses.map((packetLossRatio) => estimateMos({ codec: 'opus', rttSeconds: 0.1, jitterSeconds: 0.01, packetLossRatio }).mos);
    for (let i = 1; i < scores.length; i++) expect(scores[i]).toBeLessThan(scores[i - 1] ?? Infinity);
  });
});
