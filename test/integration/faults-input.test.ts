import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { prepareOutDir } from '../../src/report/outDir.js';
import { RUN_OWNED_FILES } from '../../src/report/runOwnedFiles.js';
import { expectRefused, freePort } from './faultsSupport.js';
import { readJson, ROOT, runCli, tempDir, writeScenario } from './support.js';

// Bad input and a bad place to write, through the real CLI: each is refused with
// exit 2, one line naming the place, a hint with the fix, and nothing started
// (no SIP server, no browser, no report folder). What the scenario loader already
// proves in src/scenario/*.test.ts is not repeated here; see docs/reliability.md.
const out = tempDir('callwright-faults-input-');
const SCENARIO = writeScenario(out, 'ok', `
name: ok
roles:
  alice: { accounts: [{ user: alice }] }
steps:
  - register: alice
`);

// Small file systems for the disk cases: tmpfs mounts need root (the CI container runs as root).
const mounts: string[] = [];
function mountTmpfs(options: string): string | undefined {
  const dir = join(out, `mnt-${mounts.length}`);
  mkdirSync(dir);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  mounts.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of mounts) execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
});
const canMount = (() => {
  const dir = mountTmpfs('size=64k');
  return dir !== undefined;
})();

describe('the output folder', () => {
  it('under a file: exit 2 before the run starts', async () => {
    writeFileSync(join(out, 'a-file'), '');
    const run = await runCli(['run', SCENARIO, '--out', join(out, 'a-file', 'reports'), '--log-level', 'debug']);
    expectRefused(run, `error: cannot create the output folder ${join(out, 'a-file', 'reports')}: ENOTDIR`, 'hint: a part of the path is a file, not a folder: choose another folder with --out');
  });

  it.runIf(canMount)('on a read-only file system: exit 2 before the run starts', async () => {
    const readOnly = mountTmpfs('ro,size=32m')!;
    const run = await runCli(['run', SCENARIO, '--out', readOnly, '--log-level', 'debug']);
    expectRefused(run, `error: cannot write in the output folder ${readOnly}: EROFS`, 'hint: the file system is read-only: choose another folder with --out');
  });

  it.runIf(canMount)('on a nearly full disk: exit 2 before the run starts, saying how much is free', async () => {
    const small = mountTmpfs('size=1m')!;
    const run = await runCli(['run', SCENARIO, '--out', join(small, 'reports'), '--log-level', 'debug']);
    expectRefused(run, `error: the output folder ${join(small, 'reports')} is on a disk with only 1 MiB free; callwright wants at least 16 MiB for its reports`, 'hint: free some space');
  });

  it.runIf(canMount)('on a full disk: the write probe fails with ENOSPC (even where free-space figures cannot be trusted)', () => {
    const full = mountTmpfs('size=64k')!;
    writeFileSync(join(full, 'filler'), Buffer.alloc(64 * 1024));
    expect(() => prepareOutDir(full, 0)).toThrow(InputError);
    expect(() => prepareOutDir(full, 0)).toThrow(`cannot write in the output folder ${full}: ENOSPC`);
    try {
      prepareOutDir(full, 0);
    } catch (error) {
      expect((error as InputError).hint).toMatch(/^the disk is full: /);
    }
  });
});

describe('media fixtures (--media-dir, and the shipped fixtures/)', () => {
  const shipped = join(ROOT, 'fixtures');
  const mediaDir = (name: string, files: { audio?: Buffer | 'shipped' | 'folder'; video?: Buffer | 'shipped' }) => {
    const dir = join(out, `media-${name}`);
    mkdirSync(dir);
    if (files.audio === 'shipped') copyFileSync(join(shipped, 'audio.wav'), join(dir, 'audio.wav'));
    else if (files.audio === 'folder') mkdirSync(join(dir, 'audio.wav'));
    else if (files.audio) writeFileSync(join(dir, 'audio.wav'), files.audio);
    if (files.video === 'shipped') copyFileSync(join(shipped, 'video.y4m'), join(dir, 'video.y4m'));
    else if (files.video) writeFileSync(join(dir, 'video.y4m'), files.video);
    return dir;
  };
  const refused = async (dir: string, ...texts: string[]) => {
    const reports = join(out, `reports-${dir.split('/').pop()}`);
    const run = await runCli(['run', SCENARIO, '--out', reports, '--media-dir', dir, '--log-level', 'debug']);
    expectRefused(run, ...texts);
    expect(existsSync(reports), 'no report folder made').toBe(false);
  };

  it('a missing file, and a folder where a file should be', async () => {
    await refused(mediaDir('missing', { video: 'shipped' }), `error: media fixture ${join(out, 'media-missing', 'audio.wav')}: missing (expected a 16-bit PCM WAV`);
    await refused(mediaDir('folder', { audio: 'folder', video: 'shipped' }), 'audio.wav: is not a file');
  });

  it('a WAV that is not one, 8-bit, or float; every problem listed at once', async () => {
    await refused(mediaDir('mp3', { audio: Buffer.from('ID3\u0004\u0000 not a wav at all'), video: 'shipped' }), 'audio.wav: not a WAV file (no RIFF/WAVE header)', 'hint: fix the file, or leave out --media-dir');
    await refused(mediaDir('8bit', { audio: wav({ bits: 8 }), video: 'shipped' }), 'audio.wav: its samples are 8-bit, not 16-bit');
    await refused(mediaDir('float', { audio: wav({ format: 3, bits: 32 }), video: 'shipped' }), 'audio.wav: its samples are not PCM (format code 3, float)');
    await refused(mediaDir('both-bad', { audio: wav({ bits: 24 }), video: Buffer.from('YUV4MPEG2 W160 H120 F15:1 C444\nFRAME\n') }), 'error: 2 problems with the media fixtures', 'its samples are 24-bit', 'video.y4m: its colour space C444 is not 4:2:0');
  });

  it('a Y4M with no header, or no size', async () => {
    await refused(mediaDir('mp4', { audio: 'shipped', video: Buffer.from('\u0000\u0000\u0000 ftypisom') }), 'video.y4m: not a Y4M file (no YUV4MPEG2 header)');
    await refused(mediaDir('nosize', { audio: 'shipped', video: Buffer.from('YUV4MPEG2 F15:1\nFRAME\n') }), 'video.y4m: its header has no valid W (width) and H (height)');
  });

  it('valid files in --media-dir are accepted (the check is not too strict)', async () => {
    const dir = mediaDir('good', { audio: wav({}), video: 'shipped' });
    const run = await runCli(['run', SCENARIO, '--out', join(out, 'reports-good'), '--media-dir', dir, '--log-level', 'debug']);
    expect(run.code, run.stderr).toBe(0);
  });
});

