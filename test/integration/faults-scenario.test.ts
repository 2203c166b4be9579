import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRefused, markerBrowser } from './faultsSupport.js';
import { runCli, tempDir, writeScenario } from './support.js';

// Every kind of bad scenario input the issue lists, through the real CLI `run`:
// exit 2, the file and field path named with the fix, and nothing started: no
// SIP server, no report folder, and no browser. The browser is a marker script
// (--chromium) so "no Chromium started" is proven by a file, not by a log line;
// the control case at the end shows the marker does appear when a run starts.
// The loader's unit tests (src/scenario/*.test.ts) cover each rule in detail.
const dir = tempDir('callwright-faults-scenario-');
const browser = markerBrowser(dir);
const ROLES = `roles:
  alice: { accounts: [{ user: alice }] }
  bob: { accounts: [{ user: bob }] }`;
const CALL = '  - call: { from: alice, to: bob }';

mkdirSync(join(dir, 'a-folder.csv'));
symlinkSync('loop-b.pem', join(dir, 'loop-a.pem'));
symlinkSync('loop-a.pem', join(dir, 'loop-b.pem'));

interface BadInput {
  what: string;
  yaml: string;
  /** Texts stderr must hold; `§` stands for the scenario file's path. */
  says: string[];
}

const BAD_INPUTS: BadInput[] = [
  {
    what: 'malformed YAML (a tab indent), with line and column',
    yaml: `name: t\nroles:\n\talice: {}\nsteps: [register]\n`,
    says: ['error: §:3:1: Tabs are not allowed as indentation', 'hint: fix the YAML at the line and column shown'],
  },
  {
    what: 'an unknown step kind, listing the kinds',
    yaml: `name: t\n${ROLES}\nsteps:\n  - register\n  - cal: { from: alice, to: bob }\n`,
    says: ['error: §:7:5: steps[1].cal: unknown step kind "cal" (allowed: register, unregister, call, answer, expect,'],
  },
  {
    what: 'an unknown field, listing the fields',
    yaml: `name: t\n${ROLES}\nsteps:\n  - call: { from: alice, to: bob, codec: PCMU }\n`,
    says: ['error: §:6:35: steps[0].call.codec: unknown field "codec" (allowed: from, to, name, audio, video, receiveOnly, codecs,'],
  },
  {
    what: 'wrong types',
    yaml: `name: t\noptions: { agentsPerPage: many }\n${ROLES}\nsteps:\n  - call: { from: alice, to: bob, audio: "yes" }\n`,
    says: [
      'error: §: 2 problems',
      '§:2:12: options.agentsPerPage: expected an integer from 1 to 200, got "many"',
      '§:7:35: steps[0].call.audio: expected true or false, got "yes"',
    ],
  },
  {
    what: 'negative rates and counts',
    yaml: `name: t\n${ROLES}\nload: { rate: -1, duration: 10s, maxConcurrent: 1 }\nsteps: [register]\n`,
    says: ['error: §:5:9: load.rate: expected calls per second from 0 to 1000, got -1'],
  },
  {
    what: 'absurd rates and counts',
    yaml: `name: t\n${ROLES}\nload: { rate: 1000, duration: 24h, maxConcurrent: 1 }\nsteps: [register]\n`,
    says: ['error: §:5:9: load.rate: plans about 86400000 calls; at most 1000000 per run'],
  },
  {
    what: 'absurd closed-model numbers',
    yaml: `name: t\n${ROLES}\nload: { iterations: -5, concurrency: 100000 }\nsteps: [register]\n`,
    says: ['§:5:9: load.iterations: expected an integer from 1 to 1000000, got -5', '§:5:25: load.concurrency: expected an integer from 1 to 10000, got 100000'],
  },
  {
    what: 'conflicting load options',
    yaml: `name: t\n${ROLES}\nload: { rate: 2, phases: [{ duration: 1s, rate: 1 }], concurrency: 3 }\nsteps: [register]\n`,
    says: [
      '§:5:9: load.rate: give either rate (with duration) or phases, not both',
      '§:5:55: load.concurrency: is the closed model; with rate or phases, cap the calls at once with maxConcurrent',
      '§:5:1: load.maxConcurrent: required with rate or phases',
    ],
  },
  {
    what: 'more calls at once than iterations',
    yaml: `name: t\n${ROLES}\nload: { iterations: 2, concurrency: 5 }\nsteps: [register]\n`,
    says: ['error: §:5:24: load.concurrency: must not be above iterations (2), got 5'],
  },
  {
    what: 'a missing accounts file',
    yaml: `name: t\nroles:\n  alice: { accounts: { csv: users.csv } }\nsteps: [register]\n`,
    says: [`error: §:3:24: roles.alice.accounts.csv: file not found: ${join(dir, 'users.csv')} (relative paths start at the scenario file's folder)`],
  },
  {
    what: 'an unreadable accounts file (a folder)',
    yaml: `name: t\nroles:\n  alice: { accounts: { csv: a-folder.csv } }\nsteps: [register]\n`,
    says: [`error: §:3:24: roles.alice.accounts.csv: cannot read it (EISDIR): ${join(dir, 'a-folder.csv')}`],
  },
  {
    what: 'a missing CA file',
    yaml: `name: t\ntarget: { url: "wss://127.0.0.1:9/ws", domain: pbx, caFile: missing.pem }\n${ROLES}\nsteps: [register]\n`,
    says: [`error: §:2:53: target.caFile: file not found: ${join(dir, 'missing.pem')}`],
  },
  {
    what: 'an unreadable CA file (a symlink loop)',
    yaml: `name: t\ntarget: { url: "wss://127.0.0.1:9/ws", domain: pbx, caFile: loop-a.pem }\n${ROLES}\nsteps: [register]\n`,
    says: [`error: §:2:53: target.caFile: cannot read it (ELOOP): ${join(dir, 'loop-a.pem')}`],
  },
  {
    what: 'a CA file that holds no certificate',
    yaml: `name: t\ntarget: { url: "wss://127.0.0.1:9/ws", domain: pbx, caFile: not-a-cert.pem }\n${ROLES}\nsteps: [register]\n`,
    says: ['§:2:53: target.caFile: no PEM certificate (-----BEGIN CERTIFICATE-----) in', "give the PEM file of the CA that signed the server's certificate"],
  },
  {
    what: 'invalid SIP URIs',
    yaml: `name: t\n${ROLES}\nsteps:\n  - call: { from: alice, to: "sip:echo@{domain}:99999" }\n  - transfer: { to: "sip:bob smith@pbx" }\n`,
    says: [
      '§:6:26: steps[0].call.to: "sip:echo@{domain}:99999" is not a valid SIP URI: its port "99999" is not a number from 1 to 65535',
      '§:7:17: steps[1].transfer.to: "sip:bob smith@pbx" is not a valid SIP URI: its user part "bob smith" contains a space, which RFC 3261 does not allow in a SIP user; percent-escape it: "bob%20smith"',
    ],
  },
  {
    what: 'logins with characters RFC 3261 forbids',
    yaml: `name: t\nroles:\n  alice: { accounts: [{ user: "john doe" }, { user: bob, authUser: "<bob>" }] }\nsteps: [register]\n`,
    says: [
      '§:3:25: roles.alice.accounts[0].user: "john doe" contains a space, which RFC 3261 does not allow in a SIP user; percent-escape it: "john%20doe"',
      '§:3:58: roles.alice.accounts[1].authUser: "<bob>" contains "<" and ">", which RFC 3261 does not allow in a SIP user; percent-escape it: "%3Cbob%3E"',
    ],
  },
  {
    what: 'an unknown codec name, listing the known ones',
    yaml: `name: t\n${ROLES}\nsteps:\n  - call: { from: alice, to: bob, codecs: [PCMX] }\n`,
    says: ['error: §:6:44: steps[0].call.codecs[0]: unknown codec "PCMX" (allowed: opus, PCMU, PCMA, G722,'],
  },
  {
    what: 'invalid extra SDP lines',
    yaml: `name: t\n${ROLES}\nsteps:\n  - call: { from: alice, to: bob, extraSdp: [b=AS:64, c=IN IP4 10.0.0.1, zzz] }\n`,
    says: [
      '§:6:55: steps[0].call.extraSdp[1]: c= lines are written by the browser and cannot be injected; allowed: a=, b=, i=, k=',
      '§:6:74: steps[0].call.extraSdp[2]: an extra SDP line must look like <letter>=<value>, e.g. b=AS:3000 or a=ptime:20; got "zzz"',
    ],
  },
  {
    what: 'bad threshold expressions and unknown metrics',
    yaml: `name: t\n${ROLES}\nthresholds:\n  setup_time: ['p(101)<1', 'rate>=0.9']\n  call_sucess: ['rate>=0.99']\nsteps:\n${CALL}\n`,
    says: [
      '§:6:16: thresholds.setup_time[0]: "p(101)<1": p(101): the percentile must be a number from 0 to 100',
      '§:6:28: thresholds.setup_time[1]: "rate>=0.9": setup_time is a trend metric and takes avg, min, max, med, p(N), not rate',
      '§:7:3: thresholds.call_sucess: unknown metric "call_sucess"; metrics: call_success,',
      'hint: see docs/reports.md#thresholds',
    ],
  },
  {
    what: 'many problems at once: every one listed, across sections',
    yaml: `name: bad name\noptions: { agentsPerPage: 0 }\nroles:\n  alice: { accounts: [{ user: "a b" }] }\nsteps:\n  - cal: { from: alice }\n  - call: { from: alice, to: "sip:echo@{domain}", codecs: [PCMX] }\n  - message: { from: alice, to: "sip:", body: hi }\n`,
    says: ['error: §: 6 problems', '§:1:1: name:', '§:2:12: options.agentsPerPage:', '§:4:25: roles.alice.accounts[0].user:', '§:6:5: steps[0].cal:', '§:7:60: steps[1].call.codecs[0]:', '§:8:29: steps[2].message.to:'],
  },
];
writeFileSync(join(dir, 'not-a-cert.pem'), '-----BEGIN PRIVATE KEY-----\nMIGHAgEA\n-----END PRIVATE KEY-----\n');

describe('bad scenario input: exit 2, the place and the fix named, nothing started', () => {
  it.each(BAD_INPUTS.map((input, index) => ({ ...input, index })))('$what', async ({ yaml, says, index }) => {
    const file = writeScenario(dir, `bad-${index}`, yaml);
    const out = join(dir, `out-${index}`);
    const run = await runCli(['run', file, '--out', out, '--chromium', browser.path, '--log-level', 'debug'], { timeoutMs: 30_000 });
    expectRefused(run, ...says.map((text) => text.replaceAll('§', file)));
    expect(existsSync(out), 'no report folder').toBe(false);
    expect(existsSync(browser.marker), 'no Chromium launched').toBe(false);
  });

  it('control: a valid scenario with the same stand-in browser does try to launch it (the marker works)', async () => {
    const file = writeScenario(dir, 'valid', `name: t\n${ROLES}\nsteps:\n  - register\n`);
    const run = await runCli(['run', file, '--out', join(dir, 'out-valid'), '--chromium', browser.path, '--log-level', 'debug'], { timeoutMs: 60_000 });
    expect(run.code, run.stderr).toBe(3);
    expect(existsSync(browser.marker)).toBe(true);
  });
});
