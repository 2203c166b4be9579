import { describe, expect, it } from 'vitest';
import type { CallResult, StepResult } from '../results.js';
import { mean, percentile } from '../common/statistics.js';
import { aggregateCalls, countBy, distribution, StepTally } from './aggregate.js';

const call = (overrides: Partial<CallResult>): CallResult => ({
  callId: '0.main',
  scenario: 's',
  iteration: 0,
  name: 'main',
  callerRole: 'alice',
  from: 'sip:alice@lab',
  to: 'sip:bob@lab',
  startedAtMs: 0,
  result: 'success',
  failureExpected: false,
  oneWayAudio: false,
  ...overrides,
});

const step = (name: string, ok: boolean, failureReason?: StepResult['failureReason']): StepResult => ({
  scenario: 's',
  iteration: 0,
  index: 0,
  name,
  kind: 'call',
  ok,
  ...(failureReason ? { failureReason } : {}),
  startedAtMs: 0,
  durationSeconds: 1,
});

describe('percentile (linear interpolation between closest ranks)', () => {
  const values = [15, 20, 35, 40, 50]; // the textbook list, given unsorted below

  it('matches NumPy / Excel PERCENTILE.INC on a known list', () => {
    const shuffled = [40, 15, 50, 20, 35];
    expect(percentile(shuffled, 0)).toBe(15);
    expect(percentile(shuffled, 50)).toBe(35);
    expect(percentile(shuffled, 100)).toBe(50);
    expect(percentile(shuffled, 40)).toBeCloseTo(29, 10); // rank 1.6: 20 + 0.6 * 15
    expect(percentile(shuffled, 90)).toBeCloseTo(46, 10); // rank 3.6: 40 + 0.6 * 10
    expect(percentile(values, 95)).toBeCloseTo(48, 10);
    expect(percentile(values, 99)).toBeCloseTo(49.6, 10);
  });

  it('takes the mean of the two middle values for p50 of an even count', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
  });

  it('on 1..100 gives p50 50.5, p90 90.1, p95 95.05, p99 99.01', () => {
    const oneToHundred = Array.from({ length: 100 }, (_, index) => index + 1);
    expect(percentile(oneToHundred, 50)).toBeCloseTo(50.5, 10);
    expect(percentile(oneToHundred, 90)).toBeCloseTo(90.1, 10);
    expect(percentile(oneToHundred, 95)).toBeCloseTo(95.05, 10);
    expect(percentile(oneToHundred, 99)).toBeCloseTo(99.01, 10);
  });

  it('is undefined for no values and the value itself for one', () => {
    expect(percentile([], 50)).toBeUndefined();
    expect(percentile([0.3], 99)).toBe(0.3);
  });

  it('does not sort the caller\'s array', () => {
    const input = [3, 1, 2];
    percentile(input, 50);
    expect(input).toEqual([3, 1, 2]);
  });

  it('rejects a percentile outside 0..100', () => {
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], Number.NaN)).toThrow(RangeError);
  });
});

describe('distribution', () => {
  it('gives count, min, avg, p50..p99 and max', () => {
    expect(distribution([0.2, 0.1, 0.4, 0.3])).toEqual({
      count: 4,
      min: 0.1,
      avg: expect.closeTo(0.25, 10),
      p50: expect.closeTo(0.25, 10),
      p90: expect.closeTo(0.37, 10),
      p95: expect.closeTo(0.385, 10),
      p99: expect.closeTo(0.397, 10),
      max: 0.4,
    });
  });

  it('is nulls with count 0 for no values, so summary.json keeps one shape', () => {
    expect(distribution([])).toEqual({ count: 0, min: null, avg: null, p50: null, p90: null, p95: null, p99: null, max: null });
    expect(mean([])).toBeUndefined();
  });
});