describe('conflicting or bad options', () => {
  it('--insecure-tls with a ws:// target, or with a CA file; --iterations 0; --target without --domain', async () => {
    const run = await runCli(['run', SCENARIO, '--out', join(out, 'opts'), '--insecure-tls', '--target', 'ws://127.0.0.1:5066', '--iterations', '0', '--log-level', 'debug']);
    expectRefused(
      run,
      'error: 3 problems with the options',
      '--target needs --domain (the SIP domain of the accounts)',
      '--iterations: must be a whole number of at least 1, got 0',
      '--insecure-tls: only applies to a wss:// target',
    );
    const ca = join(out, 'ca.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=pbx', '-keyout', join(out, 'ca-key.pem'), '-out', ca], { stdio: 'ignore' });
    const withCa = writeScenario(out, 'with-ca', `
name: with-ca
target: { url: "wss://127.0.0.1:5067", domain: pbx, caFile: ca.pem }
roles:
  alice: { accounts: [{ user: alice }] }
steps:
  - register: alice
`);
    expectRefused(await runCli(['run', withCa, '--out', join(out, 'opts2'), '--insecure-tls', '--log-level', 'debug']), '--insecure-tls: conflicts with target.caFile in the scenario');
  });

  it('--metrics-port out of range and --concurrency given as a word: exit 2, no out dir, the value shown as given', async () => {
    const dir = join(out, 'opts3');
    const run = await runCli(['run', SCENARIO, '--out', dir, '--metrics-port', '99999', '--concurrency', 'many', '--log-level', 'debug']);
    expectRefused(
      run,
      'error: 2 problems with the options',
      '--metrics-port: must be a port from 0 (any free one) to 65535, got 99999',
      '--concurrency: must be a whole number of at least 1, got something that is not a number',
    );
    expect(existsSync(dir)).toBe(false);
  });

  it('bad threshold expressions: exit 2, named, before anything starts', async () => {
    const file = writeScenario(out, 'bad-thresholds', `
name: bad-thresholds
roles:
  alice: { accounts: [{ user: alice }] }
thresholds:
  call_success: ['rate>>0.9']
steps:
  - register: alice
`);
    const run = await runCli(['run', file, '--out', join(out, 'thr'), '--log-level', 'debug']);
    expectRefused(run, 'thresholds.call_success[0]: "rate>>0.9" is not an expression');
    expect(existsSync(join(out, 'thr'))).toBe(false);
  });

  it('--secrets: a missing file, a malformed line (its value never shown), a name neither there nor in the environment', async () => {
    expectRefused(await runCli(['run', SCENARIO, '--out', join(out, 's1'), '--secrets', join(out, 'nope.env'), '--log-level', 'debug']), `error: --secrets ${join(out, 'nope.env')}: file not found`);
    const secrets = join(out, 'bad.env');
    writeFileSync(secrets, '# test\nALICE_PASSWORD=ok\nthis line has no equals sign Sup3rSecretValue\n', { mode: 0o600 });
    const malformed = await runCli(['run', SCENARIO, '--out', join(out, 's2'), '--secrets', secrets, '--log-level', 'debug']);
    expectRefused(malformed, `error: --secrets ${secrets}:3: expected NAME=value`);
    expect(malformed.stderr).not.toContain('Sup3rSecretValue');
    writeFileSync(secrets, 'OTHER=x\n', { mode: 0o600 });
    const file = writeScenario(out, 'needs-secret', `
name: needs-secret
roles:
  alice: { accounts: [{ user: alice, passwordEnv: CW_TEST_ALICE_PASSWORD }] }
steps:
  - register: alice
`);
    expectRefused(await runCli(['validate', file, '--secrets', secrets]), 'roles.alice.accounts[0].passwordEnv: environment variable CW_TEST_ALICE_PASSWORD is not set');
  });
});

