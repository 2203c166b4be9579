import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { describePlan, planLoad } from '../../src/plan/loadPlan.js';
import { CHROMIUM_LIMITS, planPlacement } from '../../src/plan/placement.js';
import { parseAccountsCsv } from '../../src/scenario/accountsCsv.js';
import { parseScenario } from '../../src/scenario/index.js';

const dir = mkdtempSync(join(tmpdir(), 'callwright-plan-'));
const file = join(dir, 'load.yaml');

function scenario(load: string, options = '', accounts = 10, extraSteps = '  - wait: holdTime\n') {
  return `name: t
roles:
  caller: { accounts: { range: { from: 1000, count: ${accounts} }, password: "p{n}" } }
  callee: { accounts: { range: { from: 2000, count: ${accounts} } }, autoAnswer: { after: 0.2s } }
load: ${load}
${options}
steps:
  - register: [caller, callee]
  - call: { from: caller, to: callee, until: established }
${extraSteps}  - hangup: caller
`;
}
const load = (text: string) => parseScenario(text, file);
function problemsOf(text: string): string[] {
  try {
    load(text);
    return [];
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    // Without the `file:LINE:COL: ` each problem starts with (the loader's tests check the positions).
    return error.problems.map((p) => (p.startsWith(file) ? p.slice(file.length).replace(/^(?::\d+:\d+)?: /, '') : p));
  }
}

