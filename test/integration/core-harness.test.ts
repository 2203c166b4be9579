import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import type { Reporter } from '../../src/report/reporter.js';
import type { RunEvent } from '../../src/results.js';
import { runScenario } from '../../src/runner/run.js';
import { parseScenario } from '../../src/scenario/index.js';
import { processesInGroups, readCsv, readJson, runCli, tempDir, writeScenario } from './support.js';

// Real Chromium, real SIP.js, the real embedded SIP server: no mocks.
const out = tempDir('callwright-core-');
const allBrowserPids: number[] = [];
afterAll(() => expect(processesInGroups(allBrowserPids)).toEqual([]));

describe('the smoke scenario through the CLI', () => {
  it('registers, calls, talks, sends DTMF both ways, holds, resumes and hangs up; serves /metrics while running', async () => {
    const dir = join(out, 'smoke');
    let metricsUrl: string | undefined;
    let scraped = '';
    const run = await runCli(['run', 'scenarios/smoke.yaml', '--out', dir, '--log-level', 'debug'], {
      onStderr: (text) => {
        const found = /metrics: (http:\/\/\S+)/.exec(text)?.[1];
        if (found && !metricsUrl) {
          metricsUrl = found;
          // Scrape once the call is up, while the run is still going.
          const scrape = async () => {
            // The series exists from the start at 0 (so increase() sees the first call): wait for the call.
            for (let i = 0; i < 40 && !scraped.includes('callwright_calls_started_total{scenario="smoke"} 1'); i++) {
              scraped = await fetch(found).then((r) => r.text()).catch(() => '');
              await new Promise((r) => setTimeout(r, 250));
            }
          };
          void scrape();
        }
      },
    });
    allBrowserPids.push(...run.browserPids);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('smoke: PASS');
    for (const file of ['junit.xml', 'report.html']) expect(existsSync(join(dir, file)), file).toBe(true);
    expect(scraped).toContain('callwright_calls_started_total{scenario="smoke"} 1');
    for (const file of ['calls.csv', 'samples.csv', 'summary.json', 'metrics.prom', 'steps.csv']) expect(existsSync(join(dir, file)), file).toBe(true);

    const [call] = readCsv(join(dir, 'calls.csv'));
    expect(call).toMatchObject({ result: 'success', sip_status: '200', codec_out: 'opus', codec_in: 'opus', caller_role: 'alice', callee_role: 'bob' });
    expect(Number(call!.setup_s)).toBeGreaterThan(0.5); // bob answers after 0.5 s
    expect(Number(call!.mos)).toBeGreaterThan(4);

    const steps = readCsv(join(dir, 'steps.csv'));
    const step = (name: string) => steps.find((s) => s.name === name);
    expect(steps.every((s) => s.ok === 'true')).toBe(true);
    expect(step('expect dtmf 45# at bob')?.detail).toContain('DTMF received "45#"');
    // Hold: alice stops receiving (bob answers recvonly); unhold: both directions again.
    expect(step('expect audio in stopped at alice')?.detail).toMatch(/audio in 0 pkt\/s/);
    expect(readCsv(join(dir, 'samples.csv')).length).toBeGreaterThan(10);
    expect(readJson(join(dir, 'summary.json')).calls).toMatchObject({ total: 1, succeeded: 1 });
    expect(processesInGroups(run.browserPids)).toEqual([]);
  });
});

