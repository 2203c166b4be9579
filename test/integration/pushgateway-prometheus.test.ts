import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveChromium } from '../../src/browser/chromium.js';
import { processGroupMembers } from '../../src/lab/processes.js';
import { createLogger } from '../../src/log.js';
import { createMetricsRegistry } from '../../src/metrics/definitions.js';
import { pushToGateway } from '../../src/metrics/pushgateway.js';
import { FAILURE_REASONS, type ShardInfo } from '../../src/results.js';
import { runScenario, type RunOutcome } from '../../src/runner/run.js';
import { parseScenario } from '../../src/scenario/index.js';
import { missingPromStack, startPromStack, type PromStack } from './promStack.js';
import { processesInGroups, readCsv, tempDir } from './support.js';

// Live metrics of a sharded run through a real Pushgateway into a real Prometheus: two shards
// of one run push every second under job=callwright, run_id, shard; PromQL sums the run across
// them while it goes and at the end, and neither shard nor another run overwrites the other.
//
// Needs prometheus, prometheus-pushgateway and Chromium. Outside CI a missing one skips with
// the reason in the name; in CI (env CI set) it FAILS.

const inCi = Boolean(process.env['CI']) && process.env['CI'] !== 'false' && process.env['CI'] !== '0';
const missing =
  [missingPromStack(), resolveChromium() === undefined ? 'no Chromium (apt-get install chromium, or set CALLWRIGHT_CHROMIUM)' : undefined]
    .filter((m): m is string => m !== undefined)
    .join('; ') || undefined;
const skipReason = missing !== undefined && !inCi ? missing : undefined;

/** In CI a missing prerequisite is a failure of the test, never a skip. */
function requirePrerequisites(what: string | undefined): void {
  if (what !== undefined) throw new Error(`CI (env CI is set): this test must run, not skip, but: ${what}`);
}

const out = tempDir('callwright-pushgateway-');
const runId = `rid-${randomBytes(4).toString('hex')}`;

/** `calls` calls at once, each held ~4 s: long enough for a few 1 s pushes and 1 s scrapes while they are up. */
const scenarioFor = (calls: number) =>
  parseScenario(
    `
name: sharded-push
roles:
  caller:
    accounts: { range: { from: 1000, count: ${calls} }, user: "{n}" }
  callee:
    accounts: { range: { from: 2000, count: ${calls} }, user: "{n}" }
    autoAnswer: { after: 100ms }
load: { iterations: ${calls}, concurrency: ${calls} }
steps:
  - register: [caller, callee]
  - call: { from: caller, to: callee, until: established }
  - wait: 4s
  - hangup: caller
`,
    'sharded-push.yaml',
  );

