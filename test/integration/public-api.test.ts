/**
 * The public API as a user meets it: the packed tarball (`npm pack`)
 * installed into a fresh project, `import { runScenario, loadScenario } from
 * 'callwright'` type-checked against the shipped .d.ts files, then run for
 * real (the smoke scenario, on the embedded server, in headless Chromium).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processesInGroups, ROOT, tempDir } from './support.js';

const USER_CODE = `import { loadScenario, runScenario, ExitCode, type Reporter, type CallResult, type RunOutcome } from 'callwright';

const ended: CallResult[] = [];
let browserPids: () => number[] = () => [];
let seenPids: number[] = [];
const watcher: Reporter = { name: 'watcher', onCallEnd: (call) => void (ended.push(call), (seenPids = browserPids())) };

const scenario = await loadScenario('node_modules/callwright/scenarios/smoke.yaml');
const outcome: RunOutcome = await runScenario({ scenario, outDir: 'out', reporters: [watcher], onReady: (ready) => (browserPids = ready.browserPids) });
console.log('pids', JSON.stringify(seenPids));
console.log(JSON.stringify({ exitCode: outcome.summary.exitCode, pass: outcome.summary.exitCode === ExitCode.pass, calls: ended.map((call) => call.result) }));
`;

describe('the public API, from the packed tarball', () => {
  const project = tempDir('callwright-api-');
  let tarball: string;
  let output = '';

  beforeAll(() => {
    // The tarball is what `npm publish` would ship: package.json's files, main and types.
    execFileSync('npm', ['pack', '--silent', '--pack-destination', project], { cwd: ROOT, encoding: 'utf8' });
    tarball = join(project, readdirSync(project).find((file) => file.endsWith('.tgz'))!);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'uses-callwright', private: true, type: 'module' }));
    writeFileSync(join(project, 'main.ts'), USER_CODE);
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: false, types: ['node'], typeRoots: [join(ROOT, 'node_modules', '@types')] }, files: ['main.ts'] }),
    );
    // Dependencies come from the npm cache that `npm ci` filled; no browser download (the system Chromium is used).
    execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', tarball], {
      cwd: project,
      env: { ...process.env, PUPPETEER_SKIP_DOWNLOAD: '1' },
      encoding: 'utf8',
    });
  }, 300_000);

  afterAll(() => rmSync(project, { recursive: true, force: true }));

  it('ships dist/index.js and its types where package.json says', () => {
    const installed = join(project, 'node_modules', 'callwright');
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
    expect(existsSync(join(installed, manifest.main))).toBe(true);
    expect(existsSync(join(installed, manifest.types))).toBe(true);
    // Internals stay out of the surface: the API file names only the public modules.
    expect(readFileSync(join(installed, manifest.types), 'utf8')).not.toMatch(/browser\/|agent\/|server\//);
  });

  it('type-checks code that imports it, and a wrong use fails to compile', () => {
    const tsc = join(ROOT, 'node_modules', '.bin', 'tsc');
    execFileSync(tsc, ['-p', project, '--noEmit'], { encoding: 'utf8' });
    // Line 13: an outDir that is not a string.
    writeFileSync(join(project, 'main.ts'), `${USER_CODE}\nawait runScenario({ scenario, outDir: 42 });\n`);
    let failed = '';
    try {
      execFileSync(tsc, ['-p', project, '--noEmit'], { encoding: 'utf8' });
    } catch (error) {
      failed = String((error as { stdout?: string }).stdout);
    } finally {
      writeFileSync(join(project, 'main.ts'), USER_CODE);
    }
    expect(failed).toMatch(/main\.ts\(13,\d+\): error TS2322: Type 'number' is not assignable to type 'string'/);
  });

  it('runs a scenario from code: real calls, the verdict in summary.exitCode, a reporter of its own', () => {
    // Node strips the types itself only from 22.6 on: compile to JS with the repo's tsc, then run it.
    execFileSync(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', project, '--outDir', project], { encoding: 'utf8' });
    output = execFileSync(process.execPath, ['main.js'], { cwd: project, encoding: 'utf8', timeout: 120_000 });
    const result = JSON.parse(output.trim().split('\n').at(-1)!);
    expect(result).toEqual({ exitCode: 0, pass: true, calls: ['success'] });
    expect(existsSync(join(project, 'out', 'calls.csv'))).toBe(true);
  }, 150_000);

  it('leaves no browser behind', () => {
    const pids: number[] = JSON.parse(/pids (\[.*\])/.exec(output)?.[1] ?? '[]');
    expect(pids.length).toBeGreaterThan(0);
    expect(processesInGroups(pids)).toEqual([]);
  });
});
