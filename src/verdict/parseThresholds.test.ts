import { describe, expect, it } from 'vitest';
import { InputError } from '../errors.js';
import { parseThresholds, thresholdsFromOptions, type ParsedThreshold } from './parseThresholds.js';

const one = (metric: string, expression: string): ParsedThreshold => {
  const parsed = parseThresholds({ [metric]: [expression] }, 'test.yaml');
  expect(parsed).toHaveLength(1);
  return parsed[0]!;
};

function inputError(run: () => unknown): InputError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }
  throw new Error('expected an InputError');
}

describe('parseThresholds', () => {
  it.each([
    ['call_success', 'rate>=0.99', { kind: 'rate' }, '>=', 0.99],
    ['call_success', 'rate > 99.5%', { kind: 'rate' }, '>', 0.995],
    ['setup_time', 'p(95)<2s', { kind: 'percentile', p: 95 }, '<', 2],
    ['setup_time', 'p(99.9)<=3000ms', { kind: 'percentile', p: 99.9 }, '<=', 3],
    ['setup_time', 'p(50)<1.5', { kind: 'percentile', p: 50 }, '<', 1.5],
    ['time_to_180', 'med<250ms', { kind: 'med' }, '<', 0.25],
    ['first_audio', 'max<=1s', { kind: 'max' }, '<=', 1],
    ['mos', 'avg>4.0', { kind: 'avg' }, '>', 4],
    ['mos', 'min>=3.5', { kind: 'min' }, '>=', 3.5],
    ['packet_loss', 'max<0.05', { kind: 'max' }, '<', 0.05],
    ['packet_loss', 'avg<1%', { kind: 'avg' }, '<', 0.01],
    ['jitter', 'p(95)<30ms', { kind: 'percentile', p: 95 }, '<', 0.03],
    ['rtt', 'avg!=0', { kind: 'avg' }, '!=', 0],
    ['one_way_audio', 'count==0', { kind: 'count' }, '==', 0],
    ['failed_calls', 'count<5', { kind: 'count' }, '<', 5],
    ['registration_success', 'rate==1', { kind: 'rate' }, '==', 1],
    ['dtmf_delivered', 'rate>=0.9', { kind: 'rate' }, '>=', 0.9],
    ['harness_saturated', 'count==0', { kind: 'count' }, '==', 0],
  ] as const)('%s %s', (metric, expression, aggregation, operator, limit) => {
    const parsed = one(metric, expression);
    expect(parsed).toMatchObject({ metric, aggregation, operator, limit, expression: expression.trim(), abortOnFail: false });
  });

  it('reads a step_success selector, commas in the step name included', () => {
    const parsed = one('step_success{step:register alice, bob}', 'rate==1');
    expect(parsed.tags).toEqual({ step: 'register alice, bob' });
    expect(parsed.metricLabel).toBe('step_success{step:register alice, bob}');
    expect(one('step_success{kind:call}', 'rate>0.9').tags).toEqual({ kind: 'call' });
  });

  it('reads the object form with abortOnFail and its delay', () => {
    const [parsed] = parseThresholds({ call_success: [{ threshold: 'rate>=0.9', abortOnFail: true, delayAbortEval: '10s' }, 'rate>0.5'] }, 's.yaml');
    expect(parsed).toMatchObject({ abortOnFail: true, delayAbortEvalSeconds: 10, limit: 0.9 });
    const [withMs] = parseThresholds({ call_success: [{ threshold: 'rate>=0.9', abortOnFail: true, delayAbortEval: '1500ms' }] }, 's.yaml');
    expect(withMs!.delayAbortEvalSeconds).toBe(1.5);
  });

  it('names an unknown metric and lists the allowed ones', () => {
    const error = inputError(() => parseThresholds({ setup_tme: ['p(95)<2s'] }, 'smoke.yaml'));
    expect(error.message).toContain('smoke.yaml: thresholds.setup_tme: unknown metric "setup_tme"');
    expect(error.message).toContain('call_success');
    expect(error.message).toContain('harness_saturated');
    expect(error.exitCode).toBe(2);
  });

  it.each([
    ['setup_time', 'p95<2s', 'unknown aggregation "p95"'],
    ['setup_time', 'p(95)<2min', 'unknown unit "min"'],
    ['setup_time', 'p(101)<2s', 'from 0 to 100'],
    ['setup_time', 'p(95)=2s', 'use =='],
    ['setup_time', 'rate>0.9', 'trend metric and takes avg, min, max, med, p(N), not rate'],
    ['call_success', 'p(95)<0.9', 'rate metric and takes rate, not p(95)'],
    ['one_way_audio', 'avg<1', 'count metric and takes count, not avg'],
    ['mos', 'avg>4s', 'not a time'],
    ['setup_time', 'p(95)<5%', 'ratios'],
    ['call_success', 'rate>=', 'is not an expression'],
    ['call_success', 'banana', 'is not an expression'],
  ])('rejects %s "%s" naming the problem', (metric, expression, problem) => {
    const error = inputError(() => parseThresholds({ [metric]: [expression] }, 'x.yaml'));
    expect(error.message).toContain(`thresholds.${metric}[0]`);
    expect(error.message).toContain(expression);
    expect(error.message).toContain(problem);
  });

  it('reports every problem at once', () => {
    const error = inputError(() =>
      parseThresholds({ nope: ['rate>1'], setup_time: ['p(95)<2s', 'bad', { threshold: 'avg<1', abortOnFail: 'yes' as unknown as boolean }], mos: [] }, 'x.yaml'),
    );
    expect(error.problems).toHaveLength(4);
    expect(error.message).toBe('4 problems with the thresholds in x.yaml');
    expect(error.problems.join('\n')).toMatch(/nope[\s\S]*setup_time\[1\][\s\S]*setup_time\[2\]: abortOnFail[\s\S]*mos: needs at least one/);
  });

  it('rejects a selector on a metric that takes none, and an unknown tag', () => {
    expect(inputError(() => parseThresholds({ 'mos{step:x}': ['avg>4'] }, 'x')).message).toContain('takes no {tag} selector');
    expect(inputError(() => parseThresholds({ 'step_success{role:x}': ['rate>0'] }, 'x')).message).toContain('bad selector');
  });
});

describe('thresholdsFromOptions', () => {
  it('splits metric:expression, selectors with colons included', () => {
    expect(thresholdsFromOptions(['setup_time:p(95)<2s', 'setup_time:avg<1s', 'step_success{step:register alice}:rate==1'])).toEqual({
      setup_time: ['p(95)<2s', 'avg<1s'],
      'step_success{step:register alice}': ['rate==1'],
    });
  });

  it('rejects a value without a metric', () => {
    expect(() => thresholdsFromOptions(['p(95)<2s'])).toThrow(/expected metric:expression/);
  });
});
