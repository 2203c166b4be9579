/**
 * The bench's video rows: concurrent browser-to-browser video calls (VP8 and H.264 at the fake
 * camera's resolution), held with a video media check, and what they cost: Chromium cores and
 * PSS per leg, legs per core, and what the receivers got (frame rate, bitrate, freezes). So a
 * capacity planner can size a video test before running it.
 *
 * Run by bench/run.mjs (`--only video`, sizes from `--video-sizes`); a video-only run replaces
 * only this section of bench/results.md.
 */
import { join, relative } from 'node:path';
import { measureHeldWindow } from './heldWindow.mjs';

export const VIDEO_BEGIN = '<!-- video rows: written by bench/run.mjs; a run of `--only video` replaces this section and leaves the rest -->';
export const VIDEO_END = '<!-- end of video rows -->';

/** legs/2 callers call legs/2 callees with video restricted to one codec, then hold. */
function videoScenario({ parseScenario, outDir, name, legs, codec, holdSeconds }) {
  const calls = legs / 2;
  return parseScenario(
    `
name: ${name}
roles:
  caller:
    accounts: { range: { from: 30000, count: ${calls} }, user: "{n}", password: "pw{n}" }
  callee:
    accounts: { range: { from: 40000, count: ${calls} }, user: "{n}", password: "pw{n}" }
    autoAnswer: { after: 100ms }
load:
  concurrency: ${calls}
  iterations: ${calls}
  gracefulStop: 60s
options:
  stepTimeout: 30s
steps:
  - register: [caller, callee]
  - call: { from: caller, to: callee, until: established, video: true, codecs: [opus, ${codec}] }
  - expect: { media: flowing, direction: both, kind: video, within: 10s }
  - wait: ${holdSeconds}s
  - hangup: caller
`,
    join(outDir, `${name}.yaml`),
  );
}

const mean = (values) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : undefined);

/**
 * One row: `legs` video legs held, measured over the window once every call is up.
 * `deps` carries what run.mjs has: runScenario, parseScenario, meter, perLeg, config, outDir, logger, signal, log, sleep.
 */
export async function measureVideo(deps, { legs, codec }) {
  const { runScenario, parseScenario, meter, perLeg, config, outDir, logger, signal, log, sleep } = deps;
  const calls = legs / 2;
  const setupAllowance = 15 + legs * 0.5;
  const holdSeconds = Math.ceil(setupAllowance + config.settleSeconds + config.videoWindowSeconds + 5);
  const name = `bench-video-${codec.toLowerCase()}-${legs}`;
  const scenario = videoScenario({ parseScenario, outDir, name, legs, codec, holdSeconds });
  log(`video ${codec} ${legs}: ${calls} video calls, hold ${holdSeconds} s`);
  const { outcome, window, samples } = await measureHeldWindow(
    { runScenario, meter, sleep, logger, signal, outDir },
    { scenario, name, calls, setupAllowance, settleSeconds: config.settleSeconds, windowSeconds: config.videoWindowSeconds },
  );
  const succeeded = outcome.calls.filter((c) => c.result === 'success').length;
  const failures = {};
  for (const call of outcome.calls) if (call.result === 'failed') failures[call.failureReason ?? 'unknown'] = (failures[call.failureReason ?? 'unknown'] ?? 0) + 1;
  const video = samples.filter((s) => s.videoFpsIn !== undefined);
  const codecsSeen = [...new Set(outcome.calls.flatMap((c) => [c.videoCodecOut, c.videoCodecIn]).filter(Boolean))];
  const result = {
    kind: 'video',
    label: `video ${codec} ${legs}`,
    codec,
    codecsSeen,
    legs,
    calls,
    succeeded,
    successRate: succeeded / calls,
    failures,
    fpsIn: mean(video.map((s) => s.videoFpsIn)),
    fpsInMin: video.length ? Math.min(...video.map((s) => s.videoFpsIn)) : undefined,
    kbpsIn: mean(video.map((s) => s.videoKbpsIn).filter((v) => v !== undefined)),
    resolutionsIn: [...new Set(video.map((s) => (s.videoWidthIn ? `${s.videoWidthIn}x${s.videoHeightIn}` : undefined)).filter(Boolean))],
    freezes: outcome.calls.reduce((sum, c) => sum + (c.videoFreezes ?? 0), 0),
    qualityLimited: [...new Set(samples.map((s) => s.videoQualityLimitation).filter((r) => r && r !== 'none'))],
    videoLegSamples: video.length,
    harnessSaturated: outcome.summary.harness?.saturated ?? false,
    window,
  };
  if (window.chromiumCores !== undefined) Object.assign(result, perLeg(window, legs));
  log(`video ${codec} ${legs}: ${succeeded}/${calls} ok, ${result.fpsIn?.toFixed(1) ?? '-'} fps in, ${window.chromiumCores?.toFixed(2) ?? '-'} Chromium cores`);
  return result;
}

/** The video rows as a section of their own. */
export function videoSection(doc, { outDir, root, fmt, pct, mb }) {
  const rows = doc.results.filter((r) => r.kind === 'video');
  const errors = doc.results.filter((r) => r.kind === 'error' && /^video\b/.test(r.label));
  const m = doc.machine;
  const lines = [VIDEO_BEGIN, '## Video calls (video)', ''];
  lines.push(`- date: ${doc.startedAt}; command: \`${doc.command}\`; raw figures in \`${relative(root, outDir)}/${doc.file}\``);
  lines.push(`- machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB; ${m.os}; Node ${m.node}; ${m.chromium}`);
  lines.push(
    `- each row: legs/2 browser-to-browser calls on the embedded server, audio (Opus) and video restricted to one codec (\`codecs: [opus, VP8]\` or \`[opus, H264]\`), Chromium's fake camera (fixtures/video.y4m), \`expect: { media: flowing, direction: both, kind: video }\`, held; measured over ${doc.config.videoWindowSeconds} s once every call is up. Received figures are per leg per sample (samples.csv video_fps_in, video_kbps_in), mean over the window.`,
  );
  lines.push('');
  if (rows.length) {
    lines.push('| codec | legs (calls) | calls ok | codecs seen | fps in (mean / lowest sample) | kbps in (mean) | resolution in | freezes | encoder limited by | Chromium cores | cores/leg | legs/core (with Node) | PSS MB/leg | harness |');
    lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const r of rows) {
      const w = r.window ?? {};
      lines.push(
        `| ${r.codec} | ${r.legs} (${r.calls}) | ${r.succeeded} (${pct(r.successRate, 1)}) | ${r.codecsSeen.join(', ') || '-'} | ${fmt(r.fpsIn, 1)} / ${fmt(r.fpsInMin, 1)} | ${fmt(r.kbpsIn, 0)} | ${r.resolutionsIn.join(', ') || '-'} | ${r.freezes} | ${r.qualityLimited.join(', ') || 'none'} | ${fmt(w.chromiumCores)} | ${fmt(r.chromiumCoresPerLeg, 3)} | ${fmt(r.legsPerCore, 1)} | ${mb(r.pssBytesPerLeg)} | ${r.harnessSaturated ? 'SATURATED' : 'ok'}${w.error ? `; ${w.error}` : ''} |`,
      );
    }
  }
  for (const e of errors) lines.push('', `**${e.label}: not measured**: ${e.error}`);
  lines.push('', 'How to read it: a video leg encodes and decodes video on top of its audio, so legs/core here sizes a video test; compare with the audio rows above. "encoder limited by" is getStats\' qualityLimitationReason when it was not none in some sample (cpu: the encoder lowered resolution or rate for lack of CPU).');
  lines.push(VIDEO_END);
  return lines;
}
