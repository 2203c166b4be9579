import { describe, expect, it } from 'vitest';
import { redactAuthorizationHeaders } from '../../src/protocol/sipRedaction.js';

const invite = (auth: string) =>
  `INVITE sip:1001@lab SIP/2.0\r\nCall-ID: c1\r\n${auth}\r\nCSeq: 2 INVITE\r\nContent-Length: 4\r\n\r\nv=0\n`;

describe('redactAuthorizationHeaders (the page side)', () => {
  it('keeps the scheme and username of Authorization and Proxy-Authorization and drops the rest', () => {
    const raw = invite('Proxy-Authorization: Digest algorithm=MD5, username="1000", realm="lab", nonce="abc", uri="sip:1001@lab", response="0123456789abcdef0123456789abcdef"');
    const out = redactAuthorizationHeaders(raw);
    expect(out).toContain('Proxy-Authorization: Digest username="1000", [redacted]');
    expect(out).not.toContain('0123456789abcdef');
    expect(out).not.toContain('nonce');
    expect(out.endsWith('\r\n\r\nv=0\n')).toBe(true);
    expect(redactAuthorizationHeaders(invite('authorization: Digest response="ff", username=bob'))).toContain('authorization: Digest username=bob, [redacted]');
  });

  it('leaves a message without credentials as it is, body included', () => {
    const raw = invite('X-Note: response="not a header we redact"');
    expect(redactAuthorizationHeaders(raw)).toBe(raw);
  });

  it('is idempotent', () => {
    const once = redactAuthorizationHeaders(invite('Authorization: Digest username="a", response="x"'));
    expect(redactAuthorizationHeaders(once)).toBe(once);
  });
});
