import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { InputError } from '../../src/errors.js';
import { planLoad } from '../../src/plan/loadPlan.js';
import { globalIteration, globalSlot, parseShard, shardFromEnvironment, shardScenario, shardShare } from '../../src/plan/shards.js';
import { parseScenario } from '../../src/scenario/index.js';
import type { Scenario } from '../../src/scenario/types.js';

function scenario(load: string, accounts = 10): Scenario {
  return parseScenario(
    `name: t
roles:
  caller: { accounts: { range: { from: 1000, count: ${accounts} }, password: "p{n}" } }
  callee: { accounts: { range: { from: 2000, count: ${accounts} } }, autoAnswer: { after: 0.2s } }
load: { holdTime: 1s, ${load.slice(1)}
steps:
  - register: [caller, callee]
  - call: { from: caller, to: callee, until: established }
  - wait: holdTime
  - hangup: caller
`,
    '/tmp/shards.yaml',
  );
}

function shards(whole: Scenario, count: number): Scenario[] {
  return Array.from({ length: count }, (_, i) => shardScenario(whole, { index: i + 1, count }));
}

function messageOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof InputError) return `${error.message} | ${error.hint ?? ''}`;
    throw error;
  }
  return 'no error';
}

describe('--shard I/N', () => {
  it('reads I/N, 1-based like Playwright and Jest', () => {
    expect(parseShard('2/10', '--shard')).toEqual({ index: 2, count: 10 });
    expect(parseShard(' 1 / 1 ', '--shard')).toEqual({ index: 1, count: 1 });
  });

  it('refuses what is not a shard, naming the option and the numbering', () => {
    expect(messageOf(() => parseShard('0/3', '--shard'))).toMatch(/^--shard: shard 0 of 3 does not exist \(shards are numbered 1 to 3\)/);
    expect(messageOf(() => parseShard('4/3', '--shard'))).toMatch(/shard 4 of 3 does not exist/);
    expect(messageOf(() => parseShard('1/0', '--shard'))).toMatch(/0 shards; expected 1 to/);
    expect(messageOf(() => parseShard('half', 'CALLWRIGHT_SHARD'))).toMatch(/^CALLWRIGHT_SHARD: "half" is not a shard I\/N \| give the shard as I\/N/);
  });

  it('comes from the environment: CALLWRIGHT_SHARD, or a Kubernetes Indexed Job (0-based JOB_COMPLETION_INDEX)', () => {
    expect(shardFromEnvironment({})).toBeUndefined();
    expect(shardFromEnvironment({ CALLWRIGHT_SHARD: '3/4' })).toEqual({ index: 3, count: 4 });
    expect(shardFromEnvironment({ CALLWRIGHT_SHARDS: '10', JOB_COMPLETION_INDEX: '0' })).toEqual({ index: 1, count: 10 });
    expect(shardFromEnvironment({ CALLWRIGHT_SHARDS: '10', JOB_COMPLETION_INDEX: '9' })).toEqual({ index: 10, count: 10 });
    expect(messageOf(() => shardFromEnvironment({ CALLWRIGHT_SHARDS: '10', JOB_COMPLETION_INDEX: '10' }))).toMatch(/shard 11 of 10 does not exist/);
    expect(messageOf(() => shardFromEnvironment({ CALLWRIGHT_SHARDS: '10' }))).toMatch(/JOB_COMPLETION_INDEX is not.*completionMode: Indexed/);
    expect(messageOf(() => shardFromEnvironment({ CALLWRIGHT_SHARDS: 'ten', JOB_COMPLETION_INDEX: '1' }))).toMatch(/CALLWRIGHT_SHARDS: "ten" is not a number/);
  });
});

describe('a scenario split into shards', () => {
  it('splits account slots without overlap, callers and callees staying together', () => {
    const whole = scenario('{ concurrency: 10, iterations: 50 }', 12);
    const parts = shards(whole, 3);
    expect(parts.map((part) => part.load.concurrency)).toEqual([4, 3, 3]);
    const pairs = parts.flatMap((part) => part.roles.caller!.accounts.map((caller, slot) => [caller.user, part.roles.callee!.accounts[slot]!.user]));
    // Slots 0..9 of the whole run, each exactly once: accounts 1010/1011 (beyond the 10 slots) are never used.
    expect(pairs.map(([caller]) => caller).sort()).toEqual(whole.roles.caller!.accounts.slice(0, 10).map((a) => a.user).sort());
    for (const [caller, callee] of pairs) expect(Number(callee) - Number(caller)).toBe(1000);
    // Shard 2's local slot 1 is the run's slot 4 (slot s -> shard s mod 3 + 1).
    expect(parts[1]!.roles.caller!.accounts[1]!.user).toBe('1004');
    expect(globalSlot(1, { index: 2, count: 3 })).toBe(4);
  });

  it('closed model: the shards share the iterations, numbered as in the whole run', () => {
    const parts = shards(scenario('{ concurrency: 10, iterations: 50 }'), 3);
    expect(parts.map((part) => part.load.iterations)).toEqual([17, 17, 16]);
    const numbers = parts.flatMap((part) => Array.from({ length: part.load.iterations! }, (_, k) => globalIteration(k + 1, part.load.shard)));
    expect(numbers.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('open model: the shards\' arrivals interleave into exactly the whole run\'s plan', () => {
    const whole = scenario('{ phases: [{ duration: 20s, rate: 1, rampTo: 6 }], maxConcurrent: 9, arrivals: poisson, seed: 7 }', 9);
    const expected = planLoad(whole).arrivalsSeconds!;
    const parts = shards(whole, 4);
    const merged = parts.flatMap((part) => planLoad(part).arrivalsSeconds!.map((at, k) => [globalIteration(k + 1, part.load.shard), at] as const));
    merged.sort((a, b) => a[0] - b[0]);
    expect(merged.map(([iteration]) => iteration)).toEqual(expected.map((_, i) => i + 1));
    expect(merged.map(([, at]) => at)).toEqual(expected);
    // The cap on calls at once is split with the slots; the registration pace too.
    expect(parts.map((part) => part.load.concurrency)).toEqual([3, 2, 2, 2]);
    expect(parts.reduce((sum, part) => sum + part.load.registerRate, 0)).toBeCloseTo(whole.load.registerRate);
  });

  it('gives a shard with no slot or no iteration nothing to do', () => {
    const parts = shards(scenario('{ concurrency: 2, iterations: 2 }'), 3);
    expect(parts.map((part) => [part.load.concurrency, part.load.iterations])).toEqual([
      [1, 1],
      [1, 1],
      [0, 0],
    ]);
    expect(planLoad(parts[2]!).plannedIterations).toBe(0);
  });

  it('a share of every total adds up to the total, for any shard count', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 1, max: 64 }), (total, count) => {
        let sum = 0;
        for (let index = 1; index <= count; index++) sum += shardShare(total, { index, count });
        return sum === total;
      }),
    );
  });
});
