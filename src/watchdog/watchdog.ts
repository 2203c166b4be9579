/**
 * The self-saturation watchdog. Every interval it samples Node's event-loop
 * delay and CPU, the CPU and memory of every Chromium process, the machine's
 * busy CPU and memory, and, in a container with limits, its cgroup's budget
 * (cgroupLimits.ts). When the harness is the bottleneck (the machine's CPU or
 * the cgroup's CPU budget at the threshold for two samples running, the cgroup
 * throttled, the event loop late past its bound, or memory nearly gone, the
 * machine's or the cgroup's), that interval is "saturated": the summary and
 * metrics say so, and calls failing then are flagged, so a load test never
 * blames the server for the harness's own overload.
 *
 * Saturation is judged only once armed (after browsers and registrations
 * have started): launching Chromium alone takes a core for a moment.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { HarnessCgroupSummary, HarnessSample, HarnessSummary, SaturationReason } from '../results.js';
import type { WatchdogOptions } from '../scenario/types.js';
import { CgroupMeter, type CgroupUsage } from './cgroupLimits.js';
import { MachineCpuMeter, readMemoryUsedFraction, TreeCpuMeter } from './processStats.js';

/** CPU must stay over its threshold this many samples in a row: a one-second spike at call setup is not saturation. */
export const CPU_SAMPLES_IN_A_ROW = 2;
/** Summed PSS costs a smaps_rollup read per process: once every this many samples. */
const PSS_EVERY_SAMPLES = 5;
/**
 * Throttled for this share of an interval or more is saturation at once, like
 * event-loop lag: a throttled cgroup has every thread stopped until the next
 * CFS period (up to 100 ms), so timers, SIP and media run late whatever the
 * average use says. Kubernetes' CPUThrottlingHigh alert fires at 25% of periods.
 */
export const THROTTLED_SHARE = 0.1;

export interface Judgement {
  reasons: SaturationReason[];
  cpuOverInARow: number;
}

/**
 * Pure: which thresholds this sample crosses, given how many samples before it were over on CPU.
 * With a cgroup limit the thresholds apply to its budget as well as to the machine: other work on
 * the node starves the harness just the same, and so does its own limit on a quiet node.
 */
export function judgeSample(sample: HarnessSample, thresholds: Omit<WatchdogOptions, 'intervalSeconds'>, cpuOverBefore: number): Judgement {
  const reasons: SaturationReason[] = [];
  const machineCpuOver = sample.machineBusyCores >= thresholds.cpu * sample.cores;
  const budgetCpuOver = sample.cpuLimitCores !== undefined && sample.cgroupCpuCores !== undefined && sample.cgroupCpuCores >= thresholds.cpu * sample.cpuLimitCores;
  const cpuOverInARow = machineCpuOver || budgetCpuOver ? cpuOverBefore + 1 : 0;
  if (cpuOverInARow >= CPU_SAMPLES_IN_A_ROW) reasons.push('cpu');
  if ((sample.cpuThrottledSeconds ?? 0) >= THROTTLED_SHARE * sample.intervalSeconds) reasons.push('cpu_throttled');
  if (sample.eventLoopLagP99Ms >= thresholds.eventLoopLagMs) reasons.push('event_loop_lag');
  const budgetMemoryOver = sample.memoryLimitBytes !== undefined && sample.cgroupMemoryBytes !== undefined && sample.cgroupMemoryBytes >= thresholds.memory * sample.memoryLimitBytes;
  // An OOM kill in the cgroup (a renderer, usually) is the limit already reached.
  if (sample.memoryUsedFraction >= thresholds.memory || budgetMemoryOver || (sample.oomKills ?? 0) > 0) reasons.push('memory');
  return { reasons, cpuOverInARow };
}

/** The cgroup's figures as sample fields; none without a limit, so the sample is what it always was. */
function cgroupFields(usage: CgroupUsage | undefined): Partial<HarnessSample> {
  if (!usage) return {};
  const fields: Partial<HarnessSample> = {};
  if (usage.cpuLimitCores !== undefined) fields.cpuLimitCores = usage.cpuLimitCores;
  if (usage.cpuCores !== undefined) fields.cgroupCpuCores = usage.cpuCores;
  if (usage.cpuThrottledSeconds !== undefined) fields.cpuThrottledSeconds = usage.cpuThrottledSeconds;
  if (usage.memoryLimitBytes !== undefined) fields.memoryLimitBytes = usage.memoryLimitBytes;
  if (usage.memoryBytes !== undefined) fields.cgroupMemoryBytes = usage.memoryBytes;
  if (usage.oomKills !== undefined) fields.oomKills = usage.oomKills;
  return fields;
}

