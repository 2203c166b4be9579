/**
 * `callwright merge` on shard folders written the way shards write them (the
 * run's own CSV and summary reporters), through real yargs with real argv,
 * as bin.ts runs it. The fixture: one run of 30 calls split into 3 shards by
 * iteration (shard = (iteration - 1) mod 3 + 1, as `run --shard` splits), with
 * shard 3's calls five times slower, so per-shard percentiles are far from
 * the run's and averaging them would be visibly wrong.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mergeCommand } from '../../src/cli/commands/merge.js';
import { reportCommand } from '../../src/cli/commands/report.js';
import { InfraError } from '../../src/errors.js';
import { percentile } from '../../src/common/statistics.js';
import { parseCsv } from '../../src/report/csvRead.js';
import { readCallsCsv, readSummaryJson } from '../../src/report/runFiles.js';
import { writeRunReports } from '../../src/report/runReports.js';
import type { FailureReason, LegResult } from '../../src/results.js';
import { evaluateThresholds, parseThresholds, verdictExitCode, type ThresholdSpec } from '../../src/verdict/index.js';
import { captureOutput, runCommandLine } from './cliHarness.js';
import { writeRunDir, type RunDirExtras } from './runDir.js';
import { RUN_START_MS, splitRun, syntheticRun, type SyntheticRun } from './syntheticRun.js';

const root = mkdtempSync(join(tmpdir(), 'callwright-merge-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const output = captureOutput();
const cli = runCommandLine;

/** Outcome threshold (failed calls judged by rate) and a quality one that shard 3 alone fails but the whole run holds. */
const THRESHOLDS: Record<string, ThresholdSpec[]> = { call_success: ['rate>=0.9'], setup_time: ['p(95)<1.2s'] };

/** 30 calls, the last two failing; calls of shard 3 (iteration divisible by 3) set up five times slower; one leg per call. */
function fixtureRun(failed: FailureReason[] = ['sip_status', 'timeout']): SyntheticRun {
  const run = syntheticRun({ count: 30, failed });
  run.calls = run.calls.map((call) => {
    const slower = call.iteration % 3 === 0 && call.setupSeconds !== undefined ? { setupSeconds: call.setupSeconds * 5 } : {};
    const evidence = call.result === 'failed' ? { evidence: `sip/${call.callId}.log` } : {};
    const leg: LegResult = {
      callId: call.callId,
      legId: `leg-${call.iteration}-a`,
      role: 'alice',
      agentId: `alice-${call.iteration}`,
      direction: 'outgoing',
      transportTimeline: 'ice:checking@+0.01;ice:connected@+0.05',
      // One leg that never got created: ordered by its call's start.
      ...(call.iteration === 7 ? {} : { createdAtMs: call.startedAtMs + 5 }),
    };
    return { ...call, ...slower, ...evidence, legs: [leg] };
  });
  return run;
}

/** What a shard (or a whole run) leaves: its CSV files, summary.json, thresholds.json, SIP logs of failed calls, stats.csv. */
async function writeRun(dir: string, run: SyntheticRun, extras: RunDirExtras = {}, thresholds = THRESHOLDS): Promise<void> {
  const sipLogs = Object.fromEntries(run.calls.filter((call) => call.evidence).map((call) => [`${call.callId}.log`, `SIP log of ${call.callId}\n`]));
  const start = run.summary.info.startedAtMs;
  const results = evaluateThresholds(parseThresholds(thresholds, 'scenario.yaml'), run);
  // As a run does: summary.json records the verdict, thresholds included.
  const judged = { ...run, summary: { ...run.summary, exitCode: verdictExitCode(run.summary, results) } };
  await writeRunDir(dir, judged, { legs: true, sipLogs, statsAtMs: [start + 5000, start + 10000, start + 15000, start + 19000], ...extras });
  if (!extras.withoutSummary) await writeRunReports(dir, { ...judged, thresholds: results });
}