describe("an earlier run's verdict in --out", () => {
  // One real run that passed, copied into a folder per case: the PASS verdict CI must never read again.
  const passed = join(out, 'passed');
  const earlierPass = (name: string) => {
    const dir = join(out, name);
    cpSync(passed, dir, { recursive: true });
    return dir;
  };
  /** Nothing of the earlier run is left (a run that got as far as its reporters leaves header-only CSV files); summary.json and junit.xml are this run's error. */
  const expectErrorVerdict = (dir: string, exitCode: number, type: string, ...texts: string[]) => {
    const files = readdirSync(dir);
    expect(files).toEqual(expect.arrayContaining(['junit.xml', 'summary.json']));
    for (const csv of files.filter((name) => name.endsWith('.csv'))) expect(readFileSync(join(dir, csv), 'utf8').trim().split('\n'), csv).toHaveLength(1);
    expect(files.filter((name) => !name.endsWith('.csv')).sort()).toEqual(['junit.xml', 'summary.json']);
    const summary = readJson(join(dir, 'summary.json'));
    expect(summary).toMatchObject({ exitCode, error: { exitCode, type }, calls: { total: 0 } });
    for (const text of texts) expect(summary.error.message).toContain(text);
    const junit = readFileSync(join(dir, 'junit.xml'), 'utf8');
    expect(junit).toContain('<testsuites name="callwright" tests="1" failures="0" errors="1"');
    expect(junit).toContain(`<property name="exitCode" value="${exitCode}"/>`);
    expect(junit).toMatch(new RegExp(`<error type="${type}" message="exit ${exitCode} \\(`));
    for (const text of texts) expect(junit).toContain(text);
  };

  it('a run that passed writes only files the run owns (the list a later run clears)', async () => {
    const run = await runCli(['run', SCENARIO, '--out', passed, '--log-level', 'debug']);
    expect(run.code, run.stderr).toBe(0);
    const written = readdirSync(passed);
    expect(written).toEqual(expect.arrayContaining(['summary.json', 'junit.xml', 'report.html', 'calls.csv']));
    expect(written.filter((name) => !RUN_OWNED_FILES.includes(name) && name !== 'sip')).toEqual([]);
    expect(readJson(join(passed, 'summary.json')).exitCode).toBe(0);
  });

  it('bad input (options, the scenario, a fixture): exit 2, no PASS left, summary.json and junit.xml say exit 2 and why', async () => {
    const options = earlierPass('stale-options');
    expectRefused(await runCli(['run', SCENARIO, '--out', options, '--iterations', '0', '--log-level', 'debug']), '--iterations: must be a whole number of at least 1, got 0');
    expectErrorVerdict(options, 2, 'bad_input', '--iterations: must be a whole number of at least 1, got 0');

    const broken = writeScenario(out, 'broken', 'name: broken\nroles: {}\nsteps: []\n');
    const scenario = earlierPass('stale-scenario');
    expectRefused(await runCli(['run', broken, '--out', scenario, '--log-level', 'debug']));
    expectErrorVerdict(scenario, 2, 'bad_input');
    expect(readJson(join(scenario, 'summary.json')).info).toMatchObject({ scenario: 'broken', scenarioFile: broken });

    const fixture = earlierPass('stale-fixture');
    expectRefused(await runCli(['run', SCENARIO, '--out', fixture, '--media-dir', join(out, 'no-such-media'), '--log-level', 'debug']), 'media fixture');
    expectErrorVerdict(fixture, 2, 'bad_input', 'media fixture');
  });

  it('broken infrastructure (an unreachable --target): exit 3, no PASS left, summary.json and junit.xml say exit 3 and why', async () => {
    const dir = earlierPass('stale-infra');
    const port = await freePort(); // released: nothing listens there
    const run = await runCli(['run', SCENARIO, '--out', dir, '--target', `ws://127.0.0.1:${port}`, '--domain', 'callwright.test', '--log-level', 'debug']);
    expect(run.code, run.stderr).toBe(3);
    expect(run.browserPids).toEqual([]);
    expectErrorVerdict(dir, 3, 'infrastructure', `ws://127.0.0.1:${port}`);
  });
});

/** A canonical 44-byte-header WAV with 0.1 s of silence. */
function wav(p: { format?: number; bits?: number }): Buffer {
  const bits = p.bits ?? 16;
  const rate = 48_000;
  const data = Buffer.alloc((rate / 10) * (bits / 8));
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8, 'latin1');
  header.write('fmt ', 12, 'latin1');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(p.format ?? 1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE((rate * bits) / 8, 28);
  header.writeUInt16LE(bits / 8, 32);
  header.writeUInt16LE(bits, 34);
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}
