import { createHash, randomBytes } from 'node:crypto';

/** The parameters of a WWW-Authenticate / Proxy-Authenticate Digest challenge. */
export interface DigestChallenge {
  realm: string;
  nonce: string;
  opaque?: string;
  algorithm?: string;
  qop?: string;
}

/** Parses the value of a Digest challenge header (without the header name). */
export function parseDigestChallenge(headerValue: string): DigestChallenge {
  const match = /^\s*Digest\s+(.*)$/is.exec(headerValue);
  if (!match) throw new Error(`not a Digest challenge: ${headerValue}`);
  const params = new Map<string, string>();
  for (const param of match[1]!.matchAll(/([A-Za-z-]+)\s*=\s*(?:"([^"]*)"|([^\s,]+))/g)) {
    params.set(param[1]!.toLowerCase(), param[2] ?? param[3] ?? '');
  }
  const realm = params.get('realm');
  const nonce = params.get('nonce');
  if (realm === undefined || nonce === undefined) throw new Error(`Digest challenge without realm or nonce: ${headerValue}`);
  return { realm, nonce, opaque: params.get('opaque'), algorithm: params.get('algorithm'), qop: params.get('qop') };
}

export interface DigestCredentials {
  username: string;
  password: string;
  method: string;
  uri: string;
  /** Fixed values make the response reproducible (tests); random otherwise. */
  cnonce?: string;
  nonceCount?: number;
}

/** The value of an Authorization / Proxy-Authorization header answering the challenge (RFC 2617, MD5). */
export function digestAuthorization(challenge: DigestChallenge, credentials: DigestCredentials): string {
  const algorithm = challenge.algorithm ?? 'MD5';
  if (algorithm.toUpperCase() !== 'MD5') throw new Error(`unsupported digest algorithm ${algorithm}`);
  const md5 = (text: string) => createHash('md5').update(text).digest('hex');
  const ha1 = md5(`${credentials.username}:${challenge.realm}:${credentials.password}`);
  const ha2 = md5(`${credentials.method}:${credentials.uri}`);
  const offersAuth = challenge.qop?.split(',').map((q) => q.trim()).includes('auth') ?? false;

  const fields = [
    `username="${credentials.username}"`,
    `realm="${challenge.realm}"`,
    `nonce="${challenge.nonce}"`,
    `uri="${credentials.uri}"`,
  ];
  if (offersAuth) {
    const cnonce = credentials.cnonce ?? randomBytes(8).toString('hex');
    const nc = (credentials.nonceCount ?? 1).toString(16).padStart(8, '0');
    const response = md5(`${ha1}:${challenge.nonce}:${nc}:${cnonce}:auth:${ha2}`);
    fields.push(`response="${response}"`, 'qop=auth', `nc=${nc}`, `cnonce="${cnonce}"`);
  } else {
    fields.push(`response="${md5(`${ha1}:${challenge.nonce}:${ha2}`)}"`);
  }
  fields.push('algorithm=MD5');
  if (challenge.opaque !== undefined) fields.push(`opaque="${challenge.opaque}"`);
  return `Digest ${fields.join(', ')}`;
}
