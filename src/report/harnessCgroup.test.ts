import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { HarnessSample, RunEvent, RunInfo } from '../results.js';
import { createMetricsRegistry } from '../metrics/definitions.js';
import { parseCsv } from './csvRead.js';
import { PrometheusReporter } from './prometheusReporter.js';
import { PeriodicStatsReporter, STATS_COLUMNS } from './statsCsv.js';

// The watchdog's cgroup figures (a container's limits) in stats.csv and the metrics; none without limits.
const MiB = 1024 * 1024;
const machineSample: HarnessSample = {
  atMs: 0,
  intervalSeconds: 1,
  nodeCpuCores: 0.1,
  chromiumCpuCores: 1,
  machineBusyCores: 2,
  cores: 16,
  eventLoopLagP99Ms: 11,
  eventLoopLagMaxMs: 12,
  nodeRssBytes: 1e8,
  chromiumRssBytes: 1e9,
  chromiumProcesses: 4,
  memoryUsedFraction: 0.2,
};
const podSample = (cpuThrottledSeconds: number): HarnessSample => ({
  ...machineSample,
  cpuLimitCores: 2.6,
  cgroupCpuCores: 2.5,
  cpuThrottledSeconds,
  memoryLimitBytes: 2000 * MiB,
  cgroupMemoryBytes: 1200 * MiB,
  oomKills: 0,
});
const harness = (sample: HarnessSample, saturated = false): RunEvent => ({ type: 'harness', atMs: Date.now(), scenario: 'smoke', sample, saturated, reasons: saturated ? ['cpu_throttled'] : [] });

let outDir: string;
beforeEach(() => {
  outDir = mkdtempSync(join(tmpdir(), 'callwright-cgroup-out-'));
});
afterEach(() => {
  vi.useRealTimers();
  rmSync(outDir, { recursive: true, force: true });
});

function statsRows(events: RunEvent[][]): Record<string, string>[] {
  vi.useFakeTimers({ now: Date.UTC(2025, 0, 1) });
  const stats = new PeriodicStatsReporter({ outDir, periodSeconds: 5 });
  stats.onBegin({} as RunInfo);
  stats.startClock();
  for (const period of events) {
    for (const event of period) stats.onEvent(event);
    vi.advanceTimersByTime(5000);
  }
  stats.close();
  const [header, ...rows] = parseCsv(readFileSync(join(outDir, 'stats.csv'), 'utf8').trim());
  return rows.map((row) => Object.fromEntries(row.map((value, i) => [header![i]!, value])));
}

describe('stats.csv', () => {
  it('appends the cgroup columns at the end and sums throttling over each period', () => {
    expect(STATS_COLUMNS.slice(-6).map((c) => c.header)).toEqual(['cpu_limit_cores', 'cgroup_cpu_cores', 'cpu_throttled_s_p', 'cpu_throttled_s_c', 'memory_limit_bytes', 'cgroup_memory_bytes']);
    const rows = statsRows([[harness(podSample(0.5), true), harness(podSample(0.25), true)], [harness(podSample(0))]]);
    expect(rows[0]).toMatchObject({ cpu_limit_cores: '2.6', cgroup_cpu_cores: '2.5', cpu_throttled_s_p: '0.75', cpu_throttled_s_c: '0.75', memory_limit_bytes: String(2000 * MiB), cgroup_memory_bytes: String(1200 * MiB) });
    expect(rows[1]).toMatchObject({ cpu_throttled_s_p: '0', cpu_throttled_s_c: '0.75' });
  });

  it('leaves them empty without limits', () => {
    const [row] = statsRows([[harness(machineSample)]]);
    for (const column of ['cpu_limit_cores', 'cgroup_cpu_cores', 'cpu_throttled_s_p', 'cpu_throttled_s_c', 'memory_limit_bytes', 'cgroup_memory_bytes']) expect(row![column], column).toBe('');
    expect(row!['machine_cpu_cores']).toBe('2');
  });
});

describe('metrics', () => {
  const series = async (sample: HarnessSample) => {
    const { registry, metrics } = createMetricsRegistry();
    const reporter = new PrometheusReporter({ registry, metrics, outDir, warn: () => undefined });
    reporter.onBegin({ scenario: 'smoke' } as RunInfo);
    reporter.onEvent(harness(sample));
    const text = await registry.metrics();
    return text.split('\n').filter((line) => /^callwright_harness_(cpu_cores|memory_bytes)\{/.test(line));
  };

  it('sets process="cgroup" and "cgroup_limit" on the CPU and memory gauges when the cgroup is limited', async () => {
    const lines = await series(podSample(0.3));
    expect(lines).toContain('callwright_harness_cpu_cores{scenario="smoke",process="cgroup_limit"} 2.6');
    expect(lines).toContain('callwright_harness_cpu_cores{scenario="smoke",process="cgroup"} 2.5');
    expect(lines).toContain(`callwright_harness_memory_bytes{scenario="smoke",process="cgroup_limit"} ${2000 * MiB}`);
    expect(lines).toContain(`callwright_harness_memory_bytes{scenario="smoke",process="cgroup"} ${1200 * MiB}`);
  });

  it('adds no series without limits', async () => {
    const lines = await series(machineSample);
    expect(lines.filter((line) => line.includes('cgroup'))).toEqual([]);
    expect(lines).toHaveLength(6);
  });
});
