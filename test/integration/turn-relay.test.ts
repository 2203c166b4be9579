import { createHmac } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { describeMissing, missingLabPrerequisites, type LabState } from '../../src/lab/index.js';
import { canBind } from '../../src/lab/ports.js';
import { chromiumMissing, missingOf, named, requirePrerequisites, skipped } from './prerequisites.js';
import { startTestLab, stopTestLab } from './testLab.js';
import { readCsv, readJson, ROOT, runCli, tempDir, type CliRun } from './support.js';

// Calls through a real TURN relay: the lab's coturn on 127.0.0.1 (its own ports, 13060..13359,
// apart from every other lab test), browsers with relay candidates only (iceTransportPolicy:
// relay), through the real CLI with the scenarios of scenarios/lab/relay-*.yaml. Proven from
// both ends: calls.csv and legs.csv say relay, coturn's own log shows the allocations, audio
// flows both ways; wrong credentials fail with turn_refused and coturn's 401; no TURN password
// or secret reaches any output.
//
// Needs Kamailio, rtpengine, the SIPp echo device, coturn and Chromium. Outside CI a missing one
// skips (the reason in the name); in CI (env CI set) every test FAILS with it.

const PORT_BASE = 13060;
const TURN_PORT = PORT_BASE + 8;
const scenarioDir = join(ROOT, 'scenarios', 'lab');
const labPrerequisites = missingLabPrerequisites(['sipp-echo'], { turn: true });
const missing = missingOf(labPrerequisites.length > 0 ? describeMissing(labPrerequisites) : undefined, chromiumMissing());

const out = tempDir('callwright-turn-relay-');
const labDir = join(out, 'lab');
const browserPids: number[] = [];
const cliOutputs: string[] = [];
let state: LabState;
let labPids: number[] = [];

/** Every run of this file, by its out dir (the credential check reads them all). */
const runs: Record<string, RelayRun> = {};

interface RelayRun {
  run: CliRun;
  dir: string;
  calls: Record<string, string>[];
  legs: Record<string, string>[];
  samples: Record<string, string>[];
}

/** A shipped relay scenario pointed at this lab's TURN port, then `callwright run` with the lab's turn.env (or other secrets). */
async function runRelay(name: string, options: { secrets?: string; edit?: (yaml: string) => string } = {}): Promise<RelayRun> {
  const dir = join(out, 'runs', `${name}-${Object.keys(runs).length}`);
  const yaml = readFileSync(join(scenarioDir, `${name}.yaml`), 'utf8').replaceAll('turn:127.0.0.1:3478', `turn:127.0.0.1:${TURN_PORT}`);
  const file = join(out, `${name}-${Object.keys(runs).length}.yaml`);
  writeFileSync(file, (options.edit ?? ((text) => text))(yaml));
  const run = await runCli(['run', file, '--target', state.wsUrl, '--secrets', options.secrets ?? state.turn!.secretsFile, '--out', dir, '--log-level', 'debug'], { timeoutMs: 50_000 });
  browserPids.push(...run.browserPids);
  cliOutputs.push(run.stdout, run.stderr);
  const csv = (f: string) => (existsSync(join(dir, f)) ? readCsv(join(dir, f)) : []);
  const result = { run, dir, calls: csv('calls.csv'), legs: csv('legs.csv'), samples: csv('samples.csv') };
  runs[dir] = result;
  return result;
}

function maxRate(result: RelayRun, role: string, column: 'in_packet_rate' | 'out_packet_rate'): number {
  const values = result.samples.filter((s) => s['role'] === role).map((s) => Number(s[column] || 0));
  if (values.length === 0) throw new Error(`no samples of ${role} in ${result.dir}`);
  return Math.max(...values);
}

/** Every file under dir, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)]));
}

/** Sockets bound on this port in /proc/net/{udp,tcp}: their local addresses (hex, e.g. 0100007F = 127.0.0.1). */
function boundAddresses(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return ['udp', 'tcp', 'udp6', 'tcp6'].flatMap((table) =>
    readFileSync(`/proc/net/${table}`, 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/)[1] ?? '')
      .filter((local) => local.endsWith(`:${hexPort}`))
      .map((local) => `${table} ${local.split(':')[0]}`),
  );
}

