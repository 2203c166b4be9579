import { describe, expect, it } from 'vitest';
import { parseCfsQuota, parseCpuMax, parseCpuStatV1, parseCpuStatV2, parseMemoryLimit, parseOomKills, parseProcCgroup, workingSetBytes } from './cgroupFiles.js';

// File contents as the kernel writes them (v2 from a Kubernetes pod on cgroup v2, v1 from a hybrid host).
const CPU_STAT_V2 = `usage_usec 48213377
user_usec 39021551
system_usec 9191826
core_sched.force_idle_usec 0
nr_periods 3021
nr_throttled 412
throttled_usec 14211093
nr_bursts 0
burst_usec 0
`;
const CPU_STAT_V1 = `nr_periods 33
nr_throttled 31
throttled_time 2155942860
nr_bursts 0
burst_time 0
`;
const MEMORY_STAT_V2 = `anon 1283457024
file 402653184
kernel 52428800
shmem 134217728
active_anon 1270874112
inactive_anon 12582912
active_file 67108864
inactive_file 335544320
`;

describe('/proc/self/cgroup', () => {
  it('reads the v2 path of a unified host', () => {
    expect(parseProcCgroup('0::/kubepods.slice/kubepods-burstable.slice/cri-containerd-0f3a.scope\n')).toEqual({
      unified: '/kubepods.slice/kubepods-burstable.slice/cri-containerd-0f3a.scope',
      v1: new Map(),
    });
    // In its own cgroup namespace a container sees itself at the top.
    expect(parseProcCgroup('0::/\n').unified).toBe('/');
  });

  it('reads each v1 controller of a hybrid host, combined hierarchies included, and its empty v2 line', () => {
    const membership = parseProcCgroup('9:name=systemd:/\n4:memory:/process_api/f69a\n2:cpu,cpuacct:/docker/4e1c\n1:cpuset:/\n0::/\n');
    expect(membership.unified).toBe('/');
    expect(membership.v1.get('memory')).toBe('/process_api/f69a');
    expect(membership.v1.get('cpu')).toBe('/docker/4e1c');
    expect(membership.v1.get('cpuacct')).toBe('/docker/4e1c');
    expect(membership.v1.get('name=systemd')).toBe('/');
    expect(parseProcCgroup('garbage\n\n').v1.size).toBe(0);
  });
});

describe('limits', () => {
  it('reads a CPU quota as cores, and no limit as undefined', () => {
    expect(parseCpuMax('260000 100000\n')).toBeCloseTo(2.6);
    expect(parseCpuMax('20000 100000\n')).toBeCloseTo(0.2);
    expect(parseCpuMax('max 100000\n')).toBeUndefined();
    expect(parseCfsQuota('50000\n', '100000\n')).toBeCloseTo(0.5);
    expect(parseCfsQuota('-1\n', '100000\n')).toBeUndefined();
  });

  it('reads a memory limit in bytes; "max" and v1\'s page-aligned 2^63 are no limit', () => {
    expect(parseMemoryLimit('2097152000\n')).toBe(2000 * 1024 * 1024);
    expect(parseMemoryLimit('max\n')).toBeUndefined();
    expect(parseMemoryLimit('9223372036854771712\n')).toBeUndefined();
  });
});

describe('counters', () => {
  it('reads v2 cpu.stat in microseconds', () => {
    expect(parseCpuStatV2(CPU_STAT_V2)).toEqual({ usageSeconds: 48.213377, periods: 3021, throttledPeriods: 412, throttledSeconds: 14.211093 });
    // Without the cpu controller enabled, v2 keeps only the usage lines.
    expect(parseCpuStatV2('usage_usec 100\nuser_usec 60\nsystem_usec 40\n')).toEqual({ usageSeconds: 0.0001, periods: 0, throttledPeriods: 0, throttledSeconds: 0 });
  });

  it('reads v1 cpu.stat in nanoseconds, with its usage from cpuacct.usage', () => {
    expect(parseCpuStatV1(CPU_STAT_V1, '3301234567\n')).toEqual({ usageSeconds: 3.301234567, periods: 33, throttledPeriods: 31, throttledSeconds: 2.15594286 });
    expect(parseCpuStatV1(CPU_STAT_V1)).not.toHaveProperty('usageSeconds');
  });

  it('counts the working set: usage minus the inactive file cache the kernel drops before it kills', () => {
    expect(workingSetBytes(1_800_000_000, MEMORY_STAT_V2)).toBe(1_800_000_000 - 335544320);
    expect(workingSetBytes(500, 'total_inactive_file 200\ninactive_file 50\n')).toBe(300);
    expect(workingSetBytes(500, undefined)).toBe(500);
    expect(workingSetBytes(100, 'inactive_file 200\n')).toBe(0);
  });

  it('reads OOM kills from v2 memory.events and v1 memory.oom_control', () => {
    expect(parseOomKills('low 0\nhigh 0\nmax 12\noom 2\noom_kill 2\noom_group_kill 0\n')).toBe(2);
    expect(parseOomKills('oom_kill_disable 0\nunder_oom 0\noom_kill 1\n')).toBe(1);
    expect(parseOomKills('low 0\n')).toBeUndefined();
  });
});
