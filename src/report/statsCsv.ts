/**
 * stats.csv, SIPp's -trace_stat for callwright: every period one row with the
 * figures of that period (_p) and of the whole run so far (_c): call rate,
 * calls created, calls in progress, successful and failed calls (by reason),
 * late and dropped starts, setup-time percentiles, and the harness's own load.
 * A reporter like any other: it only reads the run's events.
 */
import { join } from 'node:path';
import { CsvFile, type CsvColumn } from './csvFile.js';
import { DROP_REASONS, FAILURE_REASONS, type CallResult, type DropReason, type FailureReason, type HarnessSample, type RunEvent, type RunInfo } from '../results.js';
import type { Reporter } from './reporter.js';
import { percentile } from '../common/statistics.js';

export const STATS_CSV = 'stats.csv';

interface Counts {
  created: number;
  established: number;
  successful: number;
  failed: number;
  failedBy: Record<FailureReason, number>;
  late: number;
  dropped: number;
  droppedBy: Record<DropReason, number>;
  setupSeconds: number[];
}

export interface StatsRow {
  atMs: number;
  elapsedSeconds: number;
  periodSeconds: number;
  targetRate: number;
  period: Counts;
  cumulative: Counts;
  current: number;
  harness?: HarnessSample;
  /** Time the harness's cgroup was throttled, this period and so far; absent when it has no CPU limit. */
  cpuThrottledSeconds?: { period: number; cumulative: number };
  saturated: boolean;
}

const emptyCounts = (): Counts => ({
  created: 0,
  established: 0,
  successful: 0,
  failed: 0,
  failedBy: Object.fromEntries(FAILURE_REASONS.map((r) => [r, 0])) as Record<FailureReason, number>,
  late: 0,
  dropped: 0,
  droppedBy: Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>,
  setupSeconds: [],
});

const rate = (count: number, seconds: number) => (seconds > 0 ? count / seconds : 0);

/** Column order is part of the output's contract: append new columns at the end. */
export const STATS_COLUMNS: CsvColumn<StatsRow>[] = [
  { header: 'time', cell: (r) => new Date(r.atMs).toISOString() },
  { header: 'elapsed_s', cell: (r) => r.elapsedSeconds },
  { header: 'period_s', cell: (r) => r.periodSeconds },
  { header: 'target_rate_cps', cell: (r) => r.targetRate },
  { header: 'call_rate_p', cell: (r) => rate(r.period.created, r.periodSeconds) },
  { header: 'call_rate_c', cell: (r) => rate(r.cumulative.created, r.elapsedSeconds) },
  { header: 'created_p', cell: (r) => r.period.created },
  { header: 'created_c', cell: (r) => r.cumulative.created },
  { header: 'current', cell: (r) => r.current },
  { header: 'successful_p', cell: (r) => r.period.successful },
  { header: 'successful_c', cell: (r) => r.cumulative.successful },
  { header: 'failed_p', cell: (r) => r.period.failed },
  { header: 'failed_c', cell: (r) => r.cumulative.failed },
  { header: 'late_p', cell: (r) => r.period.late },
  { header: 'late_c', cell: (r) => r.cumulative.late },
  { header: 'dropped_p', cell: (r) => r.period.dropped },
  { header: 'dropped_c', cell: (r) => r.cumulative.dropped },
  { header: 'setup_p50_s_p', cell: (r) => percentile(r.period.setupSeconds, 50) },
  { header: 'setup_p95_s_p', cell: (r) => percentile(r.period.setupSeconds, 95) },
  { header: 'setup_p50_s_c', cell: (r) => percentile(r.cumulative.setupSeconds, 50) },
  { header: 'setup_p95_s_c', cell: (r) => percentile(r.cumulative.setupSeconds, 95) },
  { header: 'harness_saturated', cell: (r) => r.saturated },
  { header: 'node_cpu_cores', cell: (r) => r.harness?.nodeCpuCores },
  { header: 'chromium_cpu_cores', cell: (r) => r.harness?.chromiumCpuCores },
  { header: 'machine_cpu_cores', cell: (r) => r.harness?.machineBusyCores },
  { header: 'event_loop_lag_p99_ms', cell: (r) => r.harness?.eventLoopLagP99Ms },
  { header: 'chromium_rss_bytes', cell: (r) => r.harness?.chromiumRssBytes },
  ...DROP_REASONS.flatMap((reason): CsvColumn<StatsRow>[] => [
    { header: `dropped_${reason}_p`, cell: (r) => r.period.droppedBy[reason] },
    { header: `dropped_${reason}_c`, cell: (r) => r.cumulative.droppedBy[reason] },
  ]),
  ...FAILURE_REASONS.flatMap((reason): CsvColumn<StatsRow>[] => [
    { header: `failed_${reason}_p`, cell: (r) => r.period.failedBy[reason] },
    { header: `failed_${reason}_c`, cell: (r) => r.cumulative.failedBy[reason] },
  ]),
  // The container's budget (cgroup limits), empty when there is none: docs/load.md, the watchdog.
  { header: 'cpu_limit_cores', cell: (r) => r.harness?.cpuLimitCores },
  { header: 'cgroup_cpu_cores', cell: (r) => r.harness?.cgroupCpuCores },
  { header: 'cpu_throttled_s_p', cell: (r) => r.cpuThrottledSeconds?.period },
  { header: 'cpu_throttled_s_c', cell: (r) => r.cpuThrottledSeconds?.cumulative },
  { header: 'memory_limit_bytes', cell: (r) => r.harness?.memoryLimitBytes },
  { header: 'cgroup_memory_bytes', cell: (r) => r.harness?.cgroupMemoryBytes },
];

