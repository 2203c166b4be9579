import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect } from 'vitest';
import { chromiumMissing, itNeeding } from './prerequisites.js';
import { processesInGroups, readCsv, readJson, runCli, tempDir, writeScenario } from './support.js';

// Lite agents (SIP.js in Node, node-datachannel media, pre-encoded audio) beside browsers, on the
// embedded server: every step kind a lite leg supports, the SIP and SDP a PBX sees from a lite
// leg against a browser's, and the lite figures against Chromium's getStats for the same call.
// Needs Chromium (the browser roles); in CI a missing one fails.

const out = tempDir('callwright-lite-');
const groups: number[] = [];
afterAll(() => expect(processesInGroups(groups)).toEqual([]));
const itWithChromium = itNeeding(chromiumMissing());

describe('lite agents beside browsers, embedded server', () => {
  itWithChromium('scenarios/lite-mixed.yaml: lite -> browser, browser -> lite and lite -> lite pass every step (DTMF both ways, hold, message, transfer)', async () => {
    const dir = join(out, 'mixed');
    const run = await runCli(['run', 'scenarios/lite-mixed.yaml', '--out', dir, '--log-level', 'debug']);
    groups.push(...run.browserPids);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/lite agent process started, pid \d+/);
    const steps = readCsv(join(dir, 'steps.csv'));
    expect(steps.filter((s) => s.ok !== 'true').map((s) => `${s.name}: ${s.detail}`)).toEqual([]);
    const step = (name: string) => steps.find((s) => s.name === name)?.detail;
    // RFC 4733 from a lite leg: events replaced audio packets, as Chrome's insertDTMF does.
    expect(step('dtmf 123 from alice (rfc4733) on a2b')).toMatch(/sent "123" \(rfc4733\): \d+ packets/);
    // A lite agent reads RFC 4733 events off its RTP (a browser cannot): bob's tones arrive at carol.
    expect(step('expect dtmf 78 on b2c at carol')).toContain('DTMF received "78"');
    // Held, the lite leg drops what it receives: at most a straggler bob sent before applying the hold (1 pkt/s seen in CI).
    expect(step('expect audio in stopped on a2b at alice')).toMatch(/audio in [01] pkt\/s/);
    const calls = Object.fromEntries(readCsv(join(dir, 'calls.csv')).map((c) => [c.name, c]));
    expect(calls['a2b']).toMatchObject({ result: 'success', caller_agent: 'lite', callee_agent: 'browser', codec_out: 'opus', codec_in: 'opus' });
    expect(calls['b2c']).toMatchObject({ result: 'success', caller_agent: 'browser', callee_agent: 'lite' });
    expect(calls['c2d']).toMatchObject({ result: 'success', caller_agent: 'lite', callee_agent: 'lite', codec_out: 'PCMU', codec_in: 'PCMU' });
    expect(calls['d2b']).toMatchObject({ result: 'success', caller_agent: 'lite', callee_agent: 'browser' });
    // The payload check: a lite leg hears the fixture's own frames from another lite leg, none from a browser (it encodes live).
    expect(Number(calls['c2d']!.known_frames_ratio)).toBeGreaterThan(0.98);
    expect(Number(calls['a2b']!.known_frames_ratio)).toBe(0);
    // A lite agent decodes nothing: the audio columns only a browser fills stay empty on its legs.
    const liteSamples = readCsv(join(dir, 'samples.csv')).filter((s) => s.role === 'carol' && Number(s.packets_received) > 0);
    expect(liteSamples.length).toBeGreaterThan(0);
    for (const s of liteSamples) expect([s.audio_level, s.audio_energy_rate, s.concealed_ratio]).toEqual(['', '', '']);
    expect(readJson(join(dir, 'summary.json')).calls).toMatchObject({ total: 4, succeeded: 4 });
    expect(processesInGroups(run.browserPids)).toEqual([]);
  });

  itWithChromium('fidelity: a lite leg\'s INVITE and SDP have the browser\'s headers, codecs in order and attributes in order, and about its size', async () => {
    const dir = join(out, 'fidelity');
    const file = writeScenario(out, 'fidelity', `
name: fidelity
roles:
  alice: { accounts: [{ user: alice, password: alice-secret }] }
  carol: { agent: lite, accounts: [{ user: carol, password: carol-secret }] }
  bob: { accounts: [{ user: bob, password: bob-secret }], autoAnswer: true }
options:
  evidence: { sampleSuccessful: 1 }
steps:
  - register: [alice, carol, bob]
  - call: { from: alice, to: bob, name: browser, until: established }
  - hangup: alice
  - call: { from: carol, to: bob, name: lite, until: established }
  - hangup: carol
  - call: { from: alice, to: bob, name: browserpcmu, codecs: [PCMU], until: established }
  - hangup: alice
  - call: { from: carol, to: bob, name: litepcmu, codecs: [PCMU], until: established }
  - hangup: carol
`);
    const run = await runCli(['run', file, '--out', dir, '--log-level', 'debug']);
    groups.push(...run.browserPids);
    expect(run.code, run.stderr).toBe(0);
    for (const [browserCall, liteCall] of [['browser', 'lite'], ['browserpcmu', 'litepcmu']] as const) {
      const browser = firstInvite(join(dir, 'sip', `1.${browserCall}.log`));
      const lite = firstInvite(join(dir, 'sip', `1.${liteCall}.log`));
      // SIP: the same headers in the same order (SIP.js writes both).
      expect(headerNames(lite.head)).toEqual(headerNames(browser.head));
      // SDP: the same session and media lines, attribute by attribute, in order; codec lines word for word.
      expect(sdpShape(lite.sdp)).toEqual(sdpShape(browser.sdp));
      expect(codecLines(lite.sdp)).toEqual(codecLines(browser.sdp));
      expect(/^m=audio \d+ (.*)$/m.exec(lite.sdp)?.[1]).toBe(/^m=audio \d+ (.*)$/m.exec(browser.sdp)?.[1]);
      // Size (the MTU findings): without candidate lines (Chromium lists one per interface) within 3%.
      const bare = (invite: { text: string }) => Buffer.byteLength(invite.text.replace(/^a=candidate:.*\r?\n/gm, ''));
      expect(Math.abs(bare(lite) - bare(browser)) / bare(browser), `${bare(lite)} vs ${bare(browser)} bytes`).toBeLessThan(0.03);
    }
  });

  itWithChromium('a lite caller\'s packet count is what the browser callee receives, and the other way round; loss and RTT agree', async () => {
    const dir = join(out, 'agreement');
    const file = writeScenario(out, 'agreement', `
name: agreement
roles:
  carol: { agent: lite, accounts: [{ user: carol, password: carol-secret }] }
  bob: { accounts: [{ user: bob, password: bob-secret }], autoAnswer: true }
steps:
  - register: [carol, bob]
  - call: { from: carol, to: bob, until: established }
  - expect: { media: flowing, direction: both, within: 5s }
  - wait: 8s
  - hangup: carol
`);
    const run = await runCli(['run', file, '--out', dir, '--log-level', 'debug']);
    groups.push(...run.browserPids);
    expect(run.code, run.stderr).toBe(0);
    const samples = readCsv(join(dir, 'samples.csv')).filter((s) => Number(s.packets_sent) > 0 && Number(s.packets_received) > 0);
    const lite = samples.filter((s) => s.role === 'carol');
    const browser = samples.filter((s) => s.role === 'bob');
    expect(lite.length).toBeGreaterThan(4);
    expect(browser.length).toBeGreaterThan(4);
    // Counters at different moments: interpolate the sender's count at the receiver's sample time.
    const sentAt = (rows: Record<string, string>[], atMs: number) => interpolate(rows.map((r) => [Number(r.at_ms), Number(r.packets_sent)]), atMs);
    const checks: string[] = [];
    for (const [receivers, senders, way] of [[browser, lite, 'lite -> browser'], [lite, browser, 'browser -> lite']] as const) {
      for (const r of receivers.slice(1, -1)) {
        const sent = sentAt(senders, Number(r.at_ms));
        if (sent === undefined) continue;
        const received = Number(r.packets_received);
        // 50 packets/s: the interpolation and the packets in flight are worth a few packets.
        checks.push(`${way}: sent ${sent.toFixed(0)} received ${received}`);
        expect(Math.abs(received - sent), checks.at(-1)).toBeLessThanOrEqual(Math.max(5, sent * 0.01));
      }
    }
    expect(checks.length).toBeGreaterThan(6);
    const [call] = readCsv(join(dir, 'calls.csv'));
    expect(call).toMatchObject({ result: 'success', packets_lost: '0' });
    // Both ends measure the loopback's round trip from RTCP: a few ms at most.
    for (const rows of [lite, browser]) {
      const rtts = rows.map((r) => Number(r.rtt_s)).filter((v) => v > 0);
      expect(rtts.length).toBeGreaterThan(0);
      expect(Math.max(...rtts)).toBeLessThan(0.02);
    }
  });
});

