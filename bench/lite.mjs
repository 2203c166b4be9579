/**
 * The bench's lite rows (issue 10): lite agents (SIP.js in Node processes, node-datachannel media,
 * pre-encoded audio) against browser legs, measured side by side in one run, as users run them:
 * calls with a media check, through the embedded server.
 *
 *   (held)  legs/2 lite callers call legs/2 lite callees (auto-answer), media check both ways,
 *           held; over the window: calls ok, the received-packet ratio of every leg (what it got
 *           of what its peer sent, from both legs' counters), CPU of the lite processes and of
 *           Node, RSS per leg, event-loop lag of the lite processes (the watchdog's saturation).
 *           The same for browser legs at a size a 2-core machine holds, so legs per core compare.
 *   (rate)  lite calls started at a fixed rate (open model) for a fixed time, each with a media
 *           check and a short hold: success, setup percentiles, whether the harness saturated.
 *
 * Run by bench/run.mjs (`--only lite`, `--lite-sizes`, `--lite-browser-legs`, `--lite-rate`,
 * `--lite-rate-duration`); a lite-only run replaces only this section of bench/results.md.
 */
import { join, relative } from 'node:path';
import { measureHeldWindow } from './heldWindow.mjs';

export const LITE_BEGIN = '<!-- lite rows: written by bench/run.mjs; a run of `--only lite` replaces this section and leaves the rest -->';
export const LITE_END = '<!-- end of lite rows -->';

/** Lite calls come up at this rate (calls/s), as a load test ramps: 250 INVITEs in the same instant would measure a burst, not a held load. */
const LITE_RAMP_RATE = 50;

function heldScenario({ parseScenario, outDir, name, legs, agent, holdSeconds }) {
  const calls = legs / 2;
  const agentLine = agent === 'lite' ? '\n    agent: lite' : '';
  // Browser rows start every call at once (as the audio rows above); lite rows ramp at LITE_RAMP_RATE calls/s to the same count.
  const load =
    agent === 'lite'
      ? `  rate: ${LITE_RAMP_RATE}\n  duration: ${Math.ceil(calls / LITE_RAMP_RATE)}s\n  maxConcurrent: ${calls}\n  holdTime: ${holdSeconds}s\n  gracefulStop: 60s`
      : `  concurrency: ${calls}\n  iterations: ${calls}\n  holdTime: ${holdSeconds}s\n  gracefulStop: 60s`;
  return parseScenario(
    `
name: ${name}
roles:
  caller:${agentLine}
    accounts: { range: { from: 50000, count: ${calls} }, user: "{n}", password: "pw{n}" }
  callee:${agentLine}
    accounts: { range: { from: 60000, count: ${calls} }, user: "{n}", password: "pw{n}" }
    autoAnswer: { after: 100ms }
load:
${load}
options:
  stepTimeout: 30s
steps:
  - register: [caller, callee]
  - call: { from: caller, to: callee, until: established }
  - expect: { media: flowing, direction: both, within: 10s }
  - wait: holdTime
  - hangup: caller
`,
    join(outDir, `${name}.yaml`),
  );
}

/**
 * Over the window, per leg: its packet rate received / its peer's packet rate sent (both legs'
 * cumulative counters, first and last sample of the window, each over its own span as the legs are
 * sampled at different moments). Returns the lowest and the mean.
 */
function receivedRatios(samples) {
  const byLeg = new Map();
  for (const s of samples) {
    const legs = byLeg.get(s.legId) ?? [];
    legs.push(s);
    byLeg.set(s.legId, legs);
  }
  const span = (rows, field) => rows.at(-1)[field] - rows[0][field];
  const ratios = [];
  const byCall = new Map();
  for (const [legId, rows] of byLeg) {
    if (rows.length < 2) continue;
    const callLegs = byCall.get(rows[0].callId) ?? [];
    callLegs.push({ legId, rows });
    byCall.set(rows[0].callId, callLegs);
  }
  for (const legs of byCall.values()) {
    if (legs.length !== 2) continue;
    for (const [me, peer] of [legs, [...legs].reverse()]) {
      // Rates over each leg's own span: the two legs are sampled at different moments.
      const sentRate = span(peer.rows, 'packetsSent') / span(peer.rows, 'atMs');
      const receivedRate = span(me.rows, 'packetsReceived') / span(me.rows, 'atMs');
      if (sentRate > 0) ratios.push(Math.min(1, receivedRate / sentRate));
    }
  }
  return {
    legsMeasured: ratios.length,
    lowest: ratios.length ? Math.min(...ratios) : undefined,
    mean: ratios.length ? ratios.reduce((a, b) => a + b, 0) / ratios.length : undefined,
    below99: ratios.filter((r) => r < 0.99).length,
  };
}

