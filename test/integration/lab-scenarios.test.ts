import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { missingLabPrerequisites, type LabState } from '../../src/lab/index.js';
import { chromiumMissing, itNeeding, labMissing, missingOf, named, requirePrerequisites, skipped } from './prerequisites.js';
import { startTestLab, stopTestLab, sippMessages, waitForText } from './testLab.js';
import { readCsv, readJson, ROOT, runCli, tempDir, type CliRun } from './support.js';

// Every scenarios/lab/*.yaml through the real CLI against one real lab (Kamailio, rtpengine,
// the SIPp echo device, baresip) on its own ports (7060..7359) and in its own temp dir, so it
// never meets lab-infra.test.ts (15060/16060) or a developer's lab (5060). Each test checks the
// scenario's verdict AND the evidence: calls.csv, samples.csv, summary.json, and what the far
// end logged (the echo device's SIP trace, baresip's log, Kamailio's log).
//
// Needs Kamailio, rtpengine and Chromium; most tests also the SIPp echo device, the DTMF one
// baresip too. Outside CI a missing one skips (the reason in the name); in CI (env CI set) the
// tests that need it FAIL: the far-end proofs cannot vanish from a green CI run.

const PORT_BASE = 7060;
const scenarioDir = join(ROOT, 'scenarios', 'lab');

const missing = missingOf(labMissing(), chromiumMissing());
const echoMissing = labMissing(['sipp-echo']);
const bothDevicesMissing = labMissing(['sipp-echo', 'baresip']);
/** The lab brings up the devices that are installed; the tests that need one that is not skip or fail. */
const devices = (['sipp-echo', 'baresip'] as const).filter((device) => missingLabPrerequisites([device]).length === 0);
const itWithEcho = itNeeding(echoMissing);
const itWithBothDevices = itNeeding(bothDevicesMissing);

const out = tempDir('callwright-lab-scenarios-');
const labDir = join(out, 'lab');
const browserPids: number[] = [];
let state: LabState;

interface ScenarioRun {
  run: CliRun;
  dir: string;
  calls: Record<string, string>[];
  steps: Record<string, string>[];
  samples: Record<string, string>[];
  summary: any;
  call: (name: string) => Record<string, string>;
}

/** `callwright run scenarios/lab/<name>.yaml --target <this lab>`, and its reports. */
async function runLabScenario(name: string, options: { whileRunning?: () => Promise<unknown> } = {}): Promise<ScenarioRun> {
  const dir = join(out, 'runs', name);
  const running = runCli(['run', join(scenarioDir, `${name}.yaml`), '--target', state.wsUrl, '--out', dir, '--log-level', 'debug'], { timeoutMs: 110_000 });
  await options.whileRunning?.();
  const run = await running;
  browserPids.push(...run.browserPids);
  const file = (f: string) => join(dir, f);
  const calls = existsSync(file('calls.csv')) ? readCsv(file('calls.csv')) : [];
  return {
    run,
    dir,
    calls,
    steps: existsSync(file('steps.csv')) ? readCsv(file('steps.csv')) : [],
    samples: existsSync(file('samples.csv')) ? readCsv(file('samples.csv')) : [],
    summary: existsSync(file('summary.json')) ? readJson(file('summary.json')) : undefined,
    call: (callName) => {
      const row = calls.find((c) => c['name'] === callName);
      if (!row) throw new Error(`no call '${callName}' in ${file('calls.csv')}`);
      return row;
    },
  };
}

function expectPass(result: ScenarioRun, scenario: string): void {
  expect(result.run.code, result.run.stderr.slice(-3000)).toBe(0);
  expect(result.run.stdout).toContain(`${scenario}: PASS`);
  expect(result.steps.length).toBeGreaterThan(0);
  expect(result.steps.filter((s) => s['ok'] !== 'true')).toEqual([]);
  expect(result.summary.exitCode).toBe(0);
}



