import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveChromium } from '../../src/browser/chromium.js';
import { describeMissing, missingLabPrerequisites, type LabState } from '../../src/lab/index.js';
import { processGroupMembers } from '../../src/lab/processes.js';
import { processesInGroups, readCsv, readJson, runCli, tempDir, writeScenario } from './support.js';
import { captureUnavailable, percentile, readWireSip, startWireCapture, wireCallTimes, type WireCapture, type WireCallTimes } from './wireCapture.js';

// Issue 9, "timings from the wire": the timings callwright reports in calls.csv against the same
// SIP messages' times on the wire, from a packet capture of the lab's WebSocket port on `lo`.
//
// The contract tested, per call of calls.csv (the caller's side, through Kamailio's digest auth,
// where the first INVITE gets 407, then ACK, then a second INVITE with credentials):
//   sip_call_id     the caller's Call-ID
//   invite_sent_at  ISO 8601 UTC with ms: when the caller's FIRST INVITE was handed to its WebSocket
//   pdd_s           first INVITE sent -> first 18x received at the caller's WebSocket, seconds
//   setup_s         first INVITE sent -> 200 OK (to INVITE) received at the caller's WebSocket
// On the wire: the first INVITE on that Call-ID to the server's ws port (the caller's connection:
// through a proxy the callee's leg carries the same Call-ID), and the first 18x and the first 200
// (CSeq INVITE) the server sent down that same connection. Done when: |csv - wire| p95 <= 8 ms for
// pdd and setup, and invite_sent_at within 8 ms of the wire INVITE. Alone p95 is at most 3.8 ms; a
// clean-clone CI run measured setup_s p95 5.4 ms (max 6.3) with the machine busy around it, so 5 ms
// failed on scheduling noise. Stamps taken on the page's main thread (the regression this guards
// against) were 25 ms late at p50 and 47 ms at p95.
//
// Its own lab (Kamailio + rtpengine, no devices) on ports 11060..11359, in its own temp dir: clear
// of lab-scenarios (7060), mtu-sweep (7460), faults-lab (9060), lab-infra (15060/16060) and a
// developer's default lab (5060/8080).
//
// Needs Kamailio, rtpengine, Chromium, tshark (dumpcap) and permission to capture on lo (root).
// Outside CI a missing one skips with the reason in the name; in CI (env CI set) it FAILS.

const PORT_BASE = 11060;
const CALLS = 40;
const CONCURRENCY = 5;
const ANSWER_AFTER = '200ms';
const TOLERANCE_MS = 8;

const inCi = Boolean(process.env['CI']) && process.env['CI'] !== 'false' && process.env['CI'] !== '0';
const labCore = missingLabPrerequisites([]);
const captureSkip = captureUnavailable();
const missing =
  [
    labCore.length > 0 ? describeMissing(labCore) : undefined,
    resolveChromium() === undefined ? 'no Chromium (apt-get install chromium, or set CALLWRIGHT_CHROMIUM)' : undefined,
    captureSkip,
  ]
    .filter((m): m is string => m !== undefined)
    .join('; ') || undefined;
const skipReason = missing !== undefined && !inCi ? missing : undefined;
const captureSkipReason = captureSkip !== undefined && !inCi ? captureSkip : undefined;

/** In CI a missing prerequisite is a failure of the test, never a skip. */
function requirePrerequisites(what: string | undefined): void {
  if (what !== undefined) throw new Error(`CI (env CI is set): this test must run, not skip, but: ${what}`);
}