/** The fixture as one run in `<name>/whole` and as shards in `<name>/shards/shard-1..3`, minus the indexes left out. */
async function fixture(name: string, options: { leaveOut?: number[]; crashed?: number[] } = {}): Promise<{ whole: string; shards: string; run: SyntheticRun; parts: SyntheticRun[] }> {
  const run = fixtureRun();
  const parts = splitRun(run, 3);
  const whole = join(root, name, 'whole');
  const shards = join(root, name, 'shards');
  await writeRun(whole, run);
  for (const [offset, part] of parts.entries()) {
    const index = offset + 1;
    if (options.leaveOut?.includes(index)) continue;
    await writeRun(join(shards, `shard-${index}`), part, { withoutSummary: options.crashed?.includes(index) });
  }
  return { whole, shards, run, parts };
}

function csv(path: string): { header: string[]; rows: string[][] } {
  const [header, ...rows] = parseCsv(readFileSync(path, 'utf8')).filter((row) => !(row.length === 1 && row[0] === ''));
  return { header: header!, rows };
}

function column(path: string, name: string): string[] {
  const { header, rows } = csv(path);
  return rows.map((row) => row[header.indexOf(name)]!);
}

function isAscending(values: readonly number[]): boolean {
  return values.every((value, index) => index === 0 || values[index - 1]! <= value);
}