const countFailures = (calls) => {
  const failures = {};
  for (const call of calls) if (call.result === 'failed') failures[call.failureReason ?? 'unknown'] = (failures[call.failureReason ?? 'unknown'] ?? 0) + 1;
  return failures;
};

/** One held row: `legs` legs of `agent` (lite or browser). */
export async function measureLiteHeld(deps, { legs, agent }) {
  const { runScenario, parseScenario, meter, perLeg, config, outDir, logger, signal, log, sleep } = deps;
  const calls = legs / 2;
  const setupAllowance = 20 + legs * (agent === 'lite' ? 0.05 : 0.3);
  const holdSeconds = Math.ceil(setupAllowance + config.settleSeconds + config.liteWindowSeconds + 5);
  const name = `bench-${agent}-${legs}`;
  const scenario = heldScenario({ parseScenario, outDir, name, legs, agent, holdSeconds });
  log(`${agent} ${legs}: ${calls} calls with a media check, hold ${holdSeconds} s`);
  const { outcome, window, samples } = await measureHeldWindow(
    { runScenario, meter, sleep, logger, signal, outDir },
    { scenario, name, calls, setupAllowance, settleSeconds: config.settleSeconds, windowSeconds: config.liteWindowSeconds },
  );
  const succeeded = outcome.calls.filter((c) => c.result === 'success').length;
  const harness = outcome.summary.harness ?? {};
  const result = {
    kind: 'lite-held',
    label: `${agent} ${legs}`,
    agent,
    legs,
    calls,
    succeeded,
    successRate: succeeded / calls,
    failures: countFailures(outcome.calls),
    received: receivedRatios(samples),
    harnessSaturated: harness.saturated ?? false,
    pageLagMaxMs: harness.pageLagMaxMs ?? harness.eventLoopLagMaxMs,
    window,
  };
  if (window.chromiumCores !== undefined) Object.assign(result, perLeg(window, legs));
  log(`${agent} ${legs}: ${succeeded}/${calls} ok, lowest received ${result.received.lowest?.toFixed(4) ?? '-'}, ${window.chromiumCores?.toFixed(2) ?? '-'} agent cores + ${window.nodeCores?.toFixed(2) ?? '-'} Node`);
  return result;
}

