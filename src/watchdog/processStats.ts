/**
 * CPU and memory of processes, read from Linux /proc. Chromium's renderers are
 * forked from its zygote, so they are not children of the browser process in
 * the usual sense: the browser's whole process group (puppeteer starts it
 * detached, as a group leader) plus any descendants counts as "Chromium".
 * Parsing is split from reading so it can be tested with fixture text.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Linux reports CPU times in clock ticks of USER_HZ, 100 per second on every mainstream architecture. */
export const CLOCK_TICKS_PER_SECOND = 100;

export interface ProcStat {
  pid: number;
  ppid: number;
  pgrp: number;
  state: string;
  /** utime + stime, in clock ticks. */
  cpuTicks: number;
}

/** One /proc/<pid>/stat line; undefined when it cannot be read as one. */
export function parseProcStat(text: string): ProcStat | undefined {
  // The command name (field 2) is in parentheses and may contain spaces and parentheses itself.
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const pid = Number(text.slice(0, open).trim());
  const fields = text.slice(close + 2).split(' ');
  // After the name: state(3) ppid(4) pgrp(5) ... utime(14) stime(15): indexes from field 3.
  const [state, ppid, pgrp] = fields;
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isInteger(pid) || state === undefined || !Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return { pid, ppid: Number(ppid), pgrp: Number(pgrp), state, cpuTicks: utime + stime };
}

export function readProcesses(procRoot = '/proc'): ProcStat[] {
  const processes: ProcStat[] = [];
  for (const entry of readdirSync(procRoot)) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = parseProcStat(readFileSync(`${procRoot}/${entry}/stat`, 'utf8'));
      if (stat && stat.state !== 'Z') processes.push(stat);
    } catch {
      // It ended while we looked.
    }
  }
  return processes;
}

/** The roots, every process in their process groups, and all their descendants. */
export function processTree(roots: readonly number[], processes: readonly ProcStat[]): ProcStat[] {
  const rootSet = new Set(roots);
  const chosen = new Map<number, ProcStat>();
  for (const process of processes) if (rootSet.has(process.pid) || rootSet.has(process.pgrp)) chosen.set(process.pid, process);
  // Descendants that left the group (setsid) still belong to the browser.
  let grew = true;
  while (grew) {
    grew = false;
    for (const process of processes) {
      if (!chosen.has(process.pid) && chosen.has(process.ppid)) {
        chosen.set(process.pid, process);
        grew = true;
      }
    }
  }
  return [...chosen.values()];
}

/** VmRSS from /proc/<pid>/status, in bytes. */
export function parseRssBytes(status: string): number | undefined {
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return match ? Number(match[1]) * 1024 : undefined;
}

/** Pss from /proc/<pid>/smaps_rollup, in bytes: shared pages split among their sharers. */
export function parsePssBytes(smapsRollup: string): number | undefined {
  const match = /^Pss:\s+(\d+)\s+kB/m.exec(smapsRollup);
  return match ? Number(match[1]) * 1024 : undefined;
}

export function readRssBytes(pid: number, procRoot = '/proc'): number | undefined {
  try {
    return parseRssBytes(readFileSync(`${procRoot}/${pid}/status`, 'utf8'));
  } catch {
    return undefined;
  }
}

export function readPssBytes(pid: number, procRoot = '/proc'): number | undefined {
  try {
    return parsePssBytes(readFileSync(`${procRoot}/${pid}/smaps_rollup`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Busy and total ticks of all CPUs from the first line of /proc/stat. */
export function parseMachineCpu(stat: string): { busyTicks: number; totalTicks: number } | undefined {
  const line = stat.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return undefined;
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already in user).
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = values;
  const totalTicks = user + nice + system + idle + iowait + irq + softirq + steal;
  return { busyTicks: totalTicks - idle - iowait, totalTicks };
}

export function parseMemInfo(meminfo: string): { totalBytes: number; availableBytes: number } | undefined {
  const total = /^MemTotal:\s+(\d+)\s+kB/m.exec(meminfo);
  const available = /^MemAvailable:\s+(\d+)\s+kB/m.exec(meminfo);
  return total && available ? { totalBytes: Number(total[1]) * 1024, availableBytes: Number(available[1]) * 1024 } : undefined;
}

export interface TreeUsage {
  /** CPU since the previous call, in cores. */
  cpuCores: number;
  /** The busiest single process (a renderer hosting many legs, usually), in cores. */
  busiestProcessCores: number;
  rssBytes: number;
  pssBytes?: number;
  processes: number;
}

/**
 * CPU of a changing set of processes between calls: per-process tick deltas,
 * so processes that start in between count from their start and ones that end
 * stop counting. The first call only sets the baseline.
 */
export class TreeCpuMeter {
  private previous = new Map<number, number>();
  private previousAtMs: number | undefined;

  constructor(
    private readonly roots: () => readonly number[],
    private readonly procRoot = '/proc',
  ) {}

  sample(options: { pss?: boolean } = {}): TreeUsage {
    const nowMs = performance.now();
    const tree = processTree(this.roots(), readProcesses(this.procRoot));
    let ticks = 0;
    let busiestTicks = 0;
    const current = new Map<number, number>();
    for (const process of tree) {
      current.set(process.pid, process.cpuTicks);
      const before = this.previous.get(process.pid);
      // A process new since the last sample started within the interval: all its ticks are recent.
      if (this.previousAtMs === undefined) continue;
      const own = process.cpuTicks - (before ?? 0);
      ticks += own;
      busiestTicks = Math.max(busiestTicks, own);
    }
    const seconds = this.previousAtMs === undefined ? 0 : (nowMs - this.previousAtMs) / 1000;
    this.previous = current;
    this.previousAtMs = nowMs;
    let rssBytes = 0;
    let pssBytes = 0;
    for (const process of tree) {
      rssBytes += readRssBytes(process.pid, this.procRoot) ?? 0;
      if (options.pss) pssBytes += readPssBytes(process.pid, this.procRoot) ?? 0;
    }
    return {
      cpuCores: seconds > 0 ? Math.max(0, ticks) / CLOCK_TICKS_PER_SECOND / seconds : 0,
      busiestProcessCores: seconds > 0 ? busiestTicks / CLOCK_TICKS_PER_SECOND / seconds : 0,
      rssBytes,
      ...(options.pss ? { pssBytes } : {}),
      processes: tree.length,
    };
  }
}

/** Busy CPU of the whole machine between calls, in cores. */
export class MachineCpuMeter {
  private previous: { busyTicks: number; totalTicks: number } | undefined;
  readonly cores = availableParallelism();

  sample(): number {
    let current: { busyTicks: number; totalTicks: number } | undefined;
    try {
      current = parseMachineCpu(readFileSync('/proc/stat', 'utf8'));
    } catch {
      return 0;
    }
    if (!current) return 0;
    const before = this.previous;
    this.previous = current;
    if (!before || current.totalTicks <= before.totalTicks) return 0;
    // /proc/stat sums every CPU: the busy share of all ticks times the cores gives cores busy.
    return ((current.busyTicks - before.busyTicks) / (current.totalTicks - before.totalTicks)) * this.cores;
  }
}

export function readMemoryUsedFraction(): number {
  try {
    const info = parseMemInfo(readFileSync('/proc/meminfo', 'utf8'));
    return info ? 1 - info.availableBytes / info.totalBytes : 0;
  } catch {
    return 0;
  }
}
