/**
 * target.iceServers and target.iceTransportPolicy: the STUN and TURN servers
 * the browsers' peer connections use, and whether they may use only relays.
 *
 *   iceTransportPolicy: relay                      # every leg through a TURN relay
 *   iceServers:
 *     - urls: stun:stun.example.com:3478
 *     - urls: turn:turn.example.com:3478?transport=udp   # long-term credentials
 *       username: alice
 *       credentialEnv: TURN_PASSWORD
 *     - urls: [turn:127.0.0.1:3478?transport=udp, turn:127.0.0.1:3478?transport=tcp]
 *       secretEnv: CALLWRIGHT_LAB_TURN_SECRET      # TURN REST API: made per run
 *       user: alice                                # default callwright
 *       ttl: 24h                                   # default 24h
 *
 * Credentials and secrets come from the file or from the environment (or
 * --secrets), like account passwords; no message ever shows one.
 */
import { z } from 'zod';
import { turnRestCredential } from '../common/turnCredentials.js';
import type { Env } from './accounts.js';
import { duration, jsonSchemaHints, matching, oneOf, password, strictFields, text, textOrInteger, type JsonSchema } from './fields.js';
import { describeValue, joinPath, type Problems } from './problems.js';
import type { IceServer, Target } from './types.js';

/** Defaults of a TURN REST API entry: the user part of the username, and how long the credential is good for. */
export const TURN_REST_DEFAULTS = { user: 'callwright', ttlSeconds: 24 * 3600 } as const;

// RFC 7064 (stun:, stuns:) and RFC 7065 (turn:, turns: with ?transport=udp|tcp): host or [IPv6], optional port.
const ICE_URL = /^(stuns?|turns?):(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::(\d{1,5}))?(\?transport=(?:udp|tcp))?$/i;
const ICE_URL_EXAMPLES = 'such as stun:stun.example.com:3478, turn:turn.example.com:3478?transport=udp or turns:turn.example.com:5349?transport=tcp';

const envName = (what: string) => matching(/^[A-Za-z_][A-Za-z0-9_]*$/, `the environment variable (or --secrets name) that holds ${what}`);

/** What the JSON Schema says of a field (fields.ts's registry), for the forms zod cannot write by itself. */
function described<S extends z.ZodType>(schema: S, hint: { json?: JsonSchema; description: string }): S {
  jsonSchemaHints.add(schema, hint);
  return schema;
}

const URL_DESCRIPTION = `a stun:, stuns:, turn: or turns: URL ${ICE_URL_EXAMPLES}`;
const urlList = described(
  z.preprocess(
    (value) => (typeof value === 'string' ? [value] : value),
    z.array(text(URL_DESCRIPTION), {
      error: (issue) => (issue.input === undefined ? 'required (a URL or a list of URLs)' : `expected a URL or a list of URLs, got ${describeValue(issue.input)}`),
    }).min(1, 'needs at least one URL'),
  ),
  { json: { anyOf: [{ type: 'string' }, { type: 'array', minItems: 1, items: { type: 'string' } }] }, description: `${URL_DESCRIPTION}, or a list of them` },
);

/** A credential or secret: text (YAML may read digits as a number); its message never shows it. */
const secretText = (description: string) => described(password(), { json: { anyOf: [{ type: 'string' }, { type: 'integer', minimum: 0 }] }, description });

const iceServerFields = strictFields(
  {
    urls: urlList,
    username: textOrInteger('the TURN username (long-term credentials)').optional(),
    usernameEnv: envName('the TURN username').optional(),
    credential: secretText('the TURN password (long-term credentials; prefer credentialEnv, so the file can be committed)').optional(),
    credentialEnv: envName('the TURN password').optional(),
    secret: secretText("the TURN server's shared secret (TURN REST API); prefer secretEnv").optional(),
    secretEnv: envName("the TURN server's shared secret (TURN REST API)").optional(),
    user: matching(/^[^:\s]+$/, 'the user part of TURN REST usernames, without ":" or spaces').optional(),
    ttl: duration(60, 30 * 86_400).optional(),
  },
  'a mapping with urls and, for TURN, username and credential or secret',
);

const listError = (issue: { input?: unknown }) =>
  issue.input === undefined ? 'required' : `expected a list of ICE servers ({ urls, username, credential } or { urls, secret }), got ${describeValue(issue.input)}`;
/** The shape of target.iceServers, for the JSON Schema; the reader checks it one entry at a time. */
export const iceServerListFields = z.array(iceServerFields, { error: listError }).meta({
  description: 'STUN and TURN servers for the browsers (absent: none, host candidates only); TURN needs username and credential, or secret for TURN REST API credentials made per run',
});
export const iceTransportPolicyField = oneOf(['all', 'relay']).meta({ description: 'relay: TURN relay candidates only, every leg through a relay; all (default): any candidate' });

/** The ICE servers, checked and with their credentials looked up; undefined (and problems recorded) when something is wrong. */
export function readIceServers(value: unknown, env: Env, problems: Problems): IceServer[] | undefined {
  const before = problems.count;
  const entries = problems.parse(z.array(z.unknown(), { error: listError }), value, 'target.iceServers');
  if (!entries) return undefined;
  const servers = entries.map((item, index) => {
    const path = joinPath('target.iceServers', index);
    const entry = problems.parse(iceServerFields, item, path);
    return entry && readIceServer(entry, path, env, problems);
  });
  return problems.count === before ? servers.filter((server): server is IceServer => server !== undefined) : undefined;
}