/** Lite calls started at `rate` calls/s for `seconds`, each with a media check and a 2 s hold. */
export async function measureLiteRate(deps, { rate, seconds }) {
  const { runScenario, parseScenario, outDir, logger, signal, log, meter, sleep } = deps;
  const holdSeconds = 2;
  // Accounts enough for the calls up at once (setup, media check, hold, teardown), used again and again: churn.
  const slots = Math.ceil(rate * (holdSeconds + 4));
  const name = `bench-lite-rate-${rate}`;
  const scenario = parseScenario(
    `
name: ${name}
roles:
  caller:
    agent: lite
    accounts: { range: { from: 70000, count: ${slots} }, user: "{n}", password: "pw{n}" }
  callee:
    agent: lite
    accounts: { range: { from: 80000, count: ${slots} }, user: "{n}", password: "pw{n}" }
    autoAnswer: { after: 0s }
load:
  rate: ${rate}
  duration: ${seconds}s
  maxConcurrent: ${slots}
  holdTime: ${holdSeconds}s
  gracefulStop: 30s
options:
  stepTimeout: 15s
steps:
  - register: [caller, callee]
  - call: { from: caller, to: callee, until: established }
  - expect: { media: flowing, direction: both, within: 5s }
  - wait: holdTime
  - hangup: caller
`,
    join(outDir, `${name}.yaml`),
  );
  log(`lite rate ${rate}/s for ${seconds} s: ${slots} caller and ${slots} callee accounts, media check and ${holdSeconds} s hold per call`);
  let pids = () => [];
  const started = Date.now();
  const running = runScenario({ scenario, outDir: join(outDir, 'runs', name), logger, signal, onReady: (r) => (pids = r.browserPids) });
  // CPU over the middle of the run, once the rate is reached.
  await sleep(Math.min(15, seconds / 4) * 1000);
  const m = meter(pids);
  m.start();
  await Promise.race([running, sleep(Math.max(5, seconds / 2) * 1000)]);
  const window = m.stop();
  const outcome = await running;
  const calls = outcome.calls;
  const setups = calls.map((c) => c.setupSeconds).filter((v) => v !== undefined).sort((a, b) => a - b);
  const pct = (p) => (setups.length ? setups[Math.min(setups.length - 1, Math.ceil((p / 100) * setups.length) - 1)] : undefined);
  const succeeded = calls.filter((c) => c.result === 'success').length;
  const result = {
    kind: 'lite-rate',
    label: `lite rate ${rate}`,
    rate,
    seconds,
    runSeconds: (Date.now() - started) / 1000,
    calls: calls.length,
    expectedCalls: rate * seconds,
    succeeded,
    successRate: calls.length ? succeeded / calls.length : 0,
    failures: countFailures(calls),
    achievedRate: outcome.summary.load?.achievedRate ?? undefined,
    lateStarts: outcome.summary.load?.lateStarts ?? outcome.summary.lateStarts,
    setupP50Seconds: pct(50),
    setupP95Seconds: pct(95),
    setupP99Seconds: pct(99),
    harnessSaturated: outcome.summary.harness?.saturated ?? false,
    window,
  };
  log(`lite rate ${rate}/s: ${succeeded}/${calls.length} ok, setup p95 ${result.setupP95Seconds?.toFixed(3) ?? '-'} s`);
  return result;
}

