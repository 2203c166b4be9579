import { execFile } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { InfraError } from '../errors.js';

export interface LabCertificate {
  certificate: string;
  privateKey: string;
  /** base64(sha256(SubjectPublicKeyInfo)): Chromium's --ignore-certificate-errors-spki-list takes it. */
  spkiSha256Base64: string;
}

/**
 * A self-signed certificate for wss, made once per lab dir and kept across restarts so a
 * browser told to trust its key keeps trusting it.
 */
export async function ensureSelfSignedCertificate(p: { dir: string; domain: string; openssl: string }): Promise<LabCertificate> {
  const certificate = path.join(p.dir, 'tls-cert.pem');
  const privateKey = path.join(p.dir, 'tls-key.pem');
  if (!existsSync(certificate) || !existsSync(privateKey)) {
    const args = [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '3650',
      '-keyout', privateKey, '-out', certificate,
      '-subj', `/CN=${p.domain}`,
      '-addext', `subjectAltName=DNS:${p.domain},IP:127.0.0.1`,
    ];
    try {
      await promisify(execFile)(p.openssl, args, { timeout: 30_000 });
    } catch (error) {
      throw new InfraError(`openssl could not make the lab's wss certificate: ${(error as Error).message}`, 'Check that openssl works: openssl version');
    }
  }
  const x509 = new X509Certificate(readFileSync(certificate));
  const spki = x509.publicKey.export({ type: 'spki', format: 'der' });
  return { certificate, privateKey, spkiSha256Base64: createHash('sha256').update(spki).digest('base64') };
}
