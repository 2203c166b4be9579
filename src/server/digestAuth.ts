/**
 * HTTP Digest authentication as SIP uses it (RFC 2617 / RFC 3261 22.4):
 * MD5, qop=auth. Nonces are self-validating (issue time + HMAC), so the
 * server keeps no per-nonce state and can tell "expired" (stale=true, the
 * client retries silently) from "not ours" (plain re-challenge).
 *
 * Passwords stay inside this module: nothing here logs, and no verdict or
 * challenge carries them.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export function md5Hex(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('hex');
}

export interface DigestResponseInput {
  readonly username: string;
  readonly realm: string;
  readonly password: string;
  readonly method: string;
  /** The digest-uri parameter, as the client sent it. */
  readonly uri: string;
  readonly nonce: string;
  /** Absent for the RFC 2069 compatibility form. */
  readonly qop?: 'auth';
  readonly nc?: string;
  readonly cnonce?: string;
}

/** request-digest of RFC 2617 section 3.2.2.1, for algorithm MD5. */
export function computeDigestResponse(input: DigestResponseInput): string {
  const ha1 = md5Hex(`${input.username}:${input.realm}:${input.password}`);
  const ha2 = md5Hex(`${input.method}:${input.uri}`);
  if (input.qop === 'auth') {
    return md5Hex(`${ha1}:${input.nonce}:${input.nc ?? ''}:${input.cnonce ?? ''}:auth:${ha2}`);
  }
  return md5Hex(`${ha1}:${input.nonce}:${ha2}`);
}

/** Parses `Digest a="b", c=d` into lower-cased parameter names; undefined if not Digest. */
export function parseDigestParams(headerValue: string): Map<string, string> | undefined {
  const match = /^\s*Digest\s+(.*)$/is.exec(headerValue);
  if (!match) return undefined;
  const params = new Map<string, string>();
  const param = /\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*(?:,|$)/gy;
  const text = match[1]!;
  let found: RegExpExecArray | null;
  while (param.lastIndex < text.length && (found = param.exec(text)) !== null) {
    const quoted = found[2];
    params.set(found[1]!.toLowerCase(), quoted === undefined ? found[3]! : quoted.replace(/\\(.)/g, '$1'));
  }
  return params;
}

/** The realm of Digest credentials or a challenge, if any. */
export function digestRealmOf(headerValue: string): string | undefined {
  return parseDigestParams(headerValue)?.get('realm');
}

export type DigestVerdict =
  /** Credentials for our realm are valid. */
  | { readonly kind: 'ok'; readonly username: string }
  /** No credentials for our realm, or a nonce we did not issue: challenge. */
  | { readonly kind: 'missing' }
  /** Right password, expired nonce: challenge again with stale=true. */
  | { readonly kind: 'stale' }
  | { readonly kind: 'unknownUser'; readonly username: string }
  | { readonly kind: 'badCredentials'; readonly username: string }
  /** Credentials for our realm without the fields digest needs. */
  | { readonly kind: 'malformed'; readonly problem: string };

export interface DigestAuthenticatorOptions {
  readonly realm: string;
  /** user -> password */
  readonly users: Readonly<Record<string, string>>;
  /** How long a nonce is accepted; default 5 minutes. */
  readonly nonceTtlMs?: number;
  readonly now?: () => number;
}

export class DigestAuthenticator {
  readonly realm: string;
  readonly #passwords: ReadonlyMap<string, string>;
  readonly #nonceSecret = randomBytes(16);
  readonly #nonceTtlMs: number;
  readonly #now: () => number;

  constructor(options: DigestAuthenticatorOptions) {
    this.realm = options.realm;
    this.#passwords = new Map(Object.entries(options.users));
    this.#nonceTtlMs = options.nonceTtlMs ?? 5 * 60_000;
    this.#now = options.now ?? Date.now;
  }

  hasUser(user: string): boolean {
    return this.#passwords.has(user);
  }

  userNames(): string[] {
    return [...this.#passwords.keys()];
  }

  /** A WWW-Authenticate / Proxy-Authenticate value with a fresh nonce. */
  challenge(stale = false): string {
    return (
      `Digest realm="${this.realm}", nonce="${this.issueNonce()}", algorithm=MD5, qop="auth"` +
      (stale ? ', stale=true' : '')
    );
  }

  issueNonce(): string {
    const issuedAt = Math.floor(this.#now()).toString(16).padStart(12, '0');
    return issuedAt + this.#nonceMac(issuedAt);
  }

  nonceState(nonce: string): 'fresh' | 'expired' | 'foreign' {
    const issuedAt = nonce.slice(0, 12);
    const expected = this.#nonceMac(issuedAt);
    if (!/^[0-9a-f]{12}$/.test(issuedAt) || !sameText(nonce.slice(12), expected)) return 'foreign';
    const ageMs = this.#now() - parseInt(issuedAt, 16);
    return ageMs >= 0 && ageMs <= this.#nonceTtlMs ? 'fresh' : 'expired';
  }

  /** Checks the Authorization / Proxy-Authorization values of one request. */
  verify(method: string, credentialHeaderValues: readonly string[]): DigestVerdict {
    const credentials = credentialHeaderValues
      .map(parseDigestParams)
      .find((params) => params !== undefined && params.get('realm') === this.realm);
    if (credentials === undefined) return { kind: 'missing' };

    const username = credentials.get('username');
    const nonce = credentials.get('nonce');
    const uri = credentials.get('uri');
    const response = credentials.get('response');
    if (username === undefined || nonce === undefined || uri === undefined || response === undefined) {
      return { kind: 'malformed', problem: 'Digest credentials need username, nonce, uri and response' };
    }
    const algorithm = credentials.get('algorithm');
    if (algorithm !== undefined && algorithm.toUpperCase() !== 'MD5') {
      return { kind: 'malformed', problem: `unsupported Digest algorithm ${algorithm}` };
    }
    const qop = credentials.get('qop');
    if (qop !== undefined && qop !== 'auth') {
      return { kind: 'malformed', problem: `unsupported qop ${qop}` };
    }
    const nc = credentials.get('nc');
    const cnonce = credentials.get('cnonce');
    if (qop === 'auth' && (nc === undefined || cnonce === undefined)) {
      return { kind: 'malformed', problem: 'qop=auth needs nc and cnonce' };
    }

    const nonceState = this.nonceState(nonce);
    if (nonceState === 'foreign') return { kind: 'missing' };
    const password = this.#passwords.get(username);
    if (password === undefined) return { kind: 'unknownUser', username };

    const expected = computeDigestResponse({
      username,
      realm: this.realm,
      password,
      method,
      uri,
      nonce,
      ...(qop === 'auth' ? { qop, nc: nc!, cnonce: cnonce! } : {}),
    });
    if (!sameText(response.toLowerCase(), expected)) return { kind: 'badCredentials', username };
    return nonceState === 'expired' ? { kind: 'stale' } : { kind: 'ok', username };
  }

  #nonceMac(issuedAt: string): string {
    return createHmac('sha256', this.#nonceSecret).update(issuedAt).digest('hex').slice(0, 32);
  }
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
