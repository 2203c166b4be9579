import { describe, expect, it } from 'vitest';
import { digestAuthorization, parseDigestChallenge } from './digest.js';

describe('digest', () => {
  it('parses a Kamailio challenge', () => {
    expect(parseDigestChallenge('Digest realm="callwright.lab", nonce="abc123", qop="auth"')).toEqual({
      realm: 'callwright.lab', nonce: 'abc123', qop: 'auth', opaque: undefined, algorithm: undefined,
    });
  });

  it('answers with the RFC 2617 section 3.5 example response', () => {
    const challenge = parseDigestChallenge(
      'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
    );
    const header = digestAuthorization(challenge, {
      username: 'Mufasa', password: 'Circle Of Life', method: 'GET', uri: '/dir/index.html', cnonce: '0a4f113b', nonceCount: 1,
    });
    expect(header).toContain('response="6629fae49393a05397450978507c4ef1"');
    expect(header).toContain('nc=00000001');
    expect(header).toContain('opaque="5ccc069c403ebaf9f0171e9517f40e41"');
  });

  it('answers without qop the RFC 2069 way when the challenge offers none', () => {
    const header = digestAuthorization(parseDigestChallenge('Digest realm="r", nonce="n"'), { username: 'u', password: 'p', method: 'REGISTER', uri: 'sip:r' });
    expect(header).not.toContain('qop=');
    expect(header).toMatch(/response="[0-9a-f]{32}"/);
  });
});