describe('aggregateCalls', () => {
  const calls = [
    call({ setupSeconds: 0.1, mos: 4.4, jitterSeconds: 0.002, packetLossRatio: 0, rttSeconds: 0.01, codecOut: 'opus', codecIn: 'opus' }),
    call({ setupSeconds: 0.3, mos: 4.0, jitterSeconds: 0.004, packetLossRatio: 0.02, rttSeconds: 0.03, codecOut: 'opus', codecIn: 'PCMU' }),
    call({ result: 'failed', failureReason: 'sip_status', sipStatus: 486 }),
    call({ result: 'failed', failureReason: 'sip_status', sipStatus: 480, failureExpected: true }),
    call({ result: 'failed', failureReason: 'timeout' }),
    call({ result: 'failed', oneWayAudio: true, setupSeconds: 0.2 }),
  ];
  const aggregates = aggregateCalls(calls);

  it('measures only the calls that have the measure', () => {
    expect(aggregates.callSetupSeconds).toMatchObject({ count: 3, min: 0.1, p50: 0.2, max: 0.3 });
    expect(aggregates.mos).toMatchObject({ count: 2, min: 4.0, avg: expect.closeTo(4.2, 10) });
    expect(aggregates.packetLossRatio).toMatchObject({ count: 2, avg: 0.01, max: 0.02 });
    expect(aggregates.timeTo180Seconds.count).toBe(0);
  });

  it('counts codecs per direction', () => {
    expect(aggregates.codecs).toEqual({ out: { opus: 2 }, in: { opus: 1, PCMU: 1 } });
  });

  it('counts failures by reason, expected ones apart, a missing reason as unspecified', () => {
    expect(aggregates.failuresByReason).toEqual({ sip_status: 1, timeout: 1, unspecified: 1 });
    expect(aggregates.expectedFailuresByReason).toEqual({ sip_status: 1 });
    expect(aggregates.oneWayAudioCalls).toBe(1);
  });
});

describe('StepTally', () => {
  it('counts passes and failures per step name and failures by reason', () => {
    const tally = StepTally.of([
      step('call bob', true),
      step('call bob', false, 'timeout'),
      step('expect opus', false, 'check_failed'),
      step('expect opus', false),
      step('hang up', true),
    ]);
    expect(tally.toJSON()).toEqual({
      byName: { 'call bob': { passed: 1, failed: 1 }, 'expect opus': { passed: 0, failed: 2 }, 'hang up': { passed: 1, failed: 0 } },
      failuresByReason: { timeout: 1, check_failed: 1, unspecified: 1 },
    });
  });
});

describe('countBy', () => {
  it('keeps a key named __proto__ as a plain key', () => {
    const counts = countBy(['__proto__', 'opus'], (value) => value);
    expect(Object.keys(counts)).toEqual(['__proto__', 'opus']);
    expect(JSON.parse(JSON.stringify(counts))).toEqual(JSON.parse('{"__proto__":1,"opus":1}'));
  });
});

describe('aggregateCalls: timings and whose failures', () => {
  it('takes the configured answer delay out of setup, computes the establishment ratio and counts the harness own failures', () => {
    const aggregates = aggregateCalls([
      call({ setupSeconds: 0.33, answerDelaySeconds: 0.3, inviteSentAtMs: 1, sipStatus: 200, harnessPrepSeconds: 0.05, candidatePair: 'host/udp 127.0.0.1:1 -> prflx/udp (hidden):2' }),
      call({ setupSeconds: 0.34, answerDelaySeconds: 0.3, inviteSentAtMs: 2, sipStatus: 200, harnessPrepSeconds: 0.07 }),
      call({ result: 'failed', failureReason: 'harness_saturated', inviteSentAtMs: 3, sipStatus: 200 }),
      call({ result: 'failed', failureReason: 'sip_status', inviteSentAtMs: 4, sipStatus: 503 }),
      call({ result: 'failed', failureReason: 'no_candidates' }),
    ]);
    expect(aggregates.setupLessAnswerDelaySeconds.max).toBeCloseTo(0.04, 6);
    expect(aggregates.harnessPrepSeconds.p50).toBeCloseTo(0.06, 6);
    expect(aggregates.sessionEstablishmentRatio).toBe(0.75);
    expect(aggregates.harnessFailures).toBe(2);
    expect(aggregates.candidatePairs).toEqual({ 'host->prflx': 1 });
  });
});
