import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it as plainIt } from 'vitest';
import { chromiumMissing, itNeeding } from './prerequisites.js';
import { processesInGroups, readCsv, ROOT, runCli, tempDir, writeScenario } from './support.js';

// Listen-only legs for real: the embedded server, real Chromium and WebRTC. A receive-only leg
// offers or answers a=recvonly, takes no microphone and sends no RTP, yet receives and decodes the
// far end's audio; the far end sends only. Proven from the run's own outputs: samples.csv
// (packets and energy per leg), calls.csv (success, not one-way audio) and the SIP log (the SDP on the wire).
const out = tempDir('callwright-receive-only-');
const browserPids: number[] = [];
const it = itNeeding(chromiumMissing());
afterAll(async () => {
  for (let i = 0; i < 50 && processesInGroups(browserPids).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  expect(processesInGroups(browserPids)).toEqual([]);
});

/** Every SIP log kept, so each call's SDP can be read. */
const EVIDENCE = '\noptions: { evidence: { sampleSuccessful: 1 } }\n';

async function run(name: string, yaml: string) {
  const dir = join(out, name);
  const result = await runCli(['run', writeScenario(out, name, yaml + EVIDENCE), '--out', dir, '--log-level', 'debug', '--quiet']);
  browserPids.push(...result.browserPids);
  return {
    result,
    dir,
    steps: readCsv(join(dir, 'steps.csv')),
    calls: readCsv(join(dir, 'calls.csv')),
    samples: readCsv(join(dir, 'samples.csv')),
    sipLog: (callId: string) => readFileSync(join(dir, 'sip', `${callId}.log`), 'utf8'),
  };
}

type Run = Awaited<ReturnType<typeof run>>;
const number = (cell: string | undefined) => (cell === undefined || cell === '' ? 0 : Number(cell));

/** The listener received audio (packets, and energy: decoded, not silence) and sent no packet; the talker the reverse. */
function expectListenOnly(outcome: Run, callId: string, listener: string, talker: string): void {
  const rows = (role: string) => outcome.samples.filter((s) => s['call_id'] === callId && s['role'] === role);
  const heard = rows(listener);
  const spoke = rows(talker);
  expect(heard.length, `samples of ${listener} on ${callId}`).toBeGreaterThan(1);
  expect(spoke.length, `samples of ${talker} on ${callId}`).toBeGreaterThan(1);
  const last = (list: Record<string, string>[], column: string) => Math.max(...list.map((s) => number(s[column])));
  // About 50 packets/s for 3 s or more.
  expect(last(heard, 'packets_received')).toBeGreaterThan(100);
  expect(Math.max(...heard.map((s) => number(s['audio_energy_rate'])))).toBeGreaterThan(1e-5);
  expect(heard.map((s) => number(s['packets_sent']))).toEqual(heard.map(() => 0));
  expect(last(spoke, 'packets_sent')).toBeGreaterThan(100);
  expect(spoke.map((s) => number(s['packets_received']))).toEqual(spoke.map(() => 0));
}

/** The direction line of each audio section in the SIP log, in order (offers and answers, as each WebSocket saw them). */
function audioDirections(log: string): string[] {
  const found: string[] = [];
  let inAudio = false;
  for (const line of log.split(/\r?\n/)) {
    if (line.startsWith('m=')) inAudio = line.startsWith('m=audio ');
    else if (!/^[a-z]=/.test(line)) inAudio = false;
    const direction = /^a=(sendrecv|sendonly|recvonly|inactive)$/.exec(line)?.[1];
    if (inAudio && direction) found.push(direction);
  }
  return found;
}

describe('receive-only legs (listen-only, no microphone)', () => {
  it('a receive-only caller and a receive-only callee each receive audio and send none; calls.csv calls neither one-way audio', async () => {
    const outcome = await run('steps', readFileSync(join(ROOT, 'scenarios', 'receive-only.yaml'), 'utf8'));
    expect(outcome.result.code, outcome.result.stderr.slice(-3000)).toBe(0);
    expect(outcome.steps.filter((s) => s['ok'] !== 'true')).toEqual([]);
    const byId = new Map(outcome.calls.map((c) => [c['call_id'], c]));
    for (const id of ['1.main', '1.listener']) {
      expect(byId.get(id), `calls.csv row ${id}`).toMatchObject({ result: 'success', failure_reason: '', one_way_audio: 'false' });
    }
    expectListenOnly(outcome, '1.main', 'alice', 'bob');
    expectListenOnly(outcome, '1.listener', 'bob', 'alice');
    // On the wire: the listener's description says recvonly, the talker's sendonly (each seen by both WebSockets).
    const caller = audioDirections(outcome.sipLog('1.main'));
    expect(new Set(caller)).toEqual(new Set(['recvonly', 'sendonly']));
    expect(caller).not.toContain('sendrecv');
    const callee = audioDirections(outcome.sipLog('1.listener'));
    // alice still offers sendrecv; bob answers recvonly.
    expect(new Set(callee)).toEqual(new Set(['sendrecv', 'recvonly']));
  }, 90_000);

  it('a role that answers by itself receive-only (autoAnswer: { receiveOnly: true }) listens too', async () => {
    const outcome = await run(
      'auto',
      `
name: receive-only-auto
roles:
  alice: { accounts: [{ user: alice, password: pa }] }
  bob: { accounts: [{ user: bob, password: pb }], autoAnswer: { after: 200ms, receiveOnly: true } }
steps:
  - register: [alice, bob]
  - call: { from: alice, to: bob, until: established }
  - expect: { role: bob, sdp: a=recvonly, direction: out }
  - expect: { role: bob, media: flowing, direction: in, within: 5s }
  - expect: { role: bob, media: stopped, direction: out }
  - wait: 2s
  - hangup: alice
`,
    );
    expect(outcome.result.code, outcome.result.stderr.slice(-3000)).toBe(0);
    expect(outcome.calls[0]).toMatchObject({ result: 'success', one_way_audio: 'false' });
    expectListenOnly(outcome, '1.main', 'bob', 'alice');
  }, 90_000);

  plainIt('both ends receive-only is refused before anything starts (exit 2): no media could ever flow', async () => {
    const outcome = await runCli(['validate', writeScenario(out, 'both', `
name: both
roles:
  alice: { accounts: [{ user: alice }] }
  bob: { accounts: [{ user: bob }] }
steps:
  - call: { from: alice, to: bob, receiveOnly: true }
  - answer: { role: bob, receiveOnly: true }
`)]);
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toContain('with both ends receive-only no media could flow');
  });
});
