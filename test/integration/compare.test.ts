// `callwright compare` on real runs: two runs of the same scenario compare
// clean, and a run against a slower-answering far end is flagged as a setup
// time regression with exit 1 (the nightly regression use).
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { runCli, tempDir, writeScenario } from './support.js';

const dir = tempDir('callwright-compare-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Three calls in a row; the callee answers after `answerAfter`, the "server" speed seen by the caller. */
function scenario(answerAfter: string): string {
  return `name: compare-${answerAfter}
roles:
  caller:
    accounts: { range: { from: 100, count: 1 }, user: "{n}", password: "pw{n}" }
  callee:
    accounts: { range: { from: 200, count: 1 }, user: "{n}", password: "pw{n}" }
load:
  iterations: 3
steps:
  - register: [caller, callee]
  - call: { from: caller, to: callee }
  - answer: { role: callee, after: ${answerAfter} }
  - expect: { media: flowing, direction: both, within: 5s }
  - hangup: caller
  - expect: { state: ended }
`;
}

async function run(name: string, answerAfter: string): Promise<string> {
  const out = join(dir, name);
  const result = await runCli(['run', writeScenario(dir, name, scenario(answerAfter)), '--out', out, '--quiet']);
  expect(result.code, result.stderr).toBe(0);
  return out;
}

describe('callwright compare on real runs', () => {
  it('passes two runs of the same scenario, and flags a slower far end as a setup regression (exit 1)', async () => {
    const baseline = await run('baseline', '200ms');
    const again = await run('again', '200ms');
    const slower = await run('slower', '1500ms');

    // Shared CI machines are noisy: a wide tolerance still catches a far end 1.3 s slower.
    const same = await runCli(['compare', baseline, again, '--tolerance', '60%', '--json']);
    expect(same.code, same.stdout + same.stderr).toBe(0);
    expect(JSON.parse(same.stdout).regressed).toBe(false);

    const worse = await runCli(['compare', baseline, slower, '--tolerance', '60%', '--json']);
    expect(worse.code, worse.stdout + worse.stderr).toBe(1);
    const comparison = JSON.parse(worse.stdout);
    expect(comparison.regressed).toBe(true);
    const figures = Object.fromEntries(
      comparison.figures.map((figure: { figure: string; verdict: string; baseline: number; current: number }) => [figure.figure, figure]),
    );
    expect(figures.setupP50Seconds.verdict).toBe('regression');
    expect(figures.setupP50Seconds.current - figures.setupP50Seconds.baseline).toBeGreaterThan(1);
    expect(figures.callSuccessRate.verdict).toBe('same');

    // The human table names the regression too.
    const table = await runCli(['compare', baseline, slower, '--tolerance', '60%']);
    expect(table.code).toBe(1);
    expect(table.stdout).toMatch(/regression.*setup p50/s);
  });
});
