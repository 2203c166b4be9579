/**
 * One scenario run as 3 shard processes (the command a Kubernetes Indexed
 * Job's pods run: CALLWRIGHT_SHARDS + JOB_COMPLETION_INDEX + CALLWRIGHT_RUN_ID),
 * each pushing to a real Pushgateway scraped by a real Prometheus, then
 * `callwright merge`: the merged run must be the single-process run of the
 * same scenario (same calls, same pass/fail, same verdict and exit code), and
 * Prometheus must count exactly the merged calls.csv.
 */
import { cpSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { percentile } from '../../src/common/statistics.js';
import { processesInGroups, readCsv, readJson, runCli, tempDir, writeScenario, type CliRun } from './support.js';
import { startPromStack, type PromStack } from './promStack.js';

const SHARDS = 3;
const RUN_ID = `shard-test-${process.pid}`;

// 12 calls on 6 account slots: 2 slots and 4 calls per shard. Short holds keep three browsers on 2 cores calm.
const SCENARIO = `name: sharded
roles:
  caller: { accounts: { range: { from: 1000, count: 6 }, password: "secret{n}" } }
  callee: { accounts: { range: { from: 2000, count: 6 }, password: "secret{n}" }, autoAnswer: { after: 0.2s } }
load: { concurrency: 6, iterations: 12, holdTime: 1s }
thresholds:
  call_success: ['rate>=0.9']
  setup_time: ['p(95)<5s']
steps:
  - register: [caller, callee]
  - call: { from: caller, to: callee, until: established }
  - expect: { media: flowing, direction: both, within: 5s }
  - wait: holdTime
  - hangup: caller
`;

describe('a scenario run as 3 shards and merged', () => {
  const dir = tempDir('callwright-shards-');
  const scenario = writeScenario(dir, 'sharded', SCENARIO);
  let stack: PromStack;
  let single: CliRun;
  let shardRuns: CliRun[];
  let merge: CliRun;
  const browserGroups: number[] = [];

  beforeAll(async () => {
    stack = await startPromStack();
    single = await runCli(['run', scenario, '--out', join(dir, 'single'), '--quiet', '--log-level', 'debug'], { timeoutMs: 120_000 });
    browserGroups.push(...single.browserPids);
    shardRuns = await Promise.all(
      Array.from({ length: SHARDS }, (_, index) =>
        runCli(['run', scenario, '--out', join(dir, 'shards'), '--quiet', '--log-level', 'debug', '--pushgateway', stack.pushgatewayUrl, '--push-interval', '1s'], {
          timeoutMs: 150_000,
          env: { CALLWRIGHT_SHARDS: String(SHARDS), JOB_COMPLETION_INDEX: String(index), CALLWRIGHT_RUN_ID: RUN_ID },
        }),
      ),
    );
    for (const run of shardRuns) browserGroups.push(...run.browserPids);
    merge = await runCli(['merge', join(dir, 'shards'), '--out', join(dir, 'merged'), '--quiet']);
  }, 400_000);

  afterAll(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs each shard into its own folder with its share of the calls, numbered as in the whole run', () => {
    for (const run of shardRuns) expect(run.code, run.stderr).toBe(0);
    expect(readdirSync(join(dir, 'shards')).sort()).toEqual(['shard-1', 'shard-2', 'shard-3']);
    const idsByShard = [1, 2, 3].map((index) => readCsv(join(dir, 'shards', `shard-${index}`, 'calls.csv')).map((call) => Number(call.iteration)));
    // Global iteration g runs in shard ((g - 1) mod 3) + 1.
    idsByShard.forEach((iterations, i) => {
      expect(iterations).toHaveLength(4);
      for (const iteration of iterations) expect((iteration - 1) % SHARDS).toBe(i);
    });
    for (const index of [1, 2, 3]) {
      const summary = readJson(join(dir, 'shards', `shard-${index}`, 'summary.json'));
      expect(summary.info.shard).toEqual({ index, count: SHARDS });
      expect(summary.info.runId).toBe(RUN_ID);
      // The shard is named in its reports too, not only in summary.json.
      expect(readFileSync(join(dir, 'shards', `shard-${index}`, 'junit.xml'), 'utf8')).toContain(`name="shard" value="${index}/${SHARDS}"`);
      expect(readFileSync(join(dir, 'shards', `shard-${index}`, 'report.html'), 'utf8')).toContain(`shard ${index}/${SHARDS}`);
    }
  });

  it('merges into the same calls, pass/fail, verdict and exit code as the single-process run', () => {
    expect(single.code, single.stderr).toBe(0);
    expect(merge.code, merge.stderr).toBe(single.code);
    const key = (call: Record<string, string>) => `${call.call_id} ${call.result} ${call.failure_reason ?? ''}`;
    const singleCalls = readCsv(join(dir, 'single', 'calls.csv')).map(key).sort();
    const mergedCalls = readCsv(join(dir, 'merged', 'calls.csv')).map(key).sort();
    expect(mergedCalls).toEqual(singleCalls);
    const singleSummary = readJson(join(dir, 'single', 'summary.json'));
    const mergedSummary = readJson(join(dir, 'merged', 'summary.json'));
    expect(mergedSummary.calls).toEqual(singleSummary.calls);
    expect(mergedSummary.steps).toEqual(singleSummary.steps);
    expect(mergedSummary.iterations.started).toBe(singleSummary.iterations.started);
    expect(mergedSummary.exitCode).toBe(singleSummary.exitCode);
    expect(readJson(join(dir, 'merged', 'thresholds.json'))).toEqual(expect.anything());
  });

  it('recomputes percentiles from the merged raw rows', () => {
    const rows = [1, 2, 3].flatMap((index) => readCsv(join(dir, 'shards', `shard-${index}`, 'calls.csv')));
    const setups = rows.map((call) => Number(call.setup_s)).filter(Number.isFinite);
    const summary = readJson(join(dir, 'merged', 'summary.json'));
    const p95 = findNumber(summary, ['aggregates', 'calls', 'callSetupSeconds', 'p95']);
    expect(p95).toBeCloseTo(percentile(setups, 95)!, 6);
  });

  it('counts in Prometheus exactly the calls of the merged calls.csv, summed over the shards by run_id', async () => {
    const calls = readCsv(join(dir, 'merged', 'calls.csv')).length;
    expect(calls).toBe(12);
    await stack.waitFor(`sum(callwright_calls_ended_total{run_id="${RUN_ID}"})`, calls, 20_000);
    for (const index of [1, 2, 3]) {
      expect(await stack.query(`sum(callwright_calls_ended_total{run_id="${RUN_ID}",shard="${index}"})`)).toBe(4);
    }
  });

  it('says a run with a crashed or missing shard is incomplete, with a failing exit code', async () => {
    const partial = join(dir, 'partial');
    cpSync(join(dir, 'shards'), partial, { recursive: true });
    // A crashed shard: its pod died before the end, so no summary.json.
    rmSync(join(partial, 'shard-2', 'summary.json'));
    const crashed = await runCli(['merge', partial, '--out', join(dir, 'merged-crashed')]);
    expect(crashed.code).not.toBe(0);
    expect(crashed.stdout + crashed.stderr).toMatch(/incomplete/i);
    expect(crashed.stdout + crashed.stderr).toMatch(/shard 2/);
    // A shard whose folder never came back.
    rmSync(join(partial, 'shard-2'), { recursive: true });
    const missing = await runCli(['merge', partial, '--out', join(dir, 'merged-missing')]);
    expect(missing.code).not.toBe(0);
    expect(missing.stdout + missing.stderr).toMatch(/incomplete/i);
    expect(existsSync(join(dir, 'merged-missing', 'junit.xml'))).toBe(true);
  });

  it('leaves no browser behind', () => {
    expect(browserGroups.length).toBeGreaterThanOrEqual(1 + SHARDS);
    expect(processesInGroups(browserGroups)).toEqual([]);
  });
});

/** A number at a path in summary.json (its aggregates' layout is the report's business). */
function findNumber(object: unknown, path: string[]): number | undefined {
  let value: unknown = object;
  for (const key of path) value = (value as Record<string, unknown> | undefined)?.[key];
  return typeof value === 'number' ? value : undefined;
}
