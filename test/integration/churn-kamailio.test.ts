import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveChromium } from '../../src/browser/chromium.js';
import { describeMissing, labDown, labPortsFrom, labUp, missingLabPrerequisites, type LabState } from '../../src/lab/index.js';
import { processGroupMembers } from '../../src/lab/processes.js';
import { processesInGroups, readCsv, readJson, runCli, tempDir, writeScenario } from './support.js';

// Issue 9, "Done when" 1: against the lab's Kamailio with digest auth (401 on REGISTER, 407 on
// INVITE), a closed model of 20 concurrent calls (40 legs) with churn (each slot starts its next
// call on the same accounts as soon as its last one hangs up), a media check on every call, 60 s of
// load, through the real CLI. At least 99% of calls succeed, and any failure carries its transport
// timeline (legs.csv) and its SIP messages (sip/<call>.log, credentials redacted).
//
// Its own lab (Kamailio + rtpengine, no devices; browser to browser, no relay) on ports
// 12060..12359, in its own temp dir: clear of lab-scenarios (7060), mtu-sweep (7460), faults-lab
// (9060), wire-timings (11060), lab-infra (15060/16060) and a developer's default lab (5060/8080).
//
// Needs Kamailio, rtpengine and Chromium. Outside CI a missing one skips with the reason in the
// name; in CI (env CI set) it FAILS.

const PORT_BASE = 12060;
const CONCURRENCY = 20;
const DURATION_S = 60;
const HOLD_S = 8;
const ANSWER_AFTER = '300ms';
const MIN_SUCCESS = 0.99;
/** Lab users 1000..1039: callers 1000..1019, callees 1020..1039 (password secret<user>). */
const FIRST_USER = 1000;

const inCi = Boolean(process.env['CI']) && process.env['CI'] !== 'false' && process.env['CI'] !== '0';
const labCore = missingLabPrerequisites([]);
const missing =
  [labCore.length > 0 ? describeMissing(labCore) : undefined, resolveChromium() === undefined ? 'no Chromium (apt-get install chromium, or set CALLWRIGHT_CHROMIUM)' : undefined]
    .filter((m): m is string => m !== undefined)
    .join('; ') || undefined;
const skipReason = missing !== undefined && !inCi ? missing : undefined;

/** In CI a missing prerequisite is a failure of the test, never a skip. */
function requirePrerequisites(what: string | undefined): void {
  if (what !== undefined) throw new Error(`CI (env CI is set): this test must run, not skip, but: ${what}`);
}

const out = tempDir('callwright-churn-kamailio-');
const labDir = join(out, 'lab');

/** Type-7 percentile (the report's): linear between closest ranks. */
function percentile(values: number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  return sorted[low]! + (sorted[Math.ceil(rank)]! - sorted[low]!) * (rank - low);
}

