/** Helpers for the fault and security tests: servers on fixed ports, captured logs and events. */
import { chmodSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { expect } from 'vitest';
import { createLogger, type Logger } from '../../src/log.js';
import type { Reporter } from '../../src/report/reporter.js';
import type { RunEvent } from '../../src/results.js';
import { startEmbeddedServer, type EmbeddedServerOptions, type EmbeddedSipServer } from '../../src/server/index.js';
import type { RunOutcome } from '../../src/runner/run.js';
import { readCsv, readJson, type CliRun } from './support.js';

/** A TCP port nobody listens on right now (the kernel's pick, released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** The embedded server as a scenario's `target`: started, stopped and restarted by the test itself. */
export async function startTarget(port: number, options: Omit<EmbeddedServerOptions, 'port'> = {}): Promise<EmbeddedSipServer> {
  // A port just released may linger a moment; retry briefly.
  for (let attempt = 0; ; attempt++) {
    try {
      return await startEmbeddedServer({ ...options, port });
    } catch (error) {
      if (attempt >= 20) throw error;
      await sleep(100);
    }
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A debug logger that keeps every line, and the Chromium PIDs the pool logged. */
export function captureLogger(): { logger: Logger; lines: string[]; browserPids: () => number[] } {
  const lines: string[] = [];
  return {
    logger: createLogger('debug', (line) => void lines.push(line)),
    lines,
    browserPids: () => lines.flatMap((line) => /chromium started, pid (\d+)/.exec(line)?.slice(1).map(Number) ?? []),
  };
}

/** Every run event, with a hook to act on one as it happens. */
export function captureEvents(onEvent?: (event: RunEvent) => void): { reporter: Reporter; events: RunEvent[] } {
  const events: RunEvent[] = [];
  return {
    events,
    reporter: {
      name: 'test-capture',
      onEvent: (event) => {
        events.push(event);
        onEvent?.(event);
      },
    },
  };
}

/** A step of an iteration passed (the run's own stepEnd event). */
export function stepPassed(event: RunEvent, iteration: number, name: string): boolean {
  return event.type === 'stepEnd' && event.step.iteration === iteration && event.step.name === name && event.step.ok;
}

/** Two roles with one account each, calling one another: the body of most fault scenarios. */
export const ALICE_AND_BOB = `roles:
  alice: { accounts: [{ user: alice }] }
  bob: { accounts: [{ user: bob }] }`;

/**
 * Refused as bad input: exit 2, the texts on stderr, a hint line, no stack
 * trace, and nothing started (no embedded SIP server, no browser logged; run
 * with --log-level debug so both would show).
 */
export function expectRefused(run: CliRun, ...texts: string[]): void {
  expect(run.code, run.stderr).toBe(2);
  for (const text of texts) expect(run.stderr).toContain(text);
  expect(run.stderr).toMatch(/^hint: /m);
  expect(run.stderr).not.toMatch(/\n\s+at /);
  expect(run.stderr).not.toContain('unexpected error');
  expect(run.stderr).not.toContain('embedded SIP server on');
  expect(run.browserPids).toEqual([]);
}

/**
 * A stand-in for Chromium (give it with --chromium) that leaves a marker file
 * when anything launches it, then fails: proof by file, not by log line, that
 * no browser was started.
 */
export function markerBrowser(dir: string): { path: string; marker: string } {
  const path = join(dir, 'marker-chromium.sh');
  const marker = join(dir, 'chromium-was-launched');
  writeFileSync(path, `#!/bin/sh\ntouch '${marker}'\nexit 1\n`);
  chmodSync(path, 0o755);
  return { path, marker };
}

/** The steps of the server-restart tests: one call per iteration, up for 2 s, between alice and bob. */
export const ONE_CALL_PER_ITERATION = `steps:
  - register: [alice, bob]
  - call: { from: alice, to: bob }
  - answer: bob
  - expect: { state: established }
  - wait: 2s
  - hangup: alice`;

/**
 * Stops the SIP server while the second iteration's call is up, and starts it
 * again 2 s later: the reporter to give the run, its events, and when it happened.
 */
export function restartDuringSecondCall(server: { stop(): Promise<void>; start(): Promise<void> }) {
  const times = { killedAtMs: 0, backAtMs: 0 };
  let restarted: Promise<void> | undefined;
  const capture = captureEvents((event) => {
    if (restarted || !stepPassed(event, 2, 'expect established')) return;
    restarted = (async () => {
      times.killedAtMs = Date.now();
      await server.stop();
      await sleep(2_000);
      await server.start();
      times.backAtMs = Date.now();
    })();
  });
  return { ...capture, times, restarted: () => restarted };
}

/**
 * What a server restart during call 2 must leave: every planned call in
 * calls.csv and in the outcome exactly once; call 2 failed as transport_lost,
 * the others fine; both users registered again; the transport loss and the
 * reconnection logged; summary.json counting the same.
 */
export function expectRestartSurvived(p: { dir: string; outcome: RunOutcome; events: RunEvent[]; iterations: number; killedAtMs: number; context?: string }): void {
  const rows = readCsv(join(p.dir, 'calls.csv'));
  const ids = Array.from({ length: p.iterations }, (_, i) => `${i + 1}.main`);
  expect(rows.map((row) => row.call_id).sort()).toEqual(ids);
  expect(p.outcome.calls.map((call) => call.callId).sort()).toEqual(ids);
  const row = (id: string) => rows.find((r) => r.call_id === id)!;
  expect(row('2.main'), p.context).toMatchObject({ result: 'failed', failure_reason: 'transport_lost' });
  for (const id of ids.filter((id) => id !== '2.main')) expect(row(id), id).toMatchObject({ result: 'success', sip_status: '200' });
  // The later calls reached bob only because both registered again after the restart.
  const reRegistered = p.events.filter((e) => e.type === 'registration' && e.ok && e.atMs >= p.killedAtMs).map((e) => (e.type === 'registration' ? e.role : ''));
  expect([...new Set(reRegistered)].sort()).toEqual(['alice', 'bob']);
  const logs = p.events.flatMap((e) => (e.type === 'log' ? [e.message] : []));
  expect(logs.some((m) => /alice#0: SIP WebSocket lost/.test(m))).toBe(true);
  expect(logs.some((m) => /alice#0: SIP WebSocket back after \d+\.\d s \(\d+ attempts\); re-registering/.test(m))).toBe(true);
  expect(readJson(join(p.dir, 'summary.json')).calls).toMatchObject({ total: p.iterations, failed: 1, byReason: { transport_lost: 1 } });
}
