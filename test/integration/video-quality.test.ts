import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect } from 'vitest';
import { chromiumMissing, itNeeding } from './prerequisites.js';
import { processesInGroups, readCsv, runCli, tempDir, writeScenario } from './support.js';

// Video quality for real: a browser-to-browser video call on the embedded server, real Chromium
// and WebRTC, the fake camera playing fixtures/video.y4m (160x120 at 15 fps, asked for at 320x240).
// Received frame rate, size and bitrate each way come from getStats into samples.csv and calls.csv;
// then the caller's camera is taken off its sender for 2 s (`fault ... kind: video`), which the
// callee's getStats counts as a freeze once frames resume: its count, length and time are checked
// against the fault step's own time in steps.csv.
const out = tempDir('callwright-video-');
const browserPids: number[] = [];
const it = itNeeding(chromiumMissing());
afterAll(async () => {
  for (let i = 0; i < 50 && processesInGroups(browserPids).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  expect(processesInGroups(browserPids)).toEqual([]);
});

const scenario = (name: string, middle: string) => `
name: ${name}
roles:
  alice: { accounts: [{ user: alice, password: pa }] }
  bob: { accounts: [{ user: bob, password: pb }] }
steps:
  - register: [alice, bob]
  - call: { from: alice, to: bob, video: true }
  - answer: { role: bob }
  - expect: { media: flowing, kind: video, direction: both, within: 5s }
  - wait: 2s
  - expect: { video: { minFps: 10, minKbps: 10, minWidth: 100 }, role: bob, within: 5s }
  - expect: { video: { minFps: 10 }, role: alice, within: 5s }
${middle}
  - hangup: alice
`;

const FAULT = `  - fault: { role: alice, media: stop, kind: video }
  - wait: 2s
  - fault: { role: alice, media: restore, kind: video }
  - wait: 3s`;
const NO_FAULT = `  - wait: 5s
  - expect: { video: { maxFreezes: 0, maxFreezeSeconds: 0 }, role: bob }`;

async function run(name: string, middle: string) {
  const dir = join(out, name);
  const result = await runCli(['run', writeScenario(out, name, scenario(name, middle)), '--out', dir, '--log-level', 'debug', '--quiet'], { timeoutMs: 90_000 });
  browserPids.push(...result.browserPids);
  return {
    result,
    steps: readCsv(join(dir, 'steps.csv')),
    call: readCsv(join(dir, 'calls.csv'))[0]!,
    samples: readCsv(join(dir, 'samples.csv')),
    metrics: readFileSync(join(dir, 'metrics.prom'), 'utf8'),
    html: readFileSync(join(dir, 'report.html'), 'utf8'),
  };
}

const num = (cell: string | undefined) => (cell === undefined || cell === '' ? Number.NaN : Number(cell));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

describe('video quality per leg', () => {
  it('a video call without a fault: frame rate, size and bitrate both ways, no freeze; the video check passes', async () => {
    const { result, steps, call, samples, metrics, html } = await run('smooth', NO_FAULT);
    expect(result.code, result.stderr.slice(-2000)).toBe(0);
    expect(steps.filter((s) => s['ok'] !== 'true')).toEqual([]);
    const videoChecks = steps.filter((s) => /^expect video (fps|freezes)/.test(s['name']!));
    expect(videoChecks.map((s) => s['name'])).toEqual(['expect video fps>=10 kbps>=10 width>=100 at bob', 'expect video fps>=10 at alice', 'expect video freezes<=0 freeze<=0s at bob']);
    for (const role of ['alice', 'bob']) {
      // Samples of the established call, past its first second.
      const rows = samples.filter((s) => s['role'] === role && num(s['video_frames_decoded']) > 30);
      expect(rows.length, role).toBeGreaterThanOrEqual(4);
      expect(median(rows.map((s) => num(s['video_fps_in']))), role).toBeGreaterThan(10);
      expect(median(rows.map((s) => num(s['video_fps_out']))), role).toBeGreaterThan(10);
      expect(median(rows.map((s) => num(s['video_kbps_in']))), role).toBeGreaterThan(10);
      expect(median(rows.map((s) => num(s['video_kbps_out']))), role).toBeGreaterThan(10);
      for (const row of rows) {
        expect(num(row['video_width_in'])).toBeGreaterThan(0);
        expect(num(row['video_height_in'])).toBeGreaterThan(0);
        expect(num(row['video_width_out'])).toBeGreaterThan(0);
        expect(row['video_freezes']).toBe('0');
        expect(num(row['video_keyframes_in'])).toBeGreaterThanOrEqual(1);
        expect(row['video_quality_limitation']).toMatch(/^(none|cpu|bandwidth|other)$/);
      }
      console.log(`${role} received: fps ${median(rows.map((s) => num(s['video_fps_in']))).toFixed(1)}, ${median(rows.map((s) => num(s['video_kbps_in']))).toFixed(0)} kbps, ${rows.at(-1)!['video_width_in']}x${rows.at(-1)!['video_height_in']}; sent ${rows.at(-1)!['video_width_out']}x${rows.at(-1)!['video_height_out']}, limitation ${rows.at(-1)!['video_quality_limitation']}`);
    }
    expect(num(call['video_fps_in'])).toBeGreaterThan(10);
    expect(call['video_resolution_in']).toMatch(/^\d+x\d+$/);
    expect(num(call['video_kbps_in'])).toBeGreaterThan(10);
    expect(call['video_freezes']).toBe('0');
    expect(call['video_freeze_s']).toBe('0');
    expect(call['video_first_freeze_at_s']).toBe('');
    console.log(`calls.csv: fps ${call['video_fps_in']}, ${call['video_resolution_in']}, ${call['video_kbps_in']} kbps, freezes ${call['video_freezes']}`);
    expect(metrics).toMatch(/^callwright_video_fps_in_count\{scenario="smooth",role="bob"\} [1-9]/m);
    expect(metrics).toMatch(/^callwright_video_freezes_total\{scenario="smooth",role="bob"\} 0$/m);
    expect(html).toContain('<h2>Video');
  }, 90_000);

  it("the caller's camera stopped for 2 s mid-call is a freeze at the callee, at the time of the fault", async () => {
    const { result, steps, call, samples, metrics } = await run('frozen', FAULT);
    expect(result.code, result.stderr.slice(-2000)).toBe(0);
    expect(steps.filter((s) => s['ok'] !== 'true')).toEqual([]);
    const stop = steps.find((s) => s['name'] === 'fault alice video stop')!;
    expect(stop['detail']).toBe("alice's video sender: stop");
    const freezeSeconds = num(call['video_freeze_s']);
    console.log(`calls.csv: freezes ${call['video_freezes']}, ${call['video_freeze_s']} s frozen, first at ${call['video_first_freeze_at_s']} s; fps ${call['video_fps_in']}, ${call['video_kbps_in']} kbps`);
    expect(num(call['video_freezes'])).toBeGreaterThanOrEqual(1);
    expect(freezeSeconds).toBeGreaterThanOrEqual(1.5);
    expect(freezeSeconds).toBeLessThanOrEqual(3);
    // The fault's time after the call came up: the 200 OK reached the caller setup_s after its INVITE left.
    const establishedAtMs = Date.parse(call['invite_sent_at']!) + num(call['setup_s']) * 1000;
    const faultAtSeconds = (Date.parse(stop['started_at']!) - establishedAtMs) / 1000;
    const firstFreezeAt = num(call['video_first_freeze_at_s']);
    console.log(`fault step at ${faultAtSeconds.toFixed(2)} s after established; first freeze dated ${firstFreezeAt.toFixed(2)} s`);
    expect(Math.abs(firstFreezeAt - faultAtSeconds)).toBeLessThanOrEqual(2);
    // Seen at bob, who receives alice's video; alice received bob's video without a freeze.
    const last = (role: string) => samples.filter((s) => s['role'] === role).at(-1)!;
    expect(num(last('bob')['video_freezes'])).toBeGreaterThanOrEqual(1);
    expect(num(last('bob')['video_freeze_s'])).toBeCloseTo(freezeSeconds, 3);
    expect(last('alice')['video_freezes']).toBe('0');
    // Frames flow again after the restore.
    expect(num(last('bob')['video_fps_in'])).toBeGreaterThan(5);
    expect(metrics).toMatch(/^callwright_video_freezes_total\{scenario="frozen",role="bob"\} [1-9]/m);
  }, 90_000);
});