describe('scenarios on the embedded server', () => {
  it('a PCMU-only offer negotiates PCMU on both legs, as getStats reports it', async () => {
    const dir = join(out, 'pcmu');
    const run = await runCli(['run', 'scenarios/codec-pcmu-only.yaml', '--out', dir, '--log-level', 'debug']);
    allBrowserPids.push(...run.browserPids);
    expect(run.code, run.stderr).toBe(0);
    const [call] = readCsv(join(dir, 'calls.csv'));
    expect(call).toMatchObject({ codec_out: 'PCMU', codec_in: 'PCMU' });
    const codecSteps = readCsv(join(dir, 'steps.csv')).filter((s) => s.kind === 'expect' && s.name.includes('codec'));
    expect(codecSteps.length).toBeGreaterThan(0);
    for (const step of codecSteps) expect(step.detail).toMatch(/alice: audio codec out PCMU, in PCMU; bob: audio codec out PCMU, in PCMU/);
  });

  it('a call to a user who is not registered fails with 480, reported as such', async () => {
    const dir = join(out, 'unreachable');
    const file = writeScenario(out, 'unreachable-unexpected', `
name: unreachable-unexpected
roles:
  alice: { accounts: [{ user: alice }] }
  dave: { accounts: [{ user: dave }] }
steps:
  - register: alice
  - call: { from: alice, to: dave, until: established }
`);
    const run = await runCli(['run', file, '--out', dir, '--log-level', 'debug']);
    allBrowserPids.push(...run.browserPids);
    expect(run.code).toBe(1);
    const [call] = readCsv(join(dir, 'calls.csv'));
    expect(call).toMatchObject({ result: 'failed', sip_status: '404', failure_reason: 'sip_status', failure_expected: 'false' });
    // The shipped scenario expects the failure (dave is a known user there): the run passes.
    const expected = await runCli(['run', 'scenarios/unreachable-user.yaml', '--out', join(out, 'unreachable-expected'), '--log-level', 'debug']);
    allBrowserPids.push(...expected.browserPids);
    expect(expected.code, expected.stderr).toBe(0);
    expect(readCsv(join(out, 'unreachable-expected', 'calls.csv'))[0]).toMatchObject({ sip_status: '480', failure_reason: 'sip_status', failure_expected: 'true' });
  });

  it('RFC 4733 DTMF puts telephone-event packets in the caller\'s outbound stream', async () => {
    const scenario = parseScenario(
      `
name: dtmf-rfc4733
roles:
  alice: { accounts: [{ user: alice }] }
  bob: { accounts: [{ user: bob }] }
steps:
  - register: [alice, bob]
  - call: { from: alice, to: bob, codecs: [PCMU, telephone-event] }
  - answer: bob
  - expect: { media: flowing, within: 5s }
  - dtmf: { role: alice, tones: "1234", mode: rfc4733, duration: 400ms, gap: 50ms }
  - hangup: alice
`,
      'dtmf-rfc4733.yaml',
    );
    const events: RunEvent[] = [];
    const capture: Reporter = { name: 'capture', onEvent: (event) => void events.push(event) };
    let pids: () => number[] = () => [];
    const outcome = await runScenario({ scenario, outDir: join(out, 'dtmf'), logger: silentLogger, reporters: [capture], onReady: (r) => (pids = r.browserPids) });
    allBrowserPids.push(...pids());
    expect(outcome.summary.exitCode).toBe(0);
    const burst = events.find((e) => e.type === 'dtmfBurst');
    expect(burst).toBeDefined();
    if (burst?.type !== 'dtmfBurst') return;
    // PCMU audio packets carry 160 payload bytes; telephone-event packets 4. Tones fill
    // most of the burst, so the average payload falls far below 160.
    const payloadPerPacket = burst.payloadBytesSent / burst.packetsSent;
    expect(burst.packetsSent).toBeGreaterThan(50);
    expect(payloadPerPacket).toBeLessThan(80);
    const sentTones = events.filter((e) => e.type === 'dtmf' && e.sent).map((e) => (e.type === 'dtmf' ? e.tone : ''));
    expect(sentTones.join('')).toBe('1234');
  });

  it('MESSAGE and blind transfer scenarios pass', async () => {
    for (const name of ['message', 'transfer']) {
      const run = await runCli(['run', `scenarios/${name}.yaml`, '--out', join(out, name), '--log-level', 'debug']);
      allBrowserPids.push(...run.browserPids);
      expect(run.code, `${name}: ${run.stderr}`).toBe(0);
    }
    const calls = readCsv(join(out, 'transfer', 'calls.csv'));
    expect(calls.map((c) => c.name).sort()).toEqual(['main', 'transferred']);
    expect(calls.every((c) => c.result === 'success')).toBe(true);
  });
});

