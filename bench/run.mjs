#!/usr/bin/env node
/**
 * callwright's benchmark: what this machine holds, measured in one run.
 *
 *   (a) concurrent audio call legs held (callers and callees both in
 *       callwright, embedded server), default Opus profile at several sizes and
 *       the low-cost profile at a larger one: success, concealed audio,
 *       Chromium cores and PSS/RSS per leg, Node's share of the CPU;
 *   (b) the same legs one user agent per page (the tab-per-participant way);
 *   (c) the bare-WebRTC floor: N loopback RTCPeerConnections in one page, no
 *       SIP, same codec, packet time and playout, same sizes;
 *   (d) the sustainable call setup rate (capacity search over calls/s);
 *   (churn) what users run: a closed model with churn (each slot starts its
 *       next call on the same accounts as its last one hangs up) and a media
 *       check on every call, through the lab's Kamailio (digest auth; started
 *       by the bench on its own ports, stopped at the end), at 60 and 90 legs:
 *       success, failure reasons, concealment, setup/PDD/harness prep, CPU
 *       against the bare-WebRTC floor (c) for the same legs, measured in the
 *       same run.
 *
 * Chromium CPU and memory count every process of each browser's process group
 * and their descendants (zygote-forked renderers included), from /proc.
 *
 *   npm run bench                                   # build, then the full run
 *   node bench/run.mjs --sizes 20,60 --hold 30      # a subset, 30 s windows
 *   node bench/run.mjs --quick                      # smoke check, about 3 minutes
 *   node bench/run.mjs --only churn                 # only the churn rows and their floors, about 6-8 minutes
 *
 * Writes bench/out/bench-<time>.json (raw) and bench/results.md (bench/out/
 * results-quick.md with --quick). Needs `npm run build` first (npm run bench
 * does it). A run of the churn rows alone (`--only churn`) replaces only their
 * section of an existing results file and leaves the other rows as they were.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpus, totalmem, availableParallelism, release } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import puppeteer from 'puppeteer';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (path) => import(join(ROOT, 'dist', path));
const { parseScenario } = await dist('scenario/index.js');
const { runScenario } = await dist('runner/run.js');
const { TreeCpuMeter, MachineCpuMeter } = await dist('watchdog/processStats.js');
const { fixturePaths } = await dist('preflight/fixtures.js');
const { chromiumArgs, resolveChromium } = await dist('browser/chromium.js');
const { searchCapacity, describeCapacity } = await dist('studies/capacity.js');
const { createLogger } = await dist('log.js');
const { labUp, labDown, labPortsFrom, missingLabPrerequisites, describeMissing } = await dist('lab/index.js');
const { measureVideo, videoSection, VIDEO_BEGIN, VIDEO_END } = await import('./video.mjs');
const { measureHeldWindow } = await import('./heldWindow.mjs');
const { measureLiteHeld, measureLiteRate, liteSection, LITE_BEGIN, LITE_END } = await import('./lite.mjs');

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string' },
    'low-cost-sizes': { type: 'string' },
    'per-page-size': { type: 'string' },
    hold: { type: 'string' },
    settle: { type: 'string' },
    rates: { type: 'string' },
    'rate-step': { type: 'string' },
    'churn-sizes': { type: 'string' },
    'churn-servers': { type: 'string' },
    'churn-duration': { type: 'string' },
    'churn-hold': { type: 'string' },
    'lab-port-base': { type: 'string' },
    'video-sizes': { type: 'string' },
    'video-codecs': { type: 'string' },
    'video-hold': { type: 'string' },
    'lite-sizes': { type: 'string' },
    'lite-browser-legs': { type: 'string' },
    'lite-rate': { type: 'string' },
    'lite-rate-duration': { type: 'string' },
    'lite-hold': { type: 'string' },
    only: { type: 'string' },
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    md: { type: 'string' },
    'from-json': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  process.stdout.write(`node bench/run.mjs [options]
  --sizes 20,60,90        call legs held, default Opus profile (a, c)
  --low-cost-sizes 150    call legs held, low-cost profile (a, c)
  --per-page-size 20      legs for one user agent per page (b); 0 skips it
  --hold 60               seconds each size is measured, all legs up
  --settle 5              seconds after the last call is up before measuring
  --rates 2,4,...         calls/s levels of the setup-rate search (d)
  --rate-step 15          seconds per setup-rate level
  --churn-sizes 40,60,90  call legs of the churn rows: closed model, concurrency legs/2
  --churn-servers kamailio,embedded   SIP servers of the churn rows: the lab's Kamailio, callwright's embedded one
  --churn-duration 60     seconds of load per churn row (calls then wind down)
  --churn-hold 8          seconds each churn call is held
  --lab-port-base 13060   first port of the lab the churn rows start (uses base..base+299)
  --video-sizes 4,16,32   video call legs held (video)
  --video-codecs VP8,H264 the video codec of each video row
  --video-hold 30         seconds each video size is measured, all calls up
  --lite-sizes 100,300,500   lite legs held (lite), beside --lite-browser-legs browser legs in the same run
  --lite-browser-legs 60  browser legs held in the lite part, for legs per core side by side
  --lite-rate 50          lite calls/s started for --lite-rate-duration seconds (0 skips it)
  --lite-rate-duration 60 seconds of the lite setup-rate row
  --lite-hold 30          seconds each lite/browser size is measured, all calls up
  --only a,b,c,d,churn,video,lite   run only these parts (churn measures its own floors when c is not run)
  --quick                 small sizes and short windows: a smoke check
  --out DIR               raw JSON folder (default bench/out)
  --from-json FILE        measure nothing: write the table again from a raw JSON file
  --md FILE               the results table (default bench/results.md; bench/out/results-quick.md with --quick)
`);
  process.exit(0);
}
const list = (text) => (text === undefined || text === '' ? [] : text.split(',').map((v) => Number(v.trim())).filter((v) => v > 0));
const quick = args.quick;
const config = {
  sizes: list(args.sizes ?? (quick ? '4,8' : '20,60,90')),
  lowCostSizes: list(args['low-cost-sizes'] ?? (quick ? '10' : '150')),
  perPageSize: Number(args['per-page-size'] ?? (quick ? 4 : 20)),
  windowSeconds: Number(args.hold ?? (quick ? 6 : 60)),
  settleSeconds: Number(args.settle ?? (quick ? 2 : 5)),
  rates: list(args.rates ?? (quick ? '1,2' : '2,4,6,8,10,12,15,20')),
  rateStepSeconds: Number(args['rate-step'] ?? (quick ? 6 : 15)),
  churnSizes: list(args['churn-sizes'] ?? (quick ? '8' : '40,60,90')),
  churnServers: (args['churn-servers'] ?? 'kamailio,embedded').split(',').map((s) => s.trim()).filter(Boolean),
  churnDurationSeconds: Number(args['churn-duration'] ?? (quick ? 15 : 60)),
  churnHoldSeconds: Number(args['churn-hold'] ?? (quick ? 4 : 8)),
  labPortBase: Number(args['lab-port-base'] ?? 13060),
  videoSizes: list(args['video-sizes'] ?? (quick ? '2' : '4,16,32')),
  videoCodecs: (args['video-codecs'] ?? 'VP8,H264').split(',').map((s) => s.trim()).filter(Boolean),
  videoWindowSeconds: Number(args['video-hold'] ?? (quick ? 6 : 30)),
  liteSizes: list(args['lite-sizes'] ?? (quick ? '20' : '100,300,500')),
  liteBrowserLegs: Number(args['lite-browser-legs'] ?? (quick ? 4 : 60)),
  liteRate: Number(args['lite-rate'] ?? (quick ? 5 : 50)),
  liteRateSeconds: Number(args['lite-rate-duration'] ?? (quick ? 10 : 60)),
  liteWindowSeconds: Number(args['lite-hold'] ?? (quick ? 6 : 30)),
  parts: new Set((args.only ?? 'a,b,c,d,churn,video,lite').split(',').map((p) => p.trim())),
};
const PARTS = ['a', 'b', 'c', 'd', 'churn', 'video', 'lite'];
for (const part of config.parts) if (!PARTS.includes(part)) throw new Error(`--only: '${part}' is not one of ${PARTS.join(', ')}`);
for (const size of [...config.sizes, ...config.lowCostSizes, config.perPageSize, ...config.churnSizes, ...config.videoSizes, ...config.liteSizes, config.liteBrowserLegs]) {
  if (size % 2 !== 0) throw new Error(`sizes are call legs, two per call: ${size} is odd`);
}
const outDir = resolve(args.out ?? join(ROOT, 'bench', 'out'));
mkdirSync(outDir, { recursive: true });
// Each run's step folders replace the last run's.
if (!args['from-json']) rmSync(join(outDir, 'runs'), { recursive: true, force: true });
const logger = createLogger(process.env.BENCH_LOG ?? 'warn');
const log = (line) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The profiles: what the scenario options say, and what the floor page mirrors. */
const PROFILES = {
  standard: { options: {}, ptimeMs: 20, playFraction: 1 },
  'low-cost': { options: { mediaProfile: 'low-cost' }, ptimeMs: 60, playFraction: 0.1 },
};

