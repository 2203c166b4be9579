import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EmbeddedSipServer } from '../../src/server/index.js';
import { runScenario } from '../../src/runner/run.js';
import { parseScenario } from '../../src/scenario/index.js';
import { ALICE_AND_BOB, captureEvents, captureLogger, expectRestartSurvived, freePort, ONE_CALL_PER_ITERATION, restartDuringSecondCall, startTarget, stepPassed } from './faultsSupport.js';
import { processesInGroups, runCli, tempDir, writeScenario } from './support.js';

// Faults of the SIP server, injected against real Chromium and SIP.js: the server
// is the embedded one, started by the test as the scenario's target so the test
// can stop it, restart it on the same port, or cut one user's WebSocket.
const out = tempDir('callwright-faults-server-');
const allBrowserPids: number[] = [];
const servers: EmbeddedSipServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
  expect(processesInGroups(allBrowserPids)).toEqual([]);
});

describe('the SIP server unreachable at start', () => {
  it('exits 3 with a clear message before any browser starts', async () => {
    const port = await freePort(); // nobody listens there
    const file = writeScenario(out, 'unreachable', `
name: unreachable
target: { url: "ws://127.0.0.1:${port}/ws", domain: callwright.test }
${ALICE_AND_BOB}
steps:
  - register: [alice, bob]
`);
    const started = Date.now();
    const run = await runCli(['run', file, '--out', join(out, 'unreachable'), '--log-level', 'debug'], { timeoutMs: 30_000 });
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toContain(`error: cannot reach the SIP server at ws://127.0.0.1:${port}/ws: connection refused (nothing listens on that port)`);
    expect(run.stderr).toContain('hint: check target.url (or --target)');
    expect(run.stderr).not.toMatch(/\n\s+at /); // one line and a hint, no stack
    // Found before launching anything: no browser was ever started.
    expect(run.browserPids).toEqual([]);
    expect(run.stderr).not.toContain('chromium started');
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('a server that answers HTTP but not WebSocket at that path is named as such', async () => {
    const { createServer } = await import('node:http');
    const http = createServer((_request, response) => response.writeHead(404).end());
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const { port } = http.address() as { port: number };
    try {
      const file = writeScenario(out, 'not-websocket', `
name: not-websocket
target: { url: "ws://127.0.0.1:${port}/nope", domain: callwright.test }
${ALICE_AND_BOB}
steps:
  - register: alice
`);
      const run = await runCli(['run', file, '--out', join(out, 'not-websocket'), '--log-level', 'debug'], { timeoutMs: 30_000 });
      expect(run.code, run.stderr).toBe(3);
      expect(run.stderr).toContain('it answered HTTP 404 instead of a WebSocket upgrade');
      expect(run.browserPids).toEqual([]);
    } finally {
      http.close();
    }
  });
});

describe('the SIP server killed and restarted mid-run', () => {
  it('ends the call in flight as transport_lost, reconnects, re-registers, and the later calls succeed; every call is in calls.csv once', async () => {
    const port = await freePort();
    let server = await startTarget(port);
    servers.push(server);
    const iterations = 5;
    const scenario = parseScenario(
      `
name: server-restart
target: { url: "ws://127.0.0.1:${port}", domain: callwright.test }
load: { iterations: ${iterations}, concurrency: 1 }
${ALICE_AND_BOB}
${ONE_CALL_PER_ITERATION}
`,
      join(out, 'server-restart.yaml'),
    );
    const restart = restartDuringSecondCall({
      stop: () => server.stop(),
      start: async () => {
        server = await startTarget(port);
        servers.push(server);
      },
    });
    const log = captureLogger();
    const dir = join(out, 'server-restart');
    const outcome = await runScenario({ scenario, outDir: dir, logger: log.logger, reporters: [restart.reporter] });
    allBrowserPids.push(...log.browserPids());
    await restart.restarted();
    expect(restart.times.backAtMs, 'the server was restarted mid-run').toBeGreaterThan(0);

    expectRestartSurvived({ dir, outcome, events: restart.events, iterations, killedAtMs: restart.times.killedAtMs });
    // Only the calls after the restart reached the new server: it saw their INVITEs and no other.
    expect(server.stats().invites).toBe(3);
    expect(processesInGroups(log.browserPids())).toEqual([]);
  });
});

describe('a registered user\'s WebSocket dropped', () => {
  it('reconnects and re-registers within 5 s, and then receives a call on the new connection', async () => {
    const port = await freePort();
    const server = await startTarget(port);
    servers.push(server);
    const scenario = parseScenario(
      `
name: ws-drop
target: { url: "ws://127.0.0.1:${port}", domain: callwright.test }
${ALICE_AND_BOB}
steps:
  - register: [alice, bob]
  - wait: 5s
  - call: { from: bob, to: alice }
  - answer: alice
  - expect: { state: established }
  - hangup: bob
`,
      join(out, 'ws-drop.yaml'),
    );
    let droppedAtMs = 0;
    let registeredBeforeDrop = -1;
    let registeredRightAfter = -1;
    const { reporter, events } = captureEvents((event) => {
      if (droppedAtMs || !stepPassed(event, 1, 'register alice, bob')) return;
      registeredBeforeDrop = server.stats().registeredUsers;
      droppedAtMs = Date.now();
      server.dropConnections('alice');
      registeredRightAfter = server.stats().registeredUsers;
    });
    const log = captureLogger();
    const outcome = await runScenario({ scenario, outDir: join(out, 'ws-drop'), logger: log.logger, reporters: [reporter] });
    allBrowserPids.push(...log.browserPids());
    expect(droppedAtMs).toBeGreaterThan(0);
    expect([registeredBeforeDrop, registeredRightAfter]).toEqual([2, 1]);
    const back = events.find((e) => e.type === 'registration' && e.role === 'alice' && e.ok && e.atMs > droppedAtMs);
    expect(back, 'alice registered again').toBeDefined();
    expect(back!.atMs - droppedAtMs).toBeLessThan(5_000);
    // bob -> alice reaches alice only through her new binding.
    expect(outcome.summary.exitCode, log.lines.join('\n')).toBe(0);
    expect(outcome.calls).toHaveLength(1);
    expect(outcome.calls[0]).toMatchObject({ result: 'success' });
    expect(existsSync(join(out, 'ws-drop', 'calls.csv'))).toBe(true);
  });
});
