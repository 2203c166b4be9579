import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LabState } from '../../src/lab/index.js';
import { chromiumMissing, labMissing, missingOf, named, requirePrerequisites, skipped } from './prerequisites.js';
import { startTestLab, stopTestLab } from './testLab.js';
import { readCsv, readJson, runCli, tempDir, writeScenario, type CliRun } from './support.js';

// Transcoding caught, for real: two browsers call each other through a lab Kamailio (its own
// ports, 18060..18359, no device, no TURN). On the normal route their media goes peer to peer
// in Opus and nothing is transcoded; on the transcoding route (an INVITE with "X-Transcode:
// PCMU", or a call to sip:transcode-<user>) Kamailio puts rtpengine in the middle with
// always-transcode codec-mask-all codec-transcode-PCMU, so the callee gets PCMU while the caller
// keeps Opus and rtpengine (libavcodec) re-encodes both ways. callwright compares the codec each
// leg encodes with the one the other decodes (getStats) and must flag exactly that call, with
// audio still flowing both ways through the transcoder, and still after a hold at either end.
//
// Needs Kamailio, rtpengine and Chromium. Outside CI a missing one skips (the reason in the
// name); in CI (env CI set) every test FAILS with it.

const PORT_BASE = 18060;
const missing = missingOf(labMissing(), chromiumMissing());

const out = tempDir('callwright-transcoding-lab-');
const labDir = join(out, 'lab');
const browserPids: number[] = [];
let state: LabState;
let labPids: number[] = [];

interface Run {
  run: CliRun;
  dir: string;
  steps: Record<string, string>[];
  calls: Record<string, string>[];
  samples: Record<string, string>[];
  summary: any;
}

async function runScenario(name: string, steps: string, options = ''): Promise<Run> {
  const yaml = `name: ${name}
target: { url: "${state.wsUrl}", domain: ${state.domain} }
${options}
roles:
  alice: { accounts: [{ user: "1000", password: secret1000 }] }
  bob: { accounts: [{ user: "1001", password: secret1001 }] }
steps:
  - register: [alice, bob]
${steps}
  - unregister: [alice, bob]
`;
  const dir = join(out, 'runs', name);
  const run = await runCli(['run', writeScenario(out, name, yaml), '--out', dir, '--log-level', 'debug'], { timeoutMs: 110_000 });
  browserPids.push(...run.browserPids);
  const csv = (file: string) => (existsSync(join(dir, file)) ? readCsv(join(dir, file)) : []);
  const summary = existsSync(join(dir, 'summary.json')) ? readJson(join(dir, 'summary.json')) : undefined;
  return { run, dir, steps: csv('steps.csv'), calls: csv('calls.csv'), samples: csv('samples.csv'), summary };
}

/** A call alice -> bob (extra fields for the call step), answered, with media both ways for a few seconds. */
function call(name: string, extra: string, checks: string): string {
  return `  - call: { from: alice, to: bob, name: ${name}${extra} }
  - answer: { role: bob, call: ${name} }
  - expect: { state: established, call: ${name} }
  - expect: { media: flowing, direction: both, within: 8s, call: ${name} }
${checks}
  - wait: 2s
  - expect: { media: flowing, direction: both, call: ${name} }
  - hangup: { role: alice, call: ${name} }
  - expect: { state: ended, call: ${name} }`;
}

/** Highest packets/s a role's leg of a call received or sent. */
function maxRate(result: Run, callId: string, role: string, column: 'in_packet_rate' | 'out_packet_rate'): number {
  const values = result.samples.filter((s) => s['call_id'] === callId && s['role'] === role).map((s) => Number(s[column] || 0));
  if (values.length === 0) throw new Error(`no samples of ${role} on ${callId} in ${result.dir}`);
  return Math.max(...values);
}

/** Kamailio's log lines of one call (its log prefix carries the Call-ID). */
function kamailioLines(callId: string): string {
  return readFileSync(join(labDir, 'kamailio.log'), 'utf8')
    .split('\n')
    .filter((line) => line.includes(callId))
    .join('\n');
}