/** The first INVITE a call's log shows its caller sending: head (start line and headers) and SDP body. */
function firstInvite(log: string): { head: string; sdp: string; text: string } {
  const text = readFileSync(log, 'utf8');
  const block = text.split(/\n--- .* ---\n/).find((part) => part.startsWith('INVITE '))!;
  expect(block, `${log} has an INVITE`).toBeDefined();
  const [head, sdp] = block.split(/\r?\n\r?\n/, 2) as [string, string];
  return { head, sdp, text: block.trimEnd() };
}

const headerNames = (head: string) => head.split(/\r?\n/).slice(1).map((line) => line.split(':')[0]);

/** Each SDP line's type and attribute name, candidates left out (one per host interface in Chromium). */
const sdpShape = (sdp: string) =>
  sdp
    .split(/\r?\n/)
    .filter((line) => line && !line.startsWith('a=candidate:'))
    .map((line) => (line.startsWith('a=') ? line.split(/[: ]/, 1)[0]! : line.slice(0, 2)));

/** rtpmap, fmtp, rtcp-fb and extmap lines: what a PBX negotiates on. */
const codecLines = (sdp: string) => sdp.split(/\r?\n/).filter((line) => /^a=(rtpmap|fmtp|rtcp-fb|extmap):/.test(line));

/** The value at `x` on the line through the points around it (undefined outside them). */
function interpolate(points: [number, number][], x: number): number | undefined {
  for (let i = 1; i < points.length; i++) {
    const [x0, y0] = points[i - 1]!;
    const [x1, y1] = points[i]!;
    if (x0 <= x && x <= x1) return x1 === x0 ? y1 : y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);
  }
  return undefined;
}