// ---------------------------------------------------------------- measuring

/** CPU of the Chromium trees, Node and the machine between start() and stop(); PSS/RSS at stop. */
function meter(browserPids) {
  const chromium = new TreeCpuMeter(browserPids);
  const machine = new MachineCpuMeter();
  let nodeBefore;
  let startedAt;
  return {
    start() {
      chromium.sample();
      machine.sample();
      nodeBefore = process.cpuUsage();
      startedAt = performance.now();
    },
    stop() {
      const seconds = (performance.now() - startedAt) / 1000;
      const node = process.cpuUsage(nodeBefore);
      const tree = chromium.sample({ pss: true });
      return {
        seconds,
        chromiumCores: tree.cpuCores,
        nodeCores: (node.user + node.system) / 1e6 / seconds,
        machineCores: machine.sample(),
        chromiumProcesses: tree.processes,
        chromiumPssBytes: tree.pssBytes,
        chromiumRssBytes: tree.rssBytes,
      };
    },
  };
}

/** What users run, in every measured scenario: a call, a media check both ways, the hold, the hangup. */
const CALL_WITH_MEDIA_CHECK = `steps:
  - register: [caller, callee]
  - call: { from: caller, to: callee, until: established }
  - expect: { media: flowing, direction: both, within: 5s }
  - wait: holdTime
  - hangup: caller
`;

/** The scenario of one measurement: legs/2 callers call legs/2 callees at once and hold. */
function heldCallsScenario({ name, legs, profile, agentsPerPage, holdSeconds }) {
  const calls = legs / 2;
  const options = { ...PROFILES[profile].options, ...(agentsPerPage ? { agentsPerPage } : {}) };
  const optionLines = Object.entries(options).map(([k, v]) => `  ${k}: ${v}`).join('\n');
  return parseScenario(
    `
name: ${name}
roles:
  caller:
    accounts: { range: { from: 10000, count: ${calls} }, user: "{n}", password: "pw{n}" }
  callee:
    accounts: { range: { from: 20000, count: ${calls} }, user: "{n}", password: "pw{n}" }
    autoAnswer: { after: 100ms }
load:
  concurrency: ${calls}
  iterations: ${calls}
  holdTime: ${holdSeconds}s
  gracefulStop: 60s
options:
  stepTimeout: 30s
${optionLines}
${CALL_WITH_MEDIA_CHECK}`,
    join(outDir, `${name}.yaml`),
  );
}

/** (a) and (b): callwright holding `legs` call legs; measured once every call is up. */
async function measureCallwright({ label, legs, profile, agentsPerPage }) {
  const calls = legs / 2;
  // Every call must still be up at the end of the window: the hold covers call setup, settling and the window.
  const setupAllowance = (quick ? 5 : 15) + legs * 0.1;
  const holdSeconds = Math.ceil(setupAllowance + config.settleSeconds + config.windowSeconds + 5);
  const name = `bench-${label}`;
  const scenario = heldCallsScenario({ name, legs, profile, agentsPerPage, holdSeconds });
  log(`${label}: ${legs} legs (${calls} calls), ${profile} profile${agentsPerPage ? `, ${agentsPerPage} agent(s) per page` : ''}, hold ${holdSeconds} s`);
  const { outcome, window, samples } = await measureHeldWindow(
    { runScenario, meter, sleep, logger, signal: stopping.signal, outDir },
    { scenario, name, calls, setupAllowance, settleSeconds: config.settleSeconds, windowSeconds: config.windowSeconds },
  );
  const succeeded = outcome.calls.filter((c) => c.result === 'success').length;
  const ratios = samples.map((s) => s.concealedRatio).filter((r) => r !== undefined && Number.isFinite(r));
  const failures = {};
  for (const call of outcome.calls) if (call.result === 'failed') failures[call.failureReason ?? 'unknown'] = (failures[call.failureReason ?? 'unknown'] ?? 0) + 1;
  const result = {
    kind: agentsPerPage === 1 ? 'one-agent-per-page' : 'callwright',
    label,
    legs,
    calls,
    profile,
    agentsPerPage: agentsPerPage ?? scenario.options.agentsPerPage ?? 'default',
    succeeded,
    successRate: succeeded / calls,
    failures,
    harnessSaturated: outcome.summary.harness?.saturated ?? false,
    setupP95Seconds: percentile(outcome.calls.map((c) => c.setupSeconds).filter((v) => v !== undefined), 95),
    // Mean of per-leg, per-interval concealed ratios over the window: intervals are equal, so this is the pooled share.
    concealedRatio: ratios.length ? ratios.reduce((a, b) => a + b, 0) / ratios.length : undefined,
    concealedRatioMax: ratios.length ? Math.max(...ratios) : undefined,
    decodedLegSamples: ratios.length,
    // Received audio packets per leg per second: 50 at 20 ms packets, about 17 at 60 ms.
    packetsPerLegPerSecond: samples.length ? samples.reduce((sum, s) => sum + (s.inPacketRate ?? 0), 0) / samples.length : undefined,
    window,
  };
  if (window.chromiumCores !== undefined) Object.assign(result, perLeg(window, legs));
  log(`${label}: ${succeeded}/${calls} calls ok, ${fmt(result.window.chromiumCores)} Chromium cores, node ${fmt(result.window.nodeCores)}, concealed ${pct(result.concealedRatio)}`);
  return result;
}

