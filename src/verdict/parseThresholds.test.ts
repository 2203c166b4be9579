import { describe, expect, it } from 'vitest';
import { InputError } from '../errors.js';
import { parseRunThresholds, parseThresholds, thresholdProblems, thresholdsFromOptions, type ParsedThreshold } from './parseThresholds.js';

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
    ['setup_time', 'p(50)<1.5s', { kind: 'percentile', p: 50 }, '<', 1.5],
    ['setup_time', 'p(95)<1m30s', { kind: 'percentile', p: 95 }, '<', 90],
    ['setup_time', 'max < 1s500ms', { kind: 'max' }, '<', 1.5],
    ['time_to_180', 'avg<1h2m3.5s', { kind: 'avg' }, '<', 3723.5],
    ['first_audio', 'p(90)<2M', { kind: 'percentile', p: 90 }, '<', 120],
    ['time_to_180', 'med<250ms', { kind: 'med' }, '<', 0.25],
    ['first_audio', 'max<=1s', { kind: 'max' }, '<=', 1],
    ['mos', 'avg>4.0', { kind: 'avg' }, '>', 4],
    ['mos', 'min>=3.5', { kind: 'min' }, '>=', 3.5],
    ['packet_loss', 'max<0.05', { kind: 'max' }, '<', 0.05],
    ['packet_loss', 'avg<1%', { kind: 'avg' }, '<', 0.01],
    ['jitter', 'p(95)<30ms', { kind: 'percentile', p: 95 }, '<', 0.03],
    ['rtt', 'avg!=0', { kind: 'avg' }, '!=', 0], // zero is zero in any unit
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
    ['setup_time', 'p(95)<2min', 'unknown unit "min" (use ms, s, m or h)'],
    ['setup_time', 'p(95)<200', 'a time needs its unit, e.g. p(95)<200ms or p(95)<0.2s'],
    ['jitter', 'avg <= 30', 'a time needs its unit, e.g. avg<=30ms or avg<=0.03s'],
    ['setup_time', 'p(95)<30s1m', '"30s1m" is not a time (e.g. 500ms, 5s, 2m, 1m30s)'],
    ['mos', 'avg>1m', 'not a time'],
    ['packet_loss', 'max<1m30s', '"1m30s" is not a number'],
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

  it('keeps bare numbers for ratios, scores and counts', () => {
    expect(one('packet_loss', 'max<0.05').limit).toBe(0.05);
    expect(one('mos', 'avg>4').limit).toBe(4);
    expect(one('failed_calls', 'count<=3').limit).toBe(3);
    expect(one('call_success', 'rate>=1').limit).toBe(1);
  });

  it('lists the aggregations for a syntax problem, not for a unit problem', () => {
    expect(inputError(() => parseThresholds({ setup_time: ['p95<2s'] }, 'x')).message).toContain('setup_time allows avg, min, max, med, p(N)');
    expect(inputError(() => parseThresholds({ setup_time: ['p(95)<2'] }, 'x')).message).not.toContain('allows');
  });

  it('reads delayAbortEval as a duration, compound ones included', () => {
    const [parsed] = parseThresholds({ call_success: [{ threshold: 'rate>=0.9', abortOnFail: true, delayAbortEval: '1m30s' }] }, 's.yaml');
    expect(parsed!.delayAbortEvalSeconds).toBe(90);
    expect(inputError(() => parseThresholds({ call_success: [{ threshold: 'rate>=0.9', delayAbortEval: '10x' }] }, 's.yaml')).message).toContain('delayAbortEval: expected a duration');
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

describe('thresholdProblems', () => {
  it('gives each problem its metric and index, for the loader to place at a line', () => {
    expect(thresholdProblems({ nope: ['rate>1'], setup_time: ['p(95)<2s', 'p(95)<2'], mos: [] })).toEqual([
      { metricLabel: 'nope', message: expect.stringContaining('unknown metric "nope"') },
      { metricLabel: 'setup_time', index: 1, message: expect.stringContaining('a time needs its unit') },
      { metricLabel: 'mos', message: 'needs at least one expression, e.g. avg>4.0' },
    ]);
  });
});

describe('parseRunThresholds', () => {
  it("adds the options to the scenario's thresholds, in the order a merged spec has", () => {
    const parsed = parseRunThresholds({ call_success: ['rate>=0.99'], setup_time: ['p(95)<2s'] }, 's.yaml', ['call_success:rate>0.5', 'mos:avg>4']);
    expect(parsed.map((threshold) => `${threshold.metricLabel} ${threshold.expression}`)).toEqual([
      'call_success rate>=0.99',
      'call_success rate>0.5',
      'setup_time p(95)<2s',
      'mos avg>4',
    ]);
  });

  it('names the option, not the scenario file, for a problem in a --threshold', () => {
    const error = inputError(() => parseRunThresholds({ call_success: ['rate>=0.99'] }, 's.yaml', ['setup_time:p(95)<200']));
    expect(error.message).toBe("--threshold 'setup_time:p(95)<200': \"p(95)<200\": a time needs its unit, e.g. p(95)<200ms or p(95)<0.2s (a bare number could mean ms, as in k6, or s)");
    expect(error.message).not.toContain('s.yaml');
    expect(error.exitCode).toBe(2);
  });

  it('reports problems in the file and in the options together, each where it was written', () => {
    const error = inputError(() => parseRunThresholds({ setup_time: ['p(95)<2'] }, 's.yaml', ['setup_tme:p(95)<2s', 'p(95)<2s', "mos:avg>'4'"]));
    expect(error.message).toBe('4 problems with the thresholds');
    expect(error.problems).toEqual([
      expect.stringMatching(/^s\.yaml: thresholds\.setup_time\[0\]: "p\(95\)<2": a time needs its unit/),
      expect.stringMatching(/^--threshold 'setup_tme:p\(95\)<2s': unknown metric "setup_tme"/),
      "--threshold 'p(95)<2s': expected metric:expression, e.g. setup_time:p(95)<2s",
      expect.stringMatching(/^--threshold 'mos:avg>'\\''4'\\''': "avg>'4'" is not an expression/),
    ]);
  });
});
