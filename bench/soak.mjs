#!/usr/bin/env node
// Soak: a bounded run of hundreds of calls at low concurrency against the
// embedded server, sampling memory and the Chromium process count every ~10 s,
// to show neither grows with the number of calls. Not part of `npm test`.
//
//   npm run soak                      # build, then 10 minutes
//   node bench/soak.mjs --minutes 2   # after `npm run build`
//
// Writes bench/out/soak-<stamp>.csv (raw samples), the run's reports under
// bench/out/soak-<stamp>/, and bench/soak.md (the table and the verdict).
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const QUIET_LOCK = '/tmp/callwright-quiet.lock';
const SAMPLE_EVERY_MS = 10_000;
const CONCURRENCY = 4;
const HOLD_SECONDS = 3;

const minutes = numberOption('--minutes', 10);
const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
const outDir = join(ROOT, 'bench', 'out', `soak-${stamp}`);
const csvFile = join(ROOT, 'bench', 'out', `soak-${stamp}.csv`);
const resultsFile = join(ROOT, 'bench', 'soak.md');

// A heap figure after a full collection is what can be compared over time.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc');

const { parseScenario } = await import(join(ROOT, 'dist', 'scenario', 'index.js'));
const { runScenario } = await import(join(ROOT, 'dist', 'runner', 'run.js'));
const { createLogger } = await import(join(ROOT, 'dist', 'log.js'));

// A CPU benchmark that is measuring asks everyone else to stay quiet.
while (existsSync(QUIET_LOCK)) {
  process.stderr.write(`soak: ${QUIET_LOCK} exists (a benchmark is measuring); waiting\n`);
  await sleep(30_000);
}

const scenarioText = `
name: soak
description: Hundreds of short calls at low concurrency; memory and browsers must stay flat.
roles:
  caller:
    accounts: { range: { from: 1000, count: ${CONCURRENCY} }, user: "{n}", password: "pw{n}" }
  callee:
    accounts: { range: { from: 2000, count: ${CONCURRENCY} }, user: "{n}", password: "pw{n}" }
    autoAnswer: { after: 200ms }
load:
  concurrency: ${CONCURRENCY}
  duration: ${minutes * 60}s
  holdTime: ${HOLD_SECONDS}s
  gracefulStop: 20s
options:
  statsInterval: 1s
steps:
  - register: [caller, callee]
  - call: { from: caller, to: callee, until: established }
  - expect: { media: flowing, direction: both, within: 5s }
  - wait: holdTime
  - hangup: caller
`;
const scenario = parseScenario(scenarioText, join(outDir, 'soak.yaml'), { env: {} });

const browserPids = new Set();
const warnings = [];
const logger = createLogger('debug', (line) => {
  const started = /chromium started, pid (\d+)/.exec(line);
  if (started) browserPids.add(Number(started[1]));
  if (/^(warn|error):/.test(line)) warnings.push(line);
});

const counts = { started: 0, ended: 0, ok: 0, failed: 0, reasons: {} };
const reporter = {
  name: 'soak',
  onEvent: (event) => {
    if (event.type === 'callStarted') counts.started++;
  },
  onCallEnd: (call) => {
    counts.ended++;
    if (call.result === 'success') counts.ok++;
    else {
      counts.failed++;
      const reason = call.failureReason ?? call.result;
      counts.reasons[reason] = (counts.reasons[reason] ?? 0) + 1;
    }
  },
};

const samples = [];
const startedAtMs = Date.now();
let lockSeen = false;
function sample() {
  collectGarbage();
  const memory = process.memoryUsage();
  const chromium = chromiumUsage();
  lockSeen ||= existsSync(QUIET_LOCK);
  samples.push({
    seconds: Math.round((Date.now() - startedAtMs) / 1000),
    callsEnded: counts.ended,
    callsOk: counts.ok,
    callsFailed: counts.failed,
    nodeHeapUsedMb: mb(memory.heapUsed),
    nodeHeapTotalMb: mb(memory.heapTotal),
    nodeRssMb: mb(memory.rss),
    chromiumProcesses: chromium.count,
    browsers: chromium.browsers,
    chromiumPssMb: mb(chromium.pssBytes),
    chromiumRssMb: mb(chromium.rssBytes),
  });
  const last = samples.at(-1);
  process.stderr.write(
    `soak ${fmtTime(last.seconds)} calls ${last.callsEnded} (${last.callsFailed} failed)  heap ${last.nodeHeapUsedMb} MB  rss ${last.nodeRssMb} MB  chromium ${last.chromiumProcesses} procs, PSS ${last.chromiumPssMb} MB\n`,
  );
}