describe('callwright merge of a complete sharded run', () => {
  it('gives the figures, percentiles and verdict of the unsplit run, recomputed from the joined rows', async () => {
    const { whole, shards, run } = await fixture('complete');
    const out = join(root, 'complete', 'merged');

    expect(await cli(reportCommand, ['report', whole, '--json'])).toBe(0);
    const unsplit = JSON.parse(output.stdout());
    output.clear();
    expect(await cli(mergeCommand, ['merge', shards, '--out', out, '--json'])).toBe(0);
    const merged = JSON.parse(output.stdout());

    for (const figure of ['verdict', 'exitCode', 'durationSeconds', 'iterations', 'calls', 'steps', 'registrations', 'setupSeconds', 'pddSeconds', 'mos', 'jitterSeconds', 'packetLossRatio', 'failuresByReason', 'thresholds']) {
      expect(merged[figure], figure).toEqual(unsplit[figure]);
    }
    expect(merged.calls.total).toBe(30);
    expect(merged.shards).toMatchObject({ count: 3, merged: [1, 2, 3], missing: [] });

    // The p95 is the joined rows' own, not an average of the shards'.
    const setups = (await readCallsCsv(join(out, 'calls.csv'))).flatMap((call) => (call.setupSeconds === undefined ? [] : [call.setupSeconds]));
    expect(setups).toHaveLength(28);
    expect(merged.setupSeconds.p95).toBeCloseTo(percentile(setups, 95)!, 9);
    const shardP95s = [1, 2, 3].map((index) => percentile(run.calls.filter((call) => (call.iteration - 1) % 3 === index - 1 && call.setupSeconds !== undefined).map((call) => call.setupSeconds!), 95)!);
    const averagedP95 = shardP95s.reduce((sum, p95) => sum + p95, 0) / 3;
    expect(Math.abs(averagedP95 - merged.setupSeconds.p95)).toBeGreaterThan(0.3);
    const document = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(document.aggregates.calls.callSetupSeconds.p95).toBeCloseTo(percentile(setups, 95)!, 6);
    // Shard 3 alone missed setup_time (exit 99): the merged run is judged on all rows, and holds.
    expect(readSummaryJson(join(shards, 'shard-3', 'summary.json')).exitCode).toBe(99);
    expect(merged.thresholds.map((t: { passed: boolean }) => t.passed)).toEqual([true, true]);
    expect(output.stderr()).toBe('');
  });

  it("judges the joined rows, not the shards' verdicts: shard 3 alone fails its threshold (99), the run holds it (0)", async () => {
    const run = fixtureRun([]);
    const shards = join(root, 'verdicts', 'shards');
    const thresholds = { setup_time: ['p(95)<1.3s'] };
    for (const [offset, part] of splitRun(run, 3).entries()) await writeRun(join(shards, `shard-${offset + 1}`), part, {}, thresholds);
    await writeRun(join(root, 'verdicts', 'whole'), run, {}, thresholds);
    expect(readSummaryJson(join(shards, 'shard-3', 'summary.json')).exitCode).toBe(99);
    expect(await cli(reportCommand, ['report', join(root, 'verdicts', 'whole'), '--quiet'])).toBe(0);
    expect(await cli(mergeCommand, ['merge', shards, '--out', join(root, 'verdicts', 'merged'), '--quiet'])).toBe(0);
    expect(output.stdout()).toBe(`PASS smoke (exit 0); reports: ${join(root, 'verdicts', 'merged')}\n`);
  });

  it('writes each CSV file once with one header, rows in time order, and the SIP logs of every shard', async () => {
    const { shards, parts } = await fixture('files');
    const out = join(root, 'files', 'merged');
    expect(await cli(mergeCommand, ['merge', join(shards, 'shard-2'), join(shards, 'shard-1'), join(shards, 'shard-3'), '--out', out, '--quiet'])).toBe(0);

    const starts = (file: string, name: string) => column(join(out, file), name).map((cell) => Date.parse(cell));
    expect(isAscending(starts('calls.csv', 'started_at'))).toBe(true);
    expect(column(join(out, 'calls.csv'), 'call_id')).toEqual(Array.from({ length: 30 }, (_, i) => `${i + 1}.main`));
    expect(isAscending(starts('steps.csv', 'started_at'))).toBe(true);
    expect(csv(join(out, 'steps.csv')).rows).toHaveLength(parts.reduce((sum, part) => sum + part.steps.length, 0));
    const samples = column(join(out, 'samples.csv'), 'at_ms').map(Number);
    expect(samples).toHaveLength(parts.reduce((sum, part) => sum + part.samples.length, 0));
    expect(isAscending(samples)).toBe(true);
    // The leg with no created_at stands at its call's start.
    expect(column(join(out, 'legs.csv'), 'call_id')).toEqual(Array.from({ length: 30 }, (_, i) => `${i + 1}.main`));
    const stats = csv(join(out, 'stats.csv'));
    expect(stats.header.at(-1)).toBe('shard');
    expect(stats.rows).toHaveLength(12);
    expect(isAscending(column(join(out, 'stats.csv'), 'time').map((cell) => Date.parse(cell)))).toBe(true);
    expect(stats.rows.slice(0, 3).map((row) => row.at(-1))).toEqual(['1', '2', '3']);
    for (const file of ['calls.csv', 'steps.csv', 'samples.csv', 'legs.csv']) {
      expect(csv(join(out, file)).header, file).toEqual(csv(join(shards, 'shard-1', file)).header);
    }
    expect(readdirSync(join(out, 'sip')).sort()).toEqual(['29.main.log', '30.main.log']);
    expect(existsSync(join(out, 'metrics.prom'))).toBe(false);

    const summary = readSummaryJson(join(out, 'summary.json'));
    expect(summary.info.shard).toBeUndefined();
    expect(summary.info).toMatchObject({ runId: 'run-1', startedAtMs: RUN_START_MS, plannedIterations: 30, concurrency: 5, outDir: out });
    expect(summary.shards?.byShard.map((shard) => [shard.index, shard.calls, shard.failedCalls, shard.exitCode])).toEqual([
      [1, 10, 0, 0],
      [2, 10, 1, 0],
      [3, 10, 1, 99],
    ]);
    expect(summary.calls.byReason).toEqual({ sip_status: 1, timeout: 1 });
    expect(output.stdout()).toBe(`PASS smoke (exit 0); reports: ${join(root, 'files', 'merged')}\n`);
  });

  it('judges by --threshold, exits 99 like the unsplit run, and `report` of the merged folder agrees', async () => {
    const { whole, shards } = await fixture('threshold');
    const out = join(root, 'threshold', 'merged');
    const threshold = ['--threshold', 'setup_time:p(95)<1s'];
    expect(await cli(reportCommand, ['report', whole, ...threshold, '--quiet'])).toBe(99);
    expect(await cli(mergeCommand, ['merge', shards, '--out', out, ...threshold])).toBe(99);
    expect(output.stdout()).toContain('smoke: FAIL (exit 99: thresholds failed)');
    expect(output.stdout()).toContain('shards          : 3/3 merged');
    expect(readFileSync(join(out, 'junit.xml'), 'utf8')).toContain('<testcase classname="smoke.shards" name="shard 2/3"');
    output.clear();
    expect(await cli(reportCommand, ['report', out])).toBe(99);
    expect(output.stdout()).toContain('shards          : 3/3 merged');
  });

  it('of one whole run equals that run\'s report: same figures, same exit code', async () => {
    const { whole } = await fixture('alone');
    expect(await cli(reportCommand, ['report', whole, '--json'])).toBe(0);
    const report = JSON.parse(output.stdout());
    output.clear();
    const out = join(root, 'alone', 'merged');
    expect(await cli(mergeCommand, ['merge', whole, '--out', out, '--json'])).toBe(0);
    const merged = JSON.parse(output.stdout());
    const figures = (summary: Record<string, unknown>) => Object.fromEntries(Object.entries(summary).filter(([key]) => key !== 'outDir' && key !== 'reports'));
    expect(figures(merged)).toEqual(figures(report));
    expect(merged.shards).toBeUndefined();
    expect(csv(join(out, 'stats.csv')).header).toEqual(csv(join(whole, 'stats.csv')).header);
  });
});

