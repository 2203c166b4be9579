import { X509Certificate } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeCertificate } from './certificate.js';

describe('a lite process DTLS certificate', () => {
  it('is a self-signed ECDSA P-256 certificate for CN=WebRTC, as Chromium makes, whose fingerprint is the one returned', () => {
    const now = new Date('2026-12-06T12:00:00Z');
    const made = makeCertificate(now);
    const cert = new X509Certificate(readFileSync(made.certificatePemFile));
    expect(cert.subject).toBe('CN=WebRTC');
    expect(cert.issuer).toBe('CN=WebRTC');
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(new Date(cert.validFrom).getTime()).toBeLessThan(now.getTime());
    expect(new Date(cert.validTo).getTime()).toBeGreaterThan(now.getTime() + 29 * 86_400_000);
    expect(made.fingerprint).toBe(`sha-256 ${cert.fingerprint256}`);
    expect(readFileSync(made.keyPemFile, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    rmSync(dirname(made.certificatePemFile), { recursive: true, force: true });
  });

  it('always parses: 300 certificates, each with a minimal DER serial (a CI run once met one OpenSSL refused)', () => {
    for (let i = 0; i < 300; i++) {
      const made = makeCertificate();
      const cert = new X509Certificate(readFileSync(made.certificatePemFile));
      expect(cert.serialNumber).not.toMatch(/^00/);
      rmSync(dirname(made.certificatePemFile), { recursive: true, force: true });
    }
  });
});