function perLeg(window, legs) {
  const total = window.chromiumCores + window.nodeCores;
  return {
    chromiumCoresPerLeg: window.chromiumCores / legs,
    totalCoresPerLeg: total / legs,
    pssBytesPerLeg: window.chromiumPssBytes / legs,
    rssBytesPerLeg: window.chromiumRssBytes / legs,
    nodeShare: window.nodeCores / total,
    legsPerCore: legs / total,
  };
}

// ---------------------------------------------------------------- (c) the floor

const FLOOR_PAGE = `<!doctype html><meta charset="utf-8"><title>floor</title><body><script>
window.floor = async function (pairs, ptimeMs, playFraction) {
  const capture = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
  const track = capture.getAudioTracks()[0];
  const munge = (sdp) => ptimeMs === 20 ? sdp : sdp.replace(/a=(max)?ptime:\\d+\\r\\n/g, '') + 'a=ptime:' + ptimeMs + '\\r\\na=maxptime:' + ptimeMs + '\\r\\n';
  const playEvery = Math.max(1, Math.round(1 / playFraction));
  window.pcs = [];
  let played = 0;
  const up = [];
  let index = 0;
  for (let i = 0; i < pairs; i++) {
    const a = new RTCPeerConnection({ iceServers: [] });
    const b = new RTCPeerConnection({ iceServers: [] });
    a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate);
    b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate);
    for (const pc of [a, b]) {
      const stream = new MediaStream([track.clone()]);
      pc.addTrack(stream.getAudioTracks()[0], stream);
      const plays = index++ % playEvery === 0;
      if (plays) played++;
      up.push(new Promise((resolve) => {
        pc.ontrack = (e) => {
          const remote = e.streams[0] || new MediaStream([e.track]);
          if (plays) { const el = document.createElement('audio'); el.autoplay = true; el.srcObject = remote; document.body.appendChild(el); el.play().catch(() => {}); }
          if (!e.track.muted) resolve(); else e.track.addEventListener('unmute', () => resolve(), { once: true });
        };
      }));
      window.pcs.push(pc);
    }
    const offer = await a.createOffer();
    await a.setLocalDescription(offer);
    await b.setRemoteDescription({ type: 'offer', sdp: munge(offer.sdp) });
    const answer = await b.createAnswer();
    await b.setLocalDescription(answer);
    await a.setRemoteDescription({ type: 'answer', sdp: munge(answer.sdp) });
  }
  await Promise.all(up);
  return { pcs: window.pcs.length, played };
};
window.floorStats = async function () {
  let concealed = 0, samples = 0, packets = 0, codec = new Set();
  for (const pc of window.pcs) {
    const report = await pc.getStats();
    const codecs = new Map();
    report.forEach((s) => { if (s.type === 'codec') codecs.set(s.id, s.mimeType); });
    report.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') {
        concealed += s.concealedSamples || 0; samples += s.totalSamplesReceived || 0; packets += s.packetsReceived || 0;
        if (s.codecId) codec.add(codecs.get(s.codecId));
      }
    });
  }
  return { concealed, samples, packets, codecs: [...codec] };
};
</script>`;

async function measureFloor({ legs, profile }) {
  const { ptimeMs, playFraction } = PROFILES[profile];
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(FLOOR_PAGE));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}/`;
  const browser = await puppeteer.launch({
    executablePath: resolveChromium(),
    headless: true,
    args: chromiumArgs(fixturePaths()),
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
    protocolTimeout: 120_000,
  });
  const pid = browser.process()?.pid;
  // Stopped (Ctrl-C): the browser goes with the bench, never left behind.
  stopping.signal.addEventListener('abort', () => void browser.close().catch(() => undefined), { once: true });
  log(`floor: ${legs} loopback peer connections in one page, ${profile} (ptime ${ptimeMs} ms, playout on ${playFraction * 100}% of legs)`);
  try {
    const page = await browser.newPage();
    await page.goto(url);
    const setupStarted = Date.now();
    const made = await page.evaluate((pairs, p, f) => window.floor(pairs, p, f), legs / 2, ptimeMs, playFraction);
    const setupSeconds = (Date.now() - setupStarted) / 1000;
    await sleep(config.settleSeconds * 1000);
    const m = meter(() => (pid ? [pid] : []));
    const before = await page.evaluate(() => window.floorStats());
    m.start();
    await sleep(config.windowSeconds * 1000);
    const window = m.stop();
    const after = await page.evaluate(() => window.floorStats());
    const samples = after.samples - before.samples;
    const result = {
      kind: 'floor',
      label: `floor-${profile}-${legs}`,
      legs,
      profile,
      peerConnections: made.pcs,
      decodedLegs: made.played,
      setupSeconds,
      codecs: after.codecs,
      packetsPerLegPerSecond: (after.packets - before.packets) / legs / window.seconds,
      concealedRatio: samples > 0 ? (after.concealed - before.concealed) / samples : undefined,
      window,
      chromiumCoresPerLeg: window.chromiumCores / legs,
      pssBytesPerLeg: window.chromiumPssBytes / legs,
      rssBytesPerLeg: window.chromiumRssBytes / legs,
    };
    log(`floor ${legs}: ${fmt(window.chromiumCores)} Chromium cores (${after.codecs.join(',')}), concealed ${pct(result.concealedRatio)}`);
    return result;
  } finally {
    await browser.close().catch(() => undefined);
    if (pid) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    server.close();
  }
}

// ---------------------------------------------------------------- (d) setup rate

async function measureSetupRate() {
  const holdSeconds = 2;
  const maxRate = Math.max(...config.rates);
  // Calls at once at the top rate, with room for setup and teardown: the accounts each step registers.
  const slots = Math.ceil(maxRate * (holdSeconds + 2));
  const scenario = parseScenario(
    `
name: bench-setup-rate
roles:
  caller:
    accounts: { range: { from: 30000, count: ${slots} }, user: "{n}", password: "pw{n}" }
  callee:
    accounts: { range: { from: 40000, count: ${slots} }, user: "{n}", password: "pw{n}" }
    autoAnswer: { after: 0s }
load:
  rate: 1
  duration: 10s
  maxConcurrent: ${slots}
  holdTime: ${holdSeconds}s
  gracefulStop: 20s
steps:
  - register: [caller, callee]
  - call: { from: caller, to: callee, until: established }
  - wait: holdTime
  - hangup: caller
