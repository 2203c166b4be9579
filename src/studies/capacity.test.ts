import { describe, expect, it } from 'vitest';
import type { CallResult, FailureReason, RunSummary } from '../results.js';
import { parseScenario } from '../scenario/index.js';
import type { Scenario } from '../scenario/types.js';
import { describeCapacity, judgeStep, scenarioAtLevel, searchCapacity, type CapacityCriteria, type CapacityMode, type StepRun } from './capacity.js';

// The pure parts of the capacity search: one step's figures and verdict, the levels tried and
// the bisection between the last good and the first bad, and the lines people read. The runs
// themselves are stand-ins: each level's outcome is decided by the test.

const scenario = parseScenario(
  `
name: capacity-test
load: { iterations: 100, concurrency: 4 }
roles:
  alice: { accounts: { range: { from: 1000, count: 20 }, user: "{n}" } }
  bob: { accounts: { range: { from: 2000, count: 20 }, user: "{n}" }, autoAnswer: { after: 0.1s } }
steps:
  - register: [alice, bob]
  - call: { from: alice, to: bob }
  - expect: { state: established }
  - wait: 1s
  - hangup: alice
`,
  'capacity-test.yaml',
);

const criteria: CapacityCriteria = { minSuccessRate: 0.99, allowSaturation: false };

function calls(n: number, each: (i: number) => Partial<CallResult> = () => ({})): CallResult[] {
  return Array.from({ length: n }, (_, i) => ({ callId: `${i + 1}.main`, result: 'success', ...each(i) }) as CallResult);
}

const failed = (failureReason: FailureReason, sipStatus?: number): Partial<CallResult> => ({ result: 'failed', failureReason, sipStatus });

function summary(p: { dropped?: { capacity: number; late: number; stopped?: number }; saturated?: boolean; interrupted?: boolean } = {}): RunSummary {
  return {
    interrupted: p.interrupted ?? false,
    ...(p.dropped ? { load: { droppedByReason: { stopped: 0, ...p.dropped } } } : {}),
    ...(p.saturated !== undefined
      ? {
          harness: {
            saturated: p.saturated,
            cores: 2,
            windows: [{ fromMs: 0, toMs: 1, reasons: ['cpu'] }, { fromMs: 2, toMs: 3, reasons: ['cpu', 'event_loop_lag'] }],
            peak: { machineBusyCores: 1.953, chromiumCpuCores: 1.5 },
          },
        }
      : {}),
  } as unknown as RunSummary;
}

describe('scenarioAtLevel', () => {
  it('concurrency: a closed model of `level` calls at once for the step, accounts registered first, no iteration count', () => {
    const step = scenarioAtLevel(scenario, 'concurrency', 8, 30);
    expect(step.load).toMatchObject({ model: 'closed', concurrency: 8, phases: [], durationSeconds: 30, preRegister: true });
    expect(step.load).not.toHaveProperty('iterations');
    expect(step.steps).toBe(scenario.steps);
  });

  it('rate: an open model at `level` calls/s, one flat phase', () => {
    const step = scenarioAtLevel(scenario, 'rate', 2.5, 20);
    expect(step.load).toMatchObject({ model: 'open', phases: [{ durationSeconds: 20, rate: 2.5, endRate: 2.5 }], durationSeconds: 20, preRegister: true });
    expect(step.load).not.toHaveProperty('iterations');
  });
});

