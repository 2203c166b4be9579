import { describe, expect, it } from 'vitest';
import { call, step, syntheticRun } from '../../test/unit/syntheticRun.js';
import { shouldAbort } from './abort.js';
import { evaluateThresholds } from './evaluate.js';
import type { ThresholdData } from './observe.js';
import { parseThresholds } from './parseThresholds.js';

const run = syntheticRun();
const data: ThresholdData = { calls: run.calls, steps: run.steps, summary: run.summary };

function evaluate(metric: string, expression: string, on: ThresholdData = data) {
  const [result] = evaluateThresholds(parseThresholds({ [metric]: [expression] }, 'test'), on);
  return result!;
}

describe('evaluateThresholds on a run with known figures', () => {
  it('computes percentiles by linear interpolation (setup 10..1000 ms: p95 = 950.5 ms)', () => {
    expect(evaluate('setup_time', 'p(95)<2s').observed).toBeCloseTo(0.9505, 10);
    expect(evaluate('setup_time', 'med<1s').observed).toBeCloseTo(0.505, 10);
    expect(evaluate('setup_time', 'avg<1s').observed).toBeCloseTo(0.505, 10);
    expect(evaluate('setup_time', 'min<1s').observed).toBeCloseTo(0.01, 10);
    expect(evaluate('setup_time', 'max<2s').observed).toBeCloseTo(1, 10);
    expect(evaluate('time_to_180', 'p(50)<1s').observed).toBeCloseTo(0.2525, 10);
  });

  it('passes and fails by the limit, saying by how much', () => {
    const held = evaluate('setup_time', 'p(95)<1s');
    expect(held.passed).toBe(true);
    expect(held.detail).toBe('p(95)=950.5ms, limit <1s: holds, 49.5ms to spare');
    const missed = evaluate('setup_time', 'p(95)<900ms');
    expect(missed.passed).toBe(false);
    expect(missed.difference).toBeCloseTo(0.0505, 10);
    expect(missed.detail).toBe('p(95)=950.5ms, limit <900ms: over by 50.5ms');
    const under = evaluate('mos', 'avg>4.3');
    expect(under.observed).toBeCloseTo(4.26, 10);
    expect(under.passed).toBe(false);
    expect(under.detail).toBe('avg=4.26, limit >4.30: under by 0.04');
  });

  it.each([
    ['mos', 'min>=3', true],
    ['mos', 'min>3', false],
    ['packet_loss', 'max<0.05', true],
    ['packet_loss', 'max<=0.002', true],
    ['packet_loss', 'max<0.002', false],
    ['jitter', 'max<7ms', true],
    ['jitter', 'max<6ms', false],
    ['rtt', 'avg==0.02s', true],
    ['rtt', 'avg!=0.02s', false],
    ['first_audio', 'p(99)<=50ms', true],
    ['call_success', 'rate==1', true],
    ['registration_success', 'rate>=1', true],
    ['step_success', 'rate==1', true],
    ['dtmf_delivered', 'rate==1', true],
    ['one_way_audio', 'count==0', true],
    ['failed_calls', 'count==0', true],
    ['harness_saturated', 'count==0', true],
  ])('%s %s -> %s', (metric, expression, passed) => {
    expect(evaluate(metric, expression).passed).toBe(passed);
  });

  it('counts failures, expected ones as successes', () => {
    const failing = syntheticRun({ count: 100, failed: ['sip_status', 'timeout', 'no_media'] });
    const on = { calls: failing.calls, steps: failing.steps, summary: failing.summary };
    expect(evaluate('call_success', 'rate>=0.99', on)).toMatchObject({ observed: 0.97, passed: false, sampleCount: 100 });
    expect(evaluate('failed_calls', 'count==0', on)).toMatchObject({ observed: 3, passed: false });
    expect(evaluate('one_way_audio', 'count==0', on)).toMatchObject({ observed: 1, passed: false });
    expect(evaluate('step_success{kind:call}', 'rate>=0.97', on)).toMatchObject({ observed: 0.97, passed: true });
    expect(evaluate('step_success{step:register alice, bob}', 'rate==1', on).passed).toBe(true);

    const expected = failing.calls.map((c) => (c.result === 'failed' ? { ...c, failureExpected: true } : c));
    expect(evaluate('call_success', 'rate==1', { ...on, calls: expected }).passed).toBe(true);
    expect(evaluate('failed_calls', 'count==0', { ...on, calls: expected }).passed).toBe(true);
  });

  it('fails a threshold that had nothing to measure', () => {
    const noneEstablished = { calls: [call({ iteration: 1, result: 'failed', failureReason: 'timeout' })], steps: [], summary: { registrations: { attempted: 0, succeeded: 0 } } };
    const result = evaluate('setup_time', 'p(95)<2s', noneEstablished);
    expect(result).toMatchObject({ observed: null, passed: false, sampleCount: 0 });
    expect(result.detail).toContain('no data');
    expect(evaluate('registration_success', 'rate>0.9', noneEstablished).passed).toBe(false);
    expect(evaluate('one_way_audio', 'count==0', noneEstablished).passed).toBe(true);
  });

  it('video: freeze time and frame rate over the calls that had video, a time with its unit', () => {
    const calls = [
      call({ iteration: 1, videoFreezeSeconds: 0, videoFpsIn: 15 }),
      call({ iteration: 2, videoFreezeSeconds: 2.2, videoFpsIn: 9.5 }),
      call({ iteration: 3 }), // audio only: not a value
    ];
    const on = { ...data, calls };
    expect(evaluate('video_freeze_seconds', 'max<1s', on)).toMatchObject({ observed: 2.2, passed: false, sampleCount: 2 });
    expect(evaluate('video_freeze_seconds', 'med<=1.1s', on)).toMatchObject({ passed: true });
    expect(evaluate('video_fps', 'min>=10', on)).toMatchObject({ observed: 9.5, passed: false });
    expect(evaluate('video_fps', 'avg>12', on).passed).toBe(true);
    expect(() => parseThresholds({ video_freeze_seconds: ['max<1'] }, 'test')).toThrow(/a time needs its unit/);
  });

  it('rates dtmf steps', () => {
    const steps = [step({ iteration: 1, index: 0, name: 'dtmf 1', kind: 'dtmf' }), step({ iteration: 2, index: 0, name: 'dtmf 1', kind: 'dtmf', ok: false, failureReason: 'command_failed' })];
    expect(evaluate('dtmf_delivered', 'rate>=0.5', { ...data, steps })).toMatchObject({ observed: 0.5, passed: true });
  });
});