describe('bad input and stopping', () => {
  it('a scenario with an invalid field fails validation with exit code 2, naming the field', async () => {
    const file = writeScenario(out, 'bad', `
name: bad
roles:
  alice: { accounts: [{ user: alice }] }
steps:
  - register: alice
  - call: { from: alice, to: alice, codecs: [PCMX] }
`);
    for (const args of [['validate', file], ['run', file, '--out', join(out, 'bad-out')]]) {
      const run = await runCli(args);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('steps[1].call.codecs[0]');
      expect(run.stderr).toContain('PCMX');
      expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
    }
  });

  it('Ctrl-C mid-call hangs up, writes the reports and leaves no Chromium behind', async () => {
    const dir = join(out, 'interrupted');
    const file = writeScenario(out, 'long-call', `
name: long-call
roles:
  alice: { accounts: [{ user: alice }] }
  bob: { accounts: [{ user: bob }] }
steps:
  - register: [alice, bob]
  - call: { from: alice, to: bob }
  - answer: bob
  - expect: { state: established }
  - wait: 60s
  - hangup: alice
`);
    let sent = false;
    const started = Date.now();
    const run = await runCli(['run', file, '--out', dir, '--log-level', 'debug'], {
      onStderr: (text, child) => {
        if (!sent && text.includes('ok   #1 expect established')) {
          sent = true;
          setTimeout(() => child.kill('SIGINT'), 1500);
        }
      },
    });
    allBrowserPids.push(...run.browserPids);
    expect(sent).toBe(true);
    expect(Date.now() - started).toBeLessThan(45_000);
    expect(run.code).toBe(130); // interrupted: its own exit code, not a failure of the calls
    expect(run.stdout).toContain(' - interrupted');
    const summary = readJson(join(dir, 'summary.json'));
    expect(summary.interrupted).toBe(true);
    const [call] = readCsv(join(dir, 'calls.csv'));
    expect(call).toMatchObject({ name: 'main', sip_status: '200' });
    expect(run.browserPids.length).toBeGreaterThan(0);
    expect(processesInGroups(run.browserPids)).toEqual([]);
  });
});

describe('thresholds decide the exit code', () => {
  it('a threshold that holds exits 0; the same run with one set to fail exits 99 and says which', async () => {
    const pass = await runCli(['run', 'scenarios/codec-opus-only.yaml', '--out', join(out, 'thresholds-pass'), '--threshold', 'call_success:rate>=0.99', '--threshold', 'setup_time:p(95)<10s']);
    expect(pass.code, pass.stderr).toBe(0);
    const fail = await runCli(['run', 'scenarios/codec-opus-only.yaml', '--out', join(out, 'thresholds-fail'), '--threshold', 'setup_time:p(95)<1ms']);
    expect(fail.code, fail.stderr).toBe(99);
    expect(fail.stdout).toContain('setup_time');
    expect(readJson(join(out, 'thresholds-fail', 'summary.json')).exitCode).toBe(99);
    const junit = readFileSync(join(out, 'thresholds-fail', 'junit.xml'), 'utf8');
    expect(junit).toMatch(/<testcase[^>]*setup_time[^>]*>\s*<failure/);
  });

  it('an abortOnFail threshold stops the run early: exit 99 (a threshold failed), not 130 (interrupted)', async () => {
    // Every call fails (480: dave never registers); the threshold gives up after the first checks instead of running 40 iterations.
    const file = writeScenario(
      out,
      'abort-on-fail',
      `name: abort-on-fail
roles:
  alice: { accounts: [{ user: alice, password: a1 }] }
  dave: { accounts: [{ user: dave, password: d1 }] }
load: { iterations: 40, concurrency: 1 }
thresholds:
  call_success: [{ threshold: 'rate>=0.99', abortOnFail: true }]
steps:
  - register: alice
  - call: { from: alice, to: dave }
  - wait: 300ms
  - unregister: alice
`,
    );
    const dir = join(out, 'abort-on-fail');
    const run = await runCli(['run', file, '--out', dir, '--quiet', '--log-level', 'debug']);
    allBrowserPids.push(...run.browserPids);
    expect(run.code, run.stderr).toBe(99);
    expect(run.stderr).toContain('stopping the run');
    const summary = readJson(join(dir, 'summary.json'));
    expect(summary.interrupted).toBe(false);
    expect(summary.exitCode).toBe(99);
    expect(summary.iterations.started).toBeLessThan(40);
  });

  it('a bad threshold is bad input: exit 2, nothing started', async () => {
    const run = await runCli(['run', 'scenarios/smoke.yaml', '--out', join(out, 'thresholds-bad'), '--threshold', 'setup_tme:p(95)<2s']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('setup_tme');
    expect(existsSync(join(out, 'thresholds-bad', 'calls.csv'))).toBe(false);
  });
});