/** Every file under dir, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe.skipIf(skipReason !== undefined)(`churn through the lab's Kamailio: ${CONCURRENCY} calls at once, media check on each${skipReason ? ` [SKIPPED: ${skipReason}]` : ''}`, () => {
  const browserPids: number[] = [];
  let labPids: number[] = [];
  let lab: LabState | undefined;

  beforeAll(async () => {
    if (missing !== undefined) return; // in CI: the test itself fails with the reason
    lab = await labUp({ dir: labDir, ports: labPortsFrom(PORT_BASE), users: { first: FIRST_USER, count: 2 * CONCURRENCY }, devices: [] });
    labPids = lab.processes.map((p) => p.pid);
    expect(lab.wsUrl).toBe(`ws://127.0.0.1:${PORT_BASE + 1}`);
  }, 60_000);

  afterAll(async () => {
    if (existsSync(join(labDir, 'lab.json'))) await labDown(labDir);
    // Nothing of ours is left: no lab process (nor its process group), no Chromium (crashpad may take a moment).
    for (let i = 0; i < 50 && processesInGroups(browserPids).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(processesInGroups(browserPids)).toEqual([]);
    for (const pid of labPids) {
      expect(existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z '), `lab pid ${pid}`).toBe(false);
      expect(processGroupMembers(pid)).toEqual([]);
    }
    expect(existsSync(join(labDir, 'lab.json'))).toBe(false);
  }, 60_000);

  it(`closed model, ${CONCURRENCY} calls (${2 * CONCURRENCY} legs) with churn for ${DURATION_S} s, digest auth, expect media both ways on every call: >= ${MIN_SUCCESS * 100}% ok, every failure with its transport timeline and SIP log, no credentials in the logs`, async () => {
    requirePrerequisites(missing);
    const callers = FIRST_USER;
    const callees = FIRST_USER + CONCURRENCY;
    const file = writeScenario(
      out,
      'churn-kamailio',
      `name: churn-kamailio
target: { url: "${lab!.wsUrl}", domain: ${lab!.domain} }
roles:
  caller: { accounts: { range: { from: ${callers}, count: ${CONCURRENCY} }, user: "{n}", password: "secret{n}" } }
  callee:
    accounts: { range: { from: ${callees}, count: ${CONCURRENCY} }, user: "{n}", password: "secret{n}" }
    autoAnswer: { after: ${ANSWER_AFTER} }
load: { concurrency: ${CONCURRENCY}, duration: ${DURATION_S}s, holdTime: ${HOLD_S}s, gracefulStop: 20s }
# A tenth of the successful calls keep their SIP log too: the redaction is checked on real digest traffic.
options: { evidence: { sampleSuccessful: 0.1 } }
steps:
  - register: [caller, callee]
  - call: { from: caller, to: callee, until: established }
  - expect: { media: flowing, direction: both, within: 5s }
  - wait: holdTime
  - hangup: caller
`,
    );
    const dir = join(out, 'run');
    // The outcome threshold lets a run with <= 1% failed calls exit 0; the test counts on its own too.
    const run = await runCli(['run', file, '--out', dir, '--log-level', 'debug', '--quiet', '--threshold', `call_success:rate>=${MIN_SUCCESS}`], { timeoutMs: 125_000 });
    browserPids.push(...run.browserPids);
    expect(run.browserPids.length, 'the run logged its Chromium PIDs').toBeGreaterThan(0);
    expect(run.signal, 'the run finished within its time').toBeNull();

    const calls = readCsv(join(dir, 'calls.csv'));
    const legs = readCsv(join(dir, 'legs.csv'));
    const summary = readJson(join(dir, 'summary.json'));
    const failed = calls.filter((c) => c['result'] !== 'success');
    const numbers = (column: string) => calls.map((c) => c[column]).filter((v) => v !== undefined && v !== '').map(Number);
    const fmt = (v: number | undefined) => (v === undefined ? '-' : `${(v * 1000).toFixed(0)} ms`);
    const figures = ['setup_s', 'pdd_s', 'harness_prep_s'].map((c) => `${c} p50 ${fmt(percentile(numbers(c), 50))} p95 ${fmt(percentile(numbers(c), 95))}`).join('; ');
    const failureList = failed.map((c) => `${c['call_id']}: ${c['failure_reason']} ${c['failure_detail'] ?? ''} (${c['evidence'] || 'no evidence'})`).join('\n');
    console.log(`churn-kamailio: ${calls.length} calls, ${failed.length} failed; ${figures}${failureList ? `\n${failureList}` : ''}`);

    // Churn for 60 s: 20 slots, each call about 9 s (0.3 s answer, media check, 8 s hold): 100+ calls.
    expect(calls.length).toBeGreaterThanOrEqual(100);
    expect(summary.calls.total, 'summary.json counts the calls of calls.csv').toBe(calls.length);
    expect(summary.calls.failed).toBe(failed.length);
    expect((calls.length - failed.length) / calls.length, failureList).toBeGreaterThanOrEqual(MIN_SUCCESS);
    expect(run.code, run.stderr.slice(-3000)).toBe(0);
    // Every slot made calls on its own accounts, again and again (churn on the same accounts).
    const perPair = new Map<string, number>();
    for (const c of calls) perPair.set(`${c['from']}>${c['to']}`, (perPair.get(`${c['from']}>${c['to']}`) ?? 0) + 1);
    expect(perPair.size).toBe(CONCURRENCY);
    expect(Math.min(...perPair.values())).toBeGreaterThanOrEqual(3);

    // Every failure is explained: its legs' transport timelines, and its SIP messages with the INVITE.
    for (const call of failed) {
      const id = call['call_id']!;
      const itsLegs = legs.filter((l) => l['call_id'] === id);
      expect(itsLegs.length, `${id}: legs.csv rows`).toBeGreaterThan(0);
      for (const leg of itsLegs) expect(leg['transport_timeline'], `${id} leg ${leg['leg_id']}: transport_timeline`).not.toBe('');
      expect(call['evidence'], `${id}: evidence column`).toMatch(/^sip\/.+\.log$/);
      const evidence = join(dir, call['evidence']!);
      expect(existsSync(evidence), `${id}: ${evidence}`).toBe(true);
      expect(readFileSync(evidence, 'utf8'), `${id}: the INVITE in ${evidence}`).toMatch(/^INVITE sip:/m);
    }
    // Every call has its legs in legs.csv (caller and callee, both in callwright).
    expect(legs.filter((l) => calls.some((c) => c['call_id'] === l['call_id'])).length).toBeGreaterThanOrEqual(2 * (calls.length - failed.length));

    // No credentials anywhere in the run's files: no lab password, no digest response hash.
    const sipLogs = existsSync(join(dir, 'sip')) ? readdirSync(join(dir, 'sip')).filter((f) => f.endsWith('.log')) : [];
    expect(sipLogs.length).toBeGreaterThanOrEqual(failed.length + 1);
    const sampled = readFileSync(join(dir, 'sip', sipLogs[0]!), 'utf8');
    // Digest answered on the wire, and only its username left in the log.
    expect(sampled).toMatch(/^Proxy-Authorization: Digest username="\d+", \[redacted\]\r?$/m);
    for (const path of filesUnder(dir)) {
      const text = readFileSync(path, 'utf8');
      expect(text, path).not.toContain('secret10');
      expect(text, path).not.toMatch(/\bresponse\s*=\s*"?[0-9a-f]{32}/i);
    }
  }, 140_000);
});
