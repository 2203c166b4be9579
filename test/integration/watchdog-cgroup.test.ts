/**
 * The watchdog under a real CPU limit: a cgroup with a 0.2-core quota (what a
 * pod's `limits.cpu: 200m` sets), a Node process inside it keeping a core
 * busy, and the kernel throttling it. The watchdog must see the limit and call
 * the throttled intervals saturated (cpu_throttled); the same work in a cgroup
 * without a quota must not be. cgroup v2 (cpu.max) or v1 (cpu.cfs_quota_us),
 * whichever the machine mounts at /sys/fs/cgroup; needs root to make cgroups.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect } from 'vitest';
import type { HarnessSample, HarnessSummary, SaturationReason } from '../../src/results.js';
import { itNeeding } from './prerequisites.js';
import { tempDir } from './support.js';

const CGROUP_ROOT = '/sys/fs/cgroup';
const PERIOD_USEC = 100_000;
const unified = existsSync(join(CGROUP_ROOT, 'cgroup.controllers'));

function cgroupMissing(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux: no cgroups';
  if (process.getuid?.() !== 0) return 'not root: making a cgroup needs root';
  if (unified) {
    const controllers = readFileSync(join(CGROUP_ROOT, 'cgroup.controllers'), 'utf8').split(/\s+/);
    return controllers.includes('cpu') ? undefined : `cgroup v2 at ${CGROUP_ROOT} without the cpu controller (cgroup.controllers: ${controllers.join(' ')})`;
  }
  return existsSync(join(CGROUP_ROOT, 'cpu', 'cpu.cfs_quota_us')) ? undefined : `neither cgroup v2 with the cpu controller nor a v1 cpu hierarchy at ${CGROUP_ROOT}`;
}

interface TestCgroup {
  /** The cgroup.procs files a process writes its PID into to join it (v1: cpu and cpuacct). */
  procsFiles: string[];
  remove(): void;
}

/** A cgroup right under the hierarchy's top with `quotaCores` of CPU (none: no quota). */
function makeCpuCgroup(name: string, quotaCores: number | undefined): TestCgroup {
  const dirs: string[] = [];
  const undo: (() => void)[] = [];
  const make = (dir: string) => {
    mkdirSync(dir);
    dirs.push(dir);
  };
  if (unified) {
    // A child gets cpu.max only once the parent hands it the controller.
    const subtree = join(CGROUP_ROOT, 'cgroup.subtree_control');
    if (!readFileSync(subtree, 'utf8').split(/\s+/).includes('cpu')) {
      writeFileSync(subtree, '+cpu');
      undo.push(() => writeFileSync(subtree, '-cpu'));
    }
    const dir = join(CGROUP_ROOT, name);
    make(dir);
    writeFileSync(join(dir, 'cpu.max'), quotaCores === undefined ? `max ${PERIOD_USEC}` : `${Math.round(quotaCores * PERIOD_USEC)} ${PERIOD_USEC}`);
  } else {
    const cpu = join(CGROUP_ROOT, 'cpu', name);
    make(cpu);
    writeFileSync(join(cpu, 'cpu.cfs_period_us'), String(PERIOD_USEC));
    writeFileSync(join(cpu, 'cpu.cfs_quota_us'), quotaCores === undefined ? '-1' : String(Math.round(quotaCores * PERIOD_USEC)));
    // Usage is the cpuacct controller's: its own hierarchy, unless mounted with cpu.
    const cpuacct = join(CGROUP_ROOT, 'cpuacct');
    if (existsSync(cpuacct) && realpathSync(cpuacct) !== realpathSync(join(CGROUP_ROOT, 'cpu'))) make(join(cpuacct, name));
  }
  return {
    procsFiles: dirs.map((dir) => join(dir, 'cgroup.procs')),
    remove() {
      for (const dir of dirs.reverse()) rmdirSync(dir);
      for (const step of undo) {
        try {
          step();
        } catch {
          // Another cgroup took the controller meanwhile: leave it on.
        }
      }
    },
  };
}

interface ProbeOutput {
  samples: { sample: HarnessSample; reasons: SaturationReason[] }[];
  summary: HarnessSummary;
}

/** Bundles the probe (TypeScript importing src/) for a plain `node`. */
async function bundleProbe(dir: string): Promise<string> {
  const outfile = join(dir, 'probe.mjs');
  await build({ entryPoints: [join(import.meta.dirname, 'watchdogCgroupProbe.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile, logLevel: 'silent' });
  return outfile;
}

/** Runs the probe inside `cgroup`: three samples of one busy second each. The cgroup is removed after, whatever happens. */
function probeIn(probe: string, cgroup: TestCgroup): ProbeOutput {
  try {
    const run = spawnSync(process.execPath, [probe, '3', '1000', ...cgroup.procsFiles], { encoding: 'utf8', timeout: 60_000 });
    if (run.status !== 0) throw new Error(`probe exited ${run.status ?? run.signal}: ${run.stderr}`);
    return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as ProbeOutput;
  } finally {
    cgroup.remove();
  }
}

describe('the watchdog inside a CPU-limited cgroup', () => {
  const missing = cgroupMissing();

  itNeeding(missing)(
    'sees the 0.2-core limit and calls the throttled intervals cpu_throttled; without a quota the same work is not',
    async () => {
      const dir = tempDir('callwright-watchdog-cgroup-');
      try {
        const probe = await bundleProbe(dir);

        const limited = probeIn(probe, makeCpuCgroup(`callwright-test-${process.pid}-limited`, 0.2));
        expect(limited.samples).toHaveLength(3);
        for (const { sample, reasons } of limited.samples) {
          expect(sample.cpuLimitCores).toBeCloseTo(0.2);
          // The kernel held it to its quota: about 0.2 cores, though it wanted a whole one.
          expect(sample.cgroupCpuCores).toBeGreaterThan(0.1);
          expect(sample.cgroupCpuCores).toBeLessThan(0.35);
          expect(sample.cpuThrottledSeconds).toBeGreaterThan(0.1 * sample.intervalSeconds);
          expect(reasons).toContain('cpu_throttled');
        }
        expect(limited.summary.saturated).toBe(true);
        expect(limited.summary.windows.flatMap((w) => w.reasons)).toContain('cpu_throttled');
        expect(limited.summary.cgroup?.cpuLimitCores).toBeCloseTo(0.2);
        expect(limited.summary.cgroup?.cpuThrottledSeconds).toBeGreaterThan(0.3);

        const free = probeIn(probe, makeCpuCgroup(`callwright-test-${process.pid}-free`, undefined));
        expect(free.samples).toHaveLength(3);
        for (const { sample, reasons } of free.samples) {
          expect(reasons).not.toContain('cpu_throttled');
          // No quota of its own: no limit at all, or (in a limited container) its container's, never the test's 0.2.
          if (sample.cpuLimitCores !== undefined) expect(sample.cpuLimitCores).toBeGreaterThan(0.5);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    60_000,
  );
});
