import { describe, expect, it } from 'vitest';
import { computeDigestResponse, DigestAuthenticator, md5Hex, parseDigestParams } from './digestAuth.js';

describe('digest maths', () => {
  it('matches the worked example of RFC 2617 section 3.5', () => {
    expect(
      computeDigestResponse({
        username: 'Mufasa',
        realm: 'testrealm@host.com',
        password: 'Circle Of Life',
        method: 'GET',
        uri: '/dir/index.html',
        nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
        qop: 'auth',
        nc: '00000001',
        cnonce: '0a4f113b',
      }),
    ).toBe('6629fae49393a05397450978507c4ef1');
  });

  it('computes the RFC 2069 form without qop', () => {
    const ha1 = md5Hex('Mufasa:testrealm@host.com:Circle Of Life');
    const ha2 = md5Hex('GET:/dir/index.html');
    expect(
      computeDigestResponse({
        username: 'Mufasa',
        realm: 'testrealm@host.com',
        password: 'Circle Of Life',
        method: 'GET',
        uri: '/dir/index.html',
        nonce: 'n',
      }),
    ).toBe(md5Hex(`${ha1}:n:${ha2}`));
  });

  it('parses Digest parameters, quoted and not', () => {
    const params = parseDigestParams(
      'Digest algorithm=MD5, username="alice", realm="callwright.test", nonce="abc", uri="sip:callwright.test", response="0123", qop=auth, cnonce="x\\"y", nc=00000001',
    );
    expect(Object.fromEntries(params!)).toEqual({
      algorithm: 'MD5',
      username: 'alice',
      realm: 'callwright.test',
      nonce: 'abc',
      uri: 'sip:callwright.test',
      response: '0123',
      qop: 'auth',
      cnonce: 'x"y',
      nc: '00000001',
    });
    expect(parseDigestParams('Basic abc')).toBeUndefined();
  });
});

describe('DigestAuthenticator', () => {
  let clockMs = 1_700_000_000_000;
  const authenticator = new DigestAuthenticator({
    realm: 'callwright.test',
    users: { alice: 'wonderland' },
    nonceTtlMs: 60_000,
    now: () => clockMs,
  });

  function credentialsFor(nonce: string, password: string, username = 'alice'): string {
    const fields = { username, realm: 'callwright.test', method: 'REGISTER', uri: 'sip:callwright.test', nonce };
    const response = computeDigestResponse({ ...fields, password, qop: 'auth', nc: '00000001', cnonce: 'c0ffee' });
    return `Digest algorithm=MD5, username="${username}", realm="callwright.test", nonce="${nonce}", uri="sip:callwright.test", response="${response}", qop=auth, cnonce="c0ffee", nc=00000001`;
  }

  function nonceOf(challenge: string): string {
    return parseDigestParams(challenge)!.get('nonce')!;
  }

  it('challenges with realm, nonce, MD5 and qop=auth', () => {
    const params = parseDigestParams(authenticator.challenge())!;
    expect(params.get('realm')).toBe('callwright.test');
    expect(params.get('algorithm')).toBe('MD5');
    expect(params.get('qop')).toBe('auth');
    expect(params.get('nonce')).toMatch(/^[0-9a-f]{44}$/);
    expect(params.has('stale')).toBe(false);
    expect(parseDigestParams(authenticator.challenge(true))!.get('stale')).toBe('true');
  });

  it('accepts the right password and refuses a wrong one', () => {
    const nonce = nonceOf(authenticator.challenge());
    expect(authenticator.verify('REGISTER', [credentialsFor(nonce, 'wonderland')])).toEqual({
      kind: 'ok',
      username: 'alice',
    });
    expect(authenticator.verify('REGISTER', [credentialsFor(nonce, 'looking-glass')])).toEqual({
      kind: 'badCredentials',
      username: 'alice',
    });
    // The method is part of the digest: credentials for REGISTER do not authorise an INVITE.
    expect(authenticator.verify('INVITE', [credentialsFor(nonce, 'wonderland')]).kind).toBe('badCredentials');
  });

  it('tells unknown users, missing credentials and other realms apart', () => {
    const nonce = nonceOf(authenticator.challenge());
    expect(authenticator.verify('REGISTER', [credentialsFor(nonce, 'x', 'mallory')])).toEqual({
      kind: 'unknownUser',
      username: 'mallory',
    });
    expect(authenticator.verify('REGISTER', [])).toEqual({ kind: 'missing' });
    expect(authenticator.verify('REGISTER', ['Digest realm="elsewhere", username="alice"'])).toEqual({
      kind: 'missing',
    });
    expect(authenticator.verify('REGISTER', ['Digest realm="callwright.test", username="alice"']).kind).toBe(
      'malformed',
    );
  });

  it('answers stale for a correct digest over an expired nonce, and re-challenges a forged nonce', () => {
    const nonce = nonceOf(authenticator.challenge());
    clockMs += 61_000;
    expect(authenticator.verify('REGISTER', [credentialsFor(nonce, 'wonderland')])).toEqual({ kind: 'stale' });
    const forged = nonce.slice(0, 12) + '0'.repeat(32);
    expect(authenticator.verify('REGISTER', [credentialsFor(forged, 'wonderland')])).toEqual({ kind: 'missing' });
  });
});