describe('judgeStep', () => {
  it('a good step: every figure, from the calls it made', () => {
    const run = { summary: summary(), calls: calls(10, (i) => ({ setupSeconds: (i + 1) / 10, mos: 4.4 - i / 100 })) };
    const step = judgeStep(4, '/out/step-01-c4', run, { ...criteria, maxSetupP95Seconds: 2, minMosP5: 4 });
    expect(step).toMatchObject({ level: 4, outDir: '/out/step-01-c4', planned: 10, calls: 10, succeeded: 10, dropped: 0, successRate: 1, failuresByReason: {}, sipStatuses: {}, harnessSaturated: false, ok: true, why: [], interrupted: false });
    // Type-7 percentiles of 0.1 .. 1.0 s and 4.31 .. 4.40.
    expect(step.setupP50Seconds).toBeCloseTo(0.55, 10);
    expect(step.setupP95Seconds).toBeCloseTo(0.955, 10);
    expect(step.mosP5).toBeCloseTo(4.3145, 10);
  });

  it('too few successes: bad, with the failures by reason and the SIP statuses the server sent', () => {
    const run = { summary: summary(), calls: calls(10, (i) => (i === 0 ? failed('sip_status', 503) : i === 1 ? failed('sip_status', 503) : i === 2 ? failed('timeout') : {})) };
    const step = judgeStep(6, 'd', run, criteria);
    expect(step).toMatchObject({ ok: false, successRate: 0.7, failuresByReason: { sip_status: 2, timeout: 1 }, sipStatuses: { '503': 2 } });
    expect(step.why).toEqual(['success rate 70.0% < 99.0% (2 sip_status, 1 timeout; SIP 2x 503)']);
  });

  it('starts the scheduler dropped (no slot, too late) are planned calls that failed; starts dropped by the stop are not', () => {
    const run = { summary: summary({ dropped: { capacity: 2, late: 1, stopped: 5 } }), calls: calls(7) };
    const step = judgeStep(6, 'd', run, criteria);
    expect(step).toMatchObject({ planned: 10, calls: 7, succeeded: 7, dropped: 3, successRate: 0.7, failuresByReason: { dropped: 3 }, ok: false });
    expect(step.why).toEqual(['success rate 70.0% < 99.0% (3 dropped)']);
  });

  it('a success rate exactly at the minimum is good', () => {
    expect(judgeStep(1, 'd', { summary: summary(), calls: calls(100, (i) => (i === 0 ? failed('timeout') : {})) }, criteria).ok).toBe(true);
    expect(judgeStep(1, 'd', { summary: summary(), calls: calls(100, (i) => (i < 2 ? failed('timeout') : {})) }, criteria).ok).toBe(false);
  });

  it('setup time and MOS criteria, each named with the figure that broke it', () => {
    const run = { summary: summary(), calls: calls(10, (i) => ({ setupSeconds: (i + 1) / 10, mos: i === 0 ? 2.9 : 4.2 })) };
    const step = judgeStep(8, 'd', run, { ...criteria, maxSetupP95Seconds: 0.5, minMosP5: 3.5 });
    expect(step.why).toEqual(['setup p95 0.955 s > 0.5 s', 'MOS p5 3.49 < 3.5']);
    expect(judgeStep(8, 'd', { summary: summary(), calls: calls(3) }, { ...criteria, minMosP5: 3.5 }).why).toEqual(['no MOS measured']);
  });

  it('a saturated harness makes the step bad by itself, unless allowed; no calls at all is bad', () => {
    const run = { summary: summary({ saturated: true }), calls: calls(10) };
    expect(judgeStep(12, 'd', run, criteria).why).toEqual(['harness saturated (cpu, event_loop_lag; peak machine CPU 1.95 of 2 cores): this machine, not the server, is the limit']);
    expect(judgeStep(12, 'd', run, { ...criteria, allowSaturation: true })).toMatchObject({ ok: true, harnessSaturated: true, peakMachineCpuCores: 1.953, peakChromiumCpuCores: 1.5 });
    expect(judgeStep(12, 'd', { summary: summary(), calls: [] }, criteria)).toMatchObject({ ok: false, successRate: 0, why: ['no calls were made'] });
  });
});

/** A search where a level is good up to `limit`, run by a stand-in that records what it was asked to run. */
async function search(p: { mode: CapacityMode; levels: number[]; limit: number; refine?: number; interruptAt?: number; signal?: AbortSignal }) {
  const ran: { level: number; outDir: string }[] = [];
  const report = await searchCapacity({
    scenario,
    mode: p.mode,
    levels: p.levels,
    stepSeconds: 10,
    criteria,
    refine: p.refine ?? 0,
    outDir: '/out',
    signal: p.signal,
    runStep: async (stepScenario: Scenario, outDir: string): Promise<StepRun> => {
      const level = p.mode === 'concurrency' ? stepScenario.load.concurrency : stepScenario.load.phases[0]!.rate;
      ran.push({ level, outDir });
      const good = level <= p.limit;
      return { summary: summary({ interrupted: level === p.interruptAt }), calls: calls(10, (i) => (!good && i < 5 ? failed('sip_status', 503) : {})) };
    },
  });
  return { report, ran };
}

