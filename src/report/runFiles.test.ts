import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeRunDir } from '../../test/unit/runDir.js';
import { syntheticRun } from '../../test/unit/syntheticRun.js';
import { InputError } from '../errors.js';
import { parseCsv } from './csvRead.js';
import { readRunFiles, readSamplesCsv } from './runFiles.js';

const root = mkdtempSync(join(tmpdir(), 'callwright-runfiles-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** What the CSV keeps: numbers to 6 decimals. */
function asWritten<Value>(value: Value): Value {
  return JSON.parse(JSON.stringify(value, (_key, item) => (typeof item === 'number' && !Number.isInteger(item) ? Number(item.toFixed(6)) : item)));
}

describe('reading a run folder back', () => {
  it('round-trips calls, steps, samples and the summary', async () => {
    const run = syntheticRun({ count: 12, failed: ['sip_status', 'no_media'] });
    // Commas, quotes and line breaks must survive the CSV quoting.
    run.calls[0] = { ...run.calls[0]!, to: 'sip:"carol, jr"@lab.test', failureDetail: 'line one\nline "two", three' };
    run.steps[0] = { ...run.steps[0]!, detail: 'a\r\nb,"c"' };
    const outDir = join(root, 'round-trip');
    await writeRunDir(outDir, run);

    const files = await readRunFiles(outDir);
    expect(files.calls).toEqual(asWritten(run.calls));
    expect(files.steps).toEqual(asWritten(run.steps));
    expect(files.summary).toEqual(asWritten(run.summary));
    const samples = [];
    for await (const sample of readSamplesCsv(files.samplesPath!)) samples.push(sample);
    expect(samples).toEqual(asWritten(run.samples));
  });

  it('names the file, line and column of a bad cell', async () => {
    const outDir = join(root, 'bad-cell');
    await writeRunDir(outDir, syntheticRun({ count: 2 }));
    const [header, ...rows] = parseCsv(readFileSync(join(outDir, 'calls.csv'), 'utf8')).filter((row) => row.length > 1);
    const setup = header!.indexOf('setup_s');
    rows[1]![setup] = 'fast';
    writeFileSync(join(outDir, 'calls.csv'), [header, ...rows].map((row) => row!.join(',')).join('\n'));
    await expect(readRunFiles(outDir)).rejects.toThrow('calls.csv line 3: setup_s: "fast" is not a number');
  });

  it('refuses a folder that is not a finished run', async () => {
    await expect(readRunFiles(join(root, 'nope'))).rejects.toBeInstanceOf(InputError);
    const empty = join(root, 'empty');
    mkdirSync(empty);
    await expect(readRunFiles(empty)).rejects.toThrow(/has no summary\.json, calls\.csv, steps\.csv/);
    writeFileSync(join(empty, 'summary.json'), '{"info": {}}');
    writeFileSync(join(empty, 'calls.csv'), 'call_id\n');
    writeFileSync(join(empty, 'steps.csv'), '');
    await expect(readRunFiles(empty)).rejects.toThrow(/summary\.json/);
  });
});