/** What the summary says of the cgroup: its limits (the latest seen) and, over the judged samples, throttling, peaks, OOM kills. */
export function summarizeCgroup(latest: CgroupUsage | undefined, samples: readonly HarnessSample[]): HarnessCgroupSummary | undefined {
  if (!latest || (latest.cpuLimitCores === undefined && latest.memoryLimitBytes === undefined)) return undefined;
  const total = (pick: (s: HarnessSample) => number | undefined) => samples.reduce((sum, s) => sum + (pick(s) ?? 0), 0);
  const peak = (pick: (s: HarnessSample) => number | undefined) => {
    const values = samples.flatMap((s) => (pick(s) === undefined ? [] : [pick(s)!]));
    return values.length > 0 ? Math.max(...values) : undefined;
  };
  const summary: HarnessCgroupSummary = {};
  if (latest.cpuLimitCores !== undefined) {
    summary.cpuLimitCores = latest.cpuLimitCores;
    summary.cpuThrottledSeconds = total((s) => s.cpuThrottledSeconds);
    const peakCpu = peak((s) => s.cgroupCpuCores);
    if (peakCpu !== undefined) summary.peakCpuCores = peakCpu;
  }
  if (latest.memoryLimitBytes !== undefined) {
    summary.memoryLimitBytes = latest.memoryLimitBytes;
    const peakMemory = peak((s) => s.cgroupMemoryBytes);
    if (peakMemory !== undefined) summary.peakMemoryBytes = peakMemory;
    summary.oomKills = total((s) => s.oomKills);
  }
  return summary;
}

export interface WatchdogHooks {
  onSample?(sample: HarnessSample, saturated: boolean, reasons: SaturationReason[]): void;
}

export class HarnessWatchdog {
  private readonly chromium: TreeCpuMeter;
  private readonly machine = new MachineCpuMeter();
  private lastCgroup: CgroupUsage | undefined;
  private readonly lag: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  private timer: NodeJS.Timeout | undefined;
  private lastCpu = process.cpuUsage();
  private lastAtMs = performance.now();
  private armed = false;
  private cpuOverInARow = 0;
  private sampleCount = 0;
  private lastPss: number | undefined;
  private readonly windows: HarnessSummary['windows'] = [];
  /** Samples once armed: the run's load, not its start. */
  private readonly samples: HarnessSample[] = [];

  constructor(
    private readonly options: WatchdogOptions,
    browserPids: () => readonly number[],
    private readonly hooks: WatchdogHooks = {},
    /** This process's cgroup (tests give one reading a folder laid out like /sys/fs/cgroup). */
    private readonly cgroup = new CgroupMeter(),
  ) {
    this.chromium = new TreeCpuMeter(browserPids);
  }

  start(): void {
    if (this.timer) return;
    this.lag.enable();
    this.machine.sample();
    this.chromium.sample();
    this.lastCgroup = this.cgroup.sample();
    this.lastCpu = process.cpuUsage();
    this.lastAtMs = performance.now();
    this.timer = setInterval(() => this.sample(), this.options.intervalSeconds * 1000);
    this.timer.unref();
  }

  /** From now on samples count toward saturation, means and peaks. */
  arm(): void {
    this.armed = true;
  }

  get windowCount(): number {
    return this.windows.length;
  }

  get running(): boolean {
    return this.timer !== undefined;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.lag.disable();
  }

  get saturatedNow(): boolean {
    const last = this.windows.at(-1);
    return last !== undefined && this.samples.at(-1)?.atMs === last.toMs;
  }

  /** Whether any saturated time overlaps [fromMs, toMs]. */
  saturatedBetween(fromMs: number, toMs: number): boolean {
    return this.windows.some((window) => window.fromMs <= toMs && window.toMs >= fromMs);
  }

