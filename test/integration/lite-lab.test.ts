import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LabState } from '../../src/lab/index.js';
import { chromiumMissing, labMissing, missingOf, named, requirePrerequisites, skipped } from './prerequisites.js';
import { startTestLab, stopTestLab, sippMessages, waitForText } from './testLab.js';
import { readCsv, readJson, runCli, tempDir, writeScenario, type CliRun } from './support.js';

// Lite agents against real peers: a lab of the test's own (Kamailio with digest auth, rtpengine,
// the SIPp echo device and baresip; ports 19060..19359). rtpengine turns a lite leg's ICE and
// DTLS-SRTP into plain RTP for the devices, as it does a browser's; the echo device sends the
// lite leg's own frames back, which the lite leg recognises (known_frames_ratio), and baresip
// logs the RFC 4733 digits it hears. Lite and browser legs also call each other through Kamailio.
//
// Needs Kamailio, rtpengine, SIPp, baresip and Chromium: in CI a missing one fails every test.

const PORT_BASE = 19060;
const missing = missingOf(labMissing(['sipp-echo', 'baresip']), chromiumMissing());
const out = tempDir('callwright-lite-lab-');
const labDir = join(out, 'lab');
const browserPids: number[] = [];
let state: LabState;
let labPids: number[] = [];

interface Run {
  run: CliRun;
  steps: Record<string, string>[];
  calls: Record<string, string>[];
  samples: Record<string, string>[];
}

/** alice (1000) is lite, bob (1001) a browser that answers by itself. */
async function runScenario(name: string, steps: string, options: { raceMayStay?: boolean } = {}): Promise<Run & { raced?: boolean }> {
  const yaml = `name: ${name}
target: { url: "${state.wsUrl}", domain: ${state.domain} }
roles:
  alice: { agent: lite, accounts: [{ user: "1000", password: secret1000 }] }
  bob: { accounts: [{ user: "1001", password: secret1001 }], autoAnswer: { after: 300ms } }
steps:
  - register: [alice, bob]
${steps}
  - unregister: [alice, bob]
`;
  let dir = join(out, 'runs', name);
  let run = await runCli(['run', writeScenario(out, name, yaml), '--out', dir, '--log-level', 'debug'], { timeoutMs: 110_000 });
  browserPids.push(...run.browserPids);
  const csv = (file: string) => (existsSync(join(dir, file)) ? readCsv(join(dir, file)) : []);
  // libdatachannel 0.24.5's DTLS startup race (docs/lite-agents.md) can still fail a lite offer to rtpengine: reported as
  // the harness's lite_dtls_race, never as the far end's. Only that failure earns one more try; any other fails the test.
  const onlyRaced = () => {
    const calls = csv('calls.csv');
    return run.code !== 0 && calls.some((c) => c.failure_reason === 'lite_dtls_race') && calls.every((c) => c.result === 'success' || c.failure_reason === 'lite_dtls_race');
  };
  if (onlyRaced()) {
    dir = join(out, 'runs', `${name}-again`);
    run = await runCli(['run', writeScenario(out, name, yaml), '--out', dir, '--log-level', 'debug'], { timeoutMs: 110_000 });
    browserPids.push(...run.browserPids);
  }
  if (options.raceMayStay && onlyRaced()) return { run, steps: csv('steps.csv'), calls: csv('calls.csv'), samples: csv('samples.csv'), raced: true };
  expect(run.code, run.stderr.slice(-3000)).toBe(0);
  const result = { run, steps: csv('steps.csv'), calls: csv('calls.csv'), samples: csv('samples.csv') };
  expect(result.steps.filter((s) => s.ok !== 'true').map((s) => `${s.name}: ${s.detail}`)).toEqual([]);
  expect(readJson(join(dir, 'summary.json')).exitCode).toBe(0);
  return result;
}

const callNamed = (run: Run, name: string) => run.calls.find((c) => c.name === name)!;