`,
    join(outDir, 'bench-setup-rate.yaml'),
  );
  const criteria = { minSuccessRate: 0.99, maxSetupP95Seconds: 1, allowSaturation: false };
  log(`setup rate: levels ${config.rates.join(', ')} calls/s, ${config.rateStepSeconds} s each, hold ${holdSeconds} s; good = >=99% ok, setup p95 <= 1 s, harness not saturated`);
  const report = await searchCapacity({
    scenario,
    mode: 'rate',
    levels: config.rates,
    stepSeconds: config.rateStepSeconds,
    criteria,
    refine: 0,
    outDir: join(outDir, 'runs', 'setup-rate'),
    runStep: async (stepScenario, stepDir) => {
      const outcome = await runScenario({ scenario: stepScenario, outDir: stepDir, logger, signal: stopping.signal });
      return { summary: outcome.summary, calls: outcome.calls };
    },
    onStep: (step) => log(`setup rate ${step.level}/s: ${step.ok ? 'good' : `BAD: ${step.why.join('; ')}`}`),
  });
  return { kind: 'setup-rate', holdSeconds, criteria, lines: describeCapacity(report), lastGood: report.lastGood?.level, firstBad: report.firstBad?.level, reachedMax: report.reachedMax, steps: report.steps.map(({ outDir: _, ...step }) => step) };
}

// ---------------------------------------------------------------- (churn) what users run

const CHURN_FIRST_USER = 1000;
const CHURN_ANSWER_AFTER_MS = 300;
/** The window opens once the first round of calls is up, and at the latest this long after the first start. */
const CHURN_FIRST_ROUND_ALLOWANCE_S = 15;

/** Stopping (Ctrl-C, SIGTERM): the churn run is asked to end gracefully so the lab and browsers are stopped. */
const stopping = new AbortController();

/** The lab the churn rows call through: Kamailio with digest auth (401 on REGISTER, 407 on INVITE), on its own ports and folder. */
async function startChurnLab() {
  const missing = missingLabPrerequisites([]);
  if (missing.length > 0) throw new Error(`the churn rows need the lab: ${describeMissing(missing)}`);
  const dir = join(outDir, 'lab');
  // A lab a killed bench left behind (labDown only stops processes whose command line is the lab's).
  if (existsSync(join(dir, 'lab.json'))) await labDown(dir);
  const users = Math.max(...config.churnSizes);
  const lab = await labUp({ dir, ports: labPortsFrom(config.labPortBase), users: { first: CHURN_FIRST_USER, count: users }, devices: [] });
  log(`lab up: Kamailio at ${lab.wsUrl} (digest auth, users ${CHURN_FIRST_USER}..${CHURN_FIRST_USER + users - 1}), in ${dir}`);
  return lab;
}

/** legs/2 slots, each calling on its own pair of accounts again and again: call, check media both ways, hold, hang up. No lab: the embedded server (digest too). */
function churnScenario({ name, legs, lab }) {
  const calls = legs / 2;
  return parseScenario(
    `
name: ${name}
${lab ? `target: { url: "${lab.wsUrl}", domain: ${lab.domain} }` : ''}
roles:
  caller:
    accounts: { range: { from: ${CHURN_FIRST_USER}, count: ${calls} }, user: "{n}", password: "secret{n}" }
  callee:
    accounts: { range: { from: ${CHURN_FIRST_USER + calls}, count: ${calls} }, user: "{n}", password: "secret{n}" }
    autoAnswer: { after: ${CHURN_ANSWER_AFTER_MS}ms }
load:
  concurrency: ${calls}
  duration: ${config.churnDurationSeconds}s
  holdTime: ${config.churnHoldSeconds}s
  gracefulStop: 30s
