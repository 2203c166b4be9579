import { describe, expect, it } from 'vitest';
import { turnRestCredential } from './turnCredentials.js';

describe('turnRestCredential (TURN REST API)', () => {
  it('makes <expiry>:<user> and base64(HMAC-SHA1(secret, username)), as openssl computes it', () => {
    // printf '%s' '1735689600:alice' | openssl dgst -sha1 -hmac 'lab-shared-secret' -binary | base64
    const credential = turnRestCredential({ secret: 'lab-shared-secret', user: 'alice', ttlSeconds: 3600, nowMs: (1735689600 - 3600) * 1000 + 999 });
    expect(credential).toEqual({ username: '1735689600:alice', credential: 'qdy4fRRiR/A6CKZuEc5DJq+YmTY=' });
  });

  it('depends on the secret and on the expiry', () => {
    const base = { secret: 's', user: 'u', ttlSeconds: 60, nowMs: 1_000_000 };
    expect(turnRestCredential(base).credential).not.toBe(turnRestCredential({ ...base, secret: 't' }).credential);
    expect(turnRestCredential(base).username).toBe('1060:u');
    expect(turnRestCredential({ ...base, ttlSeconds: 61 }).credential).not.toBe(turnRestCredential(base).credential);
  });
});
