import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../log.js';
import type { RunError } from '../report/errorVerdict.js';
import { clearEarlierRun, leaveErrorVerdict, type RunSoFar } from './runFolder.js';

const root = mkdtempSync(join(tmpdir(), 'callwright-run-folder-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const badInput: RunError = { exitCode: 2, type: 'bad_input', message: 'steps[1].call.codecs[0]: "PCMX" is not a codec', hint: 'use one of PCMU, PCMA, opus, G722' };

/** An earlier run that passed, as CI would read it. */
function passedEarlier(name: string): string {
  const dir = join(root, name);
  mkdirSync(join(dir, 'sip'), { recursive: true });
  writeFileSync(join(dir, 'summary.json'), JSON.stringify({ exitCode: 0 }));
  writeFileSync(join(dir, 'junit.xml'), '<testsuites name="callwright" tests="3" failures="0" errors="0"/>');
  writeFileSync(join(dir, 'report.html'), '<p>PASS</p>');
  writeFileSync(join(dir, 'calls.csv'), 'call_id\nold.1\n');
  writeFileSync(join(dir, 'sip', 'old.1.log'), 'INVITE\n');
  return dir;
}

function soFar(outDir: string | undefined, extra: Partial<RunSoFar> = {}): RunSoFar {
  return { scenarioFile: 'scenarios/smoke.yaml', startedAtMs: Date.now(), runId: 'r1', outDir, cleared: false, ...extra };
}

function logged(): { lines: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  return { lines, logger: createLogger('debug', (line) => void lines.push(line)) };
}

describe("an error verdict in the run's folder", () => {
  it("replaces an earlier run's verdict and files: summary.json and junit.xml say exit 2 and why", () => {
    const dir = passedEarlier('bad-input');
    leaveErrorVerdict(soFar(dir), badInput, logged().logger);
    expect(readdirSync(dir).sort()).toEqual(['junit.xml', 'summary.json']);
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({ exitCode: 2, error: badInput, info: { runId: 'r1', scenario: 'smoke', target: { url: 'unknown (the scenario did not load)' } } });
    const junit = readFileSync(join(dir, 'junit.xml'), 'utf8');
    expect(junit).toContain('errors="1"');
    expect(junit).toContain('<error type="bad_input" message="exit 2 (bad input): steps[1].call.codecs[0]: &quot;PCMX&quot; is not a codec">');
  });

  it('makes no folder where there was none (a refused run leaves nothing behind)', () => {
    const dir = join(root, 'never-made');
    leaveErrorVerdict(soFar(dir), badInput, logged().logger);
    expect(existsSync(dir)).toBe(false);
  });

  it('writes nothing when the folder is not known (a bad --shard, or --dry-run)', () => {
    const { lines, logger } = logged();
    leaveErrorVerdict(soFar(undefined), badInput, logger);
    expect(lines).toEqual([]);
  });

  it("keeps this run's partial CSV files once it cleared the folder, but no verdict file of it", () => {
    const dir = passedEarlier('mid-run');
    const run = soFar(dir);
    clearEarlierRun(run);
    expect(run.cleared).toBe(true);
    writeFileSync(join(dir, 'calls.csv'), 'call_id\nnew.1\n'); // this run's, before the error
    writeFileSync(join(dir, 'report.html'), '<p>PASS</p>'); // written just before a bug threw
    leaveErrorVerdict(run, { exitCode: 70, type: 'internal_error', message: 'unexpected error (a bug; please report it): boom' }, logged().logger);
    expect(readdirSync(dir).sort()).toEqual(['calls.csv', 'junit.xml', 'summary.json']);
    expect(readFileSync(join(dir, 'calls.csv'), 'utf8')).toContain('new.1');
    expect(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')).exitCode).toBe(70);
  });

  it('a shard leaves junit.xml only, so that merge counts it missing', () => {
    const dir = passedEarlier('shard-2');
    leaveErrorVerdict(soFar(dir, { shard: { index: 2, count: 3 } }), { exitCode: 3, type: 'infrastructure', message: 'cannot reach the SIP server' }, logged().logger);
    expect(readdirSync(dir).sort()).toEqual(['junit.xml']);
    expect(readFileSync(join(dir, 'junit.xml'), 'utf8')).toContain('<property name="shard" value="2/3"/>');
  });

  it("warns when an earlier run's verdict stays because it cannot be replaced", () => {
    const dir = passedEarlier('in-the-way');
    rmSync(join(dir, 'junit.xml'));
    mkdirSync(join(dir, 'junit.xml')); // a folder where the report goes: even root cannot replace it with a file
    const { lines, logger } = logged();
    leaveErrorVerdict(soFar(dir), badInput, logger);
    expect(lines).toEqual([`warn: ${dir} still holds junit.xml, report.html of an earlier run (not this run's verdict): they could not be replaced (ERR_FS_EISDIR)`]);
  });
});