describe('load section of a scenario', () => {
  it('reads an open model: phases with rampTo, the cap, arrivals, hold time, start rules', () => {
    const s = load(scenario('{ phases: [{ duration: 10s, rate: 1, rampTo: 4 }, { duration: 1m, rate: 4 }], maxConcurrent: 8, arrivals: poisson, holdTime: 30s, lateAfter: 50ms, dropAfter: 1s, seed: 9 }'));
    expect(s.load).toEqual({
      model: 'open',
      concurrency: 8,
      phases: [
        { durationSeconds: 10, rate: 1, endRate: 4 },
        { durationSeconds: 60, rate: 4, endRate: 4 },
      ],
      durationSeconds: 70,
      arrivals: 'poisson',
      holdTime: { kind: 'fixed', seconds: 30 },
      lateAfterSeconds: 0.05,
      dropAfterSeconds: 1,
      gracefulStopSeconds: 30,
      preRegister: true,
      registerRate: 50,
      seed: 9,
      statsPeriodSeconds: 5,
    });
    expect(s.steps.find((step) => step.kind === 'wait')).toMatchObject({ kind: 'wait', holdTime: true, name: 'wait holdTime' });
  });

  it('reads rate + duration (SIPp -r) and rate + iterations (-r with -m) as one constant phase', () => {
    expect(load(scenario('{ rate: 2, duration: 30s, maxConcurrent: 5, holdTime: 1s }')).load.phases).toEqual([{ durationSeconds: 30, rate: 2, endRate: 2 }]);
    expect(load(scenario('{ rate: 4, iterations: 100, maxConcurrent: 5, holdTime: 1s }')).load).toMatchObject({ iterations: 100, phases: [{ durationSeconds: 25, rate: 4, endRate: 4 }] });
  });

  it('reads a closed model with a duration and no iteration count', () => {
    const s = load(scenario('{ concurrency: 10, duration: 2m, holdTime: { exponential: { mean: 20s } } }'));
    expect(s.load).toMatchObject({ model: 'closed', concurrency: 10, durationSeconds: 120, phases: [], preRegister: true, holdTime: { kind: 'exponential', meanSeconds: 20, maxSeconds: 200 } });
    expect(s.load.iterations).toBeUndefined();
  });

  it('reads every hold-time distribution', () => {
    const hold = (text: string) => load(scenario(`{ concurrency: 2, iterations: 4, holdTime: ${text} }`)).load.holdTime;
    expect(hold('{ uniform: { min: 20s, max: 40s } }')).toEqual({ kind: 'uniform', minSeconds: 20, maxSeconds: 40 });
    expect(hold('{ exponential: { mean: 30s, max: 5m } }')).toEqual({ kind: 'exponential', meanSeconds: 30, maxSeconds: 300 });
    expect(hold('{ normal: { mean: 30s, stddev: 5s } }')).toEqual({ kind: 'normal', meanSeconds: 30, stddevSeconds: 5, minSeconds: 0, maxSeconds: 50 });
  });

  it('lists every load problem at its path', () => {
    expect(problemsOf(scenario('{ rate: 2, phases: [{ duration: 1s, rate: 1 }], concurrency: 3, holdTime: 1s }'))).toEqual([
      'load.rate: give either rate (with duration) or phases, not both',
      'load.concurrency: is the closed model; with rate or phases, cap the calls at once with maxConcurrent',
      'load.maxConcurrent: required with rate or phases: the most calls at once (each needs its own accounts; arrivals beyond it are dropped and counted)',
    ]);
    expect(problemsOf(scenario('{ rate: 2, maxConcurrent: 2, holdTime: 1s }'))).toEqual(['load.rate: needs a duration (or iterations) to know when to stop']);
    expect(problemsOf(scenario('{ concurrency: 2, iterations: 4, maxConcurrent: 3, arrivals: poisson, holdTime: 1s }'))).toEqual([
      'load.arrivals: only applies to an open model (load.rate or load.phases)',
      'load.maxConcurrent: caps an open model (load.rate or load.phases); a closed model runs exactly load.concurrency at once',
    ]);
    expect(problemsOf(scenario('{ phases: [{ duration: 10s, rate: -1 }, { rate: 2 }], maxConcurrent: 2, holdTime: 1s }'))).toEqual([
      'load.phases[0].rate: expected calls per second from 0 to 1000, got -1',
      'load.phases[1].duration: required (a duration from 1ms to 168h (e.g. 500ms, 5s, 2m, or a number of seconds))',
    ]);
    expect(problemsOf(scenario('{ concurrency: 2, iterations: 4, holdTime: { uniform: { min: 9s, max: 3s } } }'))).toEqual(['load.holdTime.uniform.min: must not be above max']);
    expect(problemsOf(scenario('{ concurrency: 2, iterations: 4, holdTime: { gamma: 3 } }'))).toEqual([
      'load.holdTime: expected a duration (30s) or one of { uniform: { min, max } }, { exponential: { mean, max } }, { normal: { mean, stddev, min, max } }, got a mapping',
    ]);
    expect(problemsOf(scenario('{ rate: 0.01, duration: 10s, maxConcurrent: 2, holdTime: 1s }'))).toEqual(['load.rate: plans no calls: raise the rate or the duration']);
    expect(problemsOf(scenario('{ concurrency: 2, iterations: 4, lateAfter: 3s, dropAfter: 1s, holdTime: 1s }'))).toEqual(['load.dropAfter: must not be below lateAfter (3 s)']);
  });

  it('ties `wait: holdTime` steps and load.holdTime together', () => {
    expect(problemsOf(scenario('{ concurrency: 2, iterations: 4 }'))).toEqual(['load.holdTime: required by the `wait: holdTime` steps (e.g. holdTime: 30s)']);
    expect(problemsOf(scenario('{ concurrency: 2, iterations: 4, holdTime: 5s }', '', 10, ''))).toEqual(['load.holdTime: no step uses it: add `- wait: holdTime` where the call is held']);
  });

  it('refuses more calls at once than a role has accounts: two calls would share one', () => {
    expect(problemsOf(scenario('{ rate: 1, duration: 10s, maxConcurrent: 12, holdTime: 1s }'))).toEqual([
      'roles.caller.accounts: has 10 accounts for up to 12 calls at once (load.maxConcurrent); each call at once needs its own accounts: add accounts (e.g. a range with count: 12) or lower load.maxConcurrent',
      'roles.callee.accounts: has 10 accounts for up to 12 calls at once (load.maxConcurrent); each call at once needs its own accounts: add accounts (e.g. a range with count: 12) or lower load.maxConcurrent',
    ]);
  });

  it('reads media and placement options; the low-cost profile sets ptime 60 and a 10% playout sample unless given', () => {
    const options = (text: string) => load(scenario('{ concurrency: 2, iterations: 2, holdTime: 1s }', `options: ${text}`)).options;
    expect(options('{ mediaProfile: low-cost }')).toMatchObject({ mediaProfile: 'low-cost', opusPtimeMs: 60, receivedAudioSample: 0.1 });
    expect(options('{ mediaProfile: low-cost, opusPtime: 40ms, receivedAudioSample: 0.5 }')).toMatchObject({ opusPtimeMs: 40, receivedAudioSample: 0.5 });
    expect(options('{ opusPtime: 60ms }').opusPtimeMs).toBe(60);
    expect(options('{}').opusPtimeMs).toBeUndefined();
    expect(options('{ agentsPerPage: 1, pagesPerBrowser: 8, pageRecycleAfter: 100, watchdog: { cpu: 0.5, eventLoopLag: 100ms } }')).toMatchObject({
      agentsPerPage: 1,
      pagesPerBrowser: 8,
      pageRecycleAfter: 100,
      watchdog: { cpu: 0.5, eventLoopLagMs: 100, memory: 0.95, intervalSeconds: 1 },
    });
    expect(problemsOf(scenario('{ concurrency: 2, iterations: 2, holdTime: 1s }', 'options: { opusPtime: 30ms, receivedAudioSample: 0, watchdog: { cpu: 2 } }'))).toEqual([
      'options.receivedAudioSample: expected a fraction of legs above 0 and at most 1, e.g. 0.1, got 0',
      'options.opusPtime: expected 10ms, 20ms, 40ms, 60ms or 120ms (Opus frame sizes)',
      "options.watchdog.cpu: expected a fraction of the machine's cores above 0 and at most 1, e.g. 0.95, got 2",
    ]);
  });
});

