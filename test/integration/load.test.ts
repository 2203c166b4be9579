import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { formatSummaryTable } from '../../src/report/summaryTable.js';
import type { Reporter } from '../../src/report/reporter.js';
import type { RunEvent } from '../../src/results.js';
import { runScenario } from '../../src/runner/run.js';
import { parseScenario } from '../../src/scenario/index.js';
import { parseThresholds } from '../../src/verdict/index.js';
import { processesInGroups, readCsv, readJson, runCli, tempDir, writeScenario } from './support.js';

// Real Chromium, real SIP.js, the real embedded server; small and bounded loads
// (a handful of calls, seconds each). Performance is measured in bench/, not here.
const out = tempDir('callwright-load-');
const allBrowserPids: number[] = [];
afterAll(async () => {
  // Chromium's helpers (crashpad) may take a moment to go after the browser has closed.
  for (let i = 0; i < 50 && processesInGroups(allBrowserPids).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  expect(processesInGroups(allBrowserPids)).toEqual([]);
});

const accounts = (count: number) => `
  caller:
    accounts: { range: { from: 1000, count: ${count} }, user: "{n}", password: "pw{n}" }
  callee:
    accounts: { range: { from: 2000, count: ${count} }, user: "{n}", password: "pw{n}" }
    autoAnswer: { after: 100ms }`;

const heldCall = `
steps:
  - register: [caller, callee]
  - call: { from: caller, to: callee, until: established }
  - wait: holdTime
  - hangup: caller
`;

const last = <T>(rows: T[]): T => rows.at(-1)!;

describe('open model (ramp)', () => {
  it('plans 8 arrivals ramping 1 -> 3 calls/s over 4 s; with 2 at once some are dropped; every file agrees on the counts', async () => {
    const file = writeScenario(out, 'ramp', `
name: load-ramp-small
roles:${accounts(2)}
load:
  phases:
    - { duration: 4s, rate: 1, rampTo: 3 }
  maxConcurrent: 2
  holdTime: 1s
  statsPeriod: 1s
${heldCall}`);
    const plan = await runCli(['run', file, '--dry-run']);
    expect(plan.code, plan.stderr).toBe(0);
    // The rate's integral over 4 s is (1 + 3) / 2 * 4 = 8; uniform arrivals where it reaches 0, 1, ... 7.
    expect(plan.stdout).toContain('8 calls planned over 4 s');
    expect(plan.stdout).toContain('arrivals (s): 0.000, 0.828, 1.464, 2.000, 2.472, 2.899, 3.292, 3.657');

    const dir = join(out, 'ramp-run');
    const run = await runCli(['run', file, '--out', dir, '--log-level', 'debug', '--quiet']);
    allBrowserPids.push(...run.browserPids);
    const summary = readJson(join(dir, 'summary.json'));
    const calls = readCsv(join(dir, 'calls.csv'));
    const stats = readCsv(join(dir, 'stats.csv'));

    // Each call holds a slot for >= 1.1 s (answer after 0.1 s, hold 1 s), arrivals come faster than 2 per 1.1 s: drops.
    expect(summary.iterations.planned).toBe(8);
    expect(summary.iterations.dropped).toBeGreaterThan(0);
    expect(summary.iterations.started + summary.iterations.dropped).toBe(8);
    expect(summary.load).toMatchObject({ model: 'open', slots: 2, peakConcurrent: 2 });
    expect(summary.load.droppedByReason).toEqual({ capacity: summary.iterations.dropped, late: 0, stopped: 0 });
    // calls.csv: one row per started call, all successful (the cap is the harness's, not a failure).
    expect(calls).toHaveLength(summary.iterations.started);
    expect(calls.every((c) => c.result === 'success')).toBe(true);
    expect(run.code, run.stderr).toBe(0);
    // stats.csv: a row per 1 s period (4 s of arrivals, then the last calls end), cumulative counts match the summary.
    expect(stats.length).toBeGreaterThanOrEqual(5);
    expect(stats.length).toBeLessThanOrEqual(8);
    expect(Number(stats[0]!.elapsed_s)).toBeCloseTo(1, 0);
    expect(Number(stats[0]!.target_rate_cps)).toBeCloseTo(1.5, 1); // 1 + (3 - 1) * 1/4
    const end = last(stats);
    expect(Number(end.created_c)).toBe(summary.iterations.started);
    expect(Number(end.successful_c)).toBe(calls.length);
    expect(Number(end.failed_c)).toBe(0);
    expect(Number(end.dropped_c)).toBe(summary.iterations.dropped);
    expect(Number(end.dropped_capacity_c)).toBe(summary.iterations.dropped);
    expect(Number(end.current)).toBe(0);
    expect(stats.reduce((sum, row) => sum + Number(row.created_p), 0)).toBe(summary.iterations.started);
    expect(Number(end.setup_p50_s_c)).toBeGreaterThan(0.1); // the callee answers after 100 ms
    // Harness figures are sampled into the rows; this small run does not saturate the machine's watchdog by itself.
    expect(Number(stats[1]!.chromium_cpu_cores)).toBeGreaterThan(0);
    expect(Number(stats[1]!.chromium_rss_bytes)).toBeGreaterThan(50e6);
    expect(readFileSync(join(dir, 'metrics.prom'), 'utf8')).toMatch(new RegExp(`callwright_iterations_dropped_total\\{[^}]*reason="capacity"[^}]*\\} ${summary.iterations.dropped}\\b`));
  });
});

describe('closed model', () => {
  it('keeps 3 calls up for 4 s, each slot starting its next call as the last ends; media flows on every call', async () => {
    const file = writeScenario(out, 'closed', `
name: load-closed-small
roles:${accounts(3)}
load:
  concurrency: 3
  duration: 4s
  holdTime: { uniform: { min: 0.5s, max: 1.5s } }
  gracefulStop: 10s
  statsPeriod: 2s
steps:
  - register: [caller, callee]
  - call: { from: caller, to: callee, until: established }
  - expect: { media: flowing, direction: both, within: 5s }
  - wait: holdTime
  - hangup: caller
`);
    const dir = join(out, 'closed-run');
    const run = await runCli(['run', file, '--out', dir, '--log-level', 'debug', '--quiet']);
    allBrowserPids.push(...run.browserPids);
    expect(run.code, run.stderr).toBe(0);
    const summary = readJson(join(dir, 'summary.json'));
    const calls = readCsv(join(dir, 'calls.csv'));
    const stats = readCsv(join(dir, 'stats.csv'));
    expect(summary.load).toMatchObject({ model: 'closed', slots: 3, peakConcurrent: 3, late: 0, droppedByReason: { capacity: 0, late: 0, stopped: 0 } });
    // A call is at least ~0.7 s (answer, media check, hold >= 0.5 s): 3 slots over 4 s make between 4 and 18 calls.
    expect(summary.iterations.started).toBeGreaterThan(3);
    expect(summary.iterations.started).toBeLessThan(18);
    expect(summary.iterations).toMatchObject({ planned: summary.iterations.started, dropped: 0, failed: 0 });
    expect(calls).toHaveLength(summary.iterations.started);
    expect(calls.every((c) => c.result === 'success' && c.codec_in === 'opus')).toBe(true);
    // The three slots use their own accounts, never another's.
    const pairs = new Set(calls.map((c) => `${c.from.split('@')[0]}>${c.to.split('@')[0]}`));
    expect([...pairs].sort()).toEqual(['sip:1000>sip:2000', 'sip:1001>sip:2001', 'sip:1002>sip:2002']);
    expect(Number(last(stats).created_c)).toBe(calls.length);
    expect(Number(last(stats).successful_c)).toBe(calls.length);
    expect(Number(stats[0]!.current)).toBe(3);
  });
});

describe('self-saturation watchdog', () => {
  it('a harness whose event loop is really overloaded marks the run saturated, counts late starts and flags the calls failing then', async () => {
    const scenario = parseScenario(`
name: load-overload
roles:${accounts(8)}
load:
  rate: 2
  duration: 4s
  maxConcurrent: 8
  holdTime: 2s
  statsPeriod: 1s
options:
  watchdog: { interval: 0.5s }
thresholds:
  harness_saturated: ['count==0']
${heldCall}`, join(out, 'overload.yaml'));
    // Real overload of the harness: from the first start on, its event loop is busy 300 ms of every 370 ms
    // (a period out of step with the 500 ms between arrivals, so starts land in busy spells).
    let hogTimer: NodeJS.Timeout | undefined;
    const hog: Reporter = {
      name: 'event-loop-hog',
      onEvent: (event: RunEvent) => {
        if (event.type !== 'iterationStarted' || hogTimer) return;
        hogTimer = setInterval(() => {
          const until = performance.now() + 300;
          while (performance.now() < until) {
            // busy
          }
        }, 370);
      },
      onEnd: () => clearInterval(hogTimer),
    };
    const warnings: string[] = [];
    const logger = createLogger('warn', (line) => warnings.push(line));
    let pids: () => number[] = () => [];
    const dir = join(out, 'overload-run');
    // The server takes 1 call at once: calls over it fail with 503 while the harness is saturated.
    const thresholds = parseThresholds(scenario.thresholds, scenario.file);
    const outcome = await runScenario({ scenario, outDir: dir, logger, reporters: [hog], thresholds, embeddedServer: { maxConcurrentCalls: 1 }, onReady: (r) => (pids = r.browserPids) }).finally(() => clearInterval(hogTimer));
    allBrowserPids.push(...pids());
    const { summary } = outcome;
    expect(summary.harness?.saturated).toBe(true);
    expect(summary.harness!.windows.flatMap((w) => w.reasons)).toContain('event_loop_lag');
    expect(summary.harness!.peak!.eventLoopLagP99Ms).toBeGreaterThan(250);
    // A CI run can gate on it: the harness_saturated threshold counts the saturated windows.
    expect(outcome.thresholds[0]).toMatchObject({ passed: false, observed: summary.harness!.windows.length });
    expect(summary.exitCode).toBe(99);
    expect(summary.load!.late).toBeGreaterThan(0);
    expect(summary.load!.startDelaySeconds.max).toBeGreaterThan(0.1);
    const failed = outcome.calls.filter((c) => c.result === 'failed');
    expect(failed.map((c) => c.sipStatus)).toContain(503);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((c) => c.harnessSaturated === true)).toBe(true);
    expect(summary.harness!.failedCallsDuringSaturation).toBe(failed.length);
    expect(warnings.join('\n')).toMatch(/HARNESS SATURATED for \d+ s \(.*event_loop_lag.*\): \d+ failed call\(s\) overlap it/);

    // The end-of-run summary, and the files: summary.json, calls.csv, stats.csv, metrics.prom.
    const table = formatSummaryTable(summary, outcome.calls, outcome.steps);
    expect(table).toMatch(new RegExp(`harness.*SATURATED \\d+ s \\(.*event_loop_lag.*\\); ${failed.length} failed call\\(s\\) overlap it`));
    expect(table).toMatch(/late starts.*: [1-9]\d* \(started over load.lateAfter behind plan/);
    expect(readJson(join(dir, 'summary.json')).harness).toMatchObject({ saturated: true, failedCallsDuringSaturation: failed.length });
    const rows = readCsv(join(dir, 'calls.csv'));
    expect(rows.filter((c) => c.result === 'failed').every((c) => c.harness_saturated === 'true')).toBe(true);
    expect(readCsv(join(dir, 'stats.csv')).some((r) => r.harness_saturated === 'true')).toBe(true);
    const prom = readFileSync(join(dir, 'metrics.prom'), 'utf8');
    expect(Number(/callwright_harness_saturated_seconds_total\{[^}]*\} ([\d.]+)/.exec(prom)?.[1])).toBeGreaterThan(0);
    expect(prom).toMatch(new RegExp(`callwright_calls_failed_during_saturation_total\\{[^}]*\\} ${failed.length}\\b`));
  });
});

