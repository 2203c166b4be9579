import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CgroupMeter, locateCgroup } from './cgroupLimits.js';
import { cpuStatV1, cpuStatV2, fakeCgroupHost, removeFakeCgroupHosts } from './cgroupTree.testkit.js';

const MiB = 1024 * 1024;
afterEach(removeFakeCgroupHosts);

describe('a pod on a cgroup v2 node (its own cgroup namespace: it sees itself at the top)', () => {
  const host = () => {
    const h = fakeCgroupHost('0::/\n', { unified: true });
    h.write('.', {
      'cpu.max': '260000 100000',
      'cpu.stat': cpuStatV2(100, 4, 900, 30),
      'memory.max': 2000 * MiB,
      'memory.current': 1500 * MiB,
      'memory.stat': `anon ${1200 * MiB}\ninactive_file ${300 * MiB}`,
      'memory.events': 'low 0\nhigh 0\nmax 3\noom 0\noom_kill 0',
    });
    return h;
  };

  it('reads its budget at once and its use from the second sample on', () => {
    const h = host();
    const meter = h.meter();
    expect(meter.location).toEqual({ version: 2, cpu: { mount: h.root, dirs: [h.root] }, memory: { mount: h.root, dirs: [h.root] } });
    // The baseline: limits and working set, no rates yet.
    expect(meter.sample(10_000)).toEqual({ cpuLimitCores: 2.6, memoryLimitBytes: 2000 * MiB, memoryBytes: 1200 * MiB });
    h.write('.', { 'cpu.stat': cpuStatV2(102.5, 4.6, 910, 36), 'memory.events': 'oom 1\noom_kill 1' });
    const usage = meter.sample(11_000)!;
    expect(usage.cpuCores).toBeCloseTo(2.5);
    expect(usage.cpuThrottledSeconds).toBeCloseTo(0.6);
    expect(usage.oomKills).toBe(1);
  });

  it('skips a rate whose counter went backwards (the cgroup was recreated)', () => {
    const h = host();
    const meter = h.meter();
    meter.sample(0);
    h.write('.', { 'cpu.stat': cpuStatV2(1, 0) });
    const usage = meter.sample(1000)!;
    expect(usage).not.toHaveProperty('cpuCores');
    expect(usage).not.toHaveProperty('cpuThrottledSeconds');
    expect(usage.cpuLimitCores).toBe(2.6);
  });
});

describe('a cgroup v2 host seen whole (no cgroup namespace)', () => {
  const ctr = 'kubepods.slice/kubepods-pod1.slice/cri-containerd-0f3a.scope';

  it('takes the tightest limit on the way up, and the counters of the cgroup that holds it', () => {
    const h = fakeCgroupHost(`0::/${ctr}\n`, { unified: true });
    h.write('.', { 'cpu.stat': cpuStatV2(99_999) });
    h.write('kubepods.slice', { 'cpu.max': 'max 100000', 'memory.max': 'max', 'cpu.stat': cpuStatV2(5000) });
    h.write('kubepods.slice/kubepods-pod1.slice', { 'cpu.max': '150000 100000', 'cpu.stat': cpuStatV2(10, 1), 'memory.max': 3000 * MiB, 'memory.current': 2900 * MiB });
    h.write(ctr, { 'cpu.max': '200000 100000', 'cpu.stat': cpuStatV2(8, 0), 'memory.max': 2000 * MiB, 'memory.current': 1000 * MiB, 'memory.events': 'oom_kill 0' });
    const meter = h.meter();
    expect(meter.location?.cpu?.dirs).toEqual([join(h.root, ctr), join(h.root, 'kubepods.slice/kubepods-pod1.slice'), join(h.root, 'kubepods.slice'), h.root]);
    expect(meter.sample(0)).toMatchObject({ cpuLimitCores: 1.5, memoryLimitBytes: 2000 * MiB, memoryBytes: 1000 * MiB });
    // Throttling is counted where the quota is: the pod's, not the container's.
    h.write('kubepods.slice/kubepods-pod1.slice', { 'cpu.stat': cpuStatV2(11.5, 1.3) });
    h.write(ctr, { 'cpu.stat': cpuStatV2(9, 0) });
    const usage = meter.sample(1000)!;
    expect(usage.cpuCores).toBeCloseTo(1.5);
    expect(usage.cpuThrottledSeconds).toBeCloseTo(0.3);
  });

  it('has nothing to say without limits ("max" everywhere): the machine is the budget', () => {
    const h = fakeCgroupHost('0::/user.slice/session-1.scope\n', { unified: true });
    h.write('user.slice', { 'cpu.max': 'max 100000', 'memory.max': 'max', 'cpu.stat': cpuStatV2(50) });
    h.write('user.slice/session-1.scope', { 'cpu.max': 'max 100000', 'memory.max': 'max', 'memory.current': 123, 'cpu.stat': cpuStatV2(5) });
    const meter = h.meter();
    expect(meter.location?.version).toBe(2);
    expect(meter.sample(0)).toBeUndefined();
    expect(meter.sample(1000)).toBeUndefined();
  });
});

