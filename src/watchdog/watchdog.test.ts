import { afterEach, describe, expect, it } from 'vitest';
import type { HarnessSample } from '../results.js';
import { CgroupMeter } from './cgroupLimits.js';
import { cpuStatV2, fakeCgroupHost, removeFakeCgroupHosts } from './cgroupTree.testkit.js';
import { HarnessWatchdog, judgeSample, summarizeCgroup } from './watchdog.js';

const MiB = 1024 * 1024;
afterEach(removeFakeCgroupHosts);
const thresholds = { cpu: 0.95, eventLoopLagMs: 250, memory: 0.95 };
const options = { ...thresholds, intervalSeconds: 1 };

/** A quiet 16-core node: the machine figures alone never say saturated. */
const sample = (over: Partial<HarnessSample> = {}): HarnessSample => ({
  atMs: 0,
  intervalSeconds: 1,
  nodeCpuCores: 0.2,
  chromiumCpuCores: 2.2,
  machineBusyCores: 3,
  cores: 16,
  eventLoopLagP99Ms: 11,
  eventLoopLagMaxMs: 12,
  nodeRssBytes: 1e8,
  chromiumRssBytes: 1e9,
  chromiumProcesses: 6,
  memoryUsedFraction: 0.3,
  ...over,
});
const limited = (over: Partial<HarnessSample> = {}) => sample({ cpuLimitCores: 2.6, cgroupCpuCores: 1.2, cpuThrottledSeconds: 0, memoryLimitBytes: 2000 * MiB, cgroupMemoryBytes: 900 * MiB, oomKills: 0, ...over });

describe('the watchdog judges a container by its cgroup budget', () => {
  it('CPU at the threshold of the cgroup limit is saturation after two samples, though the node is quiet', () => {
    const busy = limited({ cgroupCpuCores: 2.5 });
    expect(judgeSample(busy, thresholds, 0)).toEqual({ reasons: [], cpuOverInARow: 1 });
    expect(judgeSample(busy, thresholds, 1)).toEqual({ reasons: ['cpu'], cpuOverInARow: 2 });
    expect(judgeSample(limited({ cgroupCpuCores: 2.4 }), thresholds, 1)).toEqual({ reasons: [], cpuOverInARow: 0 });
    // The node's own CPU still counts: other work on it starves the pod just the same.
    expect(judgeSample(limited({ machineBusyCores: 15.5 }), thresholds, 1).reasons).toEqual(['cpu']);
  });

  it('throttling for a tenth of the interval is saturation at once, with its own reason', () => {
    expect(judgeSample(limited({ cpuThrottledSeconds: 0.09 }), thresholds, 0).reasons).toEqual([]);
    expect(judgeSample(limited({ cpuThrottledSeconds: 0.1 }), thresholds, 0).reasons).toEqual(['cpu_throttled']);
    expect(judgeSample(limited({ cpuThrottledSeconds: 0.4, intervalSeconds: 5 }), thresholds, 0).reasons).toEqual([]);
    expect(judgeSample(limited({ cpuThrottledSeconds: 0.3, cgroupCpuCores: 2.6 }), thresholds, 1).reasons).toEqual(['cpu', 'cpu_throttled']);
  });

  it('memory near the cgroup limit, or an OOM kill in it, is memory saturation though the node has plenty', () => {
    expect(judgeSample(limited({ cgroupMemoryBytes: 1899 * MiB }), thresholds, 0).reasons).toEqual([]);
    expect(judgeSample(limited({ cgroupMemoryBytes: 1900 * MiB }), thresholds, 0).reasons).toEqual(['memory']);
    expect(judgeSample(limited({ oomKills: 1 }), thresholds, 0).reasons).toEqual(['memory']);
  });

  it('without limits the judgement is the machine one of before, sample for sample', () => {
    const machineOnly = [
      sample(),
      sample({ machineBusyCores: 15.3 }),
      sample({ machineBusyCores: 15.3 }),
      sample({ eventLoopLagP99Ms: 300 }),
      sample({ memoryUsedFraction: 0.96 }),
      sample({ machineBusyCores: 15.9, eventLoopLagP99Ms: 400, memoryUsedFraction: 0.99 }),
    ];
    const before = (s: HarnessSample, cpuOverBefore: number) => {
      // The rule as it stood before cgroup limits were read (git show HEAD~:src/watchdog/watchdog.ts).
      const cpuOverInARow = s.machineBusyCores >= thresholds.cpu * s.cores ? cpuOverBefore + 1 : 0;
      const reasons = [...(cpuOverInARow >= 2 ? ['cpu'] : []), ...(s.eventLoopLagP99Ms >= 250 ? ['event_loop_lag'] : []), ...(s.memoryUsedFraction >= 0.95 ? ['memory'] : [])];
      return { reasons, cpuOverInARow };
    };
    let now = 0;
    let then = 0;
    for (const s of machineOnly) {
      const judged = judgeSample(s, thresholds, now);
      const expected = before(s, then);
      expect(judged).toEqual(expected);
      now = judged.cpuOverInARow;
      then = expected.cpuOverInARow;
    }
  });
});