describe('shouldAbort', () => {
  const failing = syntheticRun({ count: 20, failed: ['timeout', 'timeout', 'timeout', 'timeout'] });
  const on = { calls: failing.calls, steps: failing.steps, summary: failing.summary };

  it('aborts on a failing abortOnFail threshold once its delay has passed', () => {
    const parsed = parseThresholds({ call_success: [{ threshold: 'rate>=0.9', abortOnFail: true, delayAbortEval: '10s' }] }, 'x');
    expect(shouldAbort(parsed, on, 5).abort).toBe(false);
    const decision = shouldAbort(parsed, on, 10);
    expect(decision.abort).toBe(true);
    expect(decision.reason).toContain('call_success rate>=0.9');
    expect(decision.reason).toContain('under by 10%');
  });

  it('never aborts on thresholds without abortOnFail, nor on no data yet', () => {
    expect(shouldAbort(parseThresholds({ call_success: ['rate>=0.99'] }, 'x'), on, 100).abort).toBe(false);
    const parsed = parseThresholds({ setup_time: [{ threshold: 'p(95)<1s', abortOnFail: true }] }, 'x');
    expect(shouldAbort(parsed, { calls: [], steps: [], summary: { registrations: { attempted: 0, succeeded: 0 } } }, 100).abort).toBe(false);
  });
});