describe('cgroup v1 (older nodes, hybrid hosts)', () => {
  it('reads a quota from cpu/, its usage from cpuacct/, and leaves out an unlimited memory cgroup', () => {
    // The layout of this project's CI machines: one hierarchy per controller, an empty v2 at unified/.
    const h = fakeCgroupHost('4:memory:/process_api/f69a\n2:cpuacct:/shard-1\n1:cpu:/shard-1\n0::/\n', { unified: false });
    h.write('unified', { 'cgroup.controllers': 'hugetlb' });
    h.write('cpu', { 'cpu.cfs_quota_us': -1, 'cpu.cfs_period_us': 100000, 'cpu.stat': cpuStatV1() });
    h.write('cpu/shard-1', { 'cpu.cfs_quota_us': 20000, 'cpu.cfs_period_us': 100000, 'cpu.stat': cpuStatV1(0, 0, 0) });
    h.write('cpuacct/shard-1', { 'cpuacct.usage': 0 });
    h.write('memory/process_api/f69a', { 'memory.limit_in_bytes': '9223372036854771712', 'memory.usage_in_bytes': 6811648 });
    const meter = h.meter();
    expect(meter.location?.version).toBe(1);
    expect(meter.sample(0)).toEqual({ cpuLimitCores: 0.2 });
    h.write('cpu/shard-1', { 'cpu.stat': cpuStatV1(2.1, 33, 31) });
    h.write('cpuacct/shard-1', { 'cpuacct.usage': 0.6e9 });
    const usage = meter.sample(3000)!;
    expect(usage.cpuCores).toBeCloseTo(0.2);
    expect(usage.cpuThrottledSeconds).toBeCloseTo(2.1);
  });

  it('reads a combined cpu,cpuacct mount and a v1 memory limit with its OOM kills', () => {
    const h = fakeCgroupHost('3:memory:/docker/4e1c\n2:cpu,cpuacct:/docker/4e1c\n', { unified: false });
    h.write('cpu,cpuacct/docker/4e1c', { 'cpu.cfs_quota_us': 150000, 'cpu.cfs_period_us': 100000, 'cpu.stat': cpuStatV1(), 'cpuacct.usage': 1e9 });
    h.write('memory/docker/4e1c', {
      'memory.limit_in_bytes': 1024 * MiB,
      'memory.usage_in_bytes': 1000 * MiB,
      'memory.stat': `cache ${200 * MiB}\ninactive_file ${10 * MiB}\ntotal_inactive_file ${100 * MiB}`,
      'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 4',
    });
    const meter = h.meter();
    expect(meter.sample(0)).toEqual({ cpuLimitCores: 1.5, memoryLimitBytes: 1024 * MiB, memoryBytes: 900 * MiB });
    h.write('cpu,cpuacct/docker/4e1c', { 'cpuacct.usage': 2.5e9 });
    h.write('memory/docker/4e1c', { 'memory.oom_control': 'oom_kill 5' });
    expect(meter.sample(1000)).toMatchObject({ cpuCores: 1.5, cpuThrottledSeconds: 0, oomKills: 1 });
  });

  it("takes the mount as its own cgroup when the host's path is not under it (a container without a cgroup namespace)", () => {
    const h = fakeCgroupHost('1:cpu:/docker/4e1c\n', { unified: false });
    h.write('cpu', { 'cpu.cfs_quota_us': 50000, 'cpu.cfs_period_us': 100000, 'cpu.stat': cpuStatV1() });
    expect(h.meter().location?.cpu).toEqual({ mount: join(h.root, 'cpu'), dirs: [join(h.root, 'cpu')] });
    expect(h.meter().sample(0)).toEqual({ cpuLimitCores: 0.5 });
  });
});

describe('no cgroup to read', () => {
  it('finds none without /proc/self/cgroup or a mounted hierarchy', () => {
    expect(locateCgroup('/nonexistent-cgroup-root', '/nonexistent-proc-self-cgroup')).toBeUndefined();
    const h = fakeCgroupHost('1:cpu:/\n0::/\n', { unified: false });
    expect(locateCgroup(join(h.root, 'absent'), h.procSelfCgroup)).toBeUndefined();
    expect(new CgroupMeter('/nonexistent-cgroup-root', h.procSelfCgroup).sample()).toBeUndefined();
  });
});
