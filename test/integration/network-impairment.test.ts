import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect } from 'vitest';
import { impairmentUnavailable } from '../../src/network/privileges.js';
import { chromiumMissing, itNeeding, missingOf } from './prerequisites.js';
import { processesInGroups, readCsv, readJson, ROOT, runCli, tempDir, writeScenario } from './support.js';

// Issue 13, "media statistics proven correct against known impairment": real Chromium legs whose
// role runs in a network namespace of its own, its packets lost, delayed and jittered on the way
// (helpers/impairer.py, NFQUEUE), and what callwright reports checked against what was configured.
// The embedded SIP server; browser to browser, the impaired role's path carrying media and signalling.
// Every figure measured goes to network-figures.md in the test's temp folder (and the test output).
const out = tempDir('callwright-network-');
const browserPids: number[] = [];
const it = itNeeding(missingOf(chromiumMissing(), impairmentUnavailable()));
const figures: string[] = ['# network impairment: what callwright reported', ''];

afterAll(async () => {
  writeFileSync(join(out, 'network-figures.md'), `${figures.join('\n')}\n`);
  console.log(figures.join('\n'));
  for (let i = 0; i < 50 && processesInGroups(browserPids).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  expect(processesInGroups(browserPids)).toEqual([]);
  // Nothing of the runs' networks is left behind.
  expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toMatch(/callwright-/);
  expect(execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })).not.toMatch(/\bcw[bn]/);
});

type Row = Record<string, string>;

async function run(name: string, yaml: string) {
  const dir = join(out, name);
  const result = await runCli(['run', writeScenario(out, name, yaml), '--out', dir, '--log-level', 'info', '--quiet'], { timeoutMs: 110_000 });
  browserPids.push(...result.browserPids);
  expect(result.code, result.stderr.slice(-3000)).toBe(0);
  return { dir, calls: readCsv(join(dir, 'calls.csv')), samples: readCsv(join(dir, 'samples.csv')), summary: readJson(join(dir, 'summary.json')) };
}

const num = (cell: string | undefined) => (cell === undefined || cell === '' ? Number.NaN : Number(cell));
const median = (values: number[]) => {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor(sorted.length / 2)]! : Number.NaN;
};
const samplesOf = (samples: Row[], role: string) => samples.filter((s) => s['role'] === role).sort((a, b) => num(a['at_ms']) - num(b['at_ms']));
const lastOf = (samples: Row[], role: string) => samplesOf(samples, role).at(-1)!;