describe('callwright capacity', () => {
  it('finds the knee of an embedded server capped at 3 calls at once: last good 3, first bad 4 (503), with figures per step', async () => {
    // --allow-saturation: judged on the server's answers alone, as other work may share this machine (the watchdog has its own test).
    const file = writeScenario(out, 'capacity', `
name: load-capacity
roles:${accounts(5)}
load:
  concurrency: 1
  duration: 1s
  holdTime: { uniform: { min: 0.5s, max: 1.5s } }
  gracefulStop: 5s
${heldCall}`);
    const dir = join(out, 'capacity-run');
    const run = await runCli(['capacity', file, '--out', dir, '--levels', '2,3,4,5', '--step-duration', '6s', '--server-max-calls', '3', '--allow-saturation', '--log-level', 'debug'], { timeoutMs: 110_000 });
    allBrowserPids.push(...run.browserPids);
    expect(run.code, run.stderr).toBe(0);
    const report = readJson(join(dir, 'capacity.json'));
    expect(report.lastGood.level).toBe(3);
    expect(report.firstBad.level).toBe(4);
    // The search stops at the first bad level.
    expect(report.steps.map((s: { level: number }) => s.level)).toEqual([2, 3, 4]);
    for (const step of report.steps.slice(0, 2)) {
      expect(step).toMatchObject({ ok: true, successRate: 1 });
      expect(step.calls).toBeGreaterThanOrEqual(step.level * 2);
      expect(step.setupP95Seconds).toBeGreaterThan(0.1);
    }
    expect(report.firstBad.ok).toBe(false);
    expect(report.firstBad.sipStatuses['503']).toBeGreaterThan(0);
    expect(report.firstBad.why.join(' ')).toMatch(/success rate [\d.]+% < 99\.0% \(\d+ sip_status; SIP \d+x 503\)/);
    expect(run.stdout).toContain('last good: 3 calls at once');
    expect(run.stdout).toMatch(/first bad: 4 calls at once: success rate/);
    const csv = readCsv(join(dir, 'capacity.csv'));
    expect(csv.map((r) => [r.level, r.ok])).toEqual([['2', 'true'], ['3', 'true'], ['4', 'false']]);
    // Each step is a full run with its own reports.
    expect(readJson(join(report.firstBad.outDir, 'summary.json')).calls.byReason.sip_status).toBe(report.firstBad.failuresByReason.sip_status);
  });
});