  /** Takes one sample now (the timer calls this; tests may too). */
  sample(): HarnessSample {
    const nowMs = performance.now();
    const seconds = Math.max(1e-3, (nowMs - this.lastAtMs) / 1000);
    this.lastAtMs = nowMs;
    const cpu = process.cpuUsage(this.lastCpu);
    this.lastCpu = process.cpuUsage();
    // Read near the interval's start: it times its own deltas, and Chromium's /proc walk below takes a while.
    const cgroup = this.cgroup.sample();
    if (cgroup) this.lastCgroup = cgroup;
    this.sampleCount++;
    const withPss = this.sampleCount % PSS_EVERY_SAMPLES === 1;
    const chromium = this.chromium.sample({ pss: withPss });
    if (chromium.pssBytes !== undefined) this.lastPss = chromium.pssBytes;
    // The histogram is in nanoseconds; an idle loop still shows its resolution (about 10 ms).
    const lagP99Ms = this.lag.count > 0 ? this.lag.percentile(99) / 1e6 : 0;
    const lagMaxMs = this.lag.count > 0 ? this.lag.max / 1e6 : 0;
    this.lag.reset();
    const sample: HarnessSample = {
      atMs: Date.now(),
      intervalSeconds: seconds,
      nodeCpuCores: (cpu.user + cpu.system) / 1e6 / seconds,
      chromiumCpuCores: chromium.cpuCores,
      chromiumBusiestProcessCores: chromium.busiestProcessCores,
      machineBusyCores: this.machine.sample(),
      cores: this.machine.cores,
      eventLoopLagP99Ms: lagP99Ms,
      eventLoopLagMaxMs: lagMaxMs,
      nodeRssBytes: process.memoryUsage.rss(),
      chromiumRssBytes: chromium.rssBytes,
      ...(this.lastPss === undefined ? {} : { chromiumPssBytes: this.lastPss }),
      chromiumProcesses: chromium.processes,
      memoryUsedFraction: readMemoryUsedFraction(),
      ...cgroupFields(cgroup),
    };
    let reasons: SaturationReason[] = [];
    if (this.armed) {
      const judgement = judgeSample(sample, this.options, this.cpuOverInARow);
      this.cpuOverInARow = judgement.cpuOverInARow;
      reasons = judgement.reasons;
      this.samples.push(sample);
      // CPU counts only once over for CPU_SAMPLES_IN_A_ROW samples: the window then starts where the first of them did.
      const intervalsBack = reasons.includes('cpu') && judgement.cpuOverInARow === CPU_SAMPLES_IN_A_ROW ? CPU_SAMPLES_IN_A_ROW : 1;
      if (reasons.length > 0) this.addWindow(sample, reasons, intervalsBack);
    }
    this.hooks.onSample?.(sample, reasons.length > 0, reasons);
    return sample;
  }

  summary(failedCallsDuringSaturation: number): HarnessSummary {
    const samples = this.samples;
    const mean = (pick: (s: HarnessSample) => number) => samples.reduce((sum, s) => sum + pick(s), 0) / samples.length;
    const peak = (pick: (s: HarnessSample) => number) => Math.max(...samples.map(pick));
    const pss = samples.flatMap((s) => (s.chromiumPssBytes === undefined ? [] : [s.chromiumPssBytes]));
    const summary: HarnessSummary = {
      saturated: this.windows.length > 0,
      saturatedSeconds: this.windows.reduce((sum, w) => sum + (w.toMs - w.fromMs) / 1000, 0),
      windows: this.windows.map((w) => ({ ...w, reasons: [...w.reasons] })),
      failedCallsDuringSaturation,
      thresholds: { cpu: this.options.cpu, eventLoopLagMs: this.options.eventLoopLagMs, memory: this.options.memory },
      cores: this.machine.cores,
      samples: samples.length,
    };
    const cgroup = summarizeCgroup(this.lastCgroup, samples);
    if (cgroup) summary.cgroup = cgroup;
    if (samples.length > 0) {
      summary.mean = {
        nodeCpuCores: mean((s) => s.nodeCpuCores),
        chromiumCpuCores: mean((s) => s.chromiumCpuCores),
        machineBusyCores: mean((s) => s.machineBusyCores),
        eventLoopLagP99Ms: mean((s) => s.eventLoopLagP99Ms),
      };
      summary.peak = {
        nodeCpuCores: peak((s) => s.nodeCpuCores),
        chromiumCpuCores: peak((s) => s.chromiumCpuCores),
        chromiumBusiestProcessCores: peak((s) => s.chromiumBusiestProcessCores ?? 0),
        machineBusyCores: peak((s) => s.machineBusyCores),
        eventLoopLagP99Ms: peak((s) => s.eventLoopLagP99Ms),
        nodeRssBytes: peak((s) => s.nodeRssBytes),
        chromiumRssBytes: peak((s) => s.chromiumRssBytes),
        ...(pss.length ? { chromiumPssBytes: Math.max(...pss) } : {}),
      };
    }
    return summary;
  }

  private addWindow(sample: HarnessSample, reasons: SaturationReason[], intervalsBack: number): void {
    const fromMs = sample.atMs - sample.intervalSeconds * 1000 * intervalsBack;
    const last = this.windows.at(-1);
    // Consecutive saturated samples make one window.
    if (last && fromMs - last.toMs <= sample.intervalSeconds * 1000 * 0.5 + 50) {
      last.toMs = sample.atMs;
      for (const reason of reasons) if (!last.reasons.includes(reason)) last.reasons.push(reason);
    } else {
      this.windows.push({ fromMs, toMs: sample.atMs, reasons: [...reasons] });
    }
  }
}
