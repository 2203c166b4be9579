import { copyFileSync, mkdirSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect } from 'vitest';
import { chromiumMissing, itNeeding } from './prerequisites.js';
import { processesInGroups, readCsv, ROOT, runCli, tempDir, writeScenario } from './support.js';

// Issue 14, "bandwidth caps measured": b=AS in the callee's answer, in its video section, caps what
// the caller's browser sends; the callee's received video bitrate (samples.csv video_kbps_in) shows
// it. The shipped fake camera (160x120, 15 fps) never needs 256 kbit/s, so this test films noise at
// 640x480, 30 fps (a camera file of its own, --media-dir): uncapped, the encoder goes well over.
const out = tempDir('callwright-video-bandwidth-');
const browserPids: number[] = [];
const it = itNeeding(chromiumMissing());
const CAP_KBPS = 256;

afterAll(async () => {
  for (let i = 0; i < 50 && processesInGroups(browserPids).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  expect(processesInGroups(browserPids)).toEqual([]);
});

/** A 1 s loop of random noise, 640x480, 30 fps, 4:2:0: the hardest thing to compress. */
function noiseCamera(dir: string): void {
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(ROOT, 'fixtures', 'audio.wav'), join(dir, 'audio.wav'));
  const [width, height, frames] = [640, 480, 30];
  const fd = openSync(join(dir, 'video.y4m'), 'w');
  writeSync(fd, `YUV4MPEG2 W${width} H${height} F30:1 Ip A1:1 C420jpeg\n`);
  let seed = 12345;
  const frame = Buffer.alloc((width * height * 3) / 2);
  for (let f = 0; f < frames; f++) {
    for (let i = 0; i < frame.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      frame[i] = seed >>> 24;
    }
    writeSync(fd, 'FRAME\n');
    writeSync(fd, frame);
  }
  closeSync(fd);
}

async function receivedVideoKbps(name: string, answerExtra: string): Promise<{ kbps: number; samples: number }> {
  const dir = join(out, name);
  const scenario = writeScenario(
    out,
    name,
    `name: ${name}
roles:
  alice: { accounts: [{ user: alice }] }
  bob: { accounts: [{ user: bob }] }
steps:
  - register: [alice, bob]
  - call: { from: alice, to: bob, video: true, codecs: [opus, VP8] }
  - answer: { role: bob, video: true${answerExtra} }
  - expect: { media: flowing, direction: in, kind: video, role: bob, within: 10s }
  - wait: 14s
  - hangup: alice
`,
  );
  const result = await runCli(['run', scenario, '--out', dir, '--media-dir', join(out, 'camera'), '--log-level', 'debug', '--quiet'], { timeoutMs: 90_000 });
  browserPids.push(...result.browserPids);
  expect(result.code, result.stderr.slice(-2000)).toBe(0);
  // Bob's received video over the last 8 s: the sender's rate control has settled by then.
  const rows = readCsv(join(dir, 'samples.csv')).filter((s) => s['role'] === 'bob' && s['video_kbps_in'] !== '');
  const recent = rows.slice(-8).map((s) => Number(s['video_kbps_in']));
  return { kbps: recent.reduce((a, b) => a + b, 0) / recent.length, samples: recent.length };
}

describe('a video bandwidth cap (b=AS in the answer\'s video section), measured at the receiver', () => {
  it(`stays under ${CAP_KBPS} kbit/s with b=AS:${CAP_KBPS}, and goes over it without`, async () => {
    noiseCamera(join(out, 'camera'));
    const capped = await receivedVideoKbps('capped', `, extraSdp: { video: [b=AS:${CAP_KBPS}] }`);
    const free = await receivedVideoKbps('uncapped', '');
    console.log(`received video: ${capped.kbps.toFixed(0)} kbit/s with b=AS:${CAP_KBPS}, ${free.kbps.toFixed(0)} kbit/s without (mean of the last ${capped.samples} / ${free.samples} samples)`);
    expect(capped.samples).toBeGreaterThanOrEqual(5);
    expect(capped.kbps).toBeLessThanOrEqual(CAP_KBPS);
    expect(capped.kbps).toBeGreaterThan(CAP_KBPS / 4); // capped, not stopped
    expect(free.kbps).toBeGreaterThan(CAP_KBPS * 1.5);
  }, 200_000);
});
