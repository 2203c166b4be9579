import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { prepareOutDir } from './outDir.js';
import { clearRunOwnedFiles, clearVerdictFiles, RUN_OWNED_FILES } from './runOwnedFiles.js';

const root = mkdtempSync(join(tmpdir(), 'callwright-run-owned-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A folder as an earlier run left it, with things that are not the run's beside its files. */
function earlierRun(name: string, options: { foreignInSip?: boolean } = {}): string {
  const dir = join(root, name);
  mkdirSync(join(dir, 'sip'), { recursive: true });
  for (const file of RUN_OWNED_FILES) writeFileSync(join(dir, file), 'old\n');
  writeFileSync(join(dir, 'sip', '1.main.log'), 'INVITE\n');
  if (options.foreignInSip) writeFileSync(join(dir, 'sip', 'notes.txt'), 'mine\n');
  mkdirSync(join(dir, 'shard-1'));
  writeFileSync(join(dir, 'shard-1', 'summary.json'), '{}\n');
  writeFileSync(join(dir, 'capacity.json'), '{}\n');
  writeFileSync(join(dir, 'README.md'), 'my notes\n');
  return dir;
}

describe('the files a run owns', () => {
  it('lists every file a run writes at the top of its folder', () => {
    expect([...RUN_OWNED_FILES].sort()).toEqual(
      ['calls.csv', 'junit.xml', 'legs.csv', 'metrics.prom', 'report.html', 'samples.csv', 'stats.csv', 'steps.csv', 'summary.json', 'thresholds.json'].sort(),
    );
  });

  it("are removed with the SIP logs; shard folders and other files are left alone", () => {
    const dir = earlierRun('clear');
    const removed = clearRunOwnedFiles(dir);
    expect(removed).toEqual([...RUN_OWNED_FILES, 'sip/1.main.log']);
    expect(readdirSync(dir).sort()).toEqual(['README.md', 'capacity.json', 'shard-1']);
    expect(existsSync(join(dir, 'shard-1', 'summary.json'))).toBe(true);
  });

  it('keep sip/ when something else lives in it', () => {
    const dir = earlierRun('foreign-sip', { foreignInSip: true });
    clearRunOwnedFiles(dir);
    expect(readdirSync(join(dir, 'sip'))).toEqual(['notes.txt']);
  });

  it('need nothing when the folder does not exist yet', () => {
    expect(clearRunOwnedFiles(join(root, 'not-there'))).toEqual([]);
    expect(existsSync(join(root, 'not-there'))).toBe(false);
  });

  it('are cleared when a run prepares its folder: nothing of an earlier run is read as this one', () => {
    const dir = earlierRun('prepared');
    prepareOutDir(dir, 0);
    expect(readdirSync(dir).sort()).toEqual(['README.md', 'capacity.json', 'shard-1']);
  });

  it('of a run that ended in an error: only the verdict files go, its CSV files stay', () => {
    const dir = earlierRun('verdict-only');
    clearVerdictFiles(dir);
    const left = readdirSync(dir);
    for (const file of ['summary.json', 'junit.xml', 'report.html', 'thresholds.json']) expect(left).not.toContain(file);
    for (const file of ['calls.csv', 'steps.csv', 'samples.csv', 'metrics.prom', 'sip']) expect(left).toContain(file);
  });
});
