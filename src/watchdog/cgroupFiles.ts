/**
 * The text of cgroup files, parsed. Inside a container /proc/stat and
 * /proc/meminfo describe the node; the container's own budget (its CPU quota,
 * its memory limit) and how the kernel enforces it (throttling, OOM kills)
 * are in its cgroup. cgroup v2 (one unified hierarchy) is what current
 * Kubernetes nodes run; v1 (one hierarchy per controller) is still on older
 * nodes and hybrid hosts, and reads the same figures from other file names.
 * Pure functions on file contents, so tests need no cgroup.
 */

/** Which cgroup the process is in: the v2 path (`0::/path`) and the v1 path of each controller (`4:memory:/path`). */
export interface CgroupMembership {
  unified?: string;
  v1: Map<string, string>;
}

/** /proc/<pid>/cgroup. A v1 line may name several controllers of one hierarchy (`2:cpu,cpuacct:/path`). */
export function parseProcCgroup(text: string): CgroupMembership {
  const membership: CgroupMembership = { v1: new Map() };
  for (const line of text.split('\n')) {
    // hierarchy-id:controllers:path (the path may contain colons).
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const controllers = line.slice(first + 1, second);
    const path = line.slice(second + 1).trim();
    if (!path.startsWith('/')) continue;
    if (line.slice(0, first) === '0' && controllers === '') membership.unified = path;
    else for (const controller of controllers.split(',')) if (controller) membership.v1.set(controller, path);
  }
  return membership;
}

/**
 * Values beyond this are "no limit": v1 writes unlimited memory as the largest
 * page-aligned 64-bit number (9223372036854771712), not as a word.
 */
const UNLIMITED_BYTES = 2 ** 60;

/** v2 `cpu.max` ("quota period", quota "max" when unlimited): the budget in cores, undefined without a limit. */
export function parseCpuMax(text: string): number | undefined {
  const [quota, period] = text.trim().split(/\s+/);
  return coresOf(Number(quota), Number(period ?? 100_000));
}

/** v1 `cpu.cfs_quota_us` (-1 when unlimited) and `cpu.cfs_period_us`: the budget in cores, undefined without a limit. */
export function parseCfsQuota(quotaText: string, periodText: string): number | undefined {
  return coresOf(Number(quotaText.trim()), Number(periodText.trim()));
}

function coresOf(quotaUsec: number, periodUsec: number): number | undefined {
  return Number.isFinite(quotaUsec) && quotaUsec > 0 && Number.isFinite(periodUsec) && periodUsec > 0 ? quotaUsec / periodUsec : undefined;
}

/** `memory.max` (v2, "max" when unlimited) or `memory.limit_in_bytes` (v1): the limit in bytes, undefined without one. */
export function parseMemoryLimit(text: string): number | undefined {
  const bytes = Number(text.trim());
  return Number.isFinite(bytes) && bytes > 0 && bytes < UNLIMITED_BYTES ? bytes : undefined;
}

/** A single number (`memory.current`, `memory.usage_in_bytes`, `cpuacct.usage`); undefined when it is not one. */
export function parseNumber(text: string): number | undefined {
  const value = Number(text.trim());
  return text.trim() !== '' && Number.isFinite(value) ? value : undefined;
}

/** "key value" lines: cpu.stat, memory.stat, memory.events, v1's memory.oom_control. */
export function parseKeyedValues(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && Number.isFinite(Number(value))) values.set(key, Number(value));
  }
  return values;
}

/** Throttling counters of the cgroup that holds a CPU limit, cumulative since it was created. */
export interface CpuStat {
  /** CPU time used by everything in the cgroup; v1 keeps it apart, in cpuacct.usage. */
  usageSeconds?: number;
  /** Enforcement periods in which the cgroup ran, and in which it ran out of quota. */
  periods: number;
  throttledPeriods: number;
  /** Time its run queues spent throttled, summed over CPUs (so it can exceed wall time). */
  throttledSeconds: number;
}

/** v2 cpu.stat: usage_usec, nr_periods, nr_throttled, throttled_usec (microseconds). */
export function parseCpuStatV2(text: string): CpuStat {
  const values = parseKeyedValues(text);
  const usageUsec = values.get('usage_usec');
  return {
    ...(usageUsec === undefined ? {} : { usageSeconds: usageUsec / 1e6 }),
    periods: values.get('nr_periods') ?? 0,
    throttledPeriods: values.get('nr_throttled') ?? 0,
    throttledSeconds: (values.get('throttled_usec') ?? 0) / 1e6,
  };
}

/** v1 cpu.stat: nr_periods, nr_throttled, throttled_time (nanoseconds); usage is cpuacct.usage (nanoseconds). */
export function parseCpuStatV1(text: string, cpuacctUsage?: string): CpuStat {
  const values = parseKeyedValues(text);
  const usageNs = cpuacctUsage === undefined ? undefined : parseNumber(cpuacctUsage);
  return {
    ...(usageNs === undefined ? {} : { usageSeconds: usageNs / 1e9 }),
    periods: values.get('nr_periods') ?? 0,
    throttledPeriods: values.get('nr_throttled') ?? 0,
    throttledSeconds: (values.get('throttled_time') ?? 0) / 1e9,
  };
}

/**
 * Memory the cgroup cannot simply drop: usage minus the inactive file cache
 * (the kubelet's "working set", what it evicts on and what nears an OOM kill).
 * Raw usage counts page cache the kernel reclaims before it kills anything:
 * a run writing its reports would look near its limit without being so.
 * The inactive-file key is `inactive_file` in v2, `total_inactive_file` (with descendants) in v1.
 */
export function workingSetBytes(usageBytes: number, memoryStat: string | undefined): number {
  const stat = memoryStat === undefined ? new Map<string, number>() : parseKeyedValues(memoryStat);
  const inactiveFile = stat.get('total_inactive_file') ?? stat.get('inactive_file') ?? 0;
  return Math.max(0, usageBytes - inactiveFile);
}

/** OOM kills in the cgroup so far: `oom_kill` in v2's memory.events and in v1's memory.oom_control (kernel 4.13+). */
export function parseOomKills(text: string): number | undefined {
  return parseKeyedValues(text).get('oom_kill');
}
