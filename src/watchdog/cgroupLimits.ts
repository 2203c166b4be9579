/**
 * The CPU and memory budget of the cgroup callwright runs in (a Kubernetes
 * pod's container, a `docker run --cpus`, a systemd slice), and how much of
 * it is used. The machine's /proc says nothing of it: a shard held at its CPU
 * limit is throttled (every thread stopped until the next CFS period) while the
 * node looks idle, and one near its memory limit is an OOM kill away while the
 * node has plenty.
 *
 * The limit may be set on the process's own cgroup or on an ancestor (the pod
 * above the container, a slice above a service): the tightest one along the
 * path up to the top of the mounted hierarchy is the budget, and its own
 * counters (throttling is counted where the quota is) are the ones read.
 * Children inherit the cgroup, so Chromium's processes count in it too.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { parseCfsQuota, parseCpuMax, parseCpuStatV1, parseCpuStatV2, parseMemoryLimit, parseNumber, parseOomKills, parseProcCgroup, workingSetBytes, type CpuStat } from './cgroupFiles.js';

export const CGROUP_ROOT = '/sys/fs/cgroup';

/** A controller's hierarchy: where it is mounted, and the cgroups from the process's own up to that mount. */
export interface CgroupChain {
  mount: string;
  /** Own cgroup first, the mount (the top this process can see) last. */
  dirs: string[];
}

export interface CgroupLocation {
  version: 1 | 2;
  cpu?: CgroupChain;
  /** v1 keeps CPU usage in its own controller (often mounted with cpu as "cpu,cpuacct"). */
  cpuacct?: CgroupChain;
  memory?: CgroupChain;
}

/**
 * Where this process's cgroups are, or undefined when there are none to read
 * (not Linux, no cgroup filesystem). v2 when `root` is a unified hierarchy
 * (it has cgroup.controllers) and /proc/self/cgroup has the `0::/path` line;
 * otherwise the v1 hierarchies mounted under `root` (a hybrid host's v2
 * mount at root/unified carries no CPU or memory controller).
 */
export function locateCgroup(root = CGROUP_ROOT, procSelfCgroup = '/proc/self/cgroup'): CgroupLocation | undefined {
  const text = readText(procSelfCgroup);
  if (text === undefined) return undefined;
  const membership = parseProcCgroup(text);
  if (membership.unified !== undefined && existsSync(posix.join(root, 'cgroup.controllers'))) {
    const chain = chainOf(root, membership.unified);
    return { version: 2, cpu: chain, memory: chain };
  }
  const v1 = (controller: string): CgroupChain | undefined => {
    const path = membership.v1.get(controller);
    const mount = path === undefined ? undefined : v1Mount(root, controller);
    return path === undefined || mount === undefined ? undefined : chainOf(mount, path);
  };
  const location: CgroupLocation = { version: 1 };
  for (const controller of ['cpu', 'cpuacct', 'memory'] as const) {
    const chain = v1(controller);
    if (chain) location[controller] = chain;
  }
  return location.cpu || location.memory ? location : undefined;
}

/** root/cpu, or a combined mount such as root/cpu,cpuacct where no per-controller link exists. */
function v1Mount(root: string, controller: string): string | undefined {
  const direct = posix.join(root, controller);
  if (existsSync(direct)) return direct;
  try {
    const combined = readdirSync(root).find((name) => name.split(',').includes(controller));
    return combined === undefined ? undefined : posix.join(root, combined);
  } catch {
    return undefined;
  }
}

function chainOf(mount: string, path: string): CgroupChain {
  // A container without its own cgroup namespace sees the host's path for a
  // cgroup that is mounted as its root: the mount is then its own cgroup.
  const under = (at: string) => (at === '/' ? mount : posix.join(mount, at));
  if (!existsSync(under(path))) return { mount, dirs: [mount] };
  const dirs: string[] = [];
  for (let at = posix.normalize(path); ; at = posix.dirname(at)) {
    dirs.push(under(at));
    if (at === '/' || at === '.') break;
  }
  return { mount, dirs };
}

/** One reading of the limiting cgroups' counters (cumulative). */
export interface CgroupReading {
  version: 1 | 2;
  cpu?: { dir: string; limitCores: number; stat: CpuStat };
  memory?: { dir: string; limitBytes: number; workingSetBytes: number; oomKills?: number };
}

export function readCgroup(location: CgroupLocation): CgroupReading {
  const reading: CgroupReading = { version: location.version };
  const cpu = location.cpu && readCpu(location, location.cpu);
  const memory = location.memory && readMemory(location.version, location.memory);
  if (cpu) reading.cpu = cpu;
  if (memory) reading.memory = memory;
  return reading;
}

function readCpu(location: CgroupLocation, chain: CgroupChain): CgroupReading['cpu'] {
  const limiting = tightest(chain.dirs, (dir) =>
    location.version === 2 ? parseCpuMax(readText(`${dir}/cpu.max`) ?? 'max') : parseCfsQuota(readText(`${dir}/cpu.cfs_quota_us`) ?? '-1', readText(`${dir}/cpu.cfs_period_us`) ?? '0'),
  );
  if (!limiting) return undefined;
  const statText = readText(`${limiting.dir}/cpu.stat`) ?? '';
  const stat = location.version === 2 ? parseCpuStatV2(statText) : parseCpuStatV1(statText, readText(cpuacctUsageFile(location.cpuacct, chain, limiting.dir)));
  return { dir: limiting.dir, limitCores: limiting.value, stat };
}