describe('searchCapacity', () => {
  it('tries the levels in order and stops at the first bad one: last good, first bad, one folder per step', async () => {
    const { report, ran } = await search({ mode: 'concurrency', levels: [2, 4, 6, 8], limit: 5 });
    expect(ran).toEqual([
      { level: 2, outDir: '/out/step-01-c2' },
      { level: 4, outDir: '/out/step-02-c4' },
      { level: 6, outDir: '/out/step-03-c6' },
    ]);
    expect(report).toMatchObject({ scenario: 'capacity-test', mode: 'concurrency', stepSeconds: 10, reachedMax: false, interrupted: false });
    expect(report.lastGood?.level).toBe(4);
    expect(report.firstBad?.level).toBe(6);
    expect(report.steps.map((s) => s.ok)).toEqual([true, true, false]);
  });

  it('refines by bisection between the last good and the first bad, whole calls for concurrency', async () => {
    const { report, ran } = await search({ mode: 'concurrency', levels: [2, 4, 8], limit: 5, refine: 5 });
    // 4 good, 8 bad; then 6 bad, 5 good; 5..6 are next to each other: stop, with refinement steps left.
    expect(ran.map((r) => r.level)).toEqual([2, 4, 8, 6, 5]);
    expect(ran.at(-1)!.outDir).toBe('/out/step-05-c5');
    expect([report.lastGood?.level, report.firstBad?.level]).toEqual([5, 6]);
  });

  it('refines calls per second to three decimals', async () => {
    const { report, ran } = await search({ mode: 'rate', levels: [1, 2, 4], limit: 3.2, refine: 3 });
    expect(ran.map((r) => r.level)).toEqual([1, 2, 4, 3, 3.5, 3.25]);
    expect(ran.map((r) => r.outDir)).toContain('/out/step-05-r3.5');
    expect([report.lastGood?.level, report.firstBad?.level]).toEqual([3, 3.25]);
  });

  it('the first level already bad: no last good, and bisection starts from zero', async () => {
    const { report, ran } = await search({ mode: 'concurrency', levels: [4, 8], limit: 1, refine: 3 });
    expect(ran.map((r) => r.level)).toEqual([4, 2, 1]);
    expect([report.lastGood?.level, report.firstBad?.level]).toEqual([1, 2]);
    const { report: none } = await search({ mode: 'concurrency', levels: [4, 8], limit: 1 });
    expect(none.lastGood).toBeUndefined();
    expect(none).not.toHaveProperty('lastGood');
  });

  it('every level good: the limit is above the highest (reachedMax), nothing bad', async () => {
    const { report, ran } = await search({ mode: 'concurrency', levels: [2, 4], limit: 100, refine: 3 });
    expect(ran.map((r) => r.level)).toEqual([2, 4]);
    expect(report).toMatchObject({ reachedMax: true, interrupted: false });
    expect(report.lastGood?.level).toBe(4);
    expect(report).not.toHaveProperty('firstBad');
  });

  it('a step stopped part-way ends the search without a verdict on it; a stopped search tries nothing more', async () => {
    const { report, ran } = await search({ mode: 'concurrency', levels: [2, 4, 6], limit: 100, interruptAt: 4 });
    expect(ran.map((r) => r.level)).toEqual([2, 4]);
    expect(report.lastGood?.level).toBe(2);
    expect(report.firstBad).toBeUndefined();
    expect(report.reachedMax).toBe(false);

    const stopped = new AbortController();
    stopped.abort();
    const { report: aborted, ran: none } = await search({ mode: 'concurrency', levels: [2, 4], limit: 100, signal: stopped.signal });
    expect(none).toEqual([]);
    expect(aborted).toMatchObject({ steps: [], reachedMax: false, interrupted: true });
  });
});

describe('describeCapacity', () => {
  it('a table of the steps by level, then the last good and first bad level with why', async () => {
    const { report } = await search({ mode: 'concurrency', levels: [2, 4, 8], limit: 5, refine: 1 });
    expect(describeCapacity(report)).toEqual([
      'capacity of capacity-test: concurrency, 10 s per step',
      '  level  calls   ok      success  setup p50  setup p95  MOS p5  harness   verdict',
      '      2     10     10   100.0%          -          -       -  ok        good',
      '      4     10     10   100.0%          -          -       -  ok        good',
      '      6     10      5    50.0%          -          -       -  ok        BAD: success rate 50.0% < 99.0% (5 sip_status; SIP 5x 503)',
      '      8     10      5    50.0%          -          -       -  ok        BAD: success rate 50.0% < 99.0% (5 sip_status; SIP 5x 503)',
      'last good: 4 calls at once',
      'first bad: 6 calls at once: success rate 50.0% < 99.0% (5 sip_status; SIP 5x 503)',
    ]);
  });

  it('says when every level passed, when the first one failed, and when the search was stopped', async () => {
    const { report: all } = await search({ mode: 'rate', levels: [1, 2], limit: 100 });
    expect(describeCapacity(all).slice(2)).toEqual([
      '      1     10     10   100.0%          -          -       -  ok        good',
      '      2     10     10   100.0%          -          -       -  ok        good',
      'last good: 2 calls/s',
      'every level passed: the limit is above 2 calls/s (raise --max)',
    ]);
    const { report: first } = await search({ mode: 'rate', levels: [1, 2], limit: 0.5 });
    expect(describeCapacity(first).slice(3)).toEqual(['last good: none (the first level already failed)', 'first bad: 1 calls/s: success rate 50.0% < 99.0% (5 sip_status; SIP 5x 503)']);
    const stopped = new AbortController();
    stopped.abort();
    const { report: aborted } = await search({ mode: 'rate', levels: [1], limit: 100, signal: stopped.signal });
    expect(describeCapacity(aborted)).toEqual(['capacity of capacity-test: rate, 10 s per step', '  level  calls   ok      success  setup p50  setup p95  MOS p5  harness   verdict', 'interrupted']);
  });

  it('shows setup times in milliseconds, MOS to two places, and a saturated harness', () => {
    const step = judgeStep(3, 'd', { summary: summary({ saturated: true }), calls: calls(4, (i) => ({ setupSeconds: 0.2 + i * 0.1, mos: 4.1 })) }, { ...criteria, allowSaturation: true });
    const lines = describeCapacity({ scenario: 's', mode: 'concurrency', criteria, stepSeconds: 5, steps: [step], lastGood: step, reachedMax: true, interrupted: false });
    expect(lines[2]).toBe('      3      4      4   100.0%     350 ms     485 ms    4.10  SATURATED good');
  });
});