const out = tempDir('callwright-wire-timings-');

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe.skipIf(captureSkipReason !== undefined)(`the loopback capture reader (SIP over WebSocket)${captureSkipReason ? ` [SKIPPED: ${captureSkipReason}]` : ''}`, () => {
  it('keeps apart several messages in one TCP segment, dates a message split over segments by its first and last, and picks the caller leg', async () => {
    requirePrerequisites(captureSkip);
    // A WebSocket server and client of our own on an ephemeral port, written raw so the segments are what we choose.
    let serverSide: Socket | undefined;
    const server = createServer((socket) => {
      serverSide = socket;
      socket.setNoDelay(true);
      socket.on('error', () => {});
      socket.once('data', () =>
        socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: sip\r\n\r\n'),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const capture = await startWireCapture({ port, dir: out, name: 'synthetic' });
    const gap = 40;
    try {
      const client = connect(port, '127.0.0.1');
      client.setNoDelay(true);
      client.on('error', () => {});
      await new Promise((resolve) => client.once('connect', resolve));
      client.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: sip\r\n\r\n');
      await new Promise((resolve) => client.once('data', resolve));
      const server_ = serverSide!;
      // A: INVITE; then 100 and 180 in one segment.
      client.write(wsFrame(sipMessage('INVITE sip:b@x SIP/2.0', 'callA', '1 INVITE'), true));
      await sleep(gap);
      server_.write(Buffer.concat([wsFrame(sipMessage('SIP/2.0 100 Trying', 'callA', '1 INVITE')), wsFrame(sipMessage('SIP/2.0 180 Ringing', 'callA', '1 INVITE'))]));
      await sleep(gap);
      // One segment: a request of call B, then a response of call A (fields must not cross).
      server_.write(Buffer.concat([wsFrame(sipMessage('INVITE sip:a@x SIP/2.0', 'callB', '7 INVITE')), wsFrame(sipMessage('SIP/2.0 200 OK', 'callA', '1 INVITE'))]));
      await sleep(gap);
      // C: a big INVITE in two segments; a 180 in two segments whose tail shares a segment with the 200.
      const invite = wsFrame(sipMessage('INVITE sip:b@x SIP/2.0', 'callC', '1 INVITE', `v=0\r\n${'a=x\r\n'.repeat(300)}`), true);
      client.write(invite.subarray(0, 700));
      await sleep(gap);
      client.write(invite.subarray(700));
      await sleep(gap);
      const ringing = wsFrame(sipMessage('SIP/2.0 180 Ringing', 'callC', '1 INVITE'));
      server_.write(ringing.subarray(0, 50));
      await sleep(gap);
      server_.write(Buffer.concat([ringing.subarray(50), wsFrame(sipMessage('SIP/2.0 200 OK', 'callC', '1 INVITE'))]));
      await sleep(gap);
      client.destroy();
      server_.destroy();
    } finally {
      // Stopped while the port still listens: the capture's end marker is a connection to it.
      await capture.stop().finally(() => server.close());
    }

    const messages = readWireSip(capture.pcapFile, port);
    expect(messages.map((m) => `${m.callId} ${m.method ?? m.status} ${m.segments}`)).toEqual([
      'callA INVITE 1',
      'callA 100 1',
      'callA 180 1',
      'callB INVITE 1',
      'callA 200 1',
      'callC INVITE 2',
      'callC 180 2',
      'callC 200 1',
    ]);
    const [inviteA, trying, ringingA, inviteB, okA, inviteC, ringingC, okC] = messages;
    expect(trying!.frame).toBe(ringingA!.frame);
    expect(inviteB!.frame).toBe(okA!.frame);
    expect(inviteB).toMatchObject({ dstPort: inviteA!.srcPort, cseq: 7, cseqMethod: 'INVITE', method: 'INVITE' });
    expect(inviteB!.status).toBeUndefined();
    expect(okA).toMatchObject({ callId: 'callA', status: 200, cseqMethod: 'INVITE' });
    expect(inviteC!.completedAtMs - inviteC!.startedAtMs).toBeGreaterThan(30);
    expect(ringingC!.completedAtMs - ringingC!.startedAtMs).toBeGreaterThan(30);
    expect(okC!.frame).toBe(ringingC!.frame);
    expect(okC!.startedAtMs).toBe(okC!.completedAtMs);

    // Call A seen from the server's port: the client is the caller; B's INVITE went the other way.
    const a = wireCallTimes(messages, port, 'callA')!;
    expect(a).toMatchObject({ callerPort: inviteA!.srcPort, invites: 1, first18xStatus: 180, firstInviteAnswer: 200 });
    expect(a.pddS).toBeCloseTo((ringingA!.completedAtMs - inviteA!.startedAtMs) / 1000, 9);
    expect(a.setupS).toBeCloseTo((okA!.completedAtMs - inviteA!.startedAtMs) / 1000, 9);
    expect(wireCallTimes(messages, port, 'callB')).toBeUndefined();
    // C: from the INVITE's first segment to the 180's and the 200's arrival.
    const c = wireCallTimes(messages, port, 'callC')!;
    expect(c.inviteAtMs).toBe(inviteC!.startedAtMs);
    expect(c.pddS! * 1000).toBeGreaterThan(3 * gap - 10);
    expect(c.setupS).toBe(c.pddS);
  });
});

describe.skipIf(skipReason !== undefined)(`timings in calls.csv against the wire (loopback capture of the lab's WebSocket)${skipReason ? ` [SKIPPED: ${skipReason}]` : ''}`, () => {
  const labDir = join(out, 'lab');
  const browserPids: number[] = [];
  let labPids: number[] = [];
  let state: LabState | undefined;
  let capture: WireCapture | undefined;

  beforeAll(async () => {
    if (missing !== undefined) return; // in CI: the test itself fails with the reason
    const up = await runCli(['lab', 'up', '--dir', labDir, '--port-base', String(PORT_BASE), '--devices', 'none'], { timeoutMs: 60_000 });
    expect(up.code, up.stderr).toBe(0);
    state = readJson<LabState>(join(labDir, 'lab.json'));
    labPids = state.processes.map((p) => p.pid);
    expect(state.wsUrl).toBe(`ws://127.0.0.1:${PORT_BASE + 1}`);
  }, 90_000);

  afterAll(async () => {
    await capture?.stop();
    if (!existsSync(join(labDir, 'lab.json'))) return;
    const down = await runCli(['lab', 'down', '--dir', labDir], { timeoutMs: 60_000 });
    expect(down.code, down.stderr).toBe(0);
    for (const pid of labPids) {
      expect(existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z '), `lab pid ${pid}`).toBe(false);
      expect(processGroupMembers(pid)).toEqual([]);
    }
    expect(processesInGroups(browserPids)).toEqual([]);
  }, 90_000);

  it(`${CALLS} calls (closed model, ${CONCURRENCY} at once, digest 407 round, answer after ${ANSWER_AFTER}): pdd_s and setup_s within ${TOLERANCE_MS} ms of the wire at p95, invite_sent_at within ${TOLERANCE_MS} ms of the wire INVITE`, async () => {
    requirePrerequisites(missing);
    const lab = state!;
    const callers = lab.users.slice(0, CONCURRENCY);
    const callees = lab.users.slice(CONCURRENCY, 2 * CONCURRENCY);
    const accounts = (users: typeof callers) => users.map((u) => `\n      - { user: "${u.user}", password: "${u.password}" }`).join('');
    const scenario = writeScenario(
      out,
      'wire-timings',
      `name: wire-timings
target: { url: "${lab.wsUrl}", domain: ${lab.domain} }
roles:
  caller:
    accounts:${accounts(callers)}
  callee:
    accounts:${accounts(callees)}
    autoAnswer: { after: ${ANSWER_AFTER} }
load:
  concurrency: ${CONCURRENCY}
  iterations: ${CALLS}
steps:
  - register: [caller, callee]
  - call: { from: caller, to: callee, until: established }
  - wait: 1s
  - hangup: caller
`,
    );
    const runDir = join(out, 'run');
    capture = await startWireCapture({ port: lab.ports.ws, dir: out, name: 'lab-ws' });
    let run;
    try {
      run = await runCli(['run', scenario, '--target', lab.wsUrl, '--out', runDir, '--log-level', 'debug'], { timeoutMs: 110_000 });
    } finally {
      await capture.stop();
    }
    browserPids.push(...run.browserPids);
    expect(run.code, run.stderr.slice(-3000)).toBe(0);

    const calls = readCsv(join(runDir, 'calls.csv'));
    expect(calls).toHaveLength(CALLS);
    expect(calls.filter((c) => c['result'] !== 'success').map((c) => `${c['call_id']}: ${c['result']} ${c['failure_reason']}`)).toEqual([]);

    const wire = readWireSip(capture.pcapFile, lab.ports.ws);
    const rows = calls.map((call) => compare(call, wireCallTimes(wire, lab.ports.ws, call['sip_call_id'] ?? '')));
    const report = formatReport(rows, capture.pcapFile);
    writeFileSync(join(out, 'wire-timings.md'), report);
    console.log(report);

    // Every call is on the wire, with the digest round the timings must include.
    expect(rows.filter((r) => r.wire === undefined).map((r) => r.callId), 'calls whose sip_call_id has no INVITE on the wire').toEqual([]);
    expect(rows.filter((r) => r.wire!.firstInviteAnswer !== 407 || r.wire!.invites !== 2).map((r) => `${r.callId}: first INVITE answered ${r.wire!.firstInviteAnswer}, ${r.wire!.invites} INVITEs`)).toEqual([]);
    expect(rows.filter((r) => r.wire!.pddS === undefined || r.wire!.setupS === undefined).map((r) => r.callId), 'calls without 18x or 200 to the caller on the wire').toEqual([]);

    // The contract's columns are there and filled.
    const unreported = (column: string, value: (r: Row) => number | undefined) =>
      rows.filter((r) => value(r) === undefined || Number.isNaN(value(r))).map((r) => `${r.callId}: ${column}='${r.csv[column] ?? '(no column)'}'`);
    expect(unreported('invite_sent_at', (r) => r.inviteDiffMs), 'invite_sent_at: ISO 8601 UTC with ms').toEqual([]);
    expect(unreported('pdd_s', (r) => r.pddDiffMs)).toEqual([]);
    expect(unreported('setup_s', (r) => r.setupDiffMs)).toEqual([]);

    const abs = (pick: (r: Row) => number | undefined) => rows.map((r) => Math.abs(pick(r)!));
    expect(percentile(abs((r) => r.pddDiffMs), 95), 'pdd_s: |csv - wire| p95, ms').toBeLessThanOrEqual(TOLERANCE_MS);
    expect(percentile(abs((r) => r.setupDiffMs), 95), 'setup_s: |csv - wire| p95, ms').toBeLessThanOrEqual(TOLERANCE_MS);
    expect(
      rows.filter((r) => Math.abs(r.inviteDiffMs!) > TOLERANCE_MS).map((r) => `${r.callId}: invite_sent_at ${r.csv['invite_sent_at']} is ${r.inviteDiffMs!.toFixed(1)} ms from the wire`),
    ).toEqual([]);
  }, 150_000);
});

interface Row {
  callId: string;
  csv: Record<string, string>;
  wire: WireCallTimes | undefined;
  /** csv - wire, ms (NaN or undefined when either side is missing). */
  inviteDiffMs: number | undefined;
  pddDiffMs: number | undefined;
  setupDiffMs: number | undefined;
}

function compare(csv: Record<string, string>, wire: WireCallTimes | undefined): Row {
  const seconds = (text: string | undefined) => (text === undefined || text.trim() === '' ? Number.NaN : Number(text));
  const sentAt = csv['invite_sent_at'] ? Date.parse(csv['invite_sent_at']) : Number.NaN;
  return {
    callId: csv['call_id'] ?? '?',
    csv,
    wire,
    inviteDiffMs: wire ? sentAt - wire.inviteAtMs : undefined,
    pddDiffMs: wire?.pddS === undefined ? undefined : (seconds(csv['pdd_s']) - wire.pddS) * 1000,
    setupDiffMs: wire?.setupS === undefined ? undefined : (seconds(csv['setup_s']) - wire.setupS) * 1000,
  };
}

/** The per-call table and the p50/p95/max of |csv - wire|, for the test output and the closing note. */
function formatReport(rows: Row[], pcapFile: string): string {
  const ms = (value: number | undefined) => (value === undefined || Number.isNaN(value) ? '-' : value.toFixed(1));
  const s = (value: number | undefined) => (value === undefined ? '-' : value.toFixed(4));
  const lines = [
    `wire timings (capture ${pcapFile})`,
    '',
    '| call | sip_call_id | wire INVITE at (UTC) | csv invite_sent_at | diff ms | wire pdd s | csv pdd_s | diff ms | wire setup s | csv setup_s | diff ms |',
    '|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const wireAt = r.wire ? new Date(r.wire.inviteAtMs).toISOString().replace('Z', `${(r.wire.inviteAtMs % 1).toFixed(3).slice(2)}Z`) : '-';
    lines.push(
      `| ${r.callId} | ${r.csv['sip_call_id'] ?? '-'} | ${wireAt} | ${r.csv['invite_sent_at'] || '-'} | ${ms(r.inviteDiffMs)} | ${s(r.wire?.pddS)} | ${r.csv['pdd_s'] || '-'} | ${ms(r.pddDiffMs)} | ${s(r.wire?.setupS)} | ${r.csv['setup_s'] || '-'} | ${ms(r.setupDiffMs)} |`,
    );
  }
  lines.push('', '| |csv - wire|, ms | n | p50 | p95 | max |', '|---|---:|---:|---:|---:|');
  for (const [name, pick] of [
    ['invite_sent_at', (r: Row) => r.inviteDiffMs],
    ['pdd_s', (r: Row) => r.pddDiffMs],
    ['setup_s', (r: Row) => r.setupDiffMs],
  ] as const) {
    const values = rows.map(pick).filter((v): v is number => v !== undefined && !Number.isNaN(v)).map(Math.abs);
    lines.push(`| ${name} | ${values.length} | ${ms(percentile(values, 50))} | ${ms(percentile(values, 95))} | ${ms(values.length ? Math.max(...values) : undefined)} |`);
  }
  return lines.join('\n');
}

function sipMessage(firstLine: string, callId: string, cseq: string, body = ''): string {
  return `${firstLine}\r\nVia: SIP/2.0/WS x.invalid;branch=z9hG4bK${callId}${cseq.replace(' ', '')}\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: ${callId}\r\nCSeq: ${cseq}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/** One WebSocket text frame (RFC 6455); masked as a client sends it. */
function wsFrame(text: string, masked = false): Buffer {
  const payload = Buffer.from(text);
  const length = payload.length;
  const head = length < 126 ? Buffer.from([0x81, (masked ? 0x80 : 0) | length]) : Buffer.from([0x81, (masked ? 0x80 : 0) | 126, length >> 8, length & 0xff]);
  if (!masked) return Buffer.concat([head, payload]);
  const key = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  return Buffer.concat([head, key, Buffer.from(payload.map((byte, i) => byte ^ key[i % 4]!))]);
}