/** cpuacct.usage beside the quota (a combined mount), else at the same path in the cpuacct hierarchy, else the process's own. */
function cpuacctUsageFile(cpuacct: CgroupChain | undefined, cpu: CgroupChain, cpuDir: string): string {
  const beside = `${cpuDir}/cpuacct.usage`;
  if (existsSync(beside) || !cpuacct) return beside;
  const samePath = posix.join(cpuacct.mount, cpuDir.slice(cpu.mount.length));
  return existsSync(samePath) ? `${samePath}/cpuacct.usage` : `${cpuacct.dirs[0]}/cpuacct.usage`;
}

function readMemory(version: 1 | 2, chain: CgroupChain): CgroupReading['memory'] {
  const limiting = tightest(chain.dirs, (dir) => parseMemoryLimit(readText(`${dir}/${version === 2 ? 'memory.max' : 'memory.limit_in_bytes'}`) ?? 'max'));
  if (!limiting) return undefined;
  const usage = parseNumber(readText(`${limiting.dir}/${version === 2 ? 'memory.current' : 'memory.usage_in_bytes'}`) ?? '');
  if (usage === undefined) return undefined;
  const events = readText(`${limiting.dir}/${version === 2 ? 'memory.events' : 'memory.oom_control'}`);
  const oomKills = events === undefined ? undefined : parseOomKills(events);
  return {
    dir: limiting.dir,
    limitBytes: limiting.value,
    workingSetBytes: workingSetBytes(usage, readText(`${limiting.dir}/memory.stat`)),
    ...(oomKills === undefined ? {} : { oomKills }),
  };
}

function tightest(dirs: readonly string[], limitOf: (dir: string) => number | undefined): { dir: string; value: number } | undefined {
  let best: { dir: string; value: number } | undefined;
  for (const dir of dirs) {
    const value = limitOf(dir);
    if (value !== undefined && (best === undefined || value < best.value)) best = { dir, value };
  }
  return best;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The cgroup's budget and its use over one interval; a figure is absent when its limit is. */
export interface CgroupUsage {
  cpuLimitCores?: number;
  /** CPU used by everything in the limiting cgroup, in cores. */
  cpuCores?: number;
  /** Time the kernel throttled it (its quota spent before the period ended), summed over CPUs. */
  cpuThrottledSeconds?: number;
  memoryLimitBytes?: number;
  /** Working set of the limiting cgroup (usage minus inactive file cache). */
  memoryBytes?: number;
  /** OOM kills in the cgroup during the interval (a Chromium renderer, usually). */
  oomKills?: number;
}

/**
 * The cgroup's figures between calls, from its cumulative counters. The first
 * call only sets the baseline; so does a call after the limiting cgroup
 * changed (a limit set or lifted on another level).
 */
export class CgroupMeter {
  readonly location: CgroupLocation | undefined;
  private previous: CgroupReading | undefined;
  private previousAtMs: number | undefined;

  constructor(root = CGROUP_ROOT, procSelfCgroup = '/proc/self/cgroup') {
    this.location = locateCgroup(root, procSelfCgroup);
  }

  /** Undefined when the process has no CPU or memory limit: the machine is then the whole budget. */
  sample(nowMs = performance.now()): CgroupUsage | undefined {
    if (!this.location) return undefined;
    const reading = readCgroup(this.location);
    const before = this.previous;
    const intervalSeconds = this.previousAtMs === undefined ? 0 : (nowMs - this.previousAtMs) / 1000;
    this.previous = reading;
    this.previousAtMs = nowMs;
    if (!reading.cpu && !reading.memory) return undefined;
    const usage: CgroupUsage = {};
    if (reading.cpu) {
      usage.cpuLimitCores = reading.cpu.limitCores;
      const previous = before?.cpu?.dir === reading.cpu.dir ? before.cpu.stat : undefined;
      const now = reading.cpu.stat;
      if (previous && intervalSeconds > 0) {
        const used = delta(now.usageSeconds, previous.usageSeconds);
        const throttled = delta(now.throttledSeconds, previous.throttledSeconds);
        if (used !== undefined) usage.cpuCores = used / intervalSeconds;
        if (throttled !== undefined) usage.cpuThrottledSeconds = throttled;
      }
    }
    if (reading.memory) {
      usage.memoryLimitBytes = reading.memory.limitBytes;
      usage.memoryBytes = reading.memory.workingSetBytes;
      const previous = before?.memory?.dir === reading.memory.dir ? before.memory.oomKills : undefined;
      const kills = delta(reading.memory.oomKills, previous);
      if (kills !== undefined) usage.oomKills = kills;
    }
    return usage;
  }
}

/** A counter's growth; undefined when either end is unknown or it went backwards (a new cgroup by the same name). */
function delta(now: number | undefined, before: number | undefined): number | undefined {
  return now === undefined || before === undefined || now < before ? undefined : now - before;
}
