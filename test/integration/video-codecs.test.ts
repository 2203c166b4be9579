import { join } from 'node:path';
import { afterAll, describe, expect } from 'vitest';
import { chromiumMissing, itNeeding } from './prerequisites.js';
import { processesInGroups, readCsv, runCli, tempDir, writeScenario } from './support.js';

// The video codec per direction, for real: two browser-to-browser video calls on the embedded
// server, one restricted to H.264, one to VP8. Each asserts the video codec each way with the
// codec check (kind taken from the codec: H264 and VP8 are video), the audio codec beside it,
// and no transcoding (both ends are callwright legs, so each encoded codec is compared with the
// one the far end decodes); then calls.csv says the same: video_codec_out/in, transcoded empty.
const out = tempDir('callwright-video-codecs-');
const browserPids: number[] = [];
const it = itNeeding(chromiumMissing());
afterAll(async () => {
  for (let i = 0; i < 50 && processesInGroups(browserPids).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  expect(processesInGroups(browserPids)).toEqual([]);
});

/** One video call restricted to `codec`, its checks: video both ways, the codec each way per leg. */
function videoCall(name: string, codec: string): string {
  return `
  - call: { from: alice, to: bob, name: ${name}, video: true, codecs: [opus, ${codec}] }
  - answer: { role: bob, call: ${name} }
  - expect: { state: established, call: ${name} }
  - expect: { media: flowing, kind: video, direction: both, within: 8s, call: ${name} }
  - expect: { codec: ${codec}, direction: out, call: ${name}, role: alice }
  - expect: { codec: ${codec}, direction: in, call: ${name}, role: alice }
  - expect: { codec: ${codec}, kind: video, direction: both, call: ${name}, role: bob }
  - expect: { codec: opus, direction: both, call: ${name} }
  - expect: { transcoded: false, call: ${name} }
  - wait: 1s
  - hangup: { role: alice, call: ${name} }
  - expect: { state: ended, call: ${name} }`;
}

const SCENARIO = `name: video-codecs
roles:
  alice: { accounts: [{ user: alice, password: secret }] }
  bob: { accounts: [{ user: bob, password: secret }] }
steps:
  - register: [alice, bob]${videoCall('h264', 'H264')}${videoCall('vp8', 'VP8')}
  - unregister: [alice, bob]
`;

describe('video codec per direction (embedded server, real Chromium)', () => {
  it('an H.264-only and a VP8-only call: the codec check sees that video codec each way, calls.csv has it, nothing transcoded', async () => {
    const dir = join(out, 'run');
    const run = await runCli(['run', writeScenario(out, 'video-codecs', SCENARIO), '--out', dir, '--log-level', 'debug', '--quiet']);
    browserPids.push(...run.browserPids);
    expect(run.code, run.stderr.slice(-3000)).toBe(0);
    const steps = readCsv(join(dir, 'steps.csv'));
    expect(steps.filter((s) => s['ok'] !== 'true')).toEqual([]);
    // What each check compared, in its own words.
    const detail = (name: string) => steps.find((s) => s['name'] === name)?.['detail'];
    expect(detail('expect codec H264 out on h264 at alice')).toBe('alice: video codec out H264, in H264');
    expect(detail('expect codec VP8 both on vp8 at bob')).toBe('bob: video codec out VP8, in VP8');
    expect(detail('expect codec opus both on vp8')).toBe('alice: audio codec out opus, in opus; bob: audio codec out opus, in opus');
    expect(detail('expect not transcoded on h264')).toBe(
      'not transcoded: alice encodes audio opus, bob decodes opus; bob encodes audio opus, alice decodes opus; alice encodes video H264, bob decodes H264; bob encodes video H264, alice decodes H264',
    );
    const calls = new Map(readCsv(join(dir, 'calls.csv')).map((call) => [call['name'], call]));
    expect(calls.get('h264')).toMatchObject({ result: 'success', codec_out: 'opus', codec_in: 'opus', video_codec_out: 'H264', video_codec_in: 'H264', transcoded: '' });
    expect(calls.get('vp8')).toMatchObject({ result: 'success', codec_out: 'opus', codec_in: 'opus', video_codec_out: 'VP8', video_codec_in: 'VP8', transcoded: '' });
    // Video really flowed: frames decoded at both ends of both calls (the fixture's 15 frames/s, about 2 s each).
    const samples = readCsv(join(dir, 'samples.csv'));
    for (const call of ['1.h264', '1.vp8']) {
      for (const role of ['alice', 'bob']) {
        const decoded = Math.max(...samples.filter((s) => s['call_id'] === call && s['role'] === role).map((s) => Number(s['video_frames_decoded'] || 0)));
        expect(decoded, `${role} on ${call}`).toBeGreaterThanOrEqual(20);
      }
    }
  });
});