export interface PeriodicStatsOptions {
  outDir: string;
  periodSeconds: number;
  /** Planned arrival rate at a time into the run (open model); 0 otherwise. */
  targetRate?: (elapsedSeconds: number) => number;
  /** Told every row as it is written (progress displays, tests). */
  onRow?: (row: StatsRow) => void;
}

export class PeriodicStatsReporter implements Reporter {
  readonly name = 'stats-csv';
  private readonly file: CsvFile<StatsRow>;
  private period = emptyCounts();
  private readonly cumulative = emptyCounts();
  private startedAtMs = Date.now();
  private lastRowAtMs = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private harness: HarnessSample | undefined;
  private saturatedInPeriod = false;
  /** Throttling is summed over the watchdog's samples, not taken from the last one: every throttled second counts. */
  private throttled: { period: number; cumulative: number } | undefined;
  private ended = 0;

  constructor(private readonly options: PeriodicStatsOptions) {
    this.file = new CsvFile(join(options.outDir, STATS_CSV), STATS_COLUMNS);
  }

  /** Rows are timed from here (the scheduler's start), not from the reporters' begin. */
  startClock(atMs = Date.now()): void {
    this.startedAtMs = atMs;
    this.lastRowAtMs = atMs;
    this.period = emptyCounts();
    if (this.timer) clearInterval(this.timer);
    this.timer = setInterval(() => this.writeRow(), this.options.periodSeconds * 1000);
    this.timer.unref();
  }

  onBegin(_info: RunInfo): void {
    this.file.open();
  }

  onEvent(event: RunEvent): void {
    switch (event.type) {
      case 'callStarted':
        this.count((c) => c.created++);
        return;
      case 'callEstablished':
        this.count((c) => (c.established++, c.setupSeconds.push(event.setupSeconds)));
        return;
      case 'iterationStarted':
        if (event.late) this.count((c) => c.late++);
        return;
      case 'iterationDropped':
        this.count((c) => (c.dropped++, c.droppedBy[event.reason]++));
        return;
      case 'harness':
        this.harness = event.sample;
        if (event.saturated) this.saturatedInPeriod = true;
        if (event.sample.cpuLimitCores !== undefined) {
          this.throttled ??= { period: 0, cumulative: 0 };
          this.throttled.period += event.sample.cpuThrottledSeconds ?? 0;
          this.throttled.cumulative += event.sample.cpuThrottledSeconds ?? 0;
        }
        return;
      default:
        return;
    }
  }

  onCallEnd(call: CallResult): void {
    this.ended++;
    if (call.result === 'success') this.count((c) => c.successful++);
    else this.count((c) => (c.failed++, call.failureReason && c.failedBy[call.failureReason]++));
  }

  onEnd(): void {
    this.close();
  }

  /** Writes the last (partial) period and closes the file; safe to call twice. */
  close(): void {
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
      this.writeRow();
    }
    this.file.close();
  }

  private count(apply: (counts: Counts) => void): void {
    apply(this.period);
    apply(this.cumulative);
  }

  private writeRow(): void {
    const atMs = Date.now();
    const row: StatsRow = {
      atMs,
      elapsedSeconds: (atMs - this.startedAtMs) / 1000,
      periodSeconds: (atMs - this.lastRowAtMs) / 1000,
      targetRate: this.options.targetRate?.((atMs - this.startedAtMs) / 1000) ?? 0,
      period: this.period,
      cumulative: this.cumulative,
      current: Math.max(0, this.cumulative.created - this.ended),
      saturated: this.saturatedInPeriod,
      ...(this.harness ? { harness: this.harness } : {}),
      ...(this.throttled ? { cpuThrottledSeconds: { ...this.throttled } } : {}),
    };
    this.file.write(this.file.line(row));
    this.options.onRow?.(row);
    this.period = emptyCounts();
    this.lastRowAtMs = atMs;
    this.saturatedInPeriod = false;
    if (this.throttled) this.throttled.period = 0;
  }
}