describe('callwright merge of an incomplete run', () => {
  it('joins what exists when a shard has no folder, and exits 3 with an error testcase and a banner', async () => {
    const { shards } = await fixture('missing', { leaveOut: [2] });
    const out = join(root, 'missing', 'merged');
    expect(await cli(mergeCommand, ['merge', shards, '--out', out])).toBe(3);
    expect(output.stdout()).toMatch(/^smoke: FAIL \(exit 3: infrastructure failure\) - INCOMPLETE \(2 of 3 shards\)/);
    expect(output.stdout()).toContain('shards          : 2/3 merged; MISSING shard 2 (no folder); the merged shards alone: exit 99 (thresholds failed)');
    expect(output.stderr()).toContain('warning: shard 2/3: no folder; the run is incomplete');

    const summary = readSummaryJson(join(out, 'summary.json'));
    expect(summary).toMatchObject({ exitCode: 3, calls: { total: 20 }, shards: { count: 3, merged: [1, 3], missing: [{ index: 2, reason: 'no_folder' }], partialExitCode: 99 } });
    const junit = readFileSync(join(out, 'junit.xml'), 'utf8');
    expect(junit).toContain('<error type="missing_shard" message="shard 2/3 is not in the merge (no folder); the run is incomplete"/>');
    expect(junit).toContain('<property name="exitCode" value="3"/>');
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('Incomplete run: 2 of 3 shards merged.');
    // Read back, the merged folder is still incomplete.
    expect(await cli(reportCommand, ['report', out, '--quiet'])).toBe(3);
  });

  it('leaves out a crashed shard (no summary.json) and its partial rows, saying how many', async () => {
    const { shards } = await fixture('crashed', { crashed: [3] });
    const out = join(root, 'crashed', 'merged');
    expect(await cli(mergeCommand, ['merge', shards, '--out', out, '--json'])).toBe(3);
    const merged = JSON.parse(output.stdout());
    expect(merged.shards.missing).toEqual([{ index: 3, reason: 'no_summary', folder: resolve(shards, 'shard-3'), unjoinedCalls: 10 }]);
    expect(merged.calls.total).toBe(20);
    expect(csv(join(out, 'calls.csv')).rows).toHaveLength(20);
    expect(output.stderr()).toContain('has no summary.json (crashed, killed or still running); the run is incomplete, and the 10 calls its calls.csv holds are left out');
    expect(readFileSync(join(out, 'junit.xml'), 'utf8')).toContain('<error type="crashed_shard"');
    expect(readdirSync(join(out, 'sip'))).toEqual(['29.main.log']);
  });

  it('exits 3 when no shard finished at all', async () => {
    const { shards } = await fixture('none', { crashed: [1, 2, 3] });
    const attempt = cli(mergeCommand, ['merge', shards, '--out', join(root, 'none', 'merged')]);
    await expect(attempt).rejects.toBeInstanceOf(InfraError);
    await expect(attempt).rejects.toThrow(/nothing finished: .*shard-1, .*shard-2, .*shard-3 have no summary\.json/);
  });

  it('never exits 0, even when what was merged passes', async () => {
    const run = syntheticRun({ count: 9 });
    const shards = join(root, 'passing', 'shards');
    for (const [offset, part] of splitRun(run, 3).entries()) if (offset !== 1) await writeRun(join(shards, `shard-${offset + 1}`), part);
    expect(await cli(mergeCommand, ['merge', shards, '--out', join(root, 'passing', 'merged'), '--quiet'])).toBe(3);
    expect(output.stdout()).toBe(`FAIL smoke (exit 3) - INCOMPLETE (2 of 3 shards); reports: ${join(root, 'passing', 'merged')}\n`);
  });

  it('passes the JUnit schema with error testcases for missing shards', async (context) => {
    const hasXmllint = spawnSync('xmllint', ['--version']).status === 0;
    if (!hasXmllint) {
      if (process.env.CI) throw new Error('xmllint is not installed (Debian package libxml2-utils): the JUnit schema check cannot run');
      return context.skip('xmllint is not installed');
    }
    const { shards } = await fixture('schema', { leaveOut: [1], crashed: [2] });
    const out = join(root, 'schema', 'merged');
    expect(await cli(mergeCommand, ['merge', shards, '--out', out, '--quiet'])).toBe(3);
    const schema = resolve(import.meta.dirname, 'schemas/junit-10.xsd');
    const result = spawnSync('xmllint', ['--noout', '--schema', schema, join(out, 'junit.xml')], { encoding: 'utf8' });
    expect(result.stderr).toContain('validates');
  });
});