describe.skipIf(skipped(missing))(named('calls through the lab TURN relay (coturn), relay candidates only', missing), () => {
  beforeAll(async () => {
    if (missing !== undefined) return; // in CI: each test fails with the reason
    const lab = await startTestLab(labDir, PORT_BASE, ['--devices', 'sipp-echo']);
    cliOutputs.push(lab.up.stdout, lab.up.stderr);
    ({ state, pids: labPids } = lab);
  }, 90_000);

  beforeEach(() => requirePrerequisites(missing));

  afterAll(async () => {
    if (missing !== undefined) return;
    const down = await stopTestLab(labDir, labPids, browserPids);
    expect(down.stdout).toMatch(/stopped: .*coturn/);
    expect(await canBind(TURN_PORT, 'udp')).toBe(true);
    rmSync(out, { recursive: true, force: true });
  }, 90_000);

  it('lab up starts coturn with the rest, on 127.0.0.1 only, its ports from --port-base, its credentials in mode-600 files', async () => {
    expect(state.processes.map((p) => p.name)).toContain('coturn');
    expect(state.turn).toMatchObject({ port: TURN_PORT, relayMin: PORT_BASE + 20, relayMax: PORT_BASE + 99, realm: 'callwright.lab' });
    expect(state.turn!.urls).toEqual([`turn:127.0.0.1:${TURN_PORT}?transport=udp`, `turn:127.0.0.1:${TURN_PORT}?transport=tcp`]);
    // Bound on loopback only (UDP and TCP), nothing on any other address.
    expect([...new Set(boundAddresses(TURN_PORT))].sort()).toEqual(['tcp 0100007F', 'udp 0100007F']);
    for (const file of [state.turn!.secretsFile, join(labDir, 'coturn.conf'), join(labDir, 'lab.json')]) expect(statSync(file).mode & 0o077, file).toBe(0);
    const status = await runCli(['lab', 'status', '--dir', labDir], { timeoutMs: 30_000 });
    cliOutputs.push(status.stdout, status.stderr);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/process: +coturn +pid \d+ +running/);
    expect(status.stdout).toContain(`TURN:       turn:127.0.0.1:${TURN_PORT}?transport=udp turn:127.0.0.1:${TURN_PORT}?transport=tcp, relays on ports ${PORT_BASE + 20}..${PORT_BASE + 99}`);
  });

  it('browser -> browser, both relay-only with TURN REST API credentials made for the run: relay pairs on both legs, audio both ways', async () => {
    const result = await runRelay('relay-browser-to-browser');
    expect(result.run.code, result.run.stderr.slice(-3000)).toBe(0);
    expect(result.run.stdout).toContain('lab-relay-browser-to-browser: PASS');
    const call = result.calls.find((c) => c['name'] === 'main')!;
    expect(call).toMatchObject({ result: 'success', sip_status: '200', codec_out: 'opus', codec_in: 'opus', one_way_audio: 'false' });
    // The far end's relay address may be learnt from its connectivity check before its candidate is: then it reads prflx.
    expect(call['candidate_pair']).toMatch(/^relay\/udp\(udp\) 127\.0\.0\.1:\d+ -> (relay|prflx)\/udp 127\.0\.0\.1:\d+$/);
    expect(result.legs.map((leg) => leg['role']).sort()).toEqual(['alice', 'bob']);
    for (const leg of result.legs) {
      expect(leg, leg['role']).toMatchObject({ ice_candidate_types: 'relay', ice_server_errors: '' });
      expect(leg['candidate_pair_type'], leg['role']).toMatch(/^relay->(relay|prflx)$/);
      // Both ends of the pair are coturn relay ports: each leg's own relay, and the far end's (relay, or prflx when learnt from its check first).
      for (const end of ['local_candidate', 'remote_candidate']) {
        const relayPort = Number(/:(\d+)$/.exec(leg[end]!)?.[1]);
        expect(relayPort, `${leg['role']} ${end} ${leg[end]}`).toBeGreaterThanOrEqual(PORT_BASE + 20);
        expect(relayPort, `${leg['role']} ${end} ${leg[end]}`).toBeLessThanOrEqual(PORT_BASE + 99);
      }
      const allocationMs = Number(leg['turn_allocation_ms']);
      expect(allocationMs, leg['role']).toBeGreaterThan(0);
      expect(allocationMs, leg['role']).toBeLessThan(2000);
    }
    for (const role of ['alice', 'bob']) {
      expect(maxRate(result, role, 'in_packet_rate'), role).toBeGreaterThan(20);
      expect(maxRate(result, role, 'out_packet_rate'), role).toBeGreaterThan(20);
    }
    // coturn's own word: allocations made with the run's REST username (<expiry>:callwright, expiry about an hour ahead).
    const log = readFileSync(join(labDir, 'coturn.log'), 'utf8');
    expect(log).toMatch(/user <\d+:callwright>: incoming packet ALLOCATE processed, success/);
    const expiries = [...log.matchAll(/user <(\d+):callwright>/g)].map((m) => Number(m[1]) - Date.now() / 1000);
    expect(expiries.some((seconds) => seconds > 3000 && seconds <= 3600)).toBe(true);
  });

  it('browser -> Kamailio + rtpengine -> SIPp echo, relay-only with long-term credentials: the relay carries the echo', async () => {
    const result = await runRelay('relay-browser-to-echo');
    expect(result.run.code, result.run.stderr.slice(-3000)).toBe(0);
    expect(result.run.stdout).toContain('lab-relay-browser-to-echo: PASS');
    const call = result.calls.find((c) => c['name'] === 'main')!;
    expect(call).toMatchObject({ result: 'success', sip_status: '200', codec_out: 'PCMU', codec_in: 'PCMU', one_way_audio: 'false' });
    // The browser's side is its relay; the far side rtpengine's candidate (host, or peer-reflexive as learned).
    expect(call['candidate_pair']).toMatch(/^relay\/udp\(udp\) 127\.0\.0\.1:\d+ -> (host|prflx)\/udp /);
    expect(result.legs).toHaveLength(1);
    expect(result.legs[0]!['candidate_pair_type']).toMatch(/^relay->(host|prflx)$/);
    expect(Number(result.legs[0]!['turn_allocation_ms'])).toBeGreaterThan(0);
    expect(maxRate(result, 'alice', 'in_packet_rate')).toBeGreaterThan(40);
    expect(maxRate(result, 'alice', 'out_packet_rate')).toBeGreaterThan(40);
    expect(readFileSync(join(labDir, 'coturn.log'), 'utf8')).toContain(`user <${state.turn!.username}>: incoming packet ALLOCATE processed, success`);
  });

  it('relay-only against a TURN server that refuses the credentials fails as turn_refused, naming the 401', async () => {
    const wrong = join(out, 'wrong-turn.env');
    writeFileSync(wrong, `CALLWRIGHT_LAB_TURN_SECRET=not-the-lab-secret\n`, { mode: 0o600 });
    const result = await runRelay('relay-browser-to-browser', { secrets: wrong, edit: (yaml) => yaml.replace('name: lab-relay-browser-to-browser', 'name: relay-wrong-secret') });
    expect(result.run.code, result.run.stderr.slice(-3000)).toBe(1);
    const call = result.calls.find((c) => c['name'] === 'main')!;
    expect(call).toMatchObject({ result: 'failed', failure_reason: 'turn_refused' });
    expect(call['failure_detail']).toMatch(new RegExp(`^alice: the TURN server refused the credentials \\(turn:127\\.0\\.0\\.1:${TURN_PORT}\\?transport=udp 401 Unauthorized\\.?\\); relay-only, so no candidate for media section 0 and no media path$`));
    const alice = result.legs.find((leg) => leg['role'] === 'alice')!;
    expect(alice['ice_server_errors']).toBe(`turn:127.0.0.1:${TURN_PORT}?transport=udp 401 Unauthorized.`);
    expect(alice['turn_allocation_ms']).toBe('');
    // Not the harness's failure: the summary counts it as the system's.
    const summary = readJson(join(result.dir, 'summary.json'));
    expect(JSON.stringify(summary)).toContain('turn_refused');
    expect(readFileSync(join(labDir, 'coturn.log'), 'utf8')).toMatch(/check_stun_auth: Cannot find credentials of user <\d+:callwright>/);
  });

  it('relay-only against a TURN server nobody listens on fails as turn_unreachable (701)', async () => {
    const closedPort = PORT_BASE + 7;
    const result = await runRelay('relay-browser-to-browser', {
      edit: (yaml) => yaml.replace('name: lab-relay-browser-to-browser', 'name: relay-unreachable').replace(`turn:127.0.0.1:${TURN_PORT}?transport=udp`, `turn:127.0.0.1:${closedPort}?transport=tcp`),
    });
    expect(result.run.code, result.run.stderr.slice(-3000)).toBe(1);
    const call = result.calls.find((c) => c['name'] === 'main')!;
    expect(call).toMatchObject({ result: 'failed', failure_reason: 'turn_unreachable' });
    expect(call['failure_detail']).toContain(`no connection to or answer from the TURN server (turn:127.0.0.1:${closedPort}?transport=tcp 701`);
  });

  it('no TURN password, secret or per-run credential appears in any output file, console output or coturn log', () => {
    const runDirs = Object.keys(runs);
    expect(runDirs.length).toBeGreaterThanOrEqual(3);
    const turn = state.turn!;
    // The per-run REST credentials: coturn logged their usernames, the credential is the HMAC of each.
    const coturnLog = readFileSync(join(labDir, 'coturn.log'), 'utf8');
    const restUsernames = [...new Set([...coturnLog.matchAll(/user <(\d+:callwright)>/g)].map((m) => m[1]!))].filter((user) => user !== turn.username);
    expect(restUsernames.length).toBeGreaterThan(0);
    const secrets = [turn.secret, turn.password, 'not-the-lab-secret', ...restUsernames.map((user) => createHmac('sha1', turn.secret).update(user).digest('base64'))];
    const files = runDirs.flatMap(filesUnder);
    expect(files.map((f) => f.slice(f.lastIndexOf('/') + 1))).toEqual(expect.arrayContaining(['calls.csv', 'legs.csv', 'samples.csv', 'summary.json', 'metrics.prom', 'report.html']));
    const texts: [string, string][] = [...files.map((f): [string, string] => [f, readFileSync(f, 'utf8')]), ['CLI output', cliOutputs.join('\n')], ['coturn.log', coturnLog]];
    for (const [where, text] of texts) for (const secret of secrets) expect(text.includes(secret), `${where} holds a TURN secret`).toBe(false);
  });
});
