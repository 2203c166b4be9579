/**
 * The CA file of a wss:// target (target.caFile): PEM certificates, the CA
 * that signed the server's certificate or the server's self-signed one.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every certificate in the file; throws an Error saying what is wrong with it. */
export function readPemCertificates(file: string): X509Certificate[] {
  const text = readFileSync(file, 'utf8');
  const blocks = text.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new Error(`no PEM certificate (-----BEGIN CERTIFICATE-----) in ${file}`);
  return blocks.map((block, index) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      throw new Error(`certificate ${index + 1} in ${file} does not parse: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
}

/** base64(sha256(SubjectPublicKeyInfo)): what Chromium's --ignore-certificate-errors-spki-list takes. */
export function spkiSha256Base64(certificate: X509Certificate): string {
  return createHash('sha256').update(certificate.publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
}

/** What is wrong with a CA file, for the scenario loader; undefined when it holds certificates. */
export function caFileProblem(file: string): string | undefined {
  try {
    readPemCertificates(file);
    return undefined;
  } catch (error) {
    return `${error instanceof Error ? error.message : String(error)}; give the PEM file of the CA that signed the server's certificate (or of the self-signed certificate itself)`;
  }
}
