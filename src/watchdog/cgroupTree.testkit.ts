/**
 * Folders laid out like /sys/fs/cgroup (and a /proc/self/cgroup beside them),
 * for tests of the cgroup reader without a cgroup: write the files a kernel
 * would, point the reader at the folder.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CgroupMeter } from './cgroupLimits.js';

export interface FakeCgroupHost {
  /** Where the cgroup filesystem would be mounted. */
  root: string;
  /** The file standing for /proc/self/cgroup. */
  procSelfCgroup: string;
  /** Writes `files` (name -> content) into the cgroup at `path` under root (v1: under root/<controller>). */
  write(path: string, files: Record<string, string | number>): void;
  meter(): CgroupMeter;
}

const made: string[] = [];

/** Removes every fake host made so far (afterEach). */
export function removeFakeCgroupHosts(): void {
  for (const base of made.splice(0)) rmSync(base, { recursive: true, force: true });
}

export function fakeCgroupHost(procSelfCgroup: string, options: { unified: boolean }): FakeCgroupHost {
  const base = mkdtempSync(join(tmpdir(), 'callwright-cgroup-'));
  made.push(base);
  const root = join(base, 'sys-fs-cgroup');
  mkdirSync(root);
  if (options.unified) writeFileSync(join(root, 'cgroup.controllers'), 'cpuset cpu io memory pids\n');
  const procFile = join(base, 'proc-self-cgroup');
  writeFileSync(procFile, procSelfCgroup);
  return {
    root,
    procSelfCgroup: procFile,
    write(path, files) {
      const dir = join(root, path);
      mkdirSync(dir, { recursive: true });
      for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), `${content}\n`);
    },
    meter: () => new CgroupMeter(root, procFile),
  };
}

/** cgroup v2 cpu.stat with its throttling lines, from seconds. */
export function cpuStatV2(usageSeconds: number, throttledSeconds = 0, periods = 0, throttledPeriods = 0): string {
  return [`usage_usec ${Math.round(usageSeconds * 1e6)}`, 'user_usec 0', 'system_usec 0', `nr_periods ${periods}`, `nr_throttled ${throttledPeriods}`, `throttled_usec ${Math.round(throttledSeconds * 1e6)}`].join('\n');
}

/** cgroup v1 cpu.stat, from seconds (it counts nanoseconds). */
export function cpuStatV1(throttledSeconds = 0, periods = 0, throttledPeriods = 0): string {
  return [`nr_periods ${periods}`, `nr_throttled ${throttledPeriods}`, `throttled_time ${Math.round(throttledSeconds * 1e9)}`].join('\n');
}
