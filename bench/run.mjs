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
 *   (d) the sustainable call setup rate (capacity search over calls/s).
 *
 * Chromium CPU and memory count every process of each browser's process group
 * and their descendants (zygote-forked renderers included), from /proc.
 *
 *   npm run bench                                   # build, then the full run
 *   node bench/run.mjs --sizes 20,60 --hold 30      # a subset, 30 s windows
 *   node bench/run.mjs --quick                      # smoke check, about 3 minutes
 *
 * Writes bench/out/bench-<time>.json (raw) and bench/results.md (bench/out/
 * results-quick.md with --quick). Needs `npm run build` first (npm run bench
 * does it).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
const { TreeCpuMeter, MachineCpuMeter } = await dist('runner/processStats.js');
const { fixturePaths } = await dist('runner/fixtures.js');
const { chromiumArgs, resolveChromium } = await dist('browser/chromium.js');
const { searchCapacity, describeCapacity } = await dist('runner/capacity.js');
const { createLogger } = await dist('log.js');

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string' },
    'low-cost-sizes': { type: 'string' },
    'per-page-size': { type: 'string' },
    hold: { type: 'string' },
    settle: { type: 'string' },
    rates: { type: 'string' },
    'rate-step': { type: 'string' },
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
  --only a,b,c,d          run only these parts
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
  parts: new Set((args.only ?? 'a,b,c,d').split(',').map((p) => p.trim())),
};
for (const size of [...config.sizes, ...config.lowCostSizes, config.perPageSize]) {
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
steps:
  - register: [caller, callee]
  - call: { from: caller, to: callee, until: established }
  - wait: holdTime
  - hangup: caller
`,
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
  let established = 0;
  let allUp;
  const allUpPromise = new Promise((r) => (allUp = r));
  const samples = [];
  let windowOpen = false;
  const reporter = {
    name: 'bench',
    onEvent(event) {
      if (event.type === 'callEstablished' && ++established === calls) allUp(Date.now());
      if (event.type === 'sample' && windowOpen) samples.push(event.sample);
    },
  };
  let pids = () => [];
  const startedAt = Date.now();
  log(`${label}: ${legs} legs (${calls} calls), ${profile} profile${agentsPerPage ? `, ${agentsPerPage} agent(s) per page` : ''}, hold ${holdSeconds} s`);
  const running = runScenario({ scenario, outDir: join(outDir, 'runs', name), logger, reporters: [reporter], onReady: (r) => (pids = r.browserPids) });
  const measured = (async () => {
    const upAt = await Promise.race([allUpPromise, running.then(() => undefined), sleep(setupAllowance * 1000).then(() => undefined)]);
    if (upAt === undefined) return { error: `only ${established}/${calls} calls were up after ${setupAllowance} s` };
    const setupSpreadSeconds = (upAt - startedAt) / 1000;
    await sleep(config.settleSeconds * 1000);
    const m = meter(pids);
    m.start();
    windowOpen = true;
    await sleep(config.windowSeconds * 1000);
    windowOpen = false;
    return { ...m.stop(), allUpAfterSeconds: setupSpreadSeconds, browsers: pids().length };
  })();
  const [outcome, window] = await Promise.all([running, measured]);
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
      const outcome = await runScenario({ scenario: stepScenario, outDir: stepDir, logger });
      return { summary: outcome.summary, calls: outcome.calls };
    },
    onStep: (step) => log(`setup rate ${step.level}/s: ${step.ok ? 'good' : `BAD: ${step.why.join('; ')}`}`),
  });
  return { kind: 'setup-rate', holdSeconds, criteria, lines: describeCapacity(report), lastGood: report.lastGood?.level, firstBad: report.firstBad?.level, reachedMax: report.reachedMax, steps: report.steps.map(({ outDir: _, ...step }) => step) };
}

// ---------------------------------------------------------------- report

const fmt = (v, digits = 2) => (v === undefined || v === null || Number.isNaN(v) ? '-' : Number(v).toFixed(digits));
const pct = (v, digits = 2) => (v === undefined || v === null || Number.isNaN(v) ? '-' : `${(v * 100).toFixed(digits)}%`);
const mb = (v) => (v === undefined ? '-' : (v / 2 ** 20).toFixed(1));
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
  lines.push('| run | legs | profile | agents/page | calls ok | concealed (mean / worst interval) | Chromium cores | Node cores | Node share | cores/leg (Chromium) | PSS MB/leg | RSS MB/leg | floor cores/leg | overhead vs floor |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
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
  writeFileSync(mdFile, markdown(doc));
  log(`table from ${args['from-json']}: ${mdFile}`);
  process.exit(0);
}

log(`machine load before: ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
const measuredSizes = [...config.sizes.map((legs) => ({ legs, profile: 'standard' })), ...config.lowCostSizes.map((legs) => ({ legs, profile: 'low-cost' }))];
for (const { legs, profile } of measuredSizes) {
  if (config.parts.has('a')) await attempt(`callwright ${profile} ${legs}`, () => measureCallwright({ label: `${profile}-${legs}`, legs, profile }));
  if (config.parts.has('c')) await attempt(`floor ${profile} ${legs}`, () => measureFloor({ legs, profile }));
}
if (config.parts.has('b') && config.perPageSize > 0) {
  if (!config.sizes.includes(config.perPageSize) && config.parts.has('a')) {
    await attempt(`callwright standard ${config.perPageSize}`, () => measureCallwright({ label: `standard-${config.perPageSize}`, legs: config.perPageSize, profile: 'standard' }));
  }
  await attempt(`one agent per page ${config.perPageSize}`, () => measureCallwright({ label: `per-page-${config.perPageSize}`, legs: config.perPageSize, profile: 'standard', agentsPerPage: 1 }));
}
if (config.parts.has('d') && config.rates.length) await attempt('setup rate', measureSetupRate);

const doc = save();
const md = markdown(doc);
const mdFile = args.md ? resolve(args.md) : quick ? join(outDir, 'results-quick.md') : join(ROOT, 'bench', 'results.md');
writeFileSync(mdFile, md);
process.stdout.write(md + '\n');
log(`raw: ${join(outDir, doc.file)}; table: ${mdFile}`);
