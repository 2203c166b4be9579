import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../errors.js';
import { loadScenario, parseScenario, SCENARIO_HINT } from './index.js';
import type { Scenario, Step } from './types.js';

type Env = Record<string, string | undefined>;

const ROLES = `
roles:
  alice:
    accounts:
      - { user: alice, password: alice-pw }
  bob:
    accounts:
      - { user: bob, password: bob-pw }
`;

/** A valid scenario around the given steps (YAML list items). */
function withSteps(steps: string, extra = ''): string {
  return `name: test\n${extra}\n${ROLES}\nsteps:\n${steps}\n`;
}

function load(text: string, env: Env = {}): Scenario {
  return parseScenario(text, 'test.yaml', { env });
}

function errorOf(text: string, env: Env = {}): InputError {
  try {
    load(text, env);
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError, but the scenario loaded');
}

/** Every problem line, without the "test.yaml:LINE:COL: " prefix each carries (positions have tests of their own). */
function problemsOf(text: string, env: Env = {}): string[] {
  return errorOf(text, env).problems.map(withoutWhere);
}

function withoutWhere(line: string): string {
  return line.replace(/^test\.yaml(?::\d+:\d+)?: /, '');
}

function stepsOf(steps: string, extra = ''): Step[] {
  return load(withSteps(steps, extra)).steps;
}

const CALL = '  - register\n  - call: { from: alice, to: bob }\n';

describe('error reporting', () => {
  it('reports one problem as the message, with the file, the field path and the hint', () => {
    const error = errorOf(withSteps('  - wait: 5x'));
    expect(error.message).toBe('test.yaml:13:5: steps[0].wait: expected a duration from 0s to 24h (e.g. 500ms, 5s, 2m, or a number of seconds), got "5x"');
    expect(error.problems).toEqual([error.message]);
    expect(error.hint).toBe(SCENARIO_HINT);
    expect(error.exitCode).toBe(2);
  });

  it('reports every problem at once, across sections', () => {
    const text = `
name: bad name
options: { agentsPerPage: 0 }
load: { iterations: 5, concurrency: 10 }
roles:
  alice:
    accounts: [{ user: "john doe" }]
steps:
  - cal: { from: alice }
  - call: { from: alice, to: bob, codecs: [PCMX] }
  - hangup: carl
`;
    const error = errorOf(text);
    expect(error.message).toBe('test.yaml: 7 problems');
    expect(error.problems.map((line) => withoutWhere(line).replace(/: .*/, ''))).toEqual([
      'name',
      'options.agentsPerPage',
      'load.concurrency',
      'roles.alice.accounts[0].user',
      'steps[0].cal',
      'steps[1].call.codecs[0]',
      'steps[2].hangup',
    ]);
  });

  it('names a missing file', async () => {
    const missing = join(tmpdir(), 'callwright-no-such-dir', 'nope.yaml');
    const error = await loadScenario(missing).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(InputError);
    expect(error).toMatchObject({ message: `${missing}: file not found`, problems: [`${missing}: file not found`] });
    await expect(loadScenario(tmpdir())).rejects.toThrow(/is a folder, not a file/);
  });

  it('gives the line and column of a YAML syntax error', () => {
    const error = errorOf('name: test\nroles:\n\talice: {}\n');
    expect(error.message).toBe('test.yaml:3:1: Tabs are not allowed as indentation');
    expect(errorOf('name: test\nsteps:\n  - call: { from: alice, to: bob\n').message).toMatch(/^test\.yaml:4:1: /);
    expect(error.hint).toBe('fix the YAML at the line and column shown');
  });

  it('reports duplicate keys and several documents with their lines', () => {
    expect(errorOf('name: a\nname: b\n').problems).toEqual(['test.yaml:2:1: Map keys must be unique']);
    expect(errorOf('name: a\n---\nname: b\n').message).toBe('test.yaml:2:1: a scenario file holds one YAML document; remove the second "---"');
  });

  it('reports an empty file, a non-mapping and unresolved aliases', () => {
    expect(problemsOf('')).toEqual(['the file is empty; a scenario needs at least name, roles and steps']);
    expect(problemsOf('- a\n- b\n')[0]).toMatch(/^expected a scenario: a mapping with name, roles and steps \(fields: name, description/);
    expect(errorOf('name: *nothing\n').message).toMatch(/^test\.yaml: Unresolved alias/);
  });
});

describe('line and column', () => {
  const POSITIONED = `name: t
options:
  statInterval: 1s
roles:
  alice:
    accounts: [{ user: alice }]
  Bad Role:
    accounts: { range: { from: 1, count: 0 } }
steps:
  - register
  - call:
      from: alice
  - call: { from: alice, to: bob, name: second, codecs: [opus, PCMX] }
  - hold: { role: carl }
`;

  it('puts every problem at its field: the key of a mapping entry, the item of a list', () => {
    expect(errorOf(POSITIONED).problems.map((line) => line.replace(/ \(allowed: .*\)$/, ''))).toEqual([
      'test.yaml:3:3: options.statInterval: unknown field "statInterval"',
      'test.yaml:7:3: roles["Bad Role"]: invalid role name "Bad Role"',
      'test.yaml:8:35: roles["Bad Role"].accounts.range.count: expected an integer from 1 to 100000, got 0',
      'test.yaml:11:5: steps[1].call.to: required (a role name or a sip:/sips: URI)',
      'test.yaml:13:64: steps[2].call.codecs[1]: unknown codec "PCMX"',
      'test.yaml:14:13: steps[3].hold.role: unknown role "carl" (roles: alice, Bad Role)',
    ]);
  });

  it('shows a missing field at its nearest parent, and the document itself without a position when it is empty', () => {
    expect(errorOf('name: t\nroles: { alice: { accounts: [{ user: alice }] } }\n').problems).toEqual([
      'test.yaml:1:1: steps: required (a list of steps such as register, call, answer, expect, hangup)',
    ]);
    expect(errorOf('').problems).toEqual(['test.yaml: the file is empty; a scenario needs at least name, roles and steps']);
    expect(errorOf('- a\n').problems[0]).toMatch(/^test\.yaml:1:1: expected a scenario/);
  });

  it('follows an alias to where the aliased value is written', () => {
    const text = withSteps('  - register\n  - call: &bad { from: alice, to: bob, codecs: [PCMX] }\n  - hangup\n  - call: *bad');
    expect(errorOf(text).problems.map((line) => line.replace(/: unknown codec.*/, ''))).toEqual([
      'test.yaml:14:49: steps[1].call.codecs[0]',
      'test.yaml:14:49: steps[3].call.codecs[0]',
    ]);
  });

  it('points a CSV account problem at the csv field (the message names the CSV line)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'callwright-positions-'));
    writeFileSync(join(dir, 'users.csv'), 'user,password\n"a b",x\n');
    const error = (() => {
      try {
        parseScenario(`name: t\nroles:\n  alice:\n    accounts:\n      csv: users.csv\nsteps: [register]\n`, join(dir, 's.yaml'), { env: {} });
      } catch (thrown) {
        return thrown as InputError;
      }
      throw new Error('expected an InputError');
    })();
    expect(error.message).toMatch(new RegExp(`^${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/s\\.yaml:5:7: roles\\.alice\\.accounts\\.csv: users\\.csv:2: `));
  });
});

describe('thresholds in the file', () => {
  const check = {
    problems: (thresholds: Scenario['thresholds']) =>
      Object.entries(thresholds).flatMap(([metricLabel, list]) =>
        metricLabel === 'nope'
          ? [{ metricLabel, message: 'unknown metric' }]
          : list.flatMap((item, index) => (JSON.stringify(item).includes('bad') ? [{ metricLabel, index, message: 'bad expression' }] : [])),
      ),
    hint: 'see the thresholds docs',
  };

  it('takes the object form with abortOnFail and delayAbortEval, compound durations included', () => {
    const text = withSteps('  - register', "thresholds:\n  call_success:\n    - threshold: 'rate>=0.9'\n      abortOnFail: true\n      delayAbortEval: 1m30s\n    - 'rate>0.5'\n  setup_time: { threshold: 'p(95)<2s' }");
    expect(load(text).thresholds).toEqual({
      call_success: [{ threshold: 'rate>=0.9', abortOnFail: true, delayAbortEval: 90 }, 'rate>0.5'],
      setup_time: [{ threshold: 'p(95)<2s' }],
    });
    expect(problemsOf(withSteps('  - register', 'thresholds: { a: [{ threshold: x, abortOnFail: yes, delay: 1s }], b: [{ abortOnFail: true }], c: [[x]] }'))).toEqual([
      'thresholds.a[0].abortOnFail: expected true or false, got "yes"',
      'thresholds.a[0].delay: unknown field "delay" (allowed: threshold, abortOnFail, delayAbortEval)',
      'thresholds.b[0].threshold: required (an expression such as rate>=0.99)',
      'thresholds.c[0]: expected an expression such as rate>=0.99, got a list',
    ]);
  });

  it("lists the check's problems with the file's others, each at its line; its hint when they are all there is", () => {
    const text = withSteps('  - register', "thresholds:\n  nope: ['rate>1']\n  setup_time: ['p(95)<2s', 'bad']");
    const error = (() => {
      try {
        parseScenario(text, 'test.yaml', { env: {}, thresholds: check });
      } catch (thrown) {
        return thrown as InputError;
      }
      throw new Error('expected an InputError');
    })();
    expect(error.problems).toEqual(['test.yaml:3:3: thresholds.nope: unknown metric', 'test.yaml:4:28: thresholds.setup_time[1]: bad expression']);
    expect(error.hint).toBe('see the thresholds docs');
    const mixed = (() => {
      try {
        parseScenario(text.replace('name: test', 'name: bad name'), 'test.yaml', { env: {}, thresholds: check });
      } catch (thrown) {
        return thrown as InputError;
      }
      throw new Error('expected an InputError');
    })();
    expect(mixed.problems.map(withoutWhere)).toEqual([expect.stringMatching(/^name: /), 'thresholds.nope: unknown metric', 'thresholds.setup_time[1]: bad expression']);
    expect(mixed.hint).toBe(SCENARIO_HINT);
    expect(load(text).thresholds).toHaveProperty('nope'); // without the check, only the shape is read
  });
});

describe('unknown fields and kinds', () => {
  it('names an unknown step kind and lists the kinds', () => {
    expect(problemsOf(withSteps('  - register\n  - cal: { from: alice, to: bob }'))).toEqual([
      'steps[1].cal: unknown step kind "cal" (allowed: register, unregister, call, answer, expect, wait, dtmf, hold, unhold, hangup, fault, transfer, message, network)',
    ]);
  });

  it('names an unknown field at its path and lists the allowed ones', () => {
    expect(problemsOf(withSteps('  - call: { from: alice, to: bob, codec: PCMU }'))).toEqual([
      'steps[0].call.codec: unknown field "codec" (allowed: from, to, name, audio, video, receiveOnly, codecs, extraSdp, headers, until, timeout)',
    ]);
    expect(problemsOf(withSteps('  - register', 'options: { statInterval: 1s }'))).toEqual([
      'options.statInterval: unknown field "statInterval" (allowed: statsInterval, iceGathering, iceGatheringTimeout, registerExpires, agentsPerPage, pagesPerBrowser, playReceivedAudio, receivedAudioSample, opusPtime, mediaProfile, pageRecycleAfter, liteAgentsPerProcess, watchdog, stepTimeout, evidence)',
    ]);
    expect(problemsOf(withSteps('  - register', 'step: []'))[0]).toBe(
      'step: unknown field "step" (allowed: name, description, target, options, load, thresholds, network, roles, steps)',
    );
    expect(problemsOf(withSteps('  - register').replace('password: alice-pw', 'pasword: alice-pw'))).toEqual([
      'roles.alice.accounts[0].pasword: unknown field "pasword" (allowed: user, authUser, password, passwordEnv, displayName)',
    ]);
  });

  it('suggests the colon for a kind written with its argument', () => {
    expect(problemsOf(withSteps(`${CALL}  - hold alice`))).toEqual([
      'steps[2]["hold alice"]: unknown step kind "hold alice" (allowed: register, unregister, call, answer, expect, wait, dtmf, hold, unhold, hangup, fault, transfer, message, network); write "hold: alice"',
    ]);
  });

  it('explains a step whose fields are not indented under its kind', () => {
    expect(problemsOf(withSteps('  - call:\n    from: alice\n    to: bob'))).toEqual([
      'steps[0]: a step has one key, its kind; got call, from, to (indent the fields under the kind: "- call:" then "    from: alice")',
    ]);
  });
});

describe('types, ranges and durations', () => {
  it('reports wrong types with what is allowed', () => {
    expect(problemsOf(withSteps('  - call: { from: alice, to: bob, audio: "yes", headers: "X-A: 1" }', 'options: { agentsPerPage: many }'))).toEqual([
      'options.agentsPerPage: expected an integer from 1 to 200, got "many"',
      'steps[0].call.audio: expected true or false, got "yes"',
      'steps[0].call.headers: expected a list, got "X-A: 1"',
    ]);
    expect(problemsOf(withSteps('  - call: [alice, bob]'))[0]).toMatch(/^steps\[0\]\.call: expected a mapping \(fields: from, to, /);
    expect(problemsOf(withSteps('  - call: { to: bob }'))).toEqual(['steps[0].call.from: required (a role name)']);
  });

  it('rejects bad and out-of-range durations', () => {
    expect(problemsOf(withSteps('  - register: { roles: [alice], timeout: 0 }', 'options: { statsInterval: 100ms, iceGatheringTimeout: 31s }'))).toEqual([
      'options.statsInterval: expected a duration from 200ms to 1m (e.g. 500ms, 5s, 2m, or a number of seconds), got "100ms"',
      'options.iceGatheringTimeout: expected a duration from 1ms to 30s (e.g. 500ms, 5s, 2m, or a number of seconds), got "31s"',
      'steps[0].register.timeout: expected a duration from 100ms to 1h (e.g. 500ms, 5s, 2m, or a number of seconds), got 0',
    ]);
    expect(problemsOf(withSteps(`${CALL}  - dtmf: { tones: "1", duration: 10ms, gap: 7s }`))).toEqual([
      'steps[2].dtmf.duration: expected a duration from 40ms to 6s (e.g. 500ms, 5s, 2m, or a number of seconds), got "10ms"',
      'steps[2].dtmf.gap: expected a duration from 30ms to 6s (e.g. 500ms, 5s, 2m, or a number of seconds), got "7s"',
    ]);
    expect(problemsOf(withSteps('  - wait: -1'))).toEqual([
      'steps[0].wait: expected a duration from 0s to 24h (e.g. 500ms, 5s, 2m, or a number of seconds), got -1',
    ]);
  });

  it('rejects negative and absurd numbers', () => {
    expect(problemsOf(withSteps('  - register', 'load: { iterations: -1, concurrency: 100000 }\noptions: { registerExpires: 5, pagesPerBrowser: 1.5 }'))).toEqual([
      'options.registerExpires: expected an integer from 10 to 86400, got 5',
      'options.pagesPerBrowser: expected an integer from 1 to 50, got 1.5',
      'load.iterations: expected an integer from 1 to 1000000, got -1',
      'load.concurrency: expected an integer from 1 to 10000, got 100000',
    ]);
    expect(problemsOf(withSteps(`${CALL}  - answer: { role: bob, reject: 200 }\n  - expect: { state: failed, status: 9999 }`))).toEqual([
      'steps[2].answer.reject: expected an integer from 400 to 699, got 200',
      'steps[3].expect.status: expected an integer from 100 to 699, got 9999',
    ]);
  });

  it('keeps concurrency at or below iterations', () => {
    expect(problemsOf(withSteps('  - register', 'load: { iterations: 5, concurrency: 10 }'))).toEqual([
      'load.concurrency: must not be above iterations (5), got 10',
    ]);
  });
});

describe('codecs, SDP lines and headers', () => {
  it('rejects an unknown codec and lists the known ones', () => {
    const [problem] = problemsOf(withSteps('  - call: { from: alice, to: bob, codecs: [PCMX] }'));
    expect(problem).toMatch(/^steps\[0\]\.call\.codecs\[0\]: unknown codec "PCMX" \(allowed: opus, PCMU, PCMA, G722, /);
  });

  it('stores canonical codec names, whatever the case written', () => {
    const [, call, answer] = stepsOf(`${CALL}  - answer: { role: bob, codecs: [pcma, TELEPHONE-EVENT] }`);
    expect(call).toMatchObject({ kind: 'call' });
    expect(answer).toMatchObject({ kind: 'answer', codecs: ['PCMA', 'telephone-event'] });
  });

  it('rejects an allow-list with no media codec', () => {
    expect(problemsOf(withSteps('  - call: { from: alice, to: bob, codecs: [telephone-event] }'))).toEqual([
      'steps[0].call.codecs: names no media codec: rtx, red, FEC, CN and telephone-event only ride along with one such as opus, PCMU or VP8',
    ]);
  });

  it('rejects bad extra SDP lines at their index', () => {
    const problems = problemsOf(withSteps('  - call: { from: alice, to: bob, extraSdp: [b=AS:64, c=IN IP4 10.0.0.1, b=XX:1] }'));
    expect(problems).toEqual([
      'steps[0].call.extraSdp[1]: c= lines are written by the browser and cannot be injected; allowed: a=, b=, i=, k=',
      'steps[0].call.extraSdp[2]: a b= line must be b=<AS|CT|TIAS|RS|RR>:<integer>, e.g. b=AS:3000 or b=TIAS:2500000',
    ]);
  });

  it('rejects malformed headers and headers the SIP stack writes', () => {
    expect(problemsOf(withSteps('  - call: { from: alice, to: bob, headers: ["X-Test: 1", "no colon", "Call-ID: x"] }'))).toEqual([
      'steps[0].call.headers[1]: expected one "Name: value" header line such as "X-Test: 1", got "no colon"',
      'steps[0].call.headers[2]: Call-ID is written by the SIP stack and cannot be set here',
    ]);
  });
});

describe('accounts', () => {
  const role = (accounts: string, extra = '') => `name: t\nroles:\n  alice:\n    accounts: ${accounts}\n${extra}steps: [register]\n`;

  it('rejects a login with a space or angle brackets, and says how to escape it', () => {
    expect(problemsOf(role('[{ user: "john doe" }, { user: bob, authUser: "<bob>" }]'))).toEqual([
      'roles.alice.accounts[0].user: "john doe" contains a space, which RFC 3261 does not allow in a SIP user; percent-escape it: "john%20doe"',
      'roles.alice.accounts[1].authUser: "<bob>" contains "<" and ">", which RFC 3261 does not allow in a SIP user; percent-escape it: "%3Cbob%3E"',
    ]);
  });

  it('accepts the same logins percent-escaped', () => {
    const { roles } = load(role('[{ user: "john%20doe" }, { user: bob, authUser: "%3Cbob%3E" }]'));
    expect(roles.alice?.accounts).toEqual([{ user: 'john%20doe' }, { user: 'bob', authUser: '%3Cbob%3E' }]);
  });

  it('keeps numeric users as written, leading zeros and plus signs included', () => {
    const { roles } = load(role('[{ user: 1000, password: 0042 }, { user: 0123 }, { user: +4930123 }]'));
    expect(roles.alice?.accounts).toEqual([{ user: '1000', password: '0042' }, { user: '0123' }, { user: '+4930123' }]);
  });

  it('reads passwords from the environment, and names a missing variable', () => {
    const text = role('[{ user: alice, passwordEnv: ALICE_PW }]');
    expect(load(text, { ALICE_PW: 's3cret' }).roles.alice?.accounts).toEqual([{ user: 'alice', password: 's3cret' }]);
    expect(problemsOf(text)).toEqual(['roles.alice.accounts[0].passwordEnv: environment variable ALICE_PW is not set (it should hold the password)']);
    expect(problemsOf(role('[{ user: alice, password: x, passwordEnv: ALICE_PW }]'), { ALICE_PW: 'y' })).toEqual([
      'roles.alice.accounts[0].passwordEnv: set either password or passwordEnv, not both',
    ]);
  });

  it('expands a numbered range', () => {
    const { roles } = load(role('{ range: { from: 1000, count: 3 }, user: "load{n}", password: "pw{n}", displayName: "Load {n}" }'));
    expect(roles.alice?.accounts).toEqual([
      { user: 'load1000', password: 'pw1000', displayName: 'Load 1000' },
      { user: 'load1001', password: 'pw1001', displayName: 'Load 1001' },
      { user: 'load1002', password: 'pw1002', displayName: 'Load 1002' },
    ]);
    expect(load(role('{ range: { from: 7, count: 2 } }')).roles.alice?.accounts).toEqual([{ user: '7' }, { user: '8' }]);
  });

  it('checks ranges: count, the {n} placeholder, the expanded user', () => {
    expect(problemsOf(role('{ range: { from: 1, count: 100001 } }'))).toEqual([
      'roles.alice.accounts.range.count: expected an integer from 1 to 100000, got 100001',
    ]);
    expect(problemsOf(role('{ range: { from: 1, count: 2 }, user: "same" }'))).toEqual([
      'roles.alice.accounts.user: "same" must contain {n}, or all 2 accounts get the same user',
    ]);
    expect(problemsOf(role('{ range: { from: 1, count: 2 }, user: "user {n}" }'))[0]).toBe(
      'roles.alice.accounts.user: "user 1" contains a space, which RFC 3261 does not allow in a SIP user; percent-escape it: "user%201" ({n} is replaced by the account number)',
    );
  });

  it('rejects an account used twice', () => {
    const text = `name: t\nroles:\n  a:\n    accounts: { range: { from: 1000, count: 10 } }\n  b:\n    accounts: [{ user: "1005" }]\nsteps: [register]\n`;
    expect(problemsOf(text)).toEqual([
      'roles.b.accounts[0].user: account "1005" is already used at roles.a.accounts.user; an account can belong to one role, once',
    ]);
  });

  it('rejects bad role names, empty account lists and missing accounts', () => {
    expect(problemsOf('name: t\nroles:\n  Alice: { accounts: [] }\n  bob: {}\nsteps: [register]\n')).toEqual([
      'roles.Alice: invalid role name "Alice" (allowed: a lower-case letter, then a-z, 0-9, _ or -)',
      'roles.Alice.accounts: needs at least one account',
      'roles.bob.accounts: required (a list of { user, password }, { range: { from, count }, user: "{n}" } or { csv: users.csv })',
    ]);
  });

  it('never puts a password in a message', () => {
    const secret = 'Hunter2-very-secret';
    const text = `name: t\nroles:\n  alice:\n    accounts:\n      - { user: "a b", password: "${secret}", x: "${secret}x" }\n      - { user: c, password: [${secret}] }\n      - { user: d, password: 12.5 }\n  bob:\n    accounts: { range: { from: 1, count: 2 }, user: "b{n}", password: "${secret}", passwordEnv: "NOPE" }\nsteps: [{ message: { from: alice, to: bob, body: 1 } }]\n`;
    const error = errorOf(text);
    expect(error.problems.length).toBeGreaterThan(3);
    for (const line of [error.message, ...error.problems]) {
      expect(line).not.toContain('Hunter2');
      expect(line).not.toContain('12.5');
    }
    expect(error.problems).toContain('test.yaml:7:20: roles.alice.accounts[2].password: expected a string (quote the password)');
  });

  it('turns autoAnswer into afterSeconds', () => {
    const text = `name: t\nroles:\n  a: { accounts: [{ user: a }], autoAnswer: true }\n  b: { accounts: [{ user: b }], autoAnswer: { after: 500ms } }\n  c: { accounts: [{ user: c }], autoAnswer: false }\nsteps: [register]\n`;
    const { roles } = load(text);
    expect([roles.a?.autoAnswer, roles.b?.autoAnswer, roles.c?.autoAnswer]).toEqual([{ afterSeconds: 0 }, { afterSeconds: 0.5 }, undefined]);
  });
});

describe('references between steps', () => {
  it('rejects unknown roles wherever they are named', () => {
    expect(problemsOf(withSteps('  - register: [alice, carl]\n  - call: { from: carl, to: bob }\n  - hold: carl\n  - message: { from: alice, to: dave, body: hi }'))).toEqual([
      'steps[0].register[1]: unknown role "carl" (roles: alice, bob)',
      'steps[1].call.from: unknown role "carl" (roles: alice, bob)',
      'steps[2].hold: unknown role "carl" (roles: alice, bob)',
      'steps[3].message.to: unknown role "dave" (roles: alice, bob; or a sip:/sips: URI)',
    ]);
  });

  it('rejects a call referenced before any step creates it', () => {
    expect(problemsOf(withSteps('  - answer: bob\n  - hangup: { call: second }\n  - call: { from: alice, to: bob, name: second }'))).toEqual([
      'steps[0].answer: no call to act on: no call or transfer step comes before this one',
      'steps[1].hangup.call: call "second" is only created later, by steps[2] (calls so far: none)',
    ]);
    expect(problemsOf(withSteps(`${CALL}  - expect: { call: other, state: established }`))).toEqual([
      'steps[2].expect.call: call "other" is not created by any call or transfer step (calls so far: main)',
    ]);
  });

  it('rejects two calls with the same name', () => {
    expect(problemsOf(withSteps(`${CALL}  - call: { from: bob, to: alice }\n  - call: { from: bob, to: alice, name: main }`))).toEqual([
      'steps[2].call: call name "main" is already used by steps[1].call; give this call its own name',
      'steps[3].call.name: call name "main" is already used by steps[1].call; give this call its own name',
    ]);
  });

  it('only lets the callee answer, and never a device outside callwright', () => {
    expect(problemsOf(withSteps(`${CALL}  - answer: alice\n  - call: { from: alice, to: "sip:echo@{domain}", name: echo }\n  - answer: bob`))).toEqual([
      'steps[2].answer: alice cannot answer call main: it goes to bob',
      'steps[4].answer: call echo goes to sip:echo@{domain}, outside callwright; only a role that is called can answer',
    ]);
  });

  it('rejects an answer step for a role that answers by itself', () => {
    const text = `name: t\nroles:\n  a: { accounts: [{ user: a }] }\n  b: { accounts: [{ user: b }], autoAnswer: true }\nsteps:\n  - call: { from: a, to: b }\n  - answer: b\n`;
    expect(problemsOf(text)).toEqual(['steps[1].answer: b answers by itself (roles.b.autoAnswer); remove this step or autoAnswer']);
  });

  it('rejects acting on a call by a role that is not on it', () => {
    const text = `name: t\nroles:\n  a: { accounts: [{ user: a }] }\n  b: { accounts: [{ user: b }] }\n  c: { accounts: [{ user: c }] }\nsteps:\n  - call: { from: a, to: b }\n  - hangup: c\n  - expect: { state: ended, role: c }\n`;
    expect(problemsOf(text)).toEqual([
      'steps[1].hangup: c is not on call main (a -> b)',
      'steps[2].expect.role: c is not on call main (a -> b)',
    ]);
  });

  it('rejects malformed SIP URIs at their path, saying what is wrong (sipUri.test.ts has the grammar)', () => {
    expect(problemsOf(withSteps('  - call: { from: alice, to: "sip:bob smith@x" }\n  - transfer: { to: "sip:echo@{domain}:99999" }\n  - message: { from: alice, to: "sips:", body: hi }'))).toEqual([
      'steps[0].call.to: "sip:bob smith@x" is not a valid SIP URI: its user part "bob smith" contains a space, which RFC 3261 does not allow in a SIP user; percent-escape it: "bob%20smith"',
      'steps[1].transfer.to: "sip:echo@{domain}:99999" is not a valid SIP URI: its port "99999" is not a number from 1 to 65535',
      'steps[2].message.to: "sips:" is not a valid SIP URI: has no host (the part after @), such as sip:echo@{domain} or sip:ivr@pbx.example.com:5060',
    ]);
  });
});

describe('expect steps', () => {
  it('need exactly one check', () => {
    expect(problemsOf(withSteps(`${CALL}  - expect: { role: alice }\n  - expect: { state: established, media: flowing }`))).toEqual([
      'steps[2].expect: needs one check: state, media, codec, firstAudio, dtmf, message, inviteSize, sdp, transcoded, video',
      'steps[3].expect: has 2 checks (state, media); write one expect step per check',
    ]);
  });

  it('reject fields that do not go with their check', () => {
    expect(problemsOf(withSteps(`${CALL}  - expect: { state: established, direction: in }`))).toEqual([
      'steps[2].expect.direction: does not go with a state check (it goes with: media, codec, sdp)',
    ]);
  });

  it('need a role for dtmf and message checks, and valid tones', () => {
    expect(problemsOf(withSteps(`${CALL}  - expect: { dtmf: "12" }\n  - expect: { dtmf: "12x", role: bob }`))).toEqual([
      'steps[2].expect: a dtmf check needs role: the role that receives it',
      'steps[3].expect.dtmf: expected DTMF tones (0-9, A-D, *, #), got "12x"',
    ]);
  });

  it('normalise every check', () => {
    const steps = stepsOf(
      `${CALL}  - expect: { state: failed, status: 486 }\n  - expect: { media: stopped, direction: in, kind: video, role: alice }\n` +
        '  - expect: { codec: pcmu }\n  - expect: { firstAudio: 2s }\n  - expect: { dtmf: "12ab#", role: bob }\n' +
        '  - expect: { message: hello, role: bob }\n  - expect: { inviteSize: { max: 1300 } }',
    );
    expect(steps.slice(2).map((step) => (step.kind === 'expect' ? step.check : undefined))).toEqual([
      { kind: 'state', state: 'failed', status: 486 },
      { kind: 'media', flow: 'stopped', direction: 'in', media: 'video' },
      { kind: 'codec', codec: 'PCMU', direction: 'both', media: 'audio' },
      { kind: 'firstAudio', withinSeconds: 2 },
      { kind: 'dtmf', tones: '12AB#' },
      { kind: 'message', body: 'hello' },
      { kind: 'inviteSize', maxBytes: 1300 },
    ]);
    expect(steps[3]).toMatchObject({ name: 'expect video in stopped at alice', role: 'alice', call: 'main' });
  });

  it('compare a codec of its own kind unless kind says another, per direction; refuse a kind the codec contradicts', () => {
    const steps = stepsOf(
      `${CALL}  - expect: { codec: h264, direction: in }\n  - expect: { codec: VP8, kind: video, direction: out }\n` +
        '  - expect: { codec: opus, kind: audio }\n  - expect: { codec: red, kind: video }\n  - expect: { codec: red }',
    );
    expect(steps.slice(2).map((step) => (step.kind === 'expect' ? step.check : undefined))).toEqual([
      { kind: 'codec', codec: 'H264', direction: 'in', media: 'video' },
      { kind: 'codec', codec: 'VP8', direction: 'out', media: 'video' },
      { kind: 'codec', codec: 'opus', direction: 'both', media: 'audio' },
      { kind: 'codec', codec: 'red', direction: 'both', media: 'video' },
      { kind: 'codec', codec: 'red', direction: 'both', media: 'audio' },
    ]);
    expect(problemsOf(withSteps(`${CALL}  - expect: { codec: H264, kind: audio }\n  - expect: { codec: PCMU, kind: video }`))).toEqual([
      'steps[2].expect.kind: H264 is a video codec, not audio; leave kind out (or write kind: video)',
      'steps[3].expect.kind: PCMU is an audio codec, not video; leave kind out (or write kind: audio)',
    ]);
  });

  it('take transcoded: true or false about the whole call, without a role', () => {
    const steps = stepsOf(`${CALL}  - expect: { transcoded: false }\n  - expect: { transcoded: true, within: 3s }`);
    expect(steps.slice(2)).toMatchObject([
      { kind: 'expect', name: 'expect not transcoded', check: { kind: 'transcoded', expected: false } },
      { kind: 'expect', name: 'expect transcoded', timeoutSeconds: 3, check: { kind: 'transcoded', expected: true } },
    ]);
    expect(problemsOf(withSteps(`${CALL}  - expect: { transcoded: false, role: bob }\n  - expect: { transcoded: no }\n  - expect: { transcoded: true, kind: audio }`))).toEqual([
      'steps[2].expect.role: a transcoded check compares both ends of the call; leave role out',
      'steps[3].expect.transcoded: expected true or false, got "no"',
      'steps[4].expect.kind: does not go with a transcoded check (it goes with: media, codec)',
    ]);
  });

  it('check inviteSize bounds', () => {
    expect(problemsOf(withSteps(`${CALL}  - expect: { inviteSize: {} }\n  - expect: { inviteSize: { min: 2000, max: 1300 } }`))).toEqual([
      'steps[2].expect.inviteSize: needs min, max or both (bytes)',
      'steps[3].expect.inviteSize: min must not be above max',
    ]);
  });
});

describe('normalisation and defaults', () => {
  it('fills option and load defaults', () => {
    const scenario = load(withSteps('  - register'));
    expect(scenario.options).toEqual({
      statsIntervalSeconds: 1,
      iceGathering: 'usable',
      iceGatheringTimeoutMs: 5000,
      registerExpiresSeconds: 600,
      playReceivedAudio: true,
      receivedAudioSample: 1,
      mediaProfile: 'standard',
      pageRecycleAfter: 400,
      watchdog: { cpu: 0.95, eventLoopLagMs: 250, memory: 0.95, intervalSeconds: 1 },
      evidence: { sampleSuccessful: 0, maxFiles: 1000 },
    });
    expect(scenario.load).toMatchObject({ model: 'closed', iterations: 1, concurrency: 1, phases: [], preRegister: false });
    expect(scenario.thresholds).toEqual({});
    expect(scenario.target).toBeUndefined();
    expect(scenario.file).toBe('test.yaml');
  });

  it('converts options to their units', () => {
    const text = withSteps('  - register', 'options: { statsInterval: 500ms, iceGatheringTimeout: 0.2s, registerExpires: 3600, playReceivedAudio: false }');
    expect(load(text).options).toMatchObject({ statsIntervalSeconds: 0.5, iceGatheringTimeoutMs: 200, registerExpiresSeconds: 3600, playReceivedAudio: false });
  });

  it('gives each step a name and a timeout', () => {
    const steps = stepsOf(
      `${CALL}  - answer: { role: bob, after: 2s }\n  - expect: { state: established, within: 3s }\n  - wait: 5\n` +
        '  - dtmf: { role: alice, tones: "12", duration: 200ms, gap: 100ms, mode: info }\n  - hold: { role: bob, timeout: 1s }\n  - hangup\n  - unregister: alice',
      'options: { stepTimeout: 4s }',
    );
    expect(steps.map((step) => [step.name, step.timeoutSeconds])).toEqual([
      ['register alice, bob', 4],
      ['call alice->bob', 4],
      ['answer bob after 2s', 6],
      ['expect established', 3],
      ['wait 5s', 10],
      ['dtmf 12 from alice (info)', 4.6],
      ['hold bob', 1],
      ['hangup alice', 4],
      ['unregister alice', 4],
    ]);
    expect(steps[5]).toMatchObject({ durationMs: 200, gapMs: 100, mode: 'info', tones: '12' });
  });

  it('fills call and answer defaults, answering with what was offered', () => {
    const steps = stepsOf('  - call: { from: alice, to: bob, video: true }\n  - answer: { reject: 486 }');
    expect(steps[0]).toEqual({ kind: 'call', name: 'call alice->bob', timeoutSeconds: 10, call: 'main', from: 'alice', to: { role: 'bob' }, audio: true, video: true, until: 'sent' });
    expect(steps[1]).toEqual({ kind: 'answer', name: 'reject 486 bob', timeoutSeconds: 10, call: 'main', role: 'bob', afterSeconds: 0, rejectStatus: 486, audio: true, video: true });
  });

  it('rejects an answer delay longer than its own timeout', () => {
    expect(problemsOf(withSteps(`${CALL}  - answer: { after: 5s, timeout: 2s }`))).toEqual([
      "steps[2].answer.after: 5s is not shorter than the step's timeout (2s)",
    ]);
  });

  it('follows a blind transfer: the new call goes from the transferee to the target', () => {
    const text = `name: t\nroles:\n  a: { accounts: [{ user: a }] }\n  b: { accounts: [{ user: b }] }\n  c: { accounts: [{ user: c }] }\nsteps:\n  - call: { from: a, to: b }\n  - answer\n  - transfer: { to: c, as: moved }\n  - answer: c\n  - hangup\n  - expect: { state: ended }\n`;
    const steps = load(text).steps;
    expect(steps[2]).toEqual({ kind: 'transfer', name: 'transfer b to c (by a)', timeoutSeconds: 10, call: 'main', role: 'a', to: { role: 'c' }, newCall: 'moved' });
    expect(steps[3]).toMatchObject({ kind: 'answer', call: 'moved', role: 'c' });
    expect(steps[4]).toMatchObject({ kind: 'hangup', call: 'moved', role: 'b' });
    expect(steps[5]).toMatchObject({ kind: 'expect', call: 'moved' });
  });

  it('accepts URIs as callees and transfer targets', () => {
    const steps = stepsOf('  - call: { from: alice, to: "sip:echo@{domain}", until: established }\n  - transfer: { to: "sips:ivr@pbx.example.com" }');
    expect(steps[0]).toMatchObject({ to: { uri: 'sip:echo@{domain}' }, until: 'established' });
    expect(steps[1]).toMatchObject({ role: 'alice', to: { uri: 'sips:ivr@pbx.example.com' }, newCall: 'transfer' });
  });

  it('reads a message step and its check, which needs no call', () => {
    const steps = stepsOf('  - message: { from: alice, to: bob, body: 42 }\n  - expect: { message: "42", role: bob }');
    expect(steps[0]).toEqual({ kind: 'message', name: 'message alice->bob', timeoutSeconds: 10, from: 'alice', to: { role: 'bob' }, body: '42', contentType: 'text/plain' });
    expect(steps[1]).toMatchObject({ kind: 'expect', call: '', role: 'bob' });
  });

  it('keeps thresholds and accepts a single expression', () => {
    const text = withSteps('  - register', "thresholds:\n  call_success: ['rate>=0.99']\n  call_setup_seconds: 'p(95)<2'");
    expect(load(text).thresholds).toEqual({ call_success: ['rate>=0.99'], call_setup_seconds: ['p(95)<2'] });
    expect(problemsOf(withSteps('  - register', 'thresholds: { a: [], b: [""], c: 5 }'))).toEqual([
      'thresholds.a: needs at least one expression',
      'thresholds.b[0]: must not be empty',
      "thresholds.c: expected a list of expressions such as ['rate>=0.99'], got 5",
    ]);
  });
});

describe('target', () => {
  it('resolves caFile from the scenario folder and checks that it exists', () => {
    const dir = mkdtempSync(join(tmpdir(), 'callwright-scenario-'));
    writeFileSync(join(dir, 'ca.pem'), SELF_SIGNED_PEM);
    const text = (ca: string) => `name: t\ntarget: { url: "wss://pbx.example.com:8089/ws", domain: pbx.example.com, caFile: ${ca} }\n${ROLES}\nsteps: [register]\n`;
    const scenario = parseScenario(text('ca.pem'), join(dir, 's.yaml'), { env: {} });
    expect(scenario.target).toEqual({ url: 'wss://pbx.example.com:8089/ws', domain: 'pbx.example.com', caFile: join(dir, 'ca.pem') });
    expect(() => parseScenario(text('missing.pem'), join(dir, 's.yaml'), { env: {} })).toThrow(
      `target.caFile: file not found: ${join(dir, 'missing.pem')} (relative paths start at the scenario file's folder)`,
    );
    mkdirSync(join(dir, 'certs'));
    symlinkSync('loop-b.pem', join(dir, 'loop-a.pem'));
    symlinkSync('loop-a.pem', join(dir, 'loop-b.pem'));
    expect(() => parseScenario(text('certs'), join(dir, 's.yaml'), { env: {} })).toThrow(`target.caFile: is a folder, not a file: ${join(dir, 'certs')}`);
    expect(() => parseScenario(text('loop-a.pem'), join(dir, 's.yaml'), { env: {} })).toThrow(`target.caFile: cannot read it (ELOOP): ${join(dir, 'loop-a.pem')}`);
  });

  it('rejects a CA file with no certificate in it, and a CA file together with insecureTls', () => {
    const dir = mkdtempSync(join(tmpdir(), 'callwright-scenario-'));
    writeFileSync(join(dir, 'ca.pem'), SELF_SIGNED_PEM);
    writeFileSync(join(dir, 'key.pem'), '-----BEGIN PRIVATE KEY-----\nMIGHAgEA\n-----END PRIVATE KEY-----\n');
    const text = (fields: string) => `name: t\ntarget: { url: "wss://pbx.example.com:8089/ws", domain: pbx.example.com, ${fields} }\n${ROLES}\nsteps: [register]\n`;
    const problems = (fields: string) => {
      try {
        parseScenario(text(fields), join(dir, 's.yaml'), { env: {} });
        return [];
      } catch (error) {
        return (error as InputError).problems;
      }
    };
    expect(problems('caFile: key.pem')[0]).toMatch(/target\.caFile: no PEM certificate .* give the PEM file of the CA/);
    expect(problems('caFile: ca.pem, insecureTls: true')[0]).toContain('target.insecureTls: conflicts with target.caFile');
  });

  it('accepts only ws:// and wss:// URLs, with a domain', () => {
    expect(problemsOf(withSteps('  - register', 'target: { url: "http://pbx:8080" }'))).toEqual([
      'target.domain: required (a SIP domain: a host name or IP address, without scheme or port)',
    ]);
    expect(problemsOf(withSteps('  - register', 'target: { url: "http://pbx:8080", domain: pbx, insecureTls: true }'))).toEqual([
      'target.url: SIP over WebSocket needs a ws:// or wss:// URL, got http://',
    ]);
    expect(problemsOf(withSteps('  - register', 'target: { url: "ws://10.0.0.1:8080", domain: "sip:pbx" }'))).toEqual([
      'target.domain: expected a SIP domain: a host name or IP address, without scheme or port, got "sip:pbx"',
    ]);
    expect(problemsOf(withSteps('  - register', 'target: { url: "ws://10.0.0.1:8080", domain: 10.0.0.1, insecureTls: true }'))).toEqual([
      'target.insecureTls: only applies to wss:// URLs',
    ]);
  });
});

describe('short forms', () => {
  it('expand bare kinds and single values', () => {
    const steps = stepsOf(`  - register\n  - call: { from: alice, to: bob }\n  - answer\n  - wait: 1.5\n  - dtmf: 0123\n  - hold\n  - unhold: alice\n  - hangup:\n  - unregister`);
    expect(steps.map((step) => step.name)).toEqual([
      'register alice, bob',
      'call alice->bob',
      'answer bob',
      'wait 1.5s',
      'dtmf 0123 from alice (rfc4733)',
      'hold alice',
      'unhold alice',
      'hangup alice',
      'unregister alice, bob',
    ]);
  });
});

/** A real (self-signed, EC) certificate: target.caFile must hold at least one. */
const SELF_SIGNED_PEM = `-----BEGIN CERTIFICATE-----
MIIBjDCCATGgAwIBAgIUTwsISuPTvfUg7X/Jvt7TYTsyQ2wwCgYIKoZIzj0EAwIw
GjEYMBYGA1UEAwwPcGJ4LmV4YW1wbGUuY29tMCAXDTI2MTEyMzA4NDI1N1oYDzIx
MjYxMDMwMDg0MjU3WjAaMRgwFgYDVQQDDA9wYnguZXhhbXBsZS5jb20wWTATBgcq
hkjOPQIBBggqhkjOPQMBBwNCAASvuzRB5jCQGteTm7XJd4Eb1wvMb7DBDO0KCMuH
yQPBhYQ+LUGaNoSSFsEsDDhCKPnpXkg0PmBrl+euLwqmqUyuo1MwUTAdBgNVHQ4E
FgQU7RFVqtzJ0rQcUwPfKZ0YLU0FlbAwHwYDVR0jBBgwFoAU7RFVqtzJ0rQcUwPf
KZ0YLU0FlbAwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEA0Pw4
3S3nCXXHO7ev3ry6tTgmKZMl69F77N9Lrda5nXUCIQCAGLCvQj+IymIQPE2nTCFR
xre2TU2dyIWEDaqbqjvhtA==
-----END CERTIFICATE-----
`;


describe('calls from outside callwright (answer with incoming: true)', () => {
  it('creates the named call, which later steps act on with an explicit role', () => {
    const steps = stepsOf(
      '  - register: bob\n  - answer: { role: bob, incoming: true, as: fromDevice, after: 1s, timeout: 30s }\n' +
        '  - expect: { state: established }\n  - expect: { media: flowing, role: bob }\n  - hangup: bob',
    );
    expect(steps[1]).toEqual({
      kind: 'answer',
      name: 'answer incoming call at bob after 1s on fromDevice',
      timeoutSeconds: 30,
      call: 'fromDevice',
      role: 'bob',
      incoming: true,
      afterSeconds: 1,
      audio: true,
      video: false,
    });
    expect(steps.slice(2).map((step) => ('call' in step ? step.call : undefined))).toEqual(['fromDevice', 'fromDevice', 'fromDevice']);
    expect(steps[4]).toMatchObject({ kind: 'hangup', role: 'bob' });
  });

  it('names the call "incoming" by default', () => {
    expect(stepsOf('  - answer: { role: bob, incoming: true }\n  - expect: { call: incoming, state: established }')[0]).toMatchObject({
      call: 'incoming',
      name: 'answer incoming call at bob on incoming',
    });
  });

  it('needs a role, takes no call, and does not go with autoAnswer', () => {
    expect(problemsOf(withSteps('  - answer: { incoming: true, call: main }\n  - hangup'))).toEqual([
      'steps[0].answer.call: an incoming answer creates its call; name it with as: main',
      'steps[0].answer: an incoming answer needs role: the role whose registered account the device calls',
      'steps[1].hangup: call incoming comes from a SIP device, outside callwright: set role to the role that acts',
    ]);
    const autoAnswering = withSteps('  - answer: { role: bob, incoming: true }').replace('bob:\n    accounts:', 'bob:\n    autoAnswer: true\n    accounts:');
    expect(problemsOf(autoAnswering)).toEqual(['steps[0].answer.role: bob answers by itself (roles.bob.autoAnswer); remove this step or autoAnswer']);
  });

  it('rejects as without incoming, and a call name already in use', () => {
    expect(problemsOf(withSteps(`${CALL}  - answer: { role: bob, as: other }\n  - answer: { role: bob, incoming: true, as: main }`))).toEqual([
      'steps[2].answer.as: names the call an incoming answer creates; it goes with incoming: true',
      'steps[3].answer.as: call name "main" is already used by steps[1].call; give this call its own name',
    ]);
  });
});

describe('sdp checks', () => {
  it('look at the SDP received unless a direction says otherwise; one line or a list', () => {
    const [, , received, both] = stepsOf(`${CALL}  - expect: { sdp: "m=video 0", role: alice }\n  - expect: { sdp: [b=AS:64, b=TIAS:64000], direction: both }`);
    expect(received).toMatchObject({ name: 'expect SDP received has m=video 0 at alice', check: { kind: 'sdp', lines: ['m=video 0'], direction: 'in' } });
    expect(both).toMatchObject({ check: { kind: 'sdp', lines: ['b=AS:64', 'b=TIAS:64000'], direction: 'both' } });
  });

  it('want the start of one SDP line', () => {
    expect(problemsOf(withSteps(`${CALL}  - expect: { sdp: "AS:64" }\n  - expect: { sdp: [] }`))).toEqual([
      'steps[2].expect.sdp[0]: expected the start of one SDP line, <letter>=<value>, such as b=AS:64 or m=video 0',
      'steps[3].expect.sdp: needs at least 1 item',
    ]);
  });
});

describe('fault step', () => {
  it('acts on the role\'s own sender of a call it is on: stop, silence or restore', () => {
    const scenario = load(withSteps(`${CALL}  - fault: { role: alice, media: stop }\n  - fault: { role: alice, media: restore }`));
    expect(scenario.steps[2]).toMatchObject({ kind: 'fault', role: 'alice', call: 'main', media: 'stop', name: 'fault alice media stop' });
    expect(problemsOf(withSteps(`${CALL}  - fault: { role: alice, media: mute }`))).toEqual([
      'steps[2].fault.media: expected one of stop, silence, restore, got "mute"',
    ]);
  });
});