mkdirSync(outDir, { recursive: true });
process.stderr.write(`soak: ${minutes} min, concurrency ${CONCURRENCY}, hold ${HOLD_SECONDS}s; reports in ${relative(ROOT, outDir)}\n`);
const stop = new AbortController();
process.once('SIGINT', () => stop.abort());
const timer = setInterval(sample, SAMPLE_EVERY_MS);
sample();
let outcome;
try {
  outcome = await runScenario({ scenario, outDir, logger, reporters: [reporter], signal: stop.signal });
} finally {
  clearInterval(timer);
}
await sleep(1000);
sample();
// The sample after the run (browsers closed) is shown, not fitted.
const afterRun = samples.pop();
const leftover = [...browserPids].filter(isAlive);

writeFileSync(csvFile, toCsv([...samples, { ...afterRun, afterRun: true }]));
const verdicts = judge(samples);
writeFileSync(resultsFile, report());
process.stderr.write(`soak: ${verdicts.every((v) => v.flat) ? 'FLAT' : 'GROWING'}; ${relative(ROOT, resultsFile)}, ${relative(ROOT, csvFile)}\n`);
process.exitCode = leftover.length > 0 ? 1 : 0;

// --- measurements ---------------------------------------------------------

/** Every Chromium process under this one (renderers fork from the zygote, so walk the whole tree). */
function chromiumUsage() {
  const parents = new Map();
  const names = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const [state, ppid] = stat.slice(close + 2).split(' ');
      if (state === 'Z') continue;
      parents.set(Number(entry), Number(ppid));
      names.set(Number(entry), stat.slice(stat.indexOf('(') + 1, close));
    } catch {
      // gone while we looked
    }
  }
  const tree = new Set([process.pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, ppid] of parents) {
      if (!tree.has(pid) && tree.has(ppid)) {
        tree.add(pid);
        grew = true;
      }
    }
  }
  let count = 0;
  let pssBytes = 0;
  let rssBytes = 0;
  let browsers = 0;
  for (const pid of tree) {
    if (pid === process.pid || !/chrom/i.test(names.get(pid) ?? '')) continue;
    count++;
    if (parents.get(pid) === process.pid) browsers++;
    pssBytes += kbField(`/proc/${pid}/smaps_rollup`, 'Pss');
    rssBytes += kbField(`/proc/${pid}/status`, 'VmRSS');
  }
  return { count, browsers, pssBytes, rssBytes };
}