describe.skipIf(skipReason !== undefined)(`live metrics of a sharded run: Pushgateway -> Prometheus${skipReason ? ` [SKIPPED: ${skipReason}]` : ''}`, () => {
  let stack: PromStack | undefined;
  const browserPids: number[] = [];
  const warnings: string[] = [];

  beforeAll(async () => {
    if (missing !== undefined) return; // in CI: the test itself fails with the reason
    stack = await startPromStack();
  }, 30_000);

  afterAll(async () => {
    const stackPids = stack?.pids ?? [];
    await stack?.stop();
    for (const pid of stackPids) expect(processGroupMembers(pid), `pid ${pid}`).toEqual([]);
    for (let i = 0; i < 50 && processesInGroups(browserPids).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(processesInGroups(browserPids)).toEqual([]);
    rmSync(out, { recursive: true, force: true });
  }, 30_000);

  const runShard = async (shard: ShardInfo, calls: number): Promise<{ outcome: RunOutcome; csvCalls: number }> => {
    const outDir = join(out, `shard-${shard.index}`);
    let pids: () => number[] = () => [];
    const outcome = await runScenario({
      scenario: scenarioFor(calls),
      outDir,
      logger: createLogger('warn', (line) => warnings.push(line)),
      runId,
      shard,
      pushgatewayUrl: stack!.pushgatewayUrl,
      pushIntervalSeconds: 1,
      onReady: (ready) => (pids = ready.browserPids),
    }).finally(() => browserPids.push(...pids()));
    return { outcome, csvCalls: readCsv(join(outDir, 'calls.csv')).length };
  };

  it('sums a run across its shards while it goes and at the end; shards and other runs keep their own groups', async () => {
    requirePrerequisites(missing);
    const prom = stack!;
    const selector = (extra = '') => `{job="callwright",run_id="${runId}"${extra}}`;

    // Shard 1, watched from Prometheus while it runs: calls_active > 0 can only come from a push during the run (the last one has 0).
    let running = true;
    let mostActiveSeenWhileRunning = 0;
    const watch = (async () => {
      while (running) {
        const active = await prom.query(`sum(callwright_calls_active${selector(',shard="1"')})`).catch(() => undefined);
        if (active !== undefined && running) mostActiveSeenWhileRunning = Math.max(mostActiveSeenWhileRunning, active);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    })();
    const shard1 = await runShard({ index: 1, count: 2 }, 3).finally(() => (running = false));
    await watch;
    expect(shard1.outcome.summary.exitCode, warnings.join('\n')).toBe(0);
    // The 3 calls were up for 4 s: pushed and scraped every second, Prometheus saw them all at once.
    expect(mostActiveSeenWhileRunning).toBe(3);

    const shard2 = await runShard({ index: 2, count: 2 }, 2);
    expect(shard2.outcome.summary.exitCode, warnings.join('\n')).toBe(0);
    expect([shard1.csvCalls, shard2.csvCalls]).toEqual([3, 2]);

    // The whole run, and each shard on its own: shard 2's pushes did not replace shard 1's group.
    const total = shard1.csvCalls + shard2.csvCalls;
    await prom.waitFor(`sum(callwright_calls_ended_total${selector()})`, total);
    expect(await prom.query(`sum(callwright_calls_ended_total${selector(',shard="1"')})`)).toBe(shard1.csvCalls);
    expect(await prom.query(`sum(callwright_calls_ended_total${selector(',shard="2"')})`)).toBe(shard2.csvCalls);
    expect(await prom.query(`sum(callwright_calls_started_total${selector()})`)).toBe(total);
    expect(await prom.query(`sum(callwright_calls_active${selector()})`)).toBe(0);
    // Every series carries the grouping labels as pushed (honor_labels), next to the scenario label; no instance label.
    const started = await prom.querySeries(`callwright_calls_started_total${selector()}`);
    expect(started.map((series) => series.labels).sort((a, b) => a.shard!.localeCompare(b.shard!))).toEqual([
      { job: 'callwright', run_id: runId, shard: '1', scenario: 'sharded-push' },
      { job: 'callwright', run_id: runId, shard: '2', scenario: 'sharded-push' },
    ]);
    // The failure series were there at 0 from the first push on (increase() then sees a first failure).
    expect(await prom.query(`count(callwright_calls_ended_total${selector(',shard="1"')})`)).toBe(1 + 2 * FAILURE_REASONS.length);
    expect(await prom.query(`sum(callwright_calls_ended_total${selector(',result="failed"')})`)).toBe(0);

    // Another run on the same gateway: its own group, the first run's sum does not move.
    const otherRun = `${runId}-other`;
    const { registry, metrics } = createMetricsRegistry();
    metrics.callsEnded.inc({ scenario: 'sharded-push', result: 'success', reason: 'none' }, 7);
    expect(await pushToGateway(registry, { url: prom.pushgatewayUrl, job: 'callwright', grouping: { run_id: otherRun, shard: '1' } })).toEqual({ ok: true });
    await prom.waitFor(`sum(callwright_calls_ended_total{job="callwright",run_id="${otherRun}"})`, 7);
    expect(await prom.query(`sum(callwright_calls_ended_total${selector()})`)).toBe(total);
    expect(await prom.query('sum(callwright_calls_ended_total{job="callwright"})')).toBe(total + 7);
    expect(warnings.filter((line) => /push/i.test(line))).toEqual([]);
  }, 90_000);
});
