/**
 * `validate` and `run --dry-run` check the same things with the same code
 * (prepare.ts): fed the same argv through real yargs, they refuse the same
 * input with the same message, or both accept it. Nothing here starts a run.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { captureOutput, runCommandLine } from '../../test/unit/cliHarness.js';
import type { CallwrightCommand } from './command.js';
import { runCommand } from './commands/run.js';
import { validateCommand } from './commands/validate.js';
import { InputError } from '../errors.js';

const dir = mkdtempSync(join(tmpdir(), 'callwright-prepare-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const output = captureOutput();

/** The exit code, or the InputError bin.ts would print (exit 2). */
async function cli(command: CallwrightCommand<any>, argv: string[]): Promise<number | InputError> {
  try {
    return await runCommandLine(command, argv);
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
}

/** validate and run --dry-run on the same file and options. */
async function both(file: string, options: string[] = []): Promise<{ validate: number | InputError; dryRun: number | InputError }> {
  const validate = await cli(validateCommand, ['validate', file, ...options]);
  const dryRun = await cli(runCommand, ['run', file, '--dry-run', ...options]);
  return { validate, dryRun };
}

function scenario(name: string, extra = ''): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, `name: ${name}\nroles:\n  alice: { accounts: [{ user: alice }, { user: alice2 }] }\n  bob: { accounts: [{ user: bob }, { user: bob2 }] }\n${extra}steps:\n  - register\n  - call: { from: alice, to: bob }\n`);
  return file;
}

function sameRefusal({ validate, dryRun }: { validate: number | InputError; dryRun: number | InputError }): InputError {
  expect(validate).toBeInstanceOf(InputError);
  expect(dryRun).toBeInstanceOf(InputError);
  const [a, b] = [validate as InputError, dryRun as InputError];
  expect({ message: a.message, problems: a.problems, exitCode: a.exitCode }).toEqual({ message: b.message, problems: b.problems, exitCode: b.exitCode });
  return a;
}

describe('validate checks what run --dry-run checks, with the same messages', () => {
  it('a bad threshold in the file: exit 2 from both, at its line and column (it used to pass validate)', async () => {
    const file = scenario('bad-threshold', "thresholds:\n  setup_time: ['p(95)<200']\n");
    const error = sameRefusal(await both(file));
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe(`${file}:6:16: thresholds.setup_time[0]: "p(95)<200": a time needs its unit, e.g. p(95)<200ms or p(95)<0.2s (a bare number could mean ms, as in k6, or s)`);
    expect(error.hint).toBe('see docs/reports.md#thresholds for the metrics and the syntax');
  });

  it('a bad --threshold: the option is named, not the file', async () => {
    const file = scenario('good');
    const error = sameRefusal(await both(file, ['--threshold', 'setup_time:p(95)<200', '--threshold', 'call_sucess:rate>0.9']));
    expect(error.message).toBe('2 problems with the options');
    expect(error.problems).toEqual([
      `--threshold 'setup_time:p(95)<200': "p(95)<200": a time needs its unit, e.g. p(95)<200ms or p(95)<0.2s (a bare number could mean ms, as in k6, or s)`,
      expect.stringMatching(/^--threshold 'call_sucess:rate>0\.9': unknown metric "call_sucess"; metrics: call_success, /),
    ]);
    expect(error.problems.join('\n')).not.toContain(file);
  });

  it('the overrides: --target, --domain, --concurrency, --iterations', async () => {
    const file = scenario('overrides');
    expect(sameRefusal(await both(file, ['--target', 'http://pbx', '--concurrency', '0'])).problems).toEqual([
      '--target: "http://pbx" is not a ws:// or wss:// URL',
      '--target needs --domain (the SIP domain of the accounts)',
      '--concurrency: must be a whole number of at least 1, got 0',
    ]);
    expect(sameRefusal(await both(file, ['--iterations', '5', '--concurrency', '3'])).message).toBe("--concurrency 3: the scenario's roles have accounts for 2 calls at once");
    expect(sameRefusal(await both(file, ['--insecure-tls'])).message).toBe('--insecure-tls: only applies to a wss:// target (--target or target.url)');
  });

  it('--secrets and --shard', async () => {
    const file = join(dir, 'secret.yaml');
    writeFileSync(file, 'name: secret\nroles:\n  alice: { accounts: [{ user: alice, passwordEnv: CW_PREPARE_TEST_PW }] }\nsteps: [register]\n');
    expect(sameRefusal(await both(file)).message).toBe(`${file}:3:38: roles.alice.accounts[0].passwordEnv: environment variable CW_PREPARE_TEST_PW is not set (it should hold the password)`);
    const secrets = join(dir, 'secrets.env');
    writeFileSync(secrets, 'CW_PREPARE_TEST_PW=pw\n', { mode: 0o600 });
    expect(await both(file, ['--secrets', secrets])).toEqual({ validate: 0, dryRun: 0 });
    expect(sameRefusal(await both(scenario('sharded'), ['--shard', '2/2'])).message).toBe('shard 2/2 needs a run id shared by every shard of the run');
  });

  it('accepts what run accepts, and says what it checked', async () => {
    const file = scenario('fine', "load: { iterations: 4, concurrency: 2 }\nthresholds:\n  setup_time: ['p(95)<1m30s']\n");
    const options = ['--threshold', 'call_success:rate>=99%', '--target', 'wss://pbx.example.com/ws', '--domain', 'pbx.example.com', '--shard', '1/2', '--run-id', 'ci-1'];
    expect(await both(file, options)).toEqual({ validate: 0, dryRun: 0 });
    expect(output.stdout().split('\n')[0]).toBe(`ok: ${file}: fine, 2 roles, 2 steps, 2 iterations, 2 thresholds, shard 1/2: 1 of 2 account slots`);
  });
});