/** Kamailio's log lines of one call (its log prefix carries the Call-ID). */
function kamailioLines(callId: string): string[] {
  return readFileSync(join(labDir, 'kamailio.log'), 'utf8')
    .split('\n')
    .filter((line) => line.includes(callId));
}

/** The rates of one role's leg of a call (by its calls.csv call_id), in time order. */
function rates(result: ScenarioRun, callId: string, role: string, column: 'in_packet_rate' | 'out_packet_rate'): number[] {
  const values = result.samples.filter((s) => s['call_id'] === callId && s['role'] === role).map((s) => Number(s[column] || 0));
  if (values.length === 0) throw new Error(`no samples of ${role} on call ${callId}`);
  return values;
}


describe.skipIf(skipped(missing))(named('lab scenarios through the CLI against a real lab', missing), () => {
  let labPids: number[] = [];

  beforeAll(async () => {
    if (missing !== undefined) return; // in CI: each test fails with the reason
    ({ state, pids: labPids } = await startTestLab(labDir, PORT_BASE, ['--devices', ...(devices.length > 0 ? devices : ['none'])]));
    expect(state.mtuFallback).toBe(false);
  }, 90_000);

  // In CI a missing lab or Chromium fails every test here, with the reason.
  beforeEach(() => requirePrerequisites(missing));

  afterAll(async () => {
    if (missing !== undefined) return;
    // Nothing of ours is left: no lab process (nor its process group), no Chromium.
    const down = await stopTestLab(labDir, labPids, browserPids);
    expect(down.stdout).toMatch(/stopped: /);
    expect(existsSync(join(labDir, 'lab.json'))).toBe(false);
  }, 90_000);

  it('(1) browser -> Kamailio -> browser: both register with digest auth, call, Opus both ways peer to peer', async () => {
    const result = await runLabScenario('browser-to-browser');
    expectPass(result, 'lab-browser-to-browser');
    const call = result.call('main');
    expect(call).toMatchObject({ result: 'success', sip_status: '200', caller_role: 'alice', callee_role: 'bob', codec_out: 'opus', codec_in: 'opus', one_way_audio: 'false' });
    expect(Number(call['setup_s'])).toBeGreaterThanOrEqual(0.5); // bob answers after 0.5 s
    expect(result.summary.registrations).toEqual({ attempted: 2, succeeded: 2 });
    const log = readFileSync(join(labDir, 'kamailio.log'), 'utf8');
    expect(log).toMatch(/registered 1000 -> <sip:[^>]+;transport=ws>;expires=600/);
    expect(log).toMatch(/registered 1001 -> <sip:[^>]+;transport=ws>;expires=600/);
    expect(kamailioLines(call['sip_call_id']!).join('\n')).toContain('media: browser to browser, no rtpengine');
    for (const role of ['alice', 'bob']) {
      expect(Math.max(...rates(result, '1.main', role, 'in_packet_rate')), role).toBeGreaterThan(20);
      expect(Math.max(...rates(result, '1.main', role, 'out_packet_rate')), role).toBeGreaterThan(20);
    }
  });

  itWithEcho(`(2) browser -> Kamailio + rtpengine -> SIPp echo device: PCMU, two-way audio on the browser leg`, async () => {
    const result = await runLabScenario('browser-to-echo');
    expectPass(result, 'lab-browser-to-echo');
    const call = result.call('main');
    expect(call).toMatchObject({ result: 'success', sip_status: '200', codec_out: 'PCMU', codec_in: 'PCMU', one_way_audio: 'false' });
    expect(Number(call['time_to_first_audio_s'])).toBeLessThan(2);
    expect(Math.max(...rates(result, '1.main', 'alice', 'in_packet_rate'))).toBeGreaterThan(40);
    expect(Math.max(...rates(result, '1.main', 'alice', 'out_packet_rate'))).toBeGreaterThan(40);
    // The device got plain RTP/AVP (rtpengine removed ICE and DTLS) and answered in PCMU.
    const atDevice = sippMessages(state.devices.find((d) => d.name === 'sipp-echo')!.trace, call['sip_call_id']!);
    const invite = atDevice.find((m) => /^INVITE /m.test(m))!;
    expect(invite).toMatch(/m=audio \d+ RTP\/AVP /);
    expect(invite).not.toContain('a=fingerprint');
    expect(atDevice.find((m) => /^SIP\/2\.0 200 OK/m.test(m) && /CSeq: \d+ INVITE/.test(m))).toMatch(/a=rtpmap:0 PCMU\/8000/);
  });

  itWithEcho(`(3) SIP device -> browser: SIPp calls the registered browser, which rings, answers, gets media, and the device hangs up`, async () => {
    let device: CliRun | undefined;
    const result = await runLabScenario('device-to-browser', {
      // The browser registers a moment after the run starts: `lab call` retries while it gets 404.
      whileRunning: async () => {
        device = await runCli(['lab', 'call', '--dir', labDir, '--to', '1001', '--seconds', '6', '--wait', '40'], { timeoutMs: 100_000 });
      },
    });
    expect(device?.code, `${device?.stdout}\n${device?.stderr}`).toBe(0);
    expect(device?.stdout).toMatch(/device call to sip:1001@callwright\.lab: 200 OK, held 6 s and hung up/);
    expectPass(result, 'lab-device-to-browser');
    const call = result.call('fromDevice');
    expect(call).toMatchObject({ result: 'success', sip_status: '200', callee_role: 'bob', codec_out: 'PCMU', codec_in: 'PCMU', one_way_audio: 'false' });
    expect(call['from']).toMatch(/^sip:sipp@127\.0\.0\.1/);
    // It rang first (180 from the browser, then 200 after bob's 0.5 s answer delay); the answer the device got is plain RTP.
    expect(Number(call['setup_s'])).toBeGreaterThanOrEqual(0.5);
    const deviceTrace = readFileSync(/SIPp trace: (\S+)/.exec(device!.stdout)![1]!, 'utf8');
    const deviceSaw = sippMessages(/SIPp trace: (\S+)/.exec(device!.stdout)![1]!, call['sip_call_id']!).map((m) => /^(SIP\/2\.0 \d+|INVITE|ACK|BYE|CANCEL|INFO|UPDATE) /m.exec(m)?.[1]);
    // First occurrences (a retransmission may repeat one), then the BYE's 200 last.
    expect([...new Set(deviceSaw)]).toEqual(['INVITE', 'SIP/2.0 100', 'SIP/2.0 180', 'SIP/2.0 200', 'ACK', 'BYE']);
    expect(deviceSaw.at(-1)).toBe('SIP/2.0 200');
    expect(deviceTrace).toMatch(/SIP\/2\.0 200 OK[\s\S]*?m=audio \d+ RTP\/AVP 0\b/);
    expect(Number(call['duration_s'])).toBeGreaterThan(4);
    expect(Math.max(...rates(result, call['call_id']!, 'bob', 'in_packet_rate'))).toBeGreaterThan(40);
    expect(Math.max(...rates(result, call['call_id']!, 'bob', 'out_packet_rate'))).toBeGreaterThan(40);
    // The device's BYE reached the browser through Kamailio.
    expect(kamailioLines(call['sip_call_id']!).join('\n')).toMatch(/--> BYE sip:/);
  });

  itWithBothDevices(`(4) DTMF: RFC 4733 digits received by baresip (its log), SIP INFO received and answered 200 by the echo device`, async () => {
    const baresipLog = state.devices.find((d) => d.name === 'baresip')!.trace;
    const before = readFileSync(baresipLog, 'utf8').length;
    const result = await runLabScenario('dtmf');
    expectPass(result, 'lab-dtmf');
    expect(result.call('rfc4733')).toMatchObject({ result: 'success', sip_status: '200', codec_out: 'PCMU', codec_in: 'PCMU' });
    expect(result.steps.find((s) => s['kind'] === 'dtmf' && s['call'] === 'rfc4733')?.['detail']).toMatch(/sent "159#" \(rfc4733\): \d+ packets/);
    const received = (await waitForText(baresipLog, "received event: '#' (end=1)")).slice(before);
    const digits = [...received.matchAll(/received event: '(.)' \(end=1\)/g)].map((m) => m[1]).join('');
    expect(digits).toBe('159#');

    const info = result.call('info');
    const atDevice = sippMessages(state.devices.find((d) => d.name === 'sipp-echo')!.trace, info['sip_call_id']!);
    const infos = atDevice.filter((m) => /^INFO sip:/m.test(m));
    expect(infos.map((m) => /^Signal=(.)/m.exec(m)?.[1]).join('')).toBe('123');
    expect(infos.every((m) => /Content-Type: application\/dtmf-relay/.test(m))).toBe(true);
    expect(atDevice.filter((m) => /^SIP\/2\.0 200 OK/m.test(m) && /CSeq: \d+ INFO/.test(m))).toHaveLength(3);
  });

  itWithEcho(`(5) hold/unhold against the echo device: sendonly answered recvonly, received audio stops, then resumes`, async () => {
    const result = await runLabScenario('hold-echo');
    expectPass(result, 'lab-hold-echo');
    const call = result.call('main');
    expect(call).toMatchObject({ result: 'success', sip_status: '200', codec_in: 'PCMU' });
    const atDevice = sippMessages(state.devices.find((d) => d.name === 'sipp-echo')!.trace, call['sip_call_id']!);
    const offers = atDevice.filter((m) => /^INVITE sip:/m.test(m)).map((m) => /a=(sendrecv|sendonly|recvonly|inactive)/.exec(m)?.[1] ?? 'sendrecv');
    const answers = atDevice.filter((m) => /^SIP\/2\.0 200 OK/m.test(m) && /CSeq: \d+ INVITE/.test(m)).map((m) => /a=(sendrecv|sendonly|recvonly|inactive)/.exec(m)?.[1]);
    expect(offers).toEqual(['sendrecv', 'sendonly', 'sendrecv']);
    expect(answers).toEqual(['sendrecv', 'recvonly', 'sendrecv']);
    // Media measured: flowing, then at least two 1 s samples with nothing received, then flowing again.
    const incoming = rates(result, '1.main', 'alice', 'in_packet_rate');
    const firstFlowing = incoming.findIndex((r) => r > 40);
    const firstStopped = incoming.findIndex((r, i) => i > firstFlowing && r === 0);
    const resumed = incoming.findIndex((r, i) => i > firstStopped && r > 20);
    expect(firstFlowing, incoming.join(' ')).toBeGreaterThanOrEqual(0);
    expect(firstStopped, incoming.join(' ')).toBeGreaterThan(firstFlowing);
    expect(resumed - firstStopped, incoming.join(' ')).toBeGreaterThanOrEqual(2);
    expect(incoming.slice(firstStopped, resumed).every((r) => r === 0)).toBe(true);
    // Alice kept sending while holding (sendonly).
    expect(Math.min(...rates(result, '1.main', 'alice', 'out_packet_rate').slice(firstStopped, resumed))).toBeGreaterThan(40);
  });

  itWithEcho(`(6) blind transfer: alice REFERs bob (browser to browser) to the echo device; bob's new call has PCMU both ways`, async () => {
    const result = await runLabScenario('transfer-to-echo');
    expectPass(result, 'lab-transfer-to-echo');
    const main = result.call('main');
    const transferred = result.call('transferred');
    expect(main).toMatchObject({ result: 'success', sip_status: '200', codec_out: 'opus', codec_in: 'opus' });
    expect(transferred).toMatchObject({ result: 'success', sip_status: '200', caller_role: 'bob', to: 'sip:echo@callwright.lab', codec_out: 'PCMU', codec_in: 'PCMU', one_way_audio: 'false' });
    expect(kamailioLines(main['sip_call_id']!).join('\n')).toMatch(/--> REFER sip:/);
    const atDevice = sippMessages(state.devices.find((d) => d.name === 'sipp-echo')!.trace, transferred['sip_call_id']!);
    expect(atDevice.some((m) => /^INVITE sip:echo@/m.test(m))).toBe(true);
    expect(result.summary.calls).toMatchObject({ total: 2, succeeded: 2, failed: 0 });
  });

  itWithEcho(`(7) codec-restricted offers: PCMU-only and PCMA-only negotiate that codec; Opus-only gets 488, reported as an expected failure`, async () => {
    const result = await runLabScenario('codecs-echo');
    expectPass(result, 'lab-codecs-echo');
    expect(result.call('pcmu')).toMatchObject({ result: 'success', sip_status: '200', codec_out: 'PCMU', codec_in: 'PCMU' });
    expect(result.call('pcma')).toMatchObject({ result: 'success', sip_status: '200', codec_out: 'PCMA', codec_in: 'PCMA' });
    expect(result.call('opus')).toMatchObject({ result: 'failed', failure_expected: 'true', sip_status: '488', failure_reason: 'sip_status', failure_detail: 'SIP 488 Not Acceptable Here' });
    expect(result.summary.calls).toMatchObject({ total: 3, succeeded: 2, failed: 1, failedExpected: 1, byReason: { sip_status: 1 } });
    const trace = state.devices.find((d) => d.name === 'sipp-echo')!.trace;
    const opusOffer = sippMessages(trace, result.call('opus')['sip_call_id']!).find((m) => /^INVITE /m.test(m))!;
    expect(opusOffer).toMatch(/m=audio \d+ RTP\/AVP 111\b/);
    expect(opusOffer).not.toMatch(/PCMU|PCMA/);
    expect(sippMessages(trace, result.call('opus')['sip_call_id']!).some((m) => /^SIP\/2\.0 488 /m.test(m))).toBe(true);
    expect(sippMessages(trace, result.call('pcma')['sip_call_id']!).find((m) => /^INVITE /m.test(m))).not.toContain('PCMU');
  });

  itWithEcho(`(8) extra SDP lines: b=AS/b=TIAS reach the echo device in the INVITE; browser to browser in the INVITE and in the 200 OK`, async () => {
    const result = await runLabScenario('extra-sdp');
    expectPass(result, 'lab-extra-sdp');
    const toDevice = result.call('toDevice');
    const invite = sippMessages(state.devices.find((d) => d.name === 'sipp-echo')!.trace, toDevice['sip_call_id']!).find((m) => /^INVITE /m.test(m))!;
    // Session level, before t= (rtpengine rewrote the SDP for the device and moved c= into the media section).
    expect(invite).toMatch(/^b=AS:3000\r?\nb=TIAS:2500000\r?\nt=0 0/m);
    const detail = (name: string) => result.steps.find((s) => s['name'] === name)?.['detail'];
    expect(detail('expect SDP received has b=AS:3000, b=TIAS:2500000 on browsers at bob')).toBe('bob: SDP received has b=AS:3000, b=TIAS:2500000');
    expect(detail('expect SDP received has b=AS:64, b=TIAS:64000 on browsers at alice')).toBe('alice: SDP received has b=AS:64, b=TIAS:64000');
    expect(result.call('browsers')).toMatchObject({ result: 'success', sip_status: '200', one_way_audio: 'false' });
  });

  it('(10a) logins with a space and angle brackets are refused before anything is sent: exit 2, the escaped spelling named', async () => {
    const registersBefore = (readFileSync(join(labDir, 'kamailio.log'), 'utf8').match(/--> REGISTER /g) ?? []).length;
    for (const command of ['validate', 'run']) {
      const dir = join(out, 'runs', `login-unescaped-${command}`);
      // --log-level debug: a Chromium started would log its pid (run.browserPids); without it that check could not fail.
      const args = command === 'run' ? ['run', join(scenarioDir, 'login-unescaped.yaml'), '--target', state.wsUrl, '--out', dir, '--log-level', 'debug'] : ['validate', join(scenarioDir, 'login-unescaped.yaml')];
      const run = await runCli(args, { timeoutMs: 30_000 });
      expect(run.code, command).toBe(2);
      expect(run.stderr).toContain('roles.first.accounts[0].user: "first last" contains a space, which RFC 3261 does not allow in a SIP user; percent-escape it: "first%20last"');
      expect(run.stderr).toContain('roles.ops.accounts[0].user: "<ops>" contains "<" and ">", which RFC 3261 does not allow in a SIP user; percent-escape it: "%3Cops%3E"');
      expect(run.stderr).not.toMatch(/\n\s+at /); // one clear message, no stack
      expect(run.browserPids).toEqual([]);
      expect(existsSync(join(dir, 'calls.csv'))).toBe(false);
    }
    const registersAfter = (readFileSync(join(labDir, 'kamailio.log'), 'utf8').match(/--> REGISTER /g) ?? []).length;
    expect(registersAfter).toBe(registersBefore);
  });

  it('(10b) the same logins percent-escaped register with digest auth and call each other', async () => {
    const result = await runLabScenario('login-escaped');
    expectPass(result, 'lab-login-escaped');
    expect(result.call('main')).toMatchObject({ result: 'success', sip_status: '200', from: 'sip:first%20last@callwright.lab', to: 'sip:%3Cops%3E@callwright.lab', one_way_audio: 'false' });
    expect(result.summary.registrations).toEqual({ attempted: 2, succeeded: 2 });
    const log = readFileSync(join(labDir, 'kamailio.log'), 'utf8');
    expect(log).toMatch(/registered first%20last -> /);
    expect(log).toMatch(/registered %3Cops%3E -> /);
  });

  itWithEcho(`(11) audio+video offer answered audio-only (m=video 0): the report shows whether audio flows both ways`, async () => {
    const result = await runLabScenario('audio-video-to-audio-only');
    expectPass(result, 'lab-audio-video-to-audio-only');
    const call = result.call('main');
    // Measured, not assumed: here the audio DOES flow both ways (rtpengine and Chromium handle the rejected video m-line).
    expect(call).toMatchObject({ result: 'success', sip_status: '200', codec_out: 'PCMU', codec_in: 'PCMU', one_way_audio: 'false' });
    expect(Number(call['invite_bytes'])).toBeGreaterThan(4000); // the video offer, every codec
    const atDevice = sippMessages(state.devices.find((d) => d.name === 'sipp-echo')!.trace, call['sip_call_id']!);
    expect(atDevice.find((m) => /^INVITE /m.test(m))).toMatch(/^m=video [1-9]\d* RTP\/AVP /m);
    expect(atDevice.find((m) => /^SIP\/2\.0 200 OK/m.test(m) && /CSeq: \d+ INVITE/.test(m))).toMatch(/^m=video 0 /m);
    const samples = result.samples.filter((s) => s['call_id'] === '1.main' && s['role'] === 'alice');
    expect(Math.max(...samples.map((s) => Number(s['in_packet_rate'] || 0)))).toBeGreaterThan(40);
    expect(Math.max(...samples.map((s) => Number(s['out_packet_rate'] || 0)))).toBeGreaterThan(40);
    expect(Math.max(...samples.map((s) => Number(s['video_frames_decoded'] || 0)))).toBe(0);
  });

  it('covers every scenario in scenarios/lab', () => {
    const covered = ['audio-video-to-audio-only', 'browser-to-browser', 'browser-to-echo', 'codecs-echo', 'device-to-browser', 'dtmf', 'extra-sdp', 'hold-echo', 'login-escaped', 'login-unescaped', 'relay-browser-to-browser', 'relay-browser-to-echo', 'transfer-to-echo']; // relay-*: test/integration/turn-relay.test.ts
    expect(readdirSync(scenarioDir).filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/\.yaml$/, '')).sort()).toEqual(covered);
  });
});
