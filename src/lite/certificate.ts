import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The DTLS certificate of a lite agent process, made as Chromium makes its
 * own: ECDSA P-256, self-signed, subject and issuer CN=WebRTC, valid a month.
 * One per process (Chromium: one per peer connection by default; the far end
 * only compares the fingerprint in the SDP), written once as PEM for
 * libdatachannel, so every connection of the process presents the same one:
 * a connection rebuilt under the same description (liteMedia.ts) keeps the
 * fingerprint the far end was told.
 */
export interface LiteCertificate {
  certificatePemFile: string;
  keyPemFile: string;
  /** `sha-256 AB:CD:...`, as in a=fingerprint. */
  fingerprint: string;
}

export function makeCertificate(now = new Date(), dir = mkdtempSync(join(tmpdir(), 'callwright-lite-cert-'))): LiteCertificate {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const der = selfSignedDer(publicKey, privateKey, now);
  const certificatePemFile = join(dir, 'dtls-cert.pem');
  const keyPemFile = join(dir, 'dtls-key.pem');
  writeFileSync(certificatePemFile, pem('CERTIFICATE', der), { mode: 0o600 });
  writeFileSync(keyPemFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const hex = createHash('sha256').update(der).digest('hex').toUpperCase();
  return { certificatePemFile, keyPemFile, fingerprint: `sha-256 ${hex.match(/../g)!.join(':')}` };
}

/** A v3 X.509 certificate in DER, issuer = subject = CN=WebRTC, signed with ecdsa-with-SHA256. */
export function selfSignedDer(publicKey: KeyObject, privateKey: KeyObject, now: Date): Buffer {
  const ecdsaWithSha256 = sequence(oid([1, 2, 840, 10045, 4, 3, 2]));
  const name = sequence(set(sequence(oid([2, 5, 4, 3]), tlv(0x0c, Buffer.from('WebRTC')))));
  // Chromium backdates a day, as clocks differ; valid 30 days.
  const from = new Date(now.getTime() - 86_400_000);
  const until = new Date(now.getTime() + 30 * 86_400_000);
  const serial = randomBytes(8);
  // A positive INTEGER in minimal DER: a first byte of 1..0x7f (0 would be padding, which OpenSSL refuses).
  serial[0] = 1 + (serial[0]! % 0x7f);
  const tbs = sequence(
    tlv(0xa0, integer(Buffer.from([2]))), // [0] EXPLICIT version v3
    integer(serial),
    ecdsaWithSha256,
    name,
    sequence(utcTime(from), utcTime(until)),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
  );
  const signature = sign('sha256', tbs, privateKey); // DER-encoded ECDSA signature
  return sequence(tbs, ecdsaWithSha256, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
}

function tlv(tag: number, value: Buffer): Buffer {
  const length = value.length;
  const head =
    length < 0x80 ? Buffer.from([tag, length]) : length < 0x100 ? Buffer.from([tag, 0x81, length]) : Buffer.from([tag, 0x82, length >> 8, length & 0xff]);
  return Buffer.concat([head, value]);
}

const sequence = (...parts: Buffer[]) => tlv(0x30, Buffer.concat(parts));
const set = (...parts: Buffer[]) => tlv(0x31, Buffer.concat(parts));
const integer = (bytes: Buffer) => tlv(0x02, bytes);

function oid(arcs: number[]): Buffer {
  const bytes = [40 * arcs[0]! + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const chunk = [arc & 0x7f];
    for (let rest = arc >> 7; rest > 0; rest >>= 7) chunk.unshift((rest & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function utcTime(date: Date): Buffer {
  const text = date.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z'; // YYMMDDHHMMSSZ
  return tlv(0x17, Buffer.from(text));
}

function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g)!.join('\n');
  return `-----BEGIN ${label}-----\n${lines}\n-----END ${label}-----\n`;
}