describe('the watchdog samples its cgroup', () => {
  const HARNESS_SAMPLE_KEYS = ['atMs', 'intervalSeconds', 'nodeCpuCores', 'chromiumCpuCores', 'chromiumBusiestProcessCores', 'machineBusyCores', 'cores', 'eventLoopLagP99Ms', 'eventLoopLagMaxMs', 'nodeRssBytes', 'chromiumRssBytes', 'chromiumPssBytes', 'chromiumProcesses', 'memoryUsedFraction'];

  it('adds no figure and no summary section when the cgroup has no limit, or there is no cgroup', () => {
    const unlimited = fakeCgroupHost('0::/\n', { unified: true });
    unlimited.write('.', { 'cpu.max': 'max 100000', 'memory.max': 'max', 'cpu.stat': cpuStatV2(1) });
    for (const meter of [unlimited.meter(), new CgroupMeter('/nonexistent-cgroup-root', '/nonexistent-proc-self-cgroup')]) {
      const watchdog = new HarnessWatchdog(options, () => [], {}, meter);
      watchdog.start();
      watchdog.arm();
      const taken = watchdog.sample();
      watchdog.stop();
      expect(Object.keys(taken).sort()).toEqual(HARNESS_SAMPLE_KEYS.sort());
      const summary = watchdog.summary(0);
      expect(summary).not.toHaveProperty('cgroup');
      expect(Object.keys(summary).sort()).toEqual(['cores', 'failedCallsDuringSaturation', 'mean', 'peak', 'samples', 'saturated', 'saturatedSeconds', 'thresholds', 'windows']);
    }
  });

  it('flags a throttled interval cpu_throttled and sums the throttling into the summary with the budget', () => {
    const pod = fakeCgroupHost('0::/\n', { unified: true });
    pod.write('.', { 'cpu.max': '260000 100000', 'cpu.stat': cpuStatV2(100, 10), 'memory.max': 2000 * MiB, 'memory.current': 700 * MiB, 'memory.stat': 'inactive_file 0', 'memory.events': 'oom_kill 0' });
    const seen: string[][] = [];
    const watchdog = new HarnessWatchdog(options, () => [], { onSample: (_s, _saturated, reasons) => seen.push(reasons) }, pod.meter());
    watchdog.start();
    watchdog.arm();
    // Throttled 14 s over the samples, far more than a tenth of any interval these quick samples span.
    pod.write('.', { 'cpu.stat': cpuStatV2(100.001, 17) });
    const first = watchdog.sample();
    pod.write('.', { 'cpu.stat': cpuStatV2(100.002, 24), 'memory.current': 800 * MiB });
    watchdog.sample();
    watchdog.stop();
    expect(first).toMatchObject({ cpuLimitCores: 2.6, cpuThrottledSeconds: 7, memoryLimitBytes: 2000 * MiB, cgroupMemoryBytes: 700 * MiB, oomKills: 0 });
    expect(first.cgroupCpuCores).toBeGreaterThan(0);
    expect(seen.every((reasons) => reasons.includes('cpu_throttled'))).toBe(true);
    const summary = watchdog.summary(0);
    expect(summary.saturated).toBe(true);
    expect(summary.windows.flatMap((w) => w.reasons)).toContain('cpu_throttled');
    expect(summary.cgroup).toMatchObject({ cpuLimitCores: 2.6, cpuThrottledSeconds: 14, memoryLimitBytes: 2000 * MiB, peakMemoryBytes: 800 * MiB, oomKills: 0 });
  });

  it('summarizes the limits even before any sample was judged, and only the limited side', () => {
    expect(summarizeCgroup({ cpuLimitCores: 2.6 }, [])).toEqual({ cpuLimitCores: 2.6, cpuThrottledSeconds: 0 });
    expect(summarizeCgroup({ memoryLimitBytes: 10 }, [limited({ cgroupMemoryBytes: 7 }), limited({ cgroupMemoryBytes: 9, oomKills: 2 })])).toEqual({ memoryLimitBytes: 10, peakMemoryBytes: 9, oomKills: 2 });
    expect(summarizeCgroup(undefined, [limited()])).toBeUndefined();
  });
});