describe.skipIf(skipped(missing))(named('lite agents through a real lab (Kamailio, rtpengine, SIPp echo, baresip)', missing), () => {
  beforeAll(async () => {
    if (missing !== undefined) return;
    ({ state, pids: labPids } = await startTestLab(labDir, PORT_BASE, ['--devices', 'sipp-echo', 'baresip', '--no-turn']));
  }, 90_000);
  beforeEach(() => requirePrerequisites(missing));
  afterAll(async () => {
    if (missing !== undefined) return;
    await stopTestLab(labDir, labPids, browserPids);
  }, 90_000);

  it('lite -> rtpengine -> SIPp echo: PCMU both ways, the echo carries the lite leg\'s own frames; SIP INFO DTMF answered 200; hold stops what comes back', async () => {
    const result = await runScenario('lite-echo', `
  - call: { from: alice, to: "sip:echo@{domain}", name: echo, until: established }
  - expect: { media: flowing, direction: both, within: 5s }
  - expect: { codec: PCMU, direction: both }
  - expect: { firstAudio: 2s }
  - dtmf: { role: alice, tones: "123", mode: info }
  - wait: 2s
  - hold: alice
  - expect: { media: stopped, direction: in, role: alice, within: 5s }
  - unhold: alice
  - expect: { media: flowing, direction: both, within: 5s }
  - hangup: alice
  - expect: { state: ended }`);
    const call = callNamed(result, 'echo');
    expect(call).toMatchObject({ result: 'success', sip_status: '200', caller_agent: 'lite', codec_out: 'PCMU', codec_in: 'PCMU', one_way_audio: 'false' });
    // The device echoed the fixture's PCMU frames unchanged: nearly every packet back is one of them.
    expect(Number(call.known_frames_ratio)).toBeGreaterThan(0.95);
    const atDevice = sippMessages(state.devices.find((d) => d.name === 'sipp-echo')!.trace, call.sip_call_id!);
    // The device got plain RTP (rtpengine removed ICE and DTLS from the lite offer) ...
    expect(atDevice.find((m) => /^INVITE sip:/m.test(m))).toMatch(/m=audio \d+ RTP\/AVP /);
    // ... the INFO digits, answered 200 each, and the hold as sendonly answered recvonly.
    expect(atDevice.filter((m) => /^INFO sip:/m.test(m)).map((m) => /^Signal=(.)/m.exec(m)?.[1]).join('')).toBe('123');
    const offers = atDevice.filter((m) => /^INVITE sip:/m.test(m)).map((m) => /a=(sendrecv|sendonly|recvonly|inactive)/.exec(m)?.[1] ?? 'sendrecv');
    expect(offers).toEqual(['sendrecv', 'sendonly', 'sendrecv']);
  });

  it('lite -> rtpengine -> baresip: RFC 4733 digits from the lite leg are the ones baresip logs', async () => {
    const baresipLog = state.devices.find((d) => d.name === 'baresip')!.trace;
    const before = readFileSync(baresipLog, 'utf8').length;
    const result = await runScenario('lite-baresip', `
  - call: { from: alice, to: "sip:baresip@{domain}", name: rfc4733, codecs: [PCMU, telephone-event], until: established }
  - expect: { media: flowing, direction: both, within: 5s }
  - dtmf: { role: alice, tones: "159#", mode: rfc4733, duration: 200ms, gap: 100ms }
  - wait: 1s
  - hangup: alice`, { raceMayStay: true });
    if (result.raced) {
      // Against rtpengine in front of baresip the race is frequent under CI load (2 runs of 2 in one CI run): the verdict
      // must then be the harness's own, with the far end never blamed (docs/lite-agents.md).
      expect(callNamed(result, 'rfc4733')).toMatchObject({ result: 'failed', failure_reason: 'lite_dtls_race', caller_agent: 'lite' });
      expect(callNamed(result, 'rfc4733').failure_detail).toMatch(/DTLS startup race/);
      return;
    }
    expect(callNamed(result, 'rfc4733')).toMatchObject({ result: 'success', caller_agent: 'lite', codec_out: 'PCMU', codec_in: 'PCMU' });
    const received = (await waitForText(baresipLog, "received event: '#' (end=1)")).slice(before);
    expect([...received.matchAll(/received event: '(.)' \(end=1\)/g)].map((m) => m[1]).join('')).toBe('159#');
  });

  it('lite <-> browser through Kamailio, both ways: Opus, media both ways, the browser counts what the lite leg sent', async () => {
    const result = await runScenario('lite-browser', `
  - call: { from: alice, to: bob, name: l2b, until: established }
  - expect: { media: flowing, direction: both, within: 5s }
  - wait: 3s
  - hangup: alice
  - call: { from: bob, to: alice, name: b2l }
  - answer: alice
  - expect: { state: established }
  - expect: { media: flowing, direction: both, within: 5s }
  - hangup: bob`);
    expect(callNamed(result, 'l2b')).toMatchObject({ result: 'success', caller_agent: 'lite', callee_agent: 'browser', codec_out: 'opus', codec_in: 'opus', packets_lost: '0' });
    expect(callNamed(result, 'b2l')).toMatchObject({ result: 'success', caller_agent: 'browser', callee_agent: 'lite', codec_out: 'opus', codec_in: 'opus' });
    const last = (role: string, call: string) => result.samples.filter((s) => s.role === role && s.call_id === call).at(-1)!;
    expect(Number(last('bob', '1.l2b').packets_received)).toBeGreaterThan(150);
  });

  it('SIP device -> lite: SIPp calls the registered lite agent, which answers and gets media until the device hangs up', async () => {
    const name = 'device-to-lite';
    const yaml = `name: ${name}
target: { url: "${state.wsUrl}", domain: ${state.domain} }
roles:
  alice: { agent: lite, accounts: [{ user: "1000", password: secret1000 }] }
steps:
  - register: alice
  - answer: { role: alice, incoming: true, as: fromDevice, after: 0.3s, timeout: 60s }
  - expect: { call: fromDevice, state: established }
  - expect: { call: fromDevice, media: flowing, direction: both, within: 5s }
  - expect: { call: fromDevice, codec: PCMU, direction: both }
  - expect: { call: fromDevice, state: ended, within: 30s }
  - unregister: alice
`;
    const dir = join(out, 'runs', name);
    const running = runCli(['run', writeScenario(out, name, yaml), '--out', dir, '--log-level', 'debug'], { timeoutMs: 110_000 });
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const device = await runCli(['lab', 'call', '--dir', labDir, '--to', '1000', '--seconds', '5', '--wait', '20'], { timeoutMs: 60_000 });
    const run = await running;
    browserPids.push(...run.browserPids);
    expect(device.code, `${device.stdout}\n${device.stderr}`).toBe(0);
    expect(device.stdout).toMatch(/device call to sip:1000@callwright\.lab: 200 OK, held 5 s and hung up/);
    expect(run.code, run.stderr.slice(-3000)).toBe(0);
    const [call] = readCsv(join(dir, 'calls.csv'));
    // A call from outside callwright: its only callwright leg is the lite callee's (caller_role "-").
    expect(call).toMatchObject({ result: 'success', caller_agent: 'lite', codec_out: 'PCMU', codec_in: 'PCMU' });
    expect(readCsv(join(dir, 'steps.csv')).filter((s) => s.ok !== 'true')).toEqual([]);
    const samples = readCsv(join(dir, 'samples.csv')).filter((s) => s.role === 'alice');
    expect(Math.max(...samples.map((s) => Number(s.packets_received)))).toBeGreaterThan(100);
  });
});
