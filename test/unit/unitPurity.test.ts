import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import config from '../../vitest.config.js';

// The unit project is pure and fast: no Chromium. A test that needs a browser lives in
// test/integration/, which runs one file at a time (report.html in Chromium once sat here).
const ROOT = resolve(import.meta.dirname, '../..');
const STARTS_CHROMIUM = [
  { pattern: /from ['"]puppeteer(-core)?['"]/, what: 'imports puppeteer' },
  { pattern: /\bnew BrowserPool\(/, what: 'creates a BrowserPool' },
  { pattern: /\brunScenario\(/, what: 'runs a scenario (which launches Chromium)' },
  { pattern: /\.launch\(\{/, what: 'launches a browser' },
];

function testFilesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'generated' ? [] : testFilesUnder(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

describe('the unit project', () => {
  it('covers src/**/*.test.ts and test/unit/**/*.test.ts, the folders searched here', () => {
    const unit = (config.test?.projects as { test: { name: string; include: string[] } }[]).find((project) => project.test.name === 'unit');
    expect(unit?.test.include).toEqual(['src/**/*.test.ts', 'test/unit/**/*.test.ts']);
  });

  it('starts no Chromium: no test file in it imports puppeteer, makes a browser pool or runs a scenario', () => {
    const files = [...testFilesUnder(join(ROOT, 'src')), ...testFilesUnder(join(ROOT, 'test', 'unit'))];
    expect(files.length).toBeGreaterThan(50);
    const offenders = files
      .filter((file) => file !== import.meta.filename)
      .flatMap((file) => {
        const text = readFileSync(file, 'utf8');
        return STARTS_CHROMIUM.filter(({ pattern }) => pattern.test(text)).map(({ what }) => `${relative(ROOT, file)} ${what}: move it to test/integration/`);
      });
    expect(offenders).toEqual([]);
  });
});