${CALL_WITH_MEDIA_CHECK}`,
    join(outDir, `${name}.yaml`),
  );
}

/**
 * One churn row: the whole run's calls are judged; CPU is measured from the moment the
 * first round of calls is up to the end of the load duration (no new call starts after it).
 */
async function measureChurn({ legs, lab, server }) {
  const calls = legs / 2;
  const name = `bench-churn-${server}-${legs}`;
  const through = server === 'kamailio' ? 'through Kamailio' : 'on the embedded server';
  const scenario = churnScenario({ name, legs, lab });
  let firstStartAt;
  let established = 0;
  let allUpAt;
  const upSince = new Map();
  const upIntervals = [];
  const reporter = {
    name: 'bench-churn',
    onEvent(event) {
      if (event.type === 'iterationStarted') firstStartAt ??= event.atMs;
      if (event.type === 'callEstablished') {
        upSince.set(event.callId, event.atMs);
        if (++established === calls) allUpAt = event.atMs;
      }
    },
    onCallEnd(call) {
      const from = upSince.get(call.callId);
      if (from === undefined) return;
      upSince.delete(call.callId);
      // Calls are reported a watchdog sample or two after they end: the legs say when they did.
      const ends = (call.legs ?? []).map((l) => l.endedAtMs).filter((t) => t !== undefined);
      upIntervals.push([from, ends.length ? Math.min(...ends) : Date.now()]);
    },
  };
  let pids = () => [];
  const labPids = lab ? lab.processes.map((p) => p.pid) : [];
  log(`churn ${legs}: ${calls} calls at once ${through}, ${config.churnDurationSeconds} s of load, hold ${config.churnHoldSeconds} s, answer after ${CHURN_ANSWER_AFTER_MS} ms, expect media both ways on every call`);
  const running = runScenario({ scenario, outDir: join(outDir, 'runs', name), logger, reporters: [reporter], signal: stopping.signal, onReady: (r) => (pids = r.browserPids) });
  let ended = false;
  running.finally(() => (ended = true)).catch(() => undefined);
  const measured = (async () => {
    while (firstStartAt === undefined && !ended) await sleep(100);
    if (firstStartAt === undefined) return undefined;
    const opensBy = firstStartAt + CHURN_FIRST_ROUND_ALLOWANCE_S * 1000;
    while (allUpAt === undefined && Date.now() < opensBy && !ended) await sleep(100);
    const loadEnd = firstStartAt + config.churnDurationSeconds * 1000;
    if (ended || Date.now() >= loadEnd - 5000) return { error: 'the first round of calls came up too late to leave a measuring window' };
    const m = meter(pids);
    const labCpu = new TreeCpuMeter(() => labPids);
    const fromMs = Date.now();
    m.start();
    labCpu.sample();
    await sleep(loadEnd - fromMs);
    const window = { ...m.stop(), labCores: labCpu.sample().cpuCores, firstRoundUpAfterSeconds: allUpAt === undefined ? undefined : (allUpAt - firstStartAt) / 1000, browsers: pids().length };
    return { fromMs, toMs: Date.now(), window };
  })();
  const [outcome, measure] = await Promise.all([running, measured]);
  const all = outcome.calls;
  const ok = all.filter((c) => c.result === 'success');
  const failures = {};
  for (const call of all) if (call.result === 'failed') failures[call.failureReason ?? 'unknown'] = (failures[call.failureReason ?? 'unknown'] ?? 0) + 1;
  const values = (pick) => all.map(pick).filter((v) => v !== undefined && v !== null && Number.isFinite(v));
  const stat = (pick) => {
    const v = values(pick);
    return { p50: percentile(v, 50), p95: percentile(v, 95), max: v.length ? Math.max(...v) : undefined, n: v.length };
  };
  const concealed = all.filter((c) => c.concealedRatio !== undefined && Number.isFinite(c.concealedRatio));
  const worst = concealed.reduce((a, c) => (a === undefined || c.concealedRatio > a.concealedRatio ? c : a), undefined);
  // Calls up during the window, on average: the legs the CPU figure was spent on (fewer than legs while calls turn over).
  let callsUpMean;
  if (measure?.window) {
    const open = [...upSince.values()].map((from) => [from, measure.toMs]);
    const upMs = [...upIntervals, ...open].reduce((sum, [from, to]) => sum + Math.max(0, Math.min(to, measure.toMs) - Math.max(from, measure.fromMs)), 0);
    callsUpMean = upMs / (measure.toMs - measure.fromMs);
  }
  const pageLags = all.flatMap((c) => (c.legs ?? []).map((l) => l.pageLagMaxMs)).filter((v) => v !== undefined);
  const result = {
    kind: 'churn',
    label: `churn-${server}-${legs}`,
    server,
    legs,
    calls,
    profile: 'standard',
    target: server === 'kamailio' ? 'lab Kamailio (digest auth), browser to browser' : 'embedded server (digest auth), browser to browser',
    durationSeconds: config.churnDurationSeconds,
    holdSeconds: config.churnHoldSeconds,
    answerDelaySeconds: CHURN_ANSWER_AFTER_MS / 1000,
    callsMade: all.length,
    succeeded: ok.length,
    successRate: all.length ? ok.length / all.length : undefined,
    failures,
    failedCalls: all.filter((c) => c.result === 'failed').map((c) => ({ callId: c.callId, reason: c.failureReason, detail: c.failureDetail, evidence: c.evidence, harnessSaturated: c.harnessSaturated })),
    harnessSaturated: outcome.summary.harness?.saturated ?? false,
    harnessSaturatedSeconds: outcome.summary.harness?.saturatedSeconds,
    failedCallsDuringSaturation: outcome.summary.harness?.failedCallsDuringSaturation,
    setupSeconds: stat((c) => c.setupSeconds),
    // The server's part of setup: the configured answer delay taken out.
    setupLessAnswerDelaySeconds: stat((c) => (c.setupSeconds === undefined ? undefined : c.setupSeconds - (c.answerDelaySeconds ?? 0))),
    pddSeconds: stat((c) => c.timeTo180Seconds),
    harnessPrepSeconds: stat((c) => c.harnessPrepSeconds),
    // Mean of the calls' concealed ratios (each call weighs the same), and the worst call.
    concealedRatio: concealed.length ? concealed.reduce((sum, c) => sum + c.concealedRatio, 0) / concealed.length : undefined,
    concealedRatioWorstCall: worst?.concealedRatio,
    concealedWorstCallId: worst?.callId,
    pageLagMaxMs: pageLags.length ? Math.max(...pageLags) : undefined,
    callsUpMean,
    ...(measure?.error ? { error: measure.error } : {}),
    window: measure?.window,
  };
  log(
    `churn ${legs}: ${ok.length}/${all.length} calls ok${Object.keys(failures).length ? ` (${Object.entries(failures).map(([r, n]) => `${n} ${r}`).join(', ')})` : ''}, ` +
      `setup p95 ${ms(result.setupSeconds.p95)}, harness prep p95 ${ms(result.harnessPrepSeconds.p95)}, concealed ${pct(result.concealedRatio)} (worst call ${pct(result.concealedRatioWorstCall)}), ` +
      `${fmt(result.window?.chromiumCores)} Chromium + ${fmt(result.window?.nodeCores, 3)} Node cores, ${fmt(callsUpMean, 1)} calls up on average`,
  );
  return result;
}

// ---------------------------------------------------------------- report

const fmt = (v, digits = 2) => (v === undefined || v === null || Number.isNaN(v) ? '-' : Number(v).toFixed(digits));
const pct = (v, digits = 2) => (v === undefined || v === null || Number.isNaN(v) ? '-' : `${(v * 100).toFixed(digits)}%`);
const mb = (v) => (v === undefined ? '-' : (v / 2 ** 20).toFixed(1));
const ms = (v) => (v === undefined || v === null || Number.isNaN(v) ? '-' : `${Math.round(v * 1000)} ms`);
function percentile(values, p) {
  if (!values.length) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  return sorted[low] + (sorted[Math.ceil(rank)] - sorted[low]) * (rank - low);
}

function machine() {
  const chromium = (() => {
    try {
      return execFileSync(resolveChromium(), ['--version'], { encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  })();
  let os = 'Linux';
  try {
    os = /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? os;
  } catch {
    // not Linux-like
  }
  return { cpu: cpus()[0]?.model ?? 'unknown', cores: availableParallelism(), memoryGiB: Math.round(totalmem() / 2 ** 30), os, kernel: release(), node: process.version, chromium };
}

function markdown(doc) {
  const { results, machine: m } = doc;
  const held = results.filter((r) => r.kind === 'callwright' || r.kind === 'one-agent-per-page');
  const floors = results.filter((r) => r.kind === 'floor');
  const floorOf = (r) => floors.find((f) => f.legs === r.legs && f.profile === r.profile);
  const lines = [];
  lines.push('# callwright benchmark results', '');
  lines.push(`- date: ${doc.startedAt} (took ${(doc.seconds / 60).toFixed(1)} min)`);
  lines.push(`- machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB; ${m.os}, kernel ${m.kernel}; Node ${m.node}; ${m.chromium}`);
  lines.push(`- command: \`${doc.command}\``);
  lines.push(`- measured: ${config.windowSeconds} s per size once every call is up (+${config.settleSeconds} s settling); raw figures in \`${relative(ROOT, outDir)}/${doc.file}\``);
  lines.push('- Chromium = every process of each browser\'s process group and their descendants (zygote-forked renderers included); CPU from /proc ticks over the window; PSS summed from smaps_rollup at its end. Node = the orchestrator process (runner, reporters and the embedded SIP server).');
  lines.push('');
  lines.push('## Held call legs (a, b) and the bare-WebRTC floor (c)', '');
  lines.push('Every held call has a media check (`expect: { media: flowing, direction: both, within: 5s }`), as users run them: checks read the samples the pages take anyway.', '');
  if (held.length) {
    lines.push('| run | legs | profile | agents/page | calls ok | concealed (mean / worst interval) | Chromium cores | Node cores | Node share | cores/leg (Chromium) | PSS MB/leg | RSS MB/leg | floor cores/leg | overhead vs floor |');
    lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  }
  for (const r of held) {
    const f = floorOf(r);
    const w = r.window ?? {};
    lines.push(
      `| ${r.kind} | ${r.legs} | ${r.profile} | ${r.agentsPerPage} | ${r.succeeded}/${r.calls} (${pct(r.successRate, 1)}) | ${pct(r.concealedRatio)} / ${pct(r.concealedRatioMax, 1)} | ${fmt(w.chromiumCores)} | ${fmt(w.nodeCores, 3)} | ${pct(r.nodeShare, 1)} | ${fmt(r.chromiumCoresPerLeg, 4)} | ${mb(r.pssBytesPerLeg)} | ${mb(r.rssBytesPerLeg)} | ${f ? fmt(f.chromiumCoresPerLeg, 4) : '-'} | ${f && r.kind === 'callwright' ? `${fmt(r.chromiumCoresPerLeg / f.chromiumCoresPerLeg)}x` : '-'} |`,
    );
  }
  if (floors.length) {
    lines.push('', '| floor | legs (peer connections) | profile | codec | decoded legs | concealed | Chromium cores | cores/leg | PSS MB/leg |', '|---|---|---|---|---|---|---|---|---|');
    for (const f of floors) lines.push(`| bare WebRTC, one page | ${f.legs} | ${f.profile} | ${f.codecs.join(', ')} | ${f.decodedLegs} | ${pct(f.concealedRatio)} | ${fmt(f.window.chromiumCores)} | ${fmt(f.chromiumCoresPerLeg, 4)} | ${mb(f.pssBytesPerLeg)} |`);
  }
  const rate = results.find((r) => r.kind === 'setup-rate');
  if (rate) {
    lines.push('', `## Call setup rate (d)`, '', `Open model, ${config.rateStepSeconds} s per level, calls held ${rate.holdSeconds} s; a level is good with >=99% of planned calls successful, setup p95 <= 1 s and the harness not saturated.`, '', '```', ...rate.lines, '```');
  }
  if (results.some(isChurnResult)) lines.push('', ...churnSection(doc));
  if (results.some(isVideoResult)) lines.push('', ...videoSection(doc, sectionHelpers));
  if (results.some(isLiteResult)) lines.push('', ...liteSection(doc, sectionHelpers));
  lines.push('', '## Against the targets (issue 6)', '');
  lines.push('| target | measured | met |', '|---|---|---|');
  const target = (what, measured, met) => lines.push(`| ${what} | ${measured} | ${met === undefined ? 'not measured' : met ? 'yes' : '**no**'} |`);
  const good = (r) => r.successRate >= 0.99 && (r.concealedRatio ?? 1) <= 0.01;
  const std = held.filter((r) => r.kind === 'callwright' && r.profile === 'standard');
  const low = held.filter((r) => r.kind === 'callwright' && r.profile === 'low-cost');
  const best = (runs) => runs.filter(good).reduce((a, r) => (r.legs > (a?.legs ?? 0) ? r : a), undefined);
  const bestStd = best(std);
  const bestLow = best(low);
  target('>= 90 legs, default profile, >= 99% ok, <= 1% concealed', std.map((r) => `${r.legs}: ${pct(r.successRate, 1)} ok, ${pct(r.concealedRatio)} concealed`).join('; ') || '-', std.length ? (bestStd?.legs ?? 0) >= 90 : undefined);
  target('>= 150 legs, low-cost profile, same terms', low.map((r) => `${r.legs}: ${pct(r.successRate, 1)} ok, ${pct(r.concealedRatio)} concealed`).join('; ') || '-', low.length ? (bestLow?.legs ?? 0) >= 150 : undefined);
  const overheads = held.filter((r) => r.kind === 'callwright' && floorOf(r)).map((r) => ({ legs: r.legs, profile: r.profile, ratio: r.chromiumCoresPerLeg / floorOf(r).chromiumCoresPerLeg, total: r.totalCoresPerLeg / floorOf(r).chromiumCoresPerLeg }));
  target(
    'CPU per leg within 1.15x of the bare floor (same codec, same run)',
    overheads.map((o) => `${o.legs} ${o.profile}: ${fmt(o.ratio)}x Chromium only, ${fmt(o.total)}x with Node`).join('; ') || '-',
    overheads.length ? overheads.every((o) => o.total <= 1.15) : undefined,
  );
  const perPage = held.find((r) => r.kind === 'one-agent-per-page');
  const packed = perPage && std.find((r) => r.legs === perPage.legs);
  const legsRatio = perPage && packed ? packed.legsPerCore / perPage.legsPerCore : undefined;
  target(
    '>= 3x the legs per core of one agent per page',
    perPage && packed ? `${perPage.legs} legs: packed ${fmt(packed.legsPerCore, 1)} legs/core, one per page ${fmt(perPage.legsPerCore, 1)}: ${fmt(legsRatio)}x (PSS ${fmt(perPage.pssBytesPerLeg / packed.pssBytesPerLeg, 1)}x per leg)` : '-',
    legsRatio === undefined ? undefined : legsRatio >= 3,
  );
  const shares = held.filter((r) => r.kind === 'callwright' && r.nodeShare !== undefined);
  target('Node orchestrator < 10% of the run\'s CPU', shares.map((r) => `${r.legs} ${r.profile}: ${pct(r.nodeShare, 1)}`).join('; ') || '-', shares.length ? shares.every((r) => r.nodeShare < 0.1) : undefined);
  if (rate) target('sustainable call setup rate (no numeric target)', rate.lastGood === undefined ? 'none of the levels passed' : `${rate.lastGood} calls/s${rate.reachedMax ? ' (every level passed)' : `; ${rate.firstBad} calls/s failed`}`, undefined);
  lines.push('');
  return lines.join('\n');
}

