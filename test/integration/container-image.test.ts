import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveChromium } from '../../src/browser/chromium.js';
import { ROOT, tempDir } from './support.js';

// The container image builds, proven where no container engine runs (CI has a docker client
// but no daemon): scripts/replay-dockerfile.mjs replays the Dockerfile's stages in temporary
// folders from the repository's tracked files, runs its apt-get and npm steps for real, then
// runs the image's ENTRYPOINT + CMD (the smoke scenario: Chromium against the embedded server)
// in the last stage's folder, as the image's user, with only what that stage holds.
// About 45 s here (npm ci from the npm cache, apt-get update, the smoke run).
//
// Needs Chromium, and root (apt-get, and setpriv to run as uid 1000) or the image's packages
// installed. Outside CI a missing one skips with the reason in the name; in CI it FAILS.
// The replay copies tracked files only; outside CI, CALLWRIGHT_REPLAY_WITH_UNTRACKED=1 lets a
// work tree with new files not yet added to git replay too.

const inCi = Boolean(process.env['CI']) && process.env['CI'] !== 'false' && process.env['CI'] !== '0';
const isRoot = process.getuid?.() === 0;
const missing =
  [
    resolveChromium() === undefined ? 'no Chromium (apt-get install chromium, or set CALLWRIGHT_CHROMIUM)' : undefined,
    !isRoot && !existsSync('/usr/bin/tini') ? 'not root, so apt-get cannot run, and tini is not installed (apt-get install tini)' : undefined,
  ]
    .filter((m): m is string => m !== undefined)
    .join('; ') || undefined;
const skipReason = missing !== undefined && !inCi ? missing : undefined;
const withUntracked = !inCi && process.env['CALLWRIGHT_REPLAY_WITH_UNTRACKED'] === '1';

const REPLAY = join(ROOT, 'scripts', 'replay-dockerfile.mjs');
const out = tempDir('callwright-container-image-');
afterAll(() => rmSync(out, { recursive: true, force: true }));

interface ReplayReport {
  ok: boolean;
  built: boolean;
  ranAsRoot: boolean;
  workFolder: string;
  stages: { index: number; name: string | null; image: string; workdir: string; user: { uid: number; gid: number } | null }[];
  steps: { line: number; instruction: string; status: 'ran' | 'noted' | 'failed'; note?: string }[];
  notReplayed: { what: string; coveredBy: string }[];
  checks: { name: string; ok: boolean; detail?: string }[];
  runtime: { devDependenciesPresent: string[]; sourcesPresent: string[]; missing: string[] } | null;
  runs: { label: string; argv: string[]; uid: number; exitCode: number | string | null; seconds: number }[];
}

function replay(args: string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [REPLAY, ...(withUntracked ? ['--with-untracked'] : []), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    // SIGTERM first: the replay then stops the Chromium it started and removes its folder.
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, output });
    });
  });
}

/** The end of the replay's output, to show what went wrong. */
function tail(output: string): string {
  return output.split('\n').slice(-60).join('\n');
}

function requirePrerequisites(): void {
  if (missing !== undefined) throw new Error(`CI (env CI is set): this test must run, not skip, but: ${missing}`);
}

describe.skipIf(skipReason !== undefined)(`the Dockerfile, replayed without a container engine${skipReason ? ` [SKIPPED: ${skipReason}]` : ''}`, () => {
  it('builds in two stages, and the image runs the smoke scenario as uid 1000 with production dependencies only and no sources', async () => {
    requirePrerequisites();
    const reportFile = join(out, 'replay.json');
    const { code, output } = await replay(['--report', reportFile], 280_000);
    expect(existsSync(reportFile), tail(output)).toBe(true);
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as ReplayReport;
    expect(report.checks.filter((c) => !c.ok), tail(output)).toEqual([]);
    expect(code, tail(output)).toBe(0);
    expect(report.ok).toBe(true);

    // Every instruction replayed; the build stage with dev dependencies, a runtime stage after it.
    expect(report.built).toBe(true);
    expect(report.steps.filter((s) => s.status === 'failed')).toEqual([]);
    expect(report.stages.map((s) => s.name)).toEqual(['build', null]);
    expect(report.steps.some((s) => s.instruction.startsWith('RUN npm ci'))).toBe(true);
    expect(report.steps.some((s) => s.instruction.startsWith('RUN npm run build'))).toBe(true);

    // The runtime stage: no node_modules/typescript (nor any other dev dependency), no sources.
    expect(report.runtime).toEqual({ devDependenciesPresent: [], sourcesPresent: [], missing: [] });

    // What cannot be replayed is said, with what covers it.
    expect(report.notReplayed.map((n) => n.what)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^FROM node:20-bookworm-slim/), expect.stringMatching(/^USER 1000:1000/)]),
    );
    expect(report.stages.at(-1)!.user).toEqual({ uid: 1000, gid: 1000 });

    // The image's command: validate, then ENTRYPOINT + CMD (the smoke run), both exit 0, as uid 1000 when root.
    expect(report.runs.map((r) => [r.label, r.exitCode])).toEqual([
      ['validate through the ENTRYPOINT', 0],
      ['the ENTRYPOINT + CMD', 0],
    ]);
    const smokeRun = report.runs[1]!;
    expect(smokeRun.argv).toEqual(['/usr/bin/tini', '--', 'node', 'dist/cli/bin.js', 'run', 'scenarios/smoke.yaml', '--out', 'reports/docker']);
    if (report.ranAsRoot) expect(smokeRun.uid).toBe(1000);
    expect(output).toMatch(/smoke: PASS \(exit 0/);

    // Its temporary folder is gone.
    expect(existsSync(report.workFolder)).toBe(false);
  }, 300_000);

  it('fails at `npm run build` when NODE_ENV=production is set before npm ci (the bug this Dockerfile had)', async () => {
    requirePrerequisites();
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const broken = dockerfile.replace(/^(FROM [^\n]+ AS build\n)/m, '$1ENV NODE_ENV=production\n');
    expect(broken).not.toBe(dockerfile);
    const brokenFile = join(out, 'Dockerfile.node-env');
    writeFileSync(brokenFile, broken);
    const reportFile = join(out, 'replay-node-env.json');
    const { code, output } = await replay(['--dockerfile', brokenFile, '--report', reportFile, '--no-run'], 150_000);
    expect(code, tail(output)).toBe(1);
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as ReplayReport;
    expect(report.built).toBe(false);
    const failed = report.steps.filter((s) => s.status === 'failed');
    expect(failed.map((s) => s.instruction)).toEqual([expect.stringMatching(/^RUN npm run build/)]);
    // npm ci left out the dev dependencies, so the agent bundler is not there.
    expect(output).toMatch(/Cannot find package 'esbuild'/);
    expect(existsSync(report.workFolder)).toBe(false);
  }, 180_000);
});
