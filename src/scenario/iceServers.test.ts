import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InputError } from '../errors.js';
import { browserIceServers } from './iceServers.js';
import { parseScenario } from './index.js';
import type { Scenario } from './types.js';

type Env = Record<string, string | undefined>;

const SCENARIO = (target: string) => `name: t
target:
  url: "ws://127.0.0.1:8080"
  domain: callwright.lab
${target}
roles:
  alice: { accounts: [{ user: "1000", password: pw }] }
steps: [register]
`;

function load(target: string, env: Env = {}): Scenario {
  return parseScenario(SCENARIO(target), 'test.yaml', { env });
}

/** Every problem line, without the "test.yaml:LINE:COL: " prefix. */
function problemsOf(target: string, env: Env = {}): string[] {
  try {
    load(target, env);
  } catch (error) {
    if (error instanceof InputError) return error.problems.map((line) => line.replace(/^test\.yaml(:\d+:\d+)?: /, ''));
    throw error;
  }
  return [];
}

describe('target.iceServers and target.iceTransportPolicy', () => {
  it('are absent unless given: legs offer host candidates only', () => {
    const scenario = load('');
    expect(scenario.target?.iceServers).toBeUndefined();
    expect(scenario.target?.iceTransportPolicy).toBeUndefined();
    expect(browserIceServers(scenario.target, 0)).toEqual([]);
  });

  it('reads STUN, long-term TURN credentials from the file or the environment, and relay-only', () => {
    const scenario = load(
      `  iceTransportPolicy: relay
  iceServers:
    - urls: stun:stun.example.com
    - urls: [ "turn:127.0.0.1:3478?transport=udp", "turn:127.0.0.1:3478?transport=tcp" ]
      username: 1234
      credentialEnv: TURN_PW
    - { urls: "turns:[::1]:5349?transport=tcp", usernameEnv: TURN_USER, credential: "in file" }`,
      { TURN_PW: 'from-env', TURN_USER: 'bob' },
    );
    expect(scenario.target?.iceTransportPolicy).toBe('relay');
    expect(scenario.target?.iceServers).toEqual([
      { kind: 'static', urls: ['stun:stun.example.com'] },
      { kind: 'static', urls: ['turn:127.0.0.1:3478?transport=udp', 'turn:127.0.0.1:3478?transport=tcp'], username: '1234', credential: 'from-env' },
      { kind: 'static', urls: ['turns:[::1]:5349?transport=tcp'], username: 'bob', credential: 'in file' },
    ]);
    expect(browserIceServers(scenario.target, 0)[1]).toEqual({ urls: ['turn:127.0.0.1:3478?transport=udp', 'turn:127.0.0.1:3478?transport=tcp'], username: '1234', credential: 'from-env' });
  });

  it('makes TURN REST API credentials per run from a shared secret: <now + ttl>:<user>, base64 HMAC-SHA1', () => {
    const scenario = load(
      `  iceServers:
    - { urls: "turn:127.0.0.1:3478", secretEnv: LAB_SECRET, user: alice, ttl: 1h }
    - { urls: "turn:127.0.0.1:3478", secret: s3cret }`,
      { LAB_SECRET: 'shared' },
    );
    expect(scenario.target?.iceServers).toEqual([
      { kind: 'sharedSecret', urls: ['turn:127.0.0.1:3478'], secret: 'shared', user: 'alice', ttlSeconds: 3600 },
      { kind: 'sharedSecret', urls: ['turn:127.0.0.1:3478'], secret: 's3cret', user: 'callwright', ttlSeconds: 86_400 },
    ]);
    const nowMs = 1_700_000_000_500;
    const [first, second] = browserIceServers(scenario.target, nowMs);
    expect(first).toEqual({ urls: ['turn:127.0.0.1:3478'], username: '1700003600:alice', credential: createHmac('sha1', 'shared').update('1700003600:alice').digest('base64') });
    expect(second?.username).toBe('1700086400:callwright');
  });

  it('lists every problem at once, and never a credential or a secret', () => {
    const problems = problemsOf(
      `  iceTransportPolicy: relay
  iceServers:
    - urls: "http://turn.example.com"
    - urls: "turn:turn.example.com:3478"
    - { urls: "turn:turn.example.com", username: u, credential: hunter2, secret: topsecret }
    - { urls: "stun:stun.example.com?transport=udp", username: u, credential: hunter2 }
    - { urls: "turn:turn.example.com:70000", username: u }
    - { urls: "turn:turn.example.com", secretEnv: NOT_SET }
    - { urls: [], secret: topsecret, user: "a:b" }
    - { urls: "turn:t.example.com", username: u, credential: hunter2, ttl: 1h }`,
    );
    // Each entry is checked on its own: a shape problem in one (an empty url list, a user with ':') hides nothing in the others.
    expect(problems).toEqual([
      'target.iceServers[0].urls[0]: expected a stun:, stuns:, turn: or turns: URL such as stun:stun.example.com:3478, turn:turn.example.com:3478?transport=udp or turns:turn.example.com:5349?transport=tcp, got "http://turn.example.com"',
      'target.iceServers[1]: a TURN server needs credentials: username with credential (or credentialEnv), or secret (or secretEnv) for time-limited TURN REST API credentials',
      'target.iceServers[2]: give either username and credential (long-term credentials) or secret (TURN REST API credentials made per run), not both',
      'target.iceServers[3].urls[0]: ?transport= is only for turn: and turns: URLs (RFC 7064)',
      'target.iceServers[3]: credentials are only for turn: and turns: URLs; a STUN server takes none',
      'target.iceServers[4].urls[0]: port 70000 is not a port (1-65535)',
      'target.iceServers[4].credential: required with username (or give credentialEnv)',
      'target.iceServers[5].secretEnv: environment variable NOT_SET is not set (it should hold the TURN secret; --secrets FILE works too)',
      'target.iceServers[6].urls: needs at least one URL',
      'target.iceServers[6].user: expected the user part of TURN REST usernames, without ":" or spaces, got "a:b"',
      'target.iceServers[7].ttl: only used with secret or secretEnv (TURN REST API)',
    ]);
    expect(problems.join('\n')).not.toMatch(/hunter2|topsecret/);
  });

  it('relay-only needs a TURN server', () => {
    expect(problemsOf('  iceTransportPolicy: relay')).toEqual(['target.iceTransportPolicy: relay allows only TURN relay candidates: add a turn: or turns: server to target.iceServers']);
    expect(problemsOf('  iceTransportPolicy: relay\n  iceServers: [{ urls: "stun:stun.example.com" }]')).toEqual([
      'target.iceTransportPolicy: relay allows only TURN relay candidates: add a turn: or turns: server to target.iceServers',
    ]);
    expect(problemsOf('  iceTransportPolicy: everything')).toEqual(['target.iceTransportPolicy: expected one of all, relay, got "everything"']);
  });

  it('names the new fields among the allowed ones', () => {
    expect(problemsOf('  iceServer: []')).toEqual(['target.iceServer: unknown field "iceServer" (allowed: url, domain, caFile, insecureTls, iceServers, iceTransportPolicy)']);
  });

  it('survives a --target override: the servers stay with the target', () => {
    const scenario = load('  iceServers: [{ urls: "turn:127.0.0.1:3478", secret: s }]');
    expect({ ...scenario.target, url: 'ws://127.0.0.1:9999' }.iceServers).toHaveLength(1);
  });
});