describe('callwright merge refuses bad input (exit 2), naming the folders', () => {
  async function shardDir(name: string, run: SyntheticRun, index: number, count = 3): Promise<string> {
    const part = splitRun(run, count)[index - 1]!;
    const dir = join(root, name, `shard-${index}`);
    await writeRun(dir, part);
    return dir;
  }

  it('shards of different runs', async () => {
    const a = await shardDir('runs-a', fixtureRun(), 1);
    const other = fixtureRun();
    other.summary.info.runId = 'run-2';
    const b = await shardDir('runs-b', other, 2);
    const attempt = cli(mergeCommand, ['merge', a, b, '--out', join(root, 'runs-merged')]);
    await expect(attempt).rejects.toMatchObject({ exitCode: 2 });
    await expect(attempt).rejects.toThrow(`${a} is shard 1/3 of run run-1 (scenario smoke), ${b} is shard 2/3 of run run-2 (scenario smoke): not shards of one run`);
  });

  it('different shard counts, and a shard given twice', async () => {
    const a = await shardDir('counts-a', fixtureRun(), 1, 3);
    const b = await shardDir('counts-b', fixtureRun(), 2, 2);
    await expect(cli(mergeCommand, ['merge', a, b, '--out', join(root, 'counts-merged')])).rejects.toThrow('not shards of one run');
    const again = await shardDir('twice', fixtureRun(), 1, 3);
    await expect(cli(mergeCommand, ['merge', a, again, '--out', join(root, 'twice-merged')])).rejects.toThrow(`shard 1/3 of run run-1 is in both ${a} and ${again}`);
  });

  it('a whole run with shards', async () => {
    const { whole, shards } = await fixture('mixed');
    await expect(cli(mergeCommand, ['merge', whole, shards, '--out', join(root, 'mixed', 'merged')])).rejects.toThrow(
      `${whole} is run run-1 (scenario smoke, not sharded): a whole run can only be merged alone`,
    );
  });

  it('--out among the inputs, inside one, or holding the shard folders', async () => {
    const { shards } = await fixture('out');
    await expect(cli(mergeCommand, ['merge', shards, '--out', shards])).rejects.toThrow(`--out ${shards} is one of the folders to merge`);
    await expect(cli(mergeCommand, ['merge', shards, '--out', join(shards, 'shard-1', 'merged')])).rejects.toThrow('is inside');
    const shard1 = join(shards, 'shard-1');
    await expect(cli(mergeCommand, ['merge', shard1, join(shards, 'shard-2'), '--out', shards])).rejects.toThrow('holds the shard folder');
    expect(existsSync(join(shards, 'summary.json'))).toBe(false);
  });

  it('a merged folder beside the shard folders it was given (the Kubernetes layout /results/<run>/merged)', async () => {
    const { shards } = await fixture('beside');
    expect(await cli(mergeCommand, ['merge', shards, '--out', join(shards, 'merged'), '--quiet'])).toBe(0);
    expect(existsSync(join(shards, 'merged', 'summary.json'))).toBe(true);
    // Merged again later: the merged folder is not taken for a shard.
    expect(await cli(mergeCommand, ['merge', shards, '--out', join(shards, 'merged'), '--quiet'])).toBe(0);
  });

  it('CSV files with other columns, naming the file and both folders, before writing anything', async () => {
    const { shards } = await fixture('headers');
    const samples = join(shards, 'shard-2', 'samples.csv');
    writeFileSync(samples, readFileSync(samples, 'utf8').replace('audio_level', 'audio_lvl'));
    const out = join(root, 'headers', 'merged');
    await expect(cli(mergeCommand, ['merge', shards, '--out', out])).rejects.toThrow(
      `samples.csv: ${resolve(shards, 'shard-2')} and ${resolve(shards, 'shard-1')} have different columns (only in ${resolve(shards, 'shard-1')}: audio_level; only in ${resolve(shards, 'shard-2')}: audio_lvl)`,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('shards judged by different thresholds, unless --threshold says which', async () => {
    const run = fixtureRun();
    const parts = splitRun(run, 2);
    const shards = join(root, 'thresholds', 'shards');
    await writeRun(join(shards, 'shard-1'), parts[0]!);
    await writeRun(join(shards, 'shard-2'), parts[1]!, {}, { setup_time: ['p(95)<3s'] });
    const out = join(root, 'thresholds', 'merged');
    await expect(cli(mergeCommand, ['merge', shards, '--out', out])).rejects.toThrow('thresholds.json differ: the shards were judged by different thresholds');
    expect(await cli(mergeCommand, ['merge', shards, '--out', out, '--threshold', 'call_success:rate>=0.9', '--quiet'])).toBe(0);
  });

  it('the same SIP log in two shards', async () => {
    const { shards } = await fixture('sip');
    writeFileSync(join(shards, 'shard-1', 'sip', '29.main.log'), 'not mine\n');
    await expect(cli(mergeCommand, ['merge', shards, '--out', join(root, 'sip', 'merged')])).rejects.toThrow(/sip\/29\.main\.log is in both .*shard-1 and .*shard-2/);
  });

  it('a folder that is neither a run nor a folder of shards, and a crashed folder whose name gives no index', async () => {
    const empty = join(root, 'empty');
    mkdirSync(empty, { recursive: true });
    await expect(cli(mergeCommand, ['merge', empty, '--out', join(root, 'empty-merged')])).rejects.toThrow('is neither a run folder');
    const { shards } = await fixture('unnamed');
    const crashed = join(root, 'unnamed', 'crashed');
    await writeRun(crashed, splitRun(fixtureRun(), 3)[2]!, { withoutSummary: true });
    await expect(cli(mergeCommand, ['merge', join(shards, 'shard-1'), crashed, '--out', join(root, 'unnamed', 'merged')])).rejects.toThrow(
      'and its name does not say which shard it was',
    );
  });
});