describe('impaired networks per role (namespace, NFQUEUE impairer, tbf)', () => {
  it('without CAP_NET_ADMIN (root with it dropped): exit 2 before anything starts, naming the roles and what is needed', async () => {
    const dir = join(out, 'unprivileged');
    const scenario = writeScenario(
      out,
      'unprivileged',
      `name: unprivileged
roles:
  caller: { accounts: [{ user: alice }], network: 3g }
  callee: { accounts: [{ user: bob }], autoAnswer: true }
steps:
  - register: [caller, callee]
  - call: { from: caller, to: callee }
  - hangup: caller
`,
    );
    const result = await runCli(['run', scenario, '--out', dir, '--log-level', 'debug'], { wrapper: ['setpriv', '--bounding-set', '-net_admin', '--inh-caps', '-net_admin'] });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain('role caller has a network: profile');
    expect(result.stderr).toContain('CAP_NET_ADMIN');
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(result.browserPids).toEqual([]);
    expect(existsSync(join(dir, 'calls.csv'))).toBe(false);
  });

  it('an impairer that dies mid-run stops the run as the harness\'s fault (exit 3, summary.json harnessFault), not as failed calls', async () => {
    const dir = join(out, 'impairer-dies');
    const scenario = writeScenario(
      out,
      'impairer-dies',
      `name: impairer-dies
roles:
  caller: { accounts: [{ user: alice }], network: clean }
  callee: { accounts: [{ user: bob }], autoAnswer: true }
steps:
  - register: [caller, callee]
  - call: { from: caller, to: callee, until: established }
  - wait: 30s
  - hangup: caller
`,
    );
    let killed = false;
    const started = Date.now();
    const result = await runCli(['run', scenario, '--out', dir, '--log-level', 'debug'], {
      timeoutMs: 60_000,
      onStderr: (text) => {
        // Once the call is up (the first progress line), the impairer goes.
        if (killed || !/calls 1 started, 1 active/.test(text)) return;
        killed = true;
        execFileSync('pkill', ['-KILL', '-f', 'helpers/impairer.py']);
      },
    });
    browserPids.push(...result.browserPids);
    expect(killed, result.stderr.slice(-2000)).toBe(true);
    expect(result.code, result.stderr.slice(-2000)).toBe(3);
    expect(Date.now() - started).toBeLessThan(25_000); // stopped, not waited out
    expect(result.stderr).toContain("failures from now on are callwright's, not the PBX's");
    const summary = readJson(join(dir, 'summary.json'));
    expect(summary.exitCode).toBe(3);
    expect(summary.harnessFault).toMatch(/impairer of role caller stopped/);
    // The call it broke is the harness's failure, its symptom kept in the detail.
    const calls = readCsv(join(dir, 'calls.csv'));
    expect(calls.map((c) => c['failure_reason'])).toEqual(['impairer_failed']);
    expect(calls[0]!['failure_detail']).toMatch(/impairer of role caller stopped.*the call saw /);
  });

  it('5% loss on what the caller sends, over a 20 s call: the callee reports 5% +/- 1.5 points, the caller about 0; the far-end view agrees', async () => {
    const { calls, samples, summary } = await run(
      'loss',
      `name: loss
network:
  profiles:
    up-loss-5: { up: { loss: 5% } }
roles:
  caller: { accounts: [{ user: alice }], network: up-loss-5 }
  callee: { accounts: [{ user: bob }], autoAnswer: true }
options: { opusPtime: 10ms }
steps:
  - register: [caller, callee]
  - call: { from: caller, to: callee, until: established }
  - wait: 20s
  - hangup: caller
`,
    );
    expect(calls.map((c) => c['result'])).toEqual(['success']);
    const calleeLoss = num(lastOf(samples, 'callee')['loss_ratio']);
    const callerLoss = num(lastOf(samples, 'caller')['loss_ratio']);
    const farEnd = num(lastOf(samples, 'caller')['remote_loss_ratio']);
    const counted = summary.network.roles.caller.impairer.up;
    figures.push(
      '## 5% loss, caller -> callee, 20 s (opus ptime 10 ms)',
      `callee loss_ratio ${(calleeLoss * 100).toFixed(2)}%, caller loss_ratio ${(callerLoss * 100).toFixed(2)}%, caller remote_loss_ratio (RTCP) ${(farEnd * 100).toFixed(2)}%; the impairer dropped ${counted.dropped} of ${counted.packets} packets (${((100 * counted.dropped) / counted.packets).toFixed(2)}%)`,
      '',
    );
    expect(calleeLoss * 100).toBeGreaterThanOrEqual(3.5);
    expect(calleeLoss * 100).toBeLessThanOrEqual(6.5);
    expect(callerLoss * 100).toBeLessThan(0.5);
    // The far end's RTCP view of the same stream: within a point of the receiver's own (it lags by one report).
    expect(Math.abs(farEnd - calleeLoss) * 100).toBeLessThan(1);
    expect(num(calls[0]!['mos'])).toBeLessThan(4.3);
  });

  it('a profile switched mid-call: 100 ms each way raises RTT by 200 ms +/- 10%, 30 ms of jitter raises jitter by 15 ms or more and concealment; samples.csv shows each switch at its time', async () => {
    const { calls, samples, summary } = await run(
      'switch',
      `name: switch
network:
  profiles:
    delay-100: { delay: 100ms }
    jitter-30: { up: { delay: 100ms, jitter: 30ms } }
roles:
  slow: { accounts: [{ user: alice }], network: clean }
  shaky: { accounts: [{ user: carol }], network: clean }
  hears-slow: { accounts: [{ user: bob }], autoAnswer: true }
  hears-shaky: { accounts: [{ user: dave }], autoAnswer: true }
steps:
  - register: [slow, shaky, hears-slow, hears-shaky]
  - call: { from: slow, to: hears-slow, until: established, name: a }
  - call: { from: shaky, to: hears-shaky, until: established, name: b }
  - wait: 8s
  - network: { role: slow, profile: delay-100 }
  - network: { role: shaky, profile: jitter-30 }
  - wait: 14s
  - hangup: { call: a, role: slow }
  - hangup: { call: b, role: shaky }
`,
    );
    expect(calls.map((c) => c['result'])).toEqual(['success', 'success']);
    const switchedAt = (role: string) => summary.network.roles[role].profiles[1].fromMs as number;

    // The switch, in samples.csv: every sample before it says clean, every one after it the new profile.
    for (const [role, profile] of [['slow', 'delay-100'], ['shaky', 'jitter-30']] as const) {
      const rows = samplesOf(samples, role);
      expect(rows.filter((s) => num(s['at_ms']) < switchedAt(role)).map((s) => s['network_profile'])).toEqual(rows.filter((s) => num(s['at_ms']) < switchedAt(role)).map(() => 'clean'));
      expect(rows.filter((s) => num(s['at_ms']) >= switchedAt(role)).map((s) => s['network_profile'])).toEqual(rows.filter((s) => num(s['at_ms']) >= switchedAt(role)).map(() => profile));
    }

    // RTT, from RTCP: the clean part after 3 s (RTCP has reported), and from 5 s after the switch (a report or two later).
    const phase = (role: string, column: string, from: number, to: number) =>
      samplesOf(samples, role)
        .filter((s) => num(s['at_ms']) >= from && num(s['at_ms']) < to)
        .map((s) => num(s[column]));
    const start = (role: string) => num(samplesOf(samples, role)[0]!['at_ms']);
    const rttBefore = median(phase('slow', 'rtt_s', start('slow') + 3000, switchedAt('slow')));
    // RTCP reports come every ~5 s, and each sample repeats the last one: a median over a window holding one report of each
    // kind averages them (a CI run measured +101 ms so). The last sample carries the newest report, 14 s after the switch.
    const rttAfter = phase('slow', 'rtt_s', switchedAt('slow') + 5000, Infinity).at(-1)!;
    figures.push('## switch clean -> 100 ms each way (role slow)', `rtt_s median before ${(rttBefore * 1000).toFixed(1)} ms, after ${(rttAfter * 1000).toFixed(1)} ms: +${((rttAfter - rttBefore) * 1000).toFixed(1)} ms (configured +200)`, '');
    expect(rttAfter - rttBefore).toBeGreaterThanOrEqual(0.18);
    expect(rttAfter - rttBefore).toBeLessThanOrEqual(0.22);

    // Jitter as the receiving end reports it (RFC 3550 interarrival jitter), and its concealment.
    const jitterBefore = median(phase('hears-shaky', 'jitter_s', start('hears-shaky') + 3000, switchedAt('shaky')));
    const jitterAfter = median(phase('hears-shaky', 'jitter_s', switchedAt('shaky') + 4000, Infinity));
    // Concealment comes in bursts (the jitter buffer then grows to the new delay spread): the mean over each phase.
    const mean = (values: number[]) => values.filter((v) => !Number.isNaN(v)).reduce((sum, v, _, all) => sum + v / all.length, 0);
    const concealedBefore = mean(phase('hears-shaky', 'concealed_ratio', start('hears-shaky') + 3000, switchedAt('shaky')));
    const concealedAfter = mean(phase('hears-shaky', 'concealed_ratio', switchedAt('shaky'), Infinity));
    figures.push(
      '## switch clean -> 100 ms with 30 ms of jitter (sd) on what shaky sends',
      `receiver jitter_s median before ${(jitterBefore * 1000).toFixed(1)} ms, after ${(jitterAfter * 1000).toFixed(1)} ms (configured 30 ms); concealed_ratio mean before ${concealedBefore.toFixed(4)}, after ${concealedAfter.toFixed(4)}`,
      '',
    );
    expect(jitterAfter - jitterBefore).toBeGreaterThanOrEqual(0.015);
    expect(concealedAfter).toBeGreaterThan(concealedBefore);

    // MOS (at the call's end, on the new profile) below a clean path's 4.39 under each impairment.
    const mos = (call: string) => num(calls.find((c) => c['call_id'] === call)?.['mos']);
    figures.push(`MOS at the end: delay call ${mos('1.a').toFixed(2)}, jitter call ${mos('1.b').toFixed(2)} (a clean path: 4.39)`, '');
    expect(mos('1.a')).toBeLessThan(4.37);
    expect(mos('1.b')).toBeLessThan(4.37);
  });

  it('the shipped scenarios/impaired-network.yaml: a bursty 3G link, then a satellite one mid-call; both show in samples.csv and RTT', async () => {
    const { calls, samples, summary } = await run('shipped', readFileSync(join(ROOT, 'scenarios', 'impaired-network.yaml'), 'utf8'));
    expect(calls.map((c) => c['result'])).toEqual(['success']);
    expect(summary.network.roles.alice.profiles.map((p: { profile: string }) => p.profile)).toEqual(['bursty-3g', 'satellite']);
    const rows = samplesOf(samples, 'alice');
    expect(new Set(rows.map((s) => s['network_profile']))).toEqual(new Set(['bursty-3g', 'satellite']));
    // 3G: 100 ms each way; satellite: 300 ms. RTCP reports RTT seconds late (audio reports every ~5 s): the highest of each phase.
    const rtt = (profile: string) => Math.max(...rows.filter((s) => s['network_profile'] === profile).map((s) => num(s['rtt_s'])).filter((v) => !Number.isNaN(v)));
    figures.push('## scenarios/impaired-network.yaml', `alice rtt_s highest on bursty-3g ${(rtt('bursty-3g') * 1000).toFixed(0)} ms, on satellite ${(rtt('satellite') * 1000).toFixed(0)} ms`, '');
    expect(rtt('bursty-3g')).toBeGreaterThan(0.15);
    expect(rtt('satellite')).toBeGreaterThan(0.55);
  });

  it('MOS falls as loss grows (0, 2, 5, 10%), each impaired call below the clean one', async () => {
    const { calls } = await run(
      'mos',
      `name: mos
network:
  profiles:
    loss-2: { loss: 2% }
    loss-5: { loss: 5% }
    loss-10: { loss: 10% }
roles:
  clean: { accounts: [{ user: a1 }], network: clean }
  lossy2: { accounts: [{ user: a2 }], network: loss-2 }
  lossy5: { accounts: [{ user: a3 }], network: loss-5 }
  lossy10: { accounts: [{ user: a4 }], network: loss-10 }
  callee0: { accounts: [{ user: b1 }], autoAnswer: true }
  callee2: { accounts: [{ user: b2 }], autoAnswer: true }
  callee5: { accounts: [{ user: b3 }], autoAnswer: true }
  callee10: { accounts: [{ user: b4 }], autoAnswer: true }
steps:
  - register: [clean, lossy2, lossy5, lossy10, callee0, callee2, callee5, callee10]
  - call: { from: clean, to: callee0, until: established, name: c0 }
  - call: { from: lossy2, to: callee2, until: established, name: c2 }
  - call: { from: lossy5, to: callee5, until: established, name: c5 }
  - call: { from: lossy10, to: callee10, until: established, name: c10 }
  - wait: 15s
  - hangup: { call: c0, role: clean }
  - hangup: { call: c2, role: lossy2 }
  - hangup: { call: c5, role: lossy5 }
  - hangup: { call: c10, role: lossy10 }
`,
    );
    const mos = (role: string) => num(calls.find((c) => c['caller_role'] === role)?.['mos']);
    const loss = (role: string) => num(calls.find((c) => c['caller_role'] === role)?.['packet_loss_ratio']);
    figures.push('## MOS over loss levels (both directions lossy, 15 s)', '| role | packet_loss_ratio | mos |', '|---|---:|---:|');
    for (const role of ['clean', 'lossy2', 'lossy5', 'lossy10']) figures.push(`| ${role} | ${(loss(role) * 100).toFixed(2)}% | ${mos(role).toFixed(2)} |`);
    figures.push('');
    expect(calls.map((c) => c['result'])).toEqual(['success', 'success', 'success', 'success']);
    expect(mos('lossy2')).toBeLessThan(mos('clean'));
    expect(mos('lossy5')).toBeLessThan(mos('lossy2'));
    expect(mos('lossy10')).toBeLessThan(mos('lossy5'));
  });
});
