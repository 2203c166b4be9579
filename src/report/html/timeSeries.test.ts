import { describe, expect, it } from 'vitest';
import { call, RUN_START_MS, step } from '../../../test/unit/syntheticRun.js';
import type { LegSample } from '../../results.js';
import { bucketsFor, callActivity, fixedBins, histogram, MediaTimeline, niceStep } from './timeSeries.js';

const at = (seconds: number) => RUN_START_MS + seconds * 1000;

describe('bucketsFor', () => {
  it('picks a readable width giving at most 120 points', () => {
    expect(bucketsFor(at(0), at(60))).toEqual({ originMs: at(0), widthSeconds: 1, count: 60 });
    expect(bucketsFor(at(0), at(3600))).toMatchObject({ widthSeconds: 30, count: 120 });
    expect(bucketsFor(at(0), at(0))).toMatchObject({ widthSeconds: 1, count: 1 });
  });
});

describe('callActivity', () => {
  it('counts the most calls up at once per bucket, and starts per second', () => {
    const calls = [
      call({ iteration: 1, startedAtMs: at(0), setupSeconds: 0.5, durationSeconds: 2.5 }), // up 0..3 s
      call({ iteration: 2, startedAtMs: at(1), setupSeconds: 0.5, durationSeconds: 0.5 }), // up 1..2 s
      call({ iteration: 3, startedAtMs: at(1.5), result: 'failed', failureReason: 'timeout' }), // up until its call step ends at 4.5 s
    ];
    const steps = [step({ iteration: 3, index: 1, name: 'call a->b', kind: 'call', call: 'main', startedAtMs: at(1.5), durationSeconds: 3 })];
    const activity = callActivity(calls, steps, bucketsFor(at(0), at(6)));
    expect(activity.activeCalls.map((point) => point.y)).toEqual([1, 3, 2, 1, 1, 0]);
    expect(activity.callsPerSecond.map((point) => point.y)).toEqual([1, 2, 0, 0, 0, 0]);
    expect(activity.activeCalls.map((point) => point.x)).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

describe('MediaTimeline', () => {
  const sample = (legId: string, seconds: number, received: number, lost: number, jitterSeconds?: number): LegSample => ({
    atMs: at(seconds),
    scenario: 's',
    callId: '1.main',
    legId,
    role: 'alice',
    direction: 'outgoing',
    packetsReceived: received,
    packetsSent: received,
    bytesReceived: 0,
    bytesSent: 0,
    packetsLost: lost,
    inPacketRate: 50,
    outPacketRate: 50,
    ...(jitterSeconds === undefined ? {} : { jitterSeconds }),
  });

  it('computes loss from the growth of each leg’s counters, and mean jitter per bucket', () => {
    const timeline = MediaTimeline.of(at(0), [
      sample('a', 0.5, 50, 0, 0.002),
      sample('b', 0.5, 40, 10, 0.004),
      sample('a', 1.5, 100, 0, 0.006),
      sample('b', 1.5, 90, 10), // no new loss on b
      sample('a', 2.5, 140, 10), // 10 lost out of 50
    ]);
    const series = timeline.series(bucketsFor(at(0), at(3)));
    expect(series.packetLossRatio.map((point) => point.y)).toEqual([10 / 100, 0, 10 / 50]);
    expect(series.jitterSeconds.map((point) => point.y)).toEqual([0.003, 0.006, null]);
    expect(series.rttSeconds.every((point) => point.y === null)).toBe(true);
    expect(series.sampleCount).toBe(5);
  });
});

describe('histograms', () => {
  it('bins values on 1-2-5 widths', () => {
    expect(niceStep(0.03)).toBe(0.05);
    expect(niceStep(7)).toBe(10);
    const bins = histogram([0.1, 0.12, 0.5, 0.95], 10);
    expect(bins[0]).toMatchObject({ from: 0.1, count: 2 });
    expect(bins.reduce((sum, bin) => sum + bin.count, 0)).toBe(4);
    expect(fixedBins([1, 4.4, 4.5, 3.0], 1, 0.25, 14).map((bin) => bin.count).filter((count) => count > 0)).toEqual([1, 1, 2]);
  });
});