describe('account pools from CSV', () => {
  it('parses a header, commas or semicolons, quotes, blank lines', () => {
    expect(parseAccountsCsv('user,password,displayName\n1000,"s,cret",Alice\n\n1001,x,"Bob ""B"""\n')).toEqual({
      rows: [
        { line: 2, fields: { user: '1000', password: 's,cret', displayName: 'Alice' } },
        { line: 4, fields: { user: '1001', password: 'x', displayName: 'Bob "B"' } },
      ],
      problems: [],
    });
    expect(parseAccountsCsv('user;password\r\n2000;a\r\n2001;b').rows.map((r) => r.fields)).toEqual([
      { user: '2000', password: 'a' },
      { user: '2001', password: 'b' },
    ]);
    expect(parseAccountsCsv('login,pass\n1,2\n').problems).toEqual([
      { line: 1, message: 'unknown column "login" (allowed: user, password, authUser, displayName)' },
      { line: 1, message: 'unknown column "pass" (allowed: user, password, authUser, displayName)' },
      { line: 1, message: 'the header row needs a user column' },
    ]);
    expect(parseAccountsCsv('user,password\n1000\n1001,"open\n').problems).toEqual([
      { line: 2, message: 'expected 2 fields like the header, got 1' },
      { line: 3, message: 'a quoted field is not closed' },
    ]);
  });

  it('loads a role from a CSV file next to the scenario, checking each user', () => {
    writeFileSync(join(dir, 'callers.csv'), 'user,password\n3000,a\n3001,b\n3002,c\n');
    writeFileSync(join(dir, 'bad.csv'), 'user\n3000\nbad user\n');
    const text = (csv: string) => `name: t
roles:
  caller: { accounts: { csv: ${csv} } }
  callee: { accounts: { range: { from: 2000, count: 3 } }, autoAnswer: true }
load: { concurrency: 3, iterations: 3 }
steps:
  - register: [caller, callee]
  - call: { from: caller, to: callee }
`;
    expect(load(text('callers.csv')).roles.caller!.accounts).toEqual([
      { user: '3000', password: 'a' },
      { user: '3001', password: 'b' },
      { user: '3002', password: 'c' },
    ]);
    const problems = problemsOf(text('bad.csv'));
    expect(problems[0]).toMatch(/^roles\.caller\.accounts\.csv: bad\.csv:3: .*space/);
    expect(problemsOf(text('missing.csv'))[0]).toMatch(/^roles\.caller\.accounts\.csv: file not found: .*missing\.csv/);
  });
});