function kbField(file, name) {
  try {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(readFileSync(file, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// --- verdict --------------------------------------------------------------

/** Least-squares slope per minute over the samples after the first 20% (warm-up: pages, JIT, pools). */
function slopePerMinute(points) {
  const n = points.length;
  if (n < 3) return 0;
  const meanX = points.reduce((s, p) => s + p.x, 0) / n;
  const meanY = points.reduce((s, p) => s + p.y, 0) / n;
  const sxy = points.reduce((s, p) => s + (p.x - meanX) * (p.y - meanY), 0);
  const sxx = points.reduce((s, p) => s + (p.x - meanX) ** 2, 0);
  return sxx === 0 ? 0 : (sxy / sxx) * 60;
}

/**
 * Flat: what the fitted line adds over the measured window stays below a
 * tolerance (a share of the level, with a floor for small figures). A leak of
 * even a few KB per call over hundreds of calls shows as a steady slope.
 */
function judge(all) {
  const steady = all.slice(Math.max(1, Math.floor(all.length * 0.2)));
  const windowMinutes = steady.length > 1 ? (steady.at(-1).seconds - steady[0].seconds) / 60 : 0;
  const measures = [
    { key: 'nodeHeapUsedMb', label: 'Node heap used (after GC)', share: 0.1, floorMb: 5 },
    { key: 'nodeRssMb', label: 'Node RSS', share: 0.1, floorMb: 20 },
    { key: 'chromiumPssMb', label: 'Chromium PSS (all processes)', share: 0.1, floorMb: 40 },
    { key: 'chromiumProcesses', label: 'Chromium processes', share: 0, floorMb: 1, unit: '' },
  ];
  return measures.map((m) => {
    const values = steady.map((s) => s[m.key]);
    const mean = values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
    const slope = slopePerMinute(steady.map((s) => ({ x: s.seconds, y: s[m.key] })));
    const growth = slope * windowMinutes;
    const tolerance = Math.max(mean * m.share, m.floorMb);
    return {
      ...m,
      min: Math.min(...values),
      max: Math.max(...values),
      mean,
      slope,
      growth,
      tolerance,
      flat: Math.abs(growth) <= tolerance || growth < 0,
    };
  });
}

// --- output ---------------------------------------------------------------

function report() {
  const summary = outcome?.summary;
  const perCall = counts.ended > 0 ? verdicts.find((v) => v.key === 'nodeHeapUsedMb').growth / counts.ended : 0;
  const cpu = cpus();
  const rows = samples.map(
    (s) =>
      `| ${fmtTime(s.seconds)} | ${s.callsEnded} | ${s.callsFailed} | ${s.nodeHeapUsedMb} | ${s.nodeRssMb} | ${s.browsers} | ${s.chromiumProcesses} | ${s.chromiumPssMb} | ${s.chromiumRssMb} |`,
  );
  const reasons = Object.entries(counts.reasons).map(([reason, n]) => `${reason} ${n}`).join(', ') || 'none';
  const verdictRows = verdicts.map((v) => {
    const unit = v.unit ?? ' MB';
    return `| ${v.label} | ${round(v.min)}${unit} | ${round(v.max)}${unit} | ${round(v.slope, 2)}${unit}/min | ${round(v.growth, 1)}${unit} | ±${round(v.tolerance, 1)}${unit} | ${v.flat ? 'flat' : 'GROWING'} |`;
  });
  return `# Soak: memory and Chromium count over hundreds of calls

Bounded soak (not part of \`npm test\`): ${minutes} minutes of short calls at low
concurrency against the embedded server, sampling every ${SAMPLE_EVERY_MS / 1000} s. Reproduce with
\`npm run soak\` (or \`node bench/soak.mjs --minutes N\` after \`npm run build\`); raw
samples go to \`bench/out/soak-<date>.csv\`, the run's own reports to \`bench/out/soak-<date>/\`.

- Machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, ${osRelease()}
- Date: ${new Date(startedAtMs).toISOString()}
- Command: \`node bench/soak.mjs --minutes ${minutes}\`
- Load: closed model, ${CONCURRENCY} calls at once, each: call, answer after 200 ms, check media flowing both ways, hold ${HOLD_SECONDS} s, hang up (\`options.pageRecycleAfter\` at its default, so pages are recycled during the soak)
- Shared machine: other work (builds, tests) ran at the same time; memory and process counts are what is measured here, not CPU.${lockSeen ? ' A CPU benchmark lock appeared during the soak.' : ''}

## Result

${summary ? `${counts.ended} calls ended: ${counts.ok} ok, ${counts.failed} failed (${reasons}); run exit code ${summary.exitCode}.` : 'The run did not finish.'}
Chromium processes left after the run: ${leftover.length === 0 ? 'none' : leftover.join(', ')}.
Node heap growth per call (fitted): ${round(perCall * 1024, 2)} KB.

Verdict over the samples after the first 20% (warm-up): **${verdicts.every((v) => v.flat) ? 'flat' : 'growing'}**.

| measure | min | max | slope | fitted growth over the window | tolerance | verdict |
|---|---|---|---|---|---|---|
${verdictRows.join('\n')}

Flat means the least-squares line over the window grows by less than the
tolerance (10% of the level, at least 5 MB for the heap, 20 MB for RSS, 40 MB
for Chromium PSS, 1 process).

## Samples

| time | calls ended | failed | Node heap used MB | Node RSS MB | browsers | Chromium processes | Chromium PSS MB | Chromium RSS MB (summed, double-counts shared pages) |
|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}
| after the run | ${afterRun.callsEnded} | ${afterRun.callsFailed} | ${afterRun.nodeHeapUsedMb} | ${afterRun.nodeRssMb} | ${afterRun.browsers} | ${afterRun.chromiumProcesses} | ${afterRun.chromiumPssMb} | ${afterRun.chromiumRssMb} |
`;
}

function toCsv(rows) {
  const columns = [...Object.keys(rows[0] ?? {}), 'afterRun'];
  return [columns.join(','), ...rows.map((row) => columns.map((c) => row[c] ?? false).join(','))].join('\n') + '\n';
}

function osRelease() {
  try {
    return /^PRETTY_NAME="?([^"\n]+)/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? 'Linux';
  } catch {
    return 'Linux';
  }
}

function numberOption(name, fallback) {
  const index = process.argv.indexOf(name);
  if (index < 0) return fallback;
  const value = Number(process.argv[index + 1]);
  if (!(value > 0 && value <= 24 * 60)) {
    process.stderr.write(`soak: ${name} takes a number of minutes from 0 to 1440\n`);
    process.exit(2);
  }
  return value;
}

function mb(bytes) {
  return Math.round((bytes / 2 ** 20) * 10) / 10;
}

function round(value, digits = 0) {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

function fmtTime(seconds) {
  return `${String(Math.floor(seconds / 60)).padStart(2, '0')}:${String(seconds % 60).padStart(2, '0')}`;
}

function sleep(ms) {
  return new Promise((resolvePromise) => setTimeout(resolvePromise, ms));
}
