import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EmbeddedSipServer } from '../../src/server/index.js';
import { ALICE_AND_BOB, freePort, startTarget } from './faultsSupport.js';
import { processesInGroups, readCsv, readJson, runCli, tempDir, writeScenario } from './support.js';

// Stopping a run from outside, through the real CLI, against a SIP server the
// test runs itself so it can see on the wire what callwright sent on the way out.
const out = tempDir('callwright-faults-stop-');
const allBrowserPids: number[] = [];
const servers: EmbeddedSipServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
  expect(processesInGroups(allBrowserPids)).toEqual([]);
});

async function processesGone(groups: number[], withinMs: number): Promise<number[]> {
  const deadline = Date.now() + withinMs;
  while (processesInGroups(groups).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  return processesInGroups(groups);
}

async function tappedServer(): Promise<{ server: EmbeddedSipServer; port: number; wire: { direction: 'in' | 'out'; raw: string }[] }> {
  const port = await freePort();
  const wire: { direction: 'in' | 'out'; raw: string }[] = [];
  const server = await startTarget(port, { onMessage: ({ direction, raw }) => void wire.push({ direction, raw }) });
  servers.push(server);
  return { server, port, wire };
}

const longCall = (name: string, port: number) => `
name: ${name}
target: { url: "ws://127.0.0.1:${port}", domain: callwright.test }
${ALICE_AND_BOB}
steps:
  - register: [alice, bob]
  - call: { from: alice, to: bob }
  - answer: bob
  - expect: { state: established }
  - wait: 60s
  - hangup: alice
`;

/** An earlier run's passing verdict in the folder: a stopped run must not leave it to be read as its own. */
function earlierPass(dir: string): void {
  mkdirSync(join(dir, 'sip'), { recursive: true });
  writeFileSync(join(dir, 'summary.json'), JSON.stringify({ exitCode: 0, interrupted: false }));
  writeFileSync(join(dir, 'junit.xml'), '<testsuites name="callwright" tests="1" failures="0" errors="0"><testsuite name="old" tests="1" failures="0" errors="0"><testcase name="run"/></testsuite></testsuites>\n');
  writeFileSync(join(dir, 'report.html'), '<p>PASS</p>\n');
  writeFileSync(join(dir, 'thresholds.json'), '[]\n');
  writeFileSync(join(dir, 'sip', 'old.1.log'), 'INVITE\n');
}

describe('a stop signal mid-call', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('%s: hangs up (BYE on the wire), unregisters, flushes the reports, exits 130 (interrupted, not 1), leaves no Chromium', async (signal) => {
    const { server, port, wire } = await tappedServer();
    const file = writeScenario(out, `stop-${signal}`, longCall(`stop-${signal}`, port));
    const dir = join(out, `stop-${signal}`);
    let sent = false;
    const started = Date.now();
    const run = await runCli(['run', file, '--out', dir, '--log-level', 'debug'], {
      timeoutMs: 60_000,
      onStderr: (text, child) => {
        if (!sent && text.includes('ok   #1 expect established')) {
          sent = true;
          setTimeout(() => child.kill(signal), 1_000);
        }
      },
    });
    allBrowserPids.push(...run.browserPids);
    expect(sent).toBe(true);
    expect(Date.now() - started).toBeLessThan(45_000);
    expect(run.code, run.stderr).toBe(130);
    expect(run.stderr).toContain(`${signal}: stopping`);

    // On the wire (kept in the out folder for a failing run): one BYE, from the caller, answered 200
    // by the callee (no BYE glare); both users' REGISTER with expires 0.
    writeFileSync(join(out, `wire-${signal}.txt`), wire.map((m) => `--- ${m.direction}\n${m.raw}`).join('\n'));
    const received = wire.filter((m) => m.direction === 'in').map((m) => m.raw);
    const byes = received.filter((raw) => raw.startsWith('BYE '));
    expect(byes).toHaveLength(1);
    expect(byes[0]).toMatch(/\r\nFrom: [^\r]*<sip:alice@/i);
    expect(received.some((raw) => /^SIP\/2\.0 200 /.test(raw) && /\r\nCSeq: \d+ BYE\r\n/i.test(raw))).toBe(true);
    const unregisters = received.filter((raw) => raw.startsWith('REGISTER ') && /expires=0|\r\nExpires: 0\r\n/i.test(raw));
    const users = unregisters.map((raw) => /\r\nFrom: [^\r]*<sip:([^@]+)@/i.exec(raw)?.[1]).sort();
    expect(users).toEqual(['alice', 'bob']);
    expect(server.stats()).toMatchObject({ registeredUsers: 0, activeCalls: 0 });

    // Reports flushed, the interrupted call in them.
    const summary = readJson(join(dir, 'summary.json'));
    expect(summary).toMatchObject({ interrupted: true, exitCode: 130 });
    const junit = readFileSync(join(dir, 'junit.xml'), 'utf8');
    expect(junit).toContain('<property name="exitCode" value="130"/>');
    expect(junit).toContain('<error type="interrupted"');
    expect(run.stdout).toContain('(exit 130: interrupted) - interrupted');
    const calls = readCsv(join(dir, 'calls.csv'));
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ call_id: '1.main', sip_status: '200' });
    expect(existsSync(join(dir, 'steps.csv'))).toBe(true);

    // Zero Chromium, checked by PID (the browser's process group holds all its helpers).
    expect(run.browserPids.length).toBeGreaterThan(0);
    expect(processesInGroups(run.browserPids)).toEqual([]);
  });

  it("a second signal stops at once: exit 130, browsers killed, junit.xml says so, no earlier run's verdict left", async () => {
    const { port } = await tappedServer();
    const file = writeScenario(out, 'stop-twice', longCall('stop-twice', port));
    const dir = join(out, 'stop-twice');
    earlierPass(dir);
    let sent = false;
    const run = await runCli(['run', file, '--out', dir, '--log-level', 'debug'], {
      timeoutMs: 60_000,
      onStderr: (text, child) => {
        if (!sent && text.includes('ok   #1 expect established')) {
          sent = true;
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGTERM'), 100);
        }
      },
    });
    allBrowserPids.push(...run.browserPids);
    expect(sent).toBe(true);
    expect(run.code, run.stderr).toBe(130);
    expect(run.stderr).toContain('SIGTERM again: killing browsers and exiting');
    expect(run.browserPids.length).toBeGreaterThan(0);
    // SIGKILL is delivered at once, but a process takes a moment to go.
    expect(await processesGone(run.browserPids, 2_000)).toEqual([]);

    // No reports, so no summary.json (merge counts such a shard as crashed); junit.xml tells CI what happened.
    const left = readdirSync(dir);
    for (const file of ['summary.json', 'report.html', 'thresholds.json', 'sip']) expect(left).not.toContain(file);
    const junit = readFileSync(join(dir, 'junit.xml'), 'utf8');
    expect(junit).toContain('<property name="exitCode" value="130"/>');
    expect(junit).toContain('<error type="interrupted" message="exit 130 (interrupted): stopped at once by a second SIGTERM: browsers killed, no reports written');
  });
});