function readIceServer(entry: z.output<typeof iceServerFields>, path: string, env: Env, problems: Problems): IceServer | undefined {
  let turn = false;
  entry.urls.forEach((url, index) => {
    const match = ICE_URL.exec(url);
    const where = joinPath(`${path}.urls`, index);
    if (!match) return problems.add(where, `expected a stun:, stuns:, turn: or turns: URL ${ICE_URL_EXAMPLES}, got ${describeValue(url)}`);
    const scheme = match[1]!.toLowerCase();
    const port = match[3] === undefined ? undefined : Number(match[3]);
    if (port !== undefined && (port < 1 || port > 65_535)) problems.add(where, `port ${port} is not a port (1-65535)`);
    if (scheme.startsWith('stun') && match[4]) problems.add(where, '?transport= is only for turn: and turns: URLs (RFC 7064)');
    if (scheme.startsWith('turn')) turn = true;
  });
  const username = fromFileOrEnv(entry, 'username', path, env, problems);
  const credential = fromFileOrEnv(entry, 'credential', path, env, problems);
  const secret = fromFileOrEnv(entry, 'secret', path, env, problems);
  const longTerm = entry.username !== undefined || entry.usernameEnv !== undefined || entry.credential !== undefined || entry.credentialEnv !== undefined;
  const shared = entry.secret !== undefined || entry.secretEnv !== undefined;

  if (!turn && (longTerm || shared)) problems.add(path, 'credentials are only for turn: and turns: URLs; a STUN server takes none');
  if (longTerm && shared) {
    problems.add(path, 'give either username and credential (long-term credentials) or secret (TURN REST API credentials made per run), not both');
  }
  if (!shared && (entry.user !== undefined || entry.ttl !== undefined)) problems.add(joinPath(path, entry.user !== undefined ? 'user' : 'ttl'), 'only used with secret or secretEnv (TURN REST API)');
  if (turn && !longTerm && !shared) {
    problems.add(path, 'a TURN server needs credentials: username with credential (or credentialEnv), or secret (or secretEnv) for time-limited TURN REST API credentials');
  }
  if (turn && longTerm && !shared) {
    if (entry.username === undefined && entry.usernameEnv === undefined) problems.add(joinPath(path, 'username'), 'required with credential (or give usernameEnv)');
    if (entry.credential === undefined && entry.credentialEnv === undefined) problems.add(joinPath(path, 'credential'), 'required with username (or give credentialEnv)');
  }
  if (shared && secret !== undefined) {
    return { kind: 'sharedSecret', urls: entry.urls, secret, user: entry.user ?? TURN_REST_DEFAULTS.user, ttlSeconds: entry.ttl ?? TURN_REST_DEFAULTS.ttlSeconds };
  }
  const server: IceServer = { kind: 'static', urls: entry.urls };
  if (username !== undefined) server.username = username;
  if (credential !== undefined) server.credential = credential;
  return server;
}

/** A field given in the file (`name`) or named in the environment (`nameEnv`); the value never enters a message. */
function fromFileOrEnv(entry: Record<string, unknown>, name: 'username' | 'credential' | 'secret', path: string, env: Env, problems: Problems): string | undefined {
  const inFile = entry[name] as string | undefined;
  const envKey = entry[`${name}Env`] as string | undefined;
  if (envKey === undefined) {
    if (inFile === '') problems.add(joinPath(path, name), 'must not be empty');
    return inFile;
  }
  if (inFile !== undefined) {
    problems.add(joinPath(path, `${name}Env`), `set either ${name} or ${name}Env, not both`);
    return undefined;
  }
  const value = env[envKey];
  if (value === undefined || value === '') {
    problems.add(joinPath(path, `${name}Env`), `environment variable ${envKey} is not set (it should hold the TURN ${name}; --secrets FILE works too)`);
    return undefined;
  }
  return value;
}

/** Relay-only needs a relay: at least one TURN URL. */
export function checkIceTransportPolicy(policy: 'all' | 'relay', servers: readonly IceServer[] | undefined, problems: Problems): void {
  if (policy !== 'relay' || servers === undefined) return;
  if (!servers.some((server) => server.urls.some((url) => /^turns?:/i.test(url)))) {
    problems.add('target.iceTransportPolicy', 'relay allows only TURN relay candidates: add a turn: or turns: server to target.iceServers');
  }
}

/** What a browser's RTCPeerConnection is given: TURN REST API entries get a username and credential valid from `nowMs` for their ttl. */
export function browserIceServers(target: Target | undefined, nowMs: number): { urls: string[]; username?: string; credential?: string }[] {
  return (target?.iceServers ?? []).map((server) => {
    if (server.kind === 'sharedSecret') return { urls: server.urls, ...turnRestCredential({ secret: server.secret, user: server.user, ttlSeconds: server.ttlSeconds, nowMs }) };
    return {
      urls: server.urls,
      ...(server.username === undefined ? {} : { username: server.username }),
      ...(server.credential === undefined ? {} : { credential: server.credential }),
    };
  });
}