// ---------------------------------------------------------------- report: the churn rows

const CHURN_BEGIN = '<!-- churn rows: written by bench/run.mjs; a run of `--only churn` replaces this section and leaves the rest -->';
const CHURN_END = '<!-- end of churn rows -->';
const isChurnResult = (r) => r.kind === 'churn' || (r.kind === 'error' && /^churn\b|^churn lab\b/.test(r.label));

/** The churn rows as a section of their own (with their own date and command: a churn-only run writes just this part). */
function churnSection(doc) {
  const { results, machine: m } = doc;
  const rows = results.filter((r) => r.kind === 'churn');
  const errors = results.filter((r) => r.kind === 'error' && isChurnResult(r));
  const floorOf = (r) => results.find((f) => f.kind === 'floor' && f.legs === r.legs && f.profile === 'standard');
  const cfg = doc.config;
  const lines = [CHURN_BEGIN, '## What users run: churn, a media check on every call, through Kamailio and on the embedded server (churn)', ''];
  lines.push(`- date: ${doc.startedAt} (the whole run took ${(doc.seconds / 60).toFixed(1)} min); command: \`${doc.command}\`; raw figures in \`${relative(ROOT, outDir)}/${doc.file}\``);
  lines.push(`- machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB; ${m.os}; Node ${m.node}; ${m.chromium}`);
  lines.push(
    `- each row: the lab's Kamailio (digest auth: 401 on REGISTER, 407 on INVITE; browser to browser, no media relay) or callwright's embedded server (digest too; it runs in the Node process), a closed model of legs/2 calls at once for ${cfg.churnDurationSeconds} s, ` +
      `each slot calling again on the same accounts as soon as its last call hangs up (answer after ${CHURN_ANSWER_AFTER_MS} ms, \`expect: { media: flowing, direction: both, within: 5s }\`, hold ${cfg.churnHoldSeconds} s, caller hangs up); every call of the run is counted. ` +
      `CPU over the load once the first round of calls is up, to the end of the load duration; the floor is (c) for the same legs, ${cfg.windowSeconds} s window, same run.`,
  );
  lines.push('');
  if (rows.length) {
    lines.push('| server | legs (calls at once) | calls | ok | failures | concealed mean / worst call | setup p50 / p95 | setup - answer delay p95 | PDD p95 | harness prep p50 / p95 | calls up (mean) | Chromium cores | Node cores | floor cores (same legs) | vs floor (Chromium + Node / Chromium) | harness |');
    lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const r of rows) {
      const f = floorOf(r);
      const w = r.window ?? {};
      const failures = Object.entries(r.failures ?? {}).map(([reason, n]) => `${n} ${reason}`).join(', ') || 'none';
      const total = w.chromiumCores === undefined ? undefined : w.chromiumCores + w.nodeCores;
      const vsFloor = f && total !== undefined ? `${fmt(total / f.window.chromiumCores)}x / ${fmt(w.chromiumCores / f.window.chromiumCores)}x` : '-';
      const harness = r.harnessSaturated ? `SATURATED ${fmt(r.harnessSaturatedSeconds, 0)} s (${r.failedCallsDuringSaturation ?? 0} failed call(s) in it)` : 'ok';
      lines.push(
        `| ${r.server ?? 'kamailio'} | ${r.legs} (${r.calls}) | ${r.callsMade} | ${r.succeeded} (${pct(r.successRate, 1)}) | ${failures} | ${pct(r.concealedRatio)} / ${pct(r.concealedRatioWorstCall, 1)} | ${ms(r.setupSeconds.p50)} / ${ms(r.setupSeconds.p95)} | ${ms(r.setupLessAnswerDelaySeconds.p95)} | ${ms(r.pddSeconds.p95)} | ${ms(r.harnessPrepSeconds.p50)} / ${ms(r.harnessPrepSeconds.p95)} | ${fmt(r.callsUpMean, 1)} | ${fmt(w.chromiumCores)} | ${fmt(w.nodeCores, 3)} | ${f ? fmt(f.window.chromiumCores) : '-'} | ${vsFloor} | ${harness}${r.error ? `; ${r.error}` : ''} |`,
      );
    }
  }
  for (const e of errors) lines.push('', `**${e.label}: not measured**: ${e.error}`);
  lines.push('', '### Against the targets (issue 9)', '', '| target | measured | met |', '|---|---|---|');
  const target = (what, measured, met) => lines.push(`| ${what} | ${measured || '-'} | ${met === undefined ? 'not measured' : met === 'n/a' ? 'not measured at 40 legs' : met ? 'yes' : '**no**'} |`);
  const upTo90 = rows.filter((r) => r.legs <= 90 && r.successRate !== undefined);
  target('>= 99% of calls successful at <= 90 legs with media checks, through Kamailio and on the embedded server', upTo90.map((r) => `${r.server ?? 'kamailio'} ${r.legs}: ${pct(r.successRate, 1)} (${r.succeeded}/${r.callsMade})`).join('; '), upTo90.length ? upTo90.every((r) => r.successRate >= 0.99) : undefined);
  // The setup and prep targets are about Kamailio in the path.
  const viaKamailio = rows.filter((r) => (r.server ?? 'kamailio') === 'kamailio');
  const atTwentyVia = (pick, limit) => {
    const measured = viaKamailio.filter((r) => pick(r) !== undefined);
    if (!measured.length) return undefined;
    const small = measured.filter((r) => r.legs <= 40);
    return small.length ? small.every((r) => pick(r) < limit) : 'n/a';
  };
  target('setup (INVITE to 200 OK) minus the configured answer delay, p95 < 50 ms, 20 calls at once through Kamailio', viaKamailio.map((r) => `${r.legs}: ${ms(r.setupLessAnswerDelaySeconds.p95)}`).join('; '), atTwentyVia((r) => r.setupLessAnswerDelaySeconds.p95, 0.05));
  target('harness_prep_s p95 < 100 ms, 20 calls at once through Kamailio', viaKamailio.map((r) => `${r.legs}: ${ms(r.harnessPrepSeconds.p95)}`).join('; '), atTwentyVia((r) => r.harnessPrepSeconds.p95, 0.1));
  // Judged at 60 legs and more, as the target states; smaller rows are shown (at 20 legs 0.1 core is 25%).
  const ratios = rows.filter((r) => floorOf(r) && r.window?.chromiumCores !== undefined).map((r) => ({ legs: r.legs, server: r.server ?? 'kamailio', ratio: (r.window.chromiumCores + r.window.nodeCores) / floorOf(r).window.chromiumCores }));
  const judged = ratios.filter((o) => o.legs >= 60);
  target('CPU (Chromium + Node) with churn and a media check on every call within 1.15x of the bare floor of held legs (same legs, same run), at 60 and 90 legs', ratios.map((o) => `${o.server} ${o.legs}: ${fmt(o.ratio)}x`).join('; '), judged.length ? judged.every((o) => o.ratio <= 1.15) : undefined);
  lines.push(
    '',
    'How to read it: setup = first INVITE sent -> 200 OK received, both at the caller\'s WebSocket (RFC 6076 session request delay; includes the 407 digest round and the configured answer delay, which the next column takes out); ' +
      'PDD = first INVITE sent -> first 18x received; harness prep = the call decided -> its first INVITE handed to the WebSocket (callwright\'s own time, kept out of setup). ' +
      'Concealed = calls.csv concealed_ratio (share of received audio samples concealed, worst leg of the call), mean over the calls and the worst call. ' +
      'Calls up (mean) = established calls averaged over the CPU window: fewer than legs/2 while calls turn over, so the floor (every leg up all the time) is the stricter side of the comparison. ' +
      'Node = the orchestrator process (with the embedded server it runs that server too; Kamailio is not counted). The floor holds its legs all the time and sets none up: with churn, each call also costs its setup (peer connection, ICE, DTLS handshake, SIP), which the held rows (a) above, with the same media check, leave out. Failed calls\' SIP logs and transport timelines are in the run folders under runs/.',
  );
  lines.push(CHURN_END);
  return lines;
}