/** The lite rows as a section of their own, with the ratio against the browser rows of the same run. */
export function liteSection(doc, { outDir, root, fmt, pct, mb }) {
  const held = doc.results.filter((r) => r.kind === 'lite-held');
  const rates = doc.results.filter((r) => r.kind === 'lite-rate');
  const errors = doc.results.filter((r) => r.kind === 'error' && /^lite\b|^browser\b/.test(r.label));
  const m = doc.machine;
  const lines = [LITE_BEGIN, '## Lite agents against browser legs (lite)', ''];
  lines.push(`- date: ${doc.startedAt}; command: \`${doc.command}\`; raw figures in \`${relative(root, outDir)}/${doc.file}\``);
  lines.push(`- machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB; ${m.os}; Node ${m.node}; ${m.chromium}`);
  lines.push(
    `- held rows: legs/2 calls between two roles of the same agent kind on the embedded server, each with \`expect: { media: flowing, direction: both }\`, held (browser calls all started at once, lite calls ramped at ${LITE_RAMP_RATE} calls/s); "harness" is the watchdog's verdict over the whole run, setup included; measured over ${doc.config.liteWindowSeconds} s once every call is up. "agent cores" is the CPU of the lite processes (or the Chromium process trees), "Node" the orchestrator's; legs/core counts both. "received" is, per leg, its received packet rate over the window divided by its peer's sent packet rate (both legs' own counters, each over its own sampling span); lowest over all legs.`,
  );
  lines.push('');
  if (held.length) {
    lines.push('| agent | legs (calls) | calls ok | received, lowest / mean (legs < 99%) | agent cores | Node cores | cores/leg (with Node) | legs/core (with Node) | RSS MB/leg | harness |');
    lines.push('|---|---|---|---|---|---|---|---|---|---|');
    for (const r of held) {
      const w = r.window ?? {};
      lines.push(
        `| ${r.agent} | ${r.legs} (${r.calls}) | ${r.succeeded} (${pct(r.successRate, 1)}) | ${pct(r.received.lowest, 2)} / ${pct(r.received.mean, 2)} (${r.received.below99} of ${r.received.legsMeasured}) | ${fmt(w.chromiumCores)} | ${fmt(w.nodeCores)} | ${fmt(r.totalCoresPerLeg, 4)} | ${fmt(r.legsPerCore, 0)} | ${mb(r.rssBytesPerLeg)} | ${r.harnessSaturated ? 'SATURATED' : 'ok'}${w.error ? `; ${w.error}` : ''} |`,
      );
    }
    const best = (agent) => held.filter((r) => r.agent === agent && r.successRate >= 0.99 && !r.harnessSaturated && r.legsPerCore).sort((a, b) => b.legs - a.legs)[0];
    const lite = best('lite');
    const browser = best('browser');
    if (lite && browser) {
      lines.push('', `Legs per core, lite against browser, in this run: ${fmt(lite.legsPerCore, 0)} (lite, ${lite.legs} legs) / ${fmt(browser.legsPerCore, 0)} (browser, ${browser.legs} legs) = **${fmt(lite.legsPerCore / browser.legsPerCore, 1)}x**, counting Node's CPU on both sides.`);
    }
  }
  if (rates.length) {
    lines.push('', '| lite calls/s | for | calls started (of planned) | calls ok | setup p50 / p95 / p99 | failures | lite + Node cores | harness |');
    lines.push('|---|---|---|---|---|---|---|---|');
    for (const r of rates) {
      const w = r.window ?? {};
      const failures = Object.entries(r.failures).map(([k, v]) => `${k} ${v}`).join(', ') || '-';
      lines.push(
        `| ${r.rate} | ${r.seconds} s | ${r.calls} (${r.expectedCalls}) | ${r.succeeded} (${pct(r.successRate, 2)}) | ${fmt(r.setupP50Seconds * 1000, 0)} / ${fmt(r.setupP95Seconds * 1000, 0)} / ${fmt(r.setupP99Seconds * 1000, 0)} ms | ${failures} | ${fmt((w.chromiumCores ?? 0) + (w.nodeCores ?? 0))} | ${r.harnessSaturated ? 'SATURATED' : 'ok'} |`,
      );
    }
  }
  lines.push('', '| target (issue 10) | measured | met |', '|---|---|---|');
  const target = (what, measured, met) => lines.push(`| ${what} | ${measured} | ${met === undefined ? 'not measured' : met ? 'yes' : '**no**'} |`);
  const lite500 = held.filter((r) => r.agent === 'lite' && r.legs >= 500).sort((a, b) => b.legs - a.legs)[0];
  target(
    '>= 500 concurrent lite legs, >= 99% of calls ok, >= 99% of packets received on every leg, harness not saturated',
    lite500 ? `${lite500.legs} legs: ${pct(lite500.successRate, 1)} ok, lowest leg received ${pct(lite500.received.lowest, 2)}, ${lite500.harnessSaturated ? 'saturated' : 'not saturated'}` : '-',
    lite500 ? lite500.successRate >= 0.99 && (lite500.received.lowest ?? 0) >= 0.99 && !lite500.harnessSaturated : undefined,
  );
  const liteBest = held.filter((r) => r.agent === 'lite' && r.legsPerCore).sort((a, b) => b.legs - a.legs)[0];
  const browserRow = held.filter((r) => r.agent === 'browser' && r.legsPerCore).sort((a, b) => b.legs - a.legs)[0];
  const ratio = liteBest && browserRow ? liteBest.legsPerCore / browserRow.legsPerCore : undefined;
  target('>= 5x the legs per core of browser legs, same run', ratio === undefined ? '-' : `${fmt(ratio, 1)}x (${liteBest.legs} lite legs against ${browserRow.legs} browser legs)`, ratio === undefined ? undefined : ratio >= 5);
  const rate = rates[0];
  target(
    '>= 50 lite calls/s for 60 s, >= 99% ok',
    rate ? `${rate.rate}/s for ${rate.seconds} s: ${rate.calls} calls, ${pct(rate.successRate, 2)} ok` : '-',
    rate ? rate.rate >= 50 && rate.seconds >= 60 && rate.successRate >= 0.99 && rate.calls >= 0.99 * rate.expectedCalls : undefined,
  );
  const memory = held.filter((r) => r.agent === 'lite' && r.rssBytesPerLeg);
  target('< 5 MB per lite leg', memory.map((r) => `${r.legs}: ${mb(r.rssBytesPerLeg)} MB (RSS of the lite processes / legs)`).join('; ') || '-', memory.length ? memory.every((r) => r.rssBytesPerLeg < 5 * 1024 * 1024) : undefined);
  for (const e of errors) lines.push('', `**${e.label}: not measured**: ${e.error}`);
  lines.push(LITE_END);
  return lines;
}