describe('placement within Chromium limits', () => {
  it('packs agents densely into one browser while the WebSockets allow, then spreads over browsers evenly', () => {
    expect(planPlacement({ agents: 2 })).toMatchObject({ agentsPerPage: 2, pagesPerBrowser: 1, pages: 1, browsers: 1 });
    expect(planPlacement({ agents: 90 })).toMatchObject({ agentsPerPage: 50, pagesPerBrowser: 2, pages: 2, browsers: 1 });
    expect(planPlacement({ agents: 1000 })).toMatchObject({ agentsPerPage: 50, pagesPerBrowser: 4, pages: 20, browsers: 5 });
    for (const agents of [1, 7, 90, 199, 200, 201, 1000, 5000]) {
      const p = planPlacement({ agents });
      expect(p.agentsPerPage * p.pagesPerBrowser).toBeLessThanOrEqual(200);
      expect(p.pagesPerBrowser).toBeLessThanOrEqual(CHROMIUM_LIMITS.audioCapturesPerBrowser);
      expect(p.pages * p.agentsPerPage).toBeGreaterThanOrEqual(agents);
      expect(p.browsers * p.pagesPerBrowser).toBeGreaterThanOrEqual(p.pages);
    }
  });

  it('one agent per page: at most 16 pages per browser (one audio capture each)', () => {
    expect(planPlacement({ agents: 40, agentsPerPage: 1 })).toMatchObject({ pagesPerBrowser: 14, pages: 40, browsers: 3 });
  });

  it('lowers explicit settings past the limits, with a warning', () => {
    const p = planPlacement({ agents: 100, agentsPerPage: 100, pagesPerBrowser: 20 });
    expect(p.pagesPerBrowser).toBe(2);
    expect(p.warnings).toEqual([
      "pagesPerBrowser 20 is above Chromium's 16 audio captures per browser (one per page); using 16",
      "16 pages x 100 agents is above Chromium's ~255 WebSockets per browser; using 2 pages per browser",
    ]);
  });
});

describe('the plan a dry run prints', () => {
  it('open model: phases, arrivals, the expected peak against the cap, pairing, placement', () => {
    const s = load(scenario('{ phases: [{ duration: 10s, rate: 1, rampTo: 4 }], maxConcurrent: 8, holdTime: 3s }'));
    const plan = planLoad(s);
    expect(plan).toMatchObject({ model: 'open', slots: 8, plannedIterations: 25, agents: 16, registerRoles: ['caller', 'callee'], preRegister: true });
    expect(plan.expectedPeakConcurrent).toBe(16);
    expect(describePlan(s, plan)).toEqual([
      'model: open, uniform arrivals, at most 8 at once; 25 calls planned over 10 s (expected 25.0)',
      '  phase 1: 0-10 s, 1 -> 4 calls/s, 25 calls',
      expect.stringMatching(/^  arrivals \(s\): 0\.000, 0\.883, 1\.650, .* \.\.\. 9\.490, 9\.748, 10\.000$|^  arrivals \(s\): 0\.000, 0\.883, /),
      '  expected at once at the peak: 16.0',
      'hold time: 3 s',
      'starts: late after 0.1 s, dropped after 2 s behind plan; graceful stop 30 s',
      'accounts: 8 slots, each its own account of every role; 16 user agents at most, caller, callee registered up front at 50/s',
      '  slot 0: caller=1000 callee=2000',
      '  slot 1: caller=1001 callee=2001',
      '  slot 2: caller=1002 callee=2002',
      '  ... slot 7: caller=1007 callee=2007',
      'placement: 16 agents per page, 1 page per browser: 1 page in 1 browser at most',
      'media: standard profile, ptime 20 ms, received audio played on 100% of legs; pages recycled after 400 peer connections',
      'warning: at 4 calls/s with 3 s holds about 16 calls run at once, above load.maxConcurrent 8: arrivals will be dropped',
    ]);
  });

  it('closed model bounded by time', () => {
    const s = load(scenario('{ concurrency: 4, duration: 1m, holdTime: 10s }'));
    const plan = planLoad(s);
    expect(plan.plannedIterations).toBeUndefined();
    expect(describePlan(s, plan)[0]).toBe('model: closed, 4 at once (for 60 s)');
  });
});