const isVideoResult = (r) => r.kind === 'video' || (r.kind === 'error' && /^video\b/.test(r.label));
const isLiteResult = (r) => r.kind === 'lite-held' || r.kind === 'lite-rate' || (r.kind === 'error' && /^(lite|browser)\b/.test(r.label));
const sectionHelpers = { outDir, root: ROOT, fmt, pct, mb };

/**
 * The results file: the whole table; or, for a run of only the churn rows or only the video rows,
 * just that section of an existing file, the rest left as it was.
 */
function writeTable(mdFile, doc) {
  const only = (part) => doc.config.parts.length > 0 && doc.config.parts.every((p) => p === part);
  const sections = {
    churn: [CHURN_BEGIN, CHURN_END, () => churnSection(doc)],
    video: [VIDEO_BEGIN, VIDEO_END, () => videoSection(doc, sectionHelpers)],
    lite: [LITE_BEGIN, LITE_END, () => liteSection(doc, sectionHelpers)],
  };
  const part = Object.keys(sections).find(only);
  let text = markdown(doc);
  if (part && existsSync(mdFile)) {
    const [beginMark, endMark, render] = sections[part];
    const old = readFileSync(mdFile, 'utf8');
    const section = render().join('\n');
    const begin = old.indexOf(beginMark);
    const end = old.indexOf(endMark);
    if (begin >= 0 && end > begin) text = old.slice(0, begin) + section + old.slice(end + endMark.length);
    else {
      const at = old.indexOf('\n## Against the targets (issue 6)');
      text = at >= 0 ? `${old.slice(0, at + 1)}${section}\n\n${old.slice(at + 1)}` : `${old.trimEnd()}\n\n${section}\n`;
    }
  }
  writeFileSync(mdFile, text);
  return text;
}