describe.skipIf(skipped(missing))(named('transcoding through rtpengine, caught (lab)', missing), () => {
  beforeAll(async () => {
    if (missing !== undefined) return; // in CI: each test fails with the reason
    ({ state, pids: labPids } = await startTestLab(labDir, PORT_BASE, ['--devices', 'none', '--no-turn']));
  }, 90_000);

  beforeEach(() => requirePrerequisites(missing));

  afterAll(async () => {
    if (missing !== undefined) return;
    await stopTestLab(labDir, labPids, browserPids);
  }, 90_000);

  it('the normal route (peer to peer, Opus) is not flagged; the transcoding route is, audio opus->PCMU and PCMU->opus, with audio flowing both ways', async () => {
    const steps = [
      call('direct', '', '  - expect: { codec: opus, direction: both, call: direct }\n  - expect: { transcoded: false, call: direct }'),
      call(
        'transcoded',
        ', headers: ["X-Transcode: PCMU"]',
        [
          '  - expect: { codec: opus, direction: both, call: transcoded, role: alice }',
          '  - expect: { codec: PCMU, direction: both, call: transcoded, role: bob }',
          '  - expect: { transcoded: true, call: transcoded }',
        ].join('\n'),
      ),
    ].join('\n');
    const result = await runScenario('transcoding', steps);
    expect(result.run.code, result.run.stderr.slice(-3000)).toBe(0);
    expect(result.steps.filter((s) => s['ok'] !== 'true')).toEqual([]);
    const detail = (name: string) => result.steps.find((s) => s['name'] === name)?.['detail'];
    expect(detail('expect not transcoded on direct')).toBe('not transcoded: alice encodes audio opus, bob decodes opus; bob encodes audio opus, alice decodes opus');
    expect(detail('expect transcoded on transcoded')).toBe(
      'transcoded audio opus->PCMU; audio PCMU->opus (alice encodes audio opus, bob decodes PCMU; bob encodes audio PCMU, alice decodes opus)',
    );

    const calls = new Map(result.calls.map((row) => [row['name'], row]));
    expect(calls.get('direct')).toMatchObject({ result: 'success', codec_out: 'opus', codec_in: 'opus', one_way_audio: 'false', transcoded: '' });
    expect(calls.get('transcoded')).toMatchObject({ result: 'success', codec_out: 'opus', codec_in: 'opus', one_way_audio: 'false', transcoded: 'audio opus->PCMU; audio PCMU->opus' });
    expect(result.summary.aggregates.calls.transcoded).toEqual({ calls: 1, byPair: { 'audio opus->PCMU': 1, 'audio PCMU->opus': 1 }, unknown: 0 });
    expect(result.run.stdout).toMatch(/transcoded\s*: 1 call \(audio opus->PCMU: 1, audio PCMU->opus: 1\)/);

    // Through the transcoder, audio flows both ways at the packet rate of each codec (20 ms packets: 50/s).
    for (const role of ['alice', 'bob']) {
      expect(maxRate(result, '1.transcoded', role, 'in_packet_rate'), `${role} in`).toBeGreaterThan(40);
      expect(maxRate(result, '1.transcoded', role, 'out_packet_rate'), `${role} out`).toBeGreaterThan(40);
    }
    // Which route each call took, in Kamailio's own words.
    expect(kamailioLines(calls.get('direct')!['sip_call_id']!)).toContain('media: browser to browser, no rtpengine');
    const transcodedLog = kamailioLines(calls.get('transcoded')!['sip_call_id']!);
    expect(transcodedLog).toContain('media: rtpengine transcodes, the callee is offered PCMU only');
    expect(transcodedLog).not.toContain('no rtpengine');
  });

  it('a hold and resume at either end keeps the call transcoded (re-INVITEs through rtpengine with codec flags)', async () => {
    const steps = `  - call: { from: alice, to: bob, headers: ["X-Transcode: PCMU"] }
  - answer: bob
  - expect: { media: flowing, direction: both, within: 8s }
  - expect: { transcoded: true }
  - hold: alice
  - expect: { media: stopped, direction: in, role: bob, within: 3s }
  - unhold: alice
  - expect: { media: flowing, direction: both, within: 5s }
  - hold: bob
  - expect: { media: stopped, direction: in, role: alice, within: 3s }
  - unhold: bob
  - expect: { media: flowing, direction: both, within: 5s }
  - wait: 1s
  - expect: { codec: opus, role: alice }
  - expect: { codec: PCMU, role: bob }
  - expect: { transcoded: true }
  - hangup: alice`;
    // Every call's SIP log kept (evidence of successful calls too): the SDP rtpengine answered is checked below.
    const result = await runScenario('transcoding-hold', steps, 'options: { evidence: { sampleSuccessful: 1 } }');
    const energy = result.samples.map((s) => `${s['role']} +${((Number(s['at_ms']) - Number(result.samples[0]?.['at_ms'])) / 1000).toFixed(1)} s: in ${s['in_packet_rate']} pkt/s, energy ${s['audio_energy_rate']}`);
    expect(result.run.code, `${result.calls[0]?.['failure_detail']}\n${energy.join('\n')}\n${result.run.stderr.slice(-3000)}`).toBe(0);
    expect(result.steps.filter((s) => s['ok'] !== 'true')).toEqual([]);
    expect(result.calls[0]).toMatchObject({ result: 'success', transcoded: 'audio opus->PCMU; audio PCMU->opus' });
    // rtpengine answers the callee's hold re-INVITE without comfort noise (codec-strip-CN; docs/lab.md says what CN did).
    const sipLog = readFileSync(join(result.dir, 'sip', '1.main.log'), 'utf8');
    const atBob = sipLog.split(/^--- /m).filter((message) => /^\S+ bob#0 received/.test(message));
    expect(atBob.filter((message) => message.includes('a=sendonly') || message.includes('a=recvonly')).length).toBeGreaterThan(0);
    expect(atBob.filter((message) => message.includes('CN/8000'))).toEqual([]);
  });

  it('expect transcoded: false fails on the transcoding route, naming the pair; a call to sip:transcode-<user> is transcoded too', async () => {
    const steps = [
      // bob answers the prefixed URI as a call from outside: one callwright leg per call, so each row shows its own codecs.
      `  - call: { from: alice, to: "sip:transcode-1001@{domain}", name: prefixed }
  - answer: { role: bob, incoming: true, as: atBob }
  - expect: { media: flowing, direction: both, within: 8s, call: prefixed }
  - expect: { codec: opus, direction: both, call: prefixed }
  - expect: { codec: PCMU, direction: both, call: atBob }
  - expect: { transcoded: false, call: prefixed, within: 1s }`,
    ].join('\n');
    const result = await runScenario('transcoding-prefix', steps);
    expect(result.run.code).toBe(1);
    const failed = result.steps.filter((s) => s['ok'] !== 'true');
    expect(failed).toHaveLength(1);
    // With one callwright leg the far end is not observed: not proof of "not transcoded".
    expect(failed[0]).toMatchObject({ name: 'expect not transcoded on prefixed', failure_reason: 'check_failed' });
    expect(failed[0]!['detail']).toContain("only alice leg is callwright's");
    const calls = new Map(result.calls.map((row) => [row['name'], row]));
    expect(calls.get('prefixed')).toMatchObject({ codec_out: 'opus', codec_in: 'opus', transcoded: 'unknown' });
    expect(calls.get('atBob')).toMatchObject({ codec_out: 'PCMU', codec_in: 'PCMU', transcoded: 'unknown' });
    expect(result.summary.aggregates.calls.transcoded).toEqual({ calls: 0, byPair: {}, unknown: 2 });

    const header = await runScenario('transcoding-refused', call('transcoded', ', headers: ["X-Transcode: PCMU"]', '  - expect: { transcoded: false, call: transcoded, within: 2s }'));
    expect(header.run.code).toBe(1);
    expect(header.steps.filter((s) => s['ok'] !== 'true')).toEqual([
      expect.objectContaining({
        name: 'expect not transcoded on transcoded',
        failure_reason: 'check_failed',
        detail: 'transcoded audio opus->PCMU; audio PCMU->opus (alice encodes audio opus, bob decodes PCMU; bob encodes audio PCMU, alice decodes opus)',
      }),
    ]);
  });
});
