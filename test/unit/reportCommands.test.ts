/**
 * `callwright report` and `callwright compare` on run folders written the way
 * a run writes them (the run's own CSV and summary reporters), through real
 * yargs with real argv, as bin.ts runs them.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compareCommand } from '../../src/cli/commands/compare.js';
import { reportCommand } from '../../src/cli/commands/report.js';
import { InputError } from '../../src/errors.js';
import { writeRunReports } from '../../src/report/runReports.js';
import { evaluateThresholds, parseThresholds } from '../../src/verdict/index.js';
import { captureOutput, runCommandLine } from './cliHarness.js';
import { writeRunDir } from './runDir.js';
import { syntheticRun } from './syntheticRun.js';

const root = mkdtempSync(join(tmpdir(), 'callwright-commands-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const output = captureOutput();
const cli = runCommandLine;

async function runDir(name: string, options: Parameters<typeof syntheticRun>[0] = {}): Promise<string> {
  const dir = join(root, name);
  await writeRunDir(dir, syntheticRun(options));
  return dir;
}

describe('callwright report', () => {
  it('rebuilds junit.xml and report.html and exits 99 naming the failed threshold and by how much', async () => {
    const dir = await runDir('report-99', { failed: ['sip_status', 'timeout'] });
    const code = await cli(reportCommand, ['report', dir, '--threshold', 'call_success:rate>=0.99', '--threshold', 'setup_time:p(95)<2s']);
    expect(code).toBe(99);
    expect(output.stdout()).toContain('smoke: FAIL (exit 99: thresholds failed)');
    expect(output.stdout()).toContain('[FAIL] call_success  rate>=0.99  observed 98%  (rate=98%, limit >=99%: under by 1%)');
    const junit = readFileSync(join(dir, 'junit.xml'), 'utf8');
    expect(junit).toContain('<failure type="threshold" message="rate=98%, limit &gt;=99%: under by 1%">');
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain('rate=98%, limit &gt;=99%: under by 1%');
    expect(output.stderr()).toContain('junit.xml');
  });

  it('exits 0 when the thresholds hold, and 1 for failed calls without thresholds', async () => {
    const dir = await runDir('report-0', { failed: ['timeout'] });
    expect(await cli(reportCommand, ['report', dir, '--threshold', 'call_success:rate>=0.99', '--quiet'])).toBe(0);
    expect(output.stdout()).toBe('');
    expect(await cli(reportCommand, ['report', dir, '--quiet'])).toBe(1);
  });

  it('judges again by the thresholds the run wrote in thresholds.json', async () => {
    const run = syntheticRun({ count: 40 });
    const dir = join(root, 'report-from-run');
    await writeRunDir(dir, run);
    const thresholds = evaluateThresholds(parseThresholds({ setup_time: ['p(95)<100ms'] }, 'scenario.yaml'), { calls: run.calls, steps: run.steps, summary: run.summary });
    await writeRunReports(dir, { ...run, thresholds });
    expect(existsSync(join(dir, 'report.html'))).toBe(true);
    rmSync(join(dir, 'report.html'));
    expect(await cli(reportCommand, ['report', dir, '--json'])).toBe(99);
    const summary = JSON.parse(output.stdout());
    expect(summary).toMatchObject({ exitCode: 99, thresholds: [{ metric: 'setup_time', expression: 'p(95)<100ms', passed: false }] });
    expect(existsSync(join(dir, 'report.html'))).toBe(true);
  });

  it('refuses a folder that is not a run (exit 2 through bin.ts)', async () => {
    await expect(cli(reportCommand, ['report', join(root, 'missing')])).rejects.toBeInstanceOf(InputError);
  });

  it('refuses a bad --threshold naming it', async () => {
    const dir = await runDir('report-bad-threshold');
    await expect(cli(reportCommand, ['report', dir, '--threshold', 'setup_tme:p(95)<2s'])).rejects.toThrow('unknown metric "setup_tme"');
  });
});

describe('callwright compare', () => {
  it('passes two comparable runs (exit 0)', async () => {
    const baseline = await runDir('baseline');
    const current = await runDir('comparable', { slowdown: 1.04 });
    expect(await cli(compareCommand, ['compare', baseline, current])).toBe(0);
    expect(output.stdout()).toContain('no regression beyond the tolerance');
  });

  it('flags a deliberate regression: added packet loss and a slower server (exit 1)', async () => {
    const baseline = await runDir('baseline-2');
    const worse = await runDir('lossy-slow', { lossRatio: 0.04, slowdown: 2 });
    expect(await cli(compareCommand, ['compare', baseline, worse, '--tolerance', '20%', '--json'])).toBe(1);
    const comparison = JSON.parse(output.stdout());
    expect(comparison.regressed).toBe(true);
    const verdicts = Object.fromEntries(comparison.figures.map((figure: { figure: string; verdict: string }) => [figure.figure, figure.verdict]));
    expect(verdicts).toMatchObject({ setupP50Seconds: 'regression', setupP95Seconds: 'regression', packetLossAvg: 'regression', callSuccessRate: 'same' });
  });

  it('refuses an unreadable folder and a bad tolerance (exit 2 through bin.ts)', async () => {
    const baseline = await runDir('baseline-3');
    await expect(cli(compareCommand, ['compare', baseline, join(root, 'nope')])).rejects.toBeInstanceOf(InputError);
    await expect(cli(compareCommand, ['compare', baseline, baseline, '--tolerance', '10'])).rejects.toThrow('--tolerance 10');
  });
});