// ---------------------------------------------------------------- main

/** How this run was started, as a user would type it. */
function commandLine() {
  const rest = process.argv.slice(2).map((a) => (a === '' || /\s/.test(a) ? `'${a}'` : a)).join(' ');
  if (process.env.npm_lifecycle_event === 'bench') return `npm run bench${rest ? ` -- ${rest}` : ''}`;
  return `node bench/run.mjs${rest ? ` ${rest}` : ''}`;
}

const started = new Date();
const results = [];
const save = () => {
  const file = `bench-${started.toISOString().replace(/[:.]/g, '-')}${quick ? '-quick' : ''}.json`;
  const doc = { startedAt: started.toISOString(), seconds: (Date.now() - started.getTime()) / 1000, command: commandLine(), config: { ...config, parts: [...config.parts] }, machine: machine(), results, file };
  writeFileSync(join(outDir, file), JSON.stringify(doc, null, 2) + '\n');
  return doc;
};
const attempt = async (what, fn) => {
  try {
    results.push(await fn());
  } catch (error) {
    log(`${what} failed: ${error instanceof Error ? error.stack : String(error)}`);
    results.push({ kind: 'error', label: what, error: String(error) });
  }
  save();
};

if (args['from-json']) {
  const doc = JSON.parse(readFileSync(resolve(args['from-json']), 'utf8'));
  Object.assign(config, doc.config, { parts: new Set(doc.config.parts) });
  const mdFile = args.md ? resolve(args.md) : join(ROOT, 'bench', 'results.md');
  writeTable(mdFile, doc);
  log(`table from ${args['from-json']}: ${mdFile}`);
  process.exit(0);
}

// Ctrl-C or SIGTERM: the run going on stops gracefully (calls hung up, browsers and the lab stopped), raw figures are saved, no table is written; a second signal exits at once.
const onSignal = (signal) => {
  log(`${signal}: stopping gracefully (again to force)`);
  if (stopping.signal.aborted) process.exit(130);
  stopping.abort();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

log(`machine load before: ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
const measuredSizes = [...config.sizes.map((legs) => ({ legs, profile: 'standard' })), ...config.lowCostSizes.map((legs) => ({ legs, profile: 'low-cost' }))];
for (const { legs, profile } of measuredSizes) {
  if (stopping.signal.aborted) break;
  if (config.parts.has('a')) await attempt(`callwright ${profile} ${legs}`, () => measureCallwright({ label: `${profile}-${legs}`, legs, profile }));
  if (config.parts.has('c')) await attempt(`floor ${profile} ${legs}`, () => measureFloor({ legs, profile }));
}
if (config.parts.has('b') && config.perPageSize > 0 && !stopping.signal.aborted) {
  if (!config.sizes.includes(config.perPageSize) && config.parts.has('a')) {
    await attempt(`callwright standard ${config.perPageSize}`, () => measureCallwright({ label: `standard-${config.perPageSize}`, legs: config.perPageSize, profile: 'standard' }));
  }
  await attempt(`one agent per page ${config.perPageSize}`, () => measureCallwright({ label: `per-page-${config.perPageSize}`, legs: config.perPageSize, profile: 'standard', agentsPerPage: 1 }));
}
if (config.parts.has('d') && config.rates.length && !stopping.signal.aborted) await attempt('setup rate', measureSetupRate);
if (config.parts.has('churn') && config.churnSizes.length && !stopping.signal.aborted) {
  let lab;
  try {
    if (config.churnServers.includes('kamailio')) lab = await startChurnLab();
    for (const legs of config.churnSizes) {
      for (const server of config.churnServers) {
        if (stopping.signal.aborted) break;
        await attempt(`churn ${server} ${legs}`, () => measureChurn({ legs, lab: server === 'kamailio' ? lab : undefined, server }));
      }
      // The floor for the same legs, unless (c) measured it earlier in this run.
      if (stopping.signal.aborted || results.some((r) => r.kind === 'floor' && r.legs === legs && r.profile === 'standard')) continue;
      await attempt(`floor standard ${legs}`, () => measureFloor({ legs, profile: 'standard' }));
    }
  } catch (error) {
    log(`churn lab failed: ${error instanceof Error ? error.stack : String(error)}`);
    results.push({ kind: 'error', label: 'churn lab', error: String(error) });
  } finally {
    if (lab) {
      const { stopped } = await labDown(lab.dir);
      log(`lab down: stopped ${stopped.join(', ') || 'nothing (already gone)'}`);
    }
  }
}
if (config.parts.has('video') && !stopping.signal.aborted) {
  const deps = { runScenario, parseScenario, meter, perLeg, config, outDir, logger, signal: stopping.signal, log, sleep };
  for (const codec of config.videoCodecs) {
    for (const legs of config.videoSizes) {
      if (stopping.signal.aborted) break;
      await attempt(`video ${codec} ${legs}`, () => measureVideo(deps, { legs, codec }));
    }
  }
}
if (config.parts.has('lite') && !stopping.signal.aborted) {
  const deps = { runScenario, parseScenario, meter, perLeg, config, outDir, logger, signal: stopping.signal, log, sleep };
  // Browser legs first, then lite legs: the same machine, the same run, so legs per core compare.
  if (config.liteBrowserLegs > 0) await attempt(`browser ${config.liteBrowserLegs}`, () => measureLiteHeld(deps, { legs: config.liteBrowserLegs, agent: 'browser' }));
  for (const legs of config.liteSizes) {
    if (stopping.signal.aborted) break;
    await attempt(`lite ${legs}`, () => measureLiteHeld(deps, { legs, agent: 'lite' }));
  }
  if (config.liteRate > 0 && !stopping.signal.aborted) await attempt(`lite rate ${config.liteRate}`, () => measureLiteRate(deps, { rate: config.liteRate, seconds: config.liteRateSeconds }));
}
if (stopping.signal.aborted) {
  save();
  log('stopped: raw figures saved, no table written');
  process.exit(130);
}

const doc = save();
const mdFile = args.md ? resolve(args.md) : quick ? join(outDir, 'results-quick.md') : join(ROOT, 'bench', 'results.md');
const md = writeTable(mdFile, doc);
process.stdout.write(md + '\n');
log(`raw: ${join(outDir, doc.file)}; table: ${mdFile}`);
