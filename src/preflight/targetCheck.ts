/**
 * Before any browser starts: can this machine open a SIP WebSocket to the
 * scenario's target, and how should Chromium trust it if it is wss://?
 * An unreachable server is broken infrastructure (exit 3) found in
 * milliseconds, not a page of failed registrations.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { WebSocket } from 'ws';
import type { TlsTrust } from '../browser/chromium.js';
import { InfraError } from '../errors.js';
import { withoutUrlCredentials } from '../common/redact.js';
import { readPemCertificates, spkiSha256Base64 } from '../scenario/caFile.js';
import type { Target } from '../scenario/types.js';

export const TARGET_CHECK_TIMEOUT_MS = 5_000;

export interface TargetCheck {
  /** Launch flags for the browsers (undefined for ws://). */
  tls?: TlsTrust;
  /**
   * wss:// only, when neither a CA file nor insecureTls was given and Node's
   * CA store does not trust the server either: why, to explain a browser that
   * then cannot connect.
   */
  untrustedReason?: string;
}

export const TLS_HINT =
  'give target.caFile (the PEM of the CA that signed the server certificate, or of the self-signed certificate itself), ' +
  'or accept any certificate with --insecure-tls / target.insecureTls: true (insecure: anyone on the path can read and change the traffic)';

export async function checkTarget(target: Target, warn: (message: string) => void, timeoutMs = TARGET_CHECK_TIMEOUT_MS): Promise<TargetCheck> {
  const url = withoutUrlCredentials(target.url);
  const secure = target.url.startsWith('wss:');
  const ca = secure && target.caFile ? readFileSync(target.caFile) : undefined;
  const seen = await openOnce(target.url, url, ca, timeoutMs);
  if (!secure) return {};
  if (target.insecureTls) {
    warn(
      `TLS certificate checks are OFF for ${url} (--insecure-tls / target.insecureTls): anyone on the path can read and change the SIP traffic and its credentials. ` +
        'To trust a self-signed server safely, give target.caFile instead.',
    );
    return { tls: { spkiSha256Base64: [], insecure: true } };
  }
  if (target.caFile) {
    if (!seen.authorized) {
      throw new InfraError(`the TLS certificate of ${url} is not trusted by target.caFile ${target.caFile}: ${seen.authorizationError ?? 'unknown reason'}`, TLS_HINT);
    }
    // Chromium takes no CA file: pin the keys Node just verified against it (the server's chain), and the file's own.
    const pins = new Set([...seen.chainSpki, ...readPemCertificates(target.caFile).map(spkiSha256Base64)]);
    return { tls: { spkiSha256Base64: [...pins], insecure: false } };
  }
  return seen.authorized ? {} : { untrustedReason: seen.authorizationError ?? 'not trusted' };
}

interface Handshake {
  authorized: boolean;
  authorizationError?: string;
  /** SPKI hashes of the certificates the server presented, leaf first. */
  chainSpki: string[];
}

/** One WebSocket handshake with subprotocol sip (RFC 7118), then closed. Certificates are judged after, not by the handshake. */
function openOnce(rawUrl: string, shownUrl: string, ca: Buffer | undefined, timeoutMs: number): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    let handshake: Handshake = { authorized: true, chainSpki: [] };
    const socket = new WebSocket(rawUrl, 'sip', { handshakeTimeout: timeoutMs, rejectUnauthorized: false, ...(ca ? { ca } : {}) });
    const fail = (why: string, hint: string) => {
      socket.terminate();
      reject(new InfraError(`cannot reach the SIP server at ${shownUrl}: ${why}`, hint));
    };
    socket.once('upgrade', (response: IncomingMessage) => {
      const tls = response.socket as TLSSocket;
      if (typeof tls.getPeerCertificate === 'function') handshake = tlsFacts(tls);
    });
    socket.once('open', () => {
      socket.close(1000);
      resolve(handshake);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      const [why, hint] = explain(error, timeoutMs);
      fail(why, hint);
    });
  });
}

function tlsFacts(tls: TLSSocket): Handshake {
  const chain: string[] = [];
  let certificate = tls.getPeerCertificate(true);
  const seen = new Set<string>();
  while (certificate?.raw && !seen.has(certificate.fingerprint256)) {
    seen.add(certificate.fingerprint256);
    chain.push(spkiSha256Base64(new X509Certificate(certificate.raw)));
    certificate = certificate.issuerCertificate;
  }
  const error = tls.authorizationError as unknown;
  return {
    authorized: tls.authorized,
    ...(error === null || error === undefined ? {} : { authorizationError: error instanceof Error ? error.message : String(error) }),
    chainSpki: chain,
  };
}

function explain(error: NodeJS.ErrnoException, timeoutMs: number): [string, string] {
  const check = 'check target.url (or --target), that the server is running and that it serves SIP over WebSocket there';
  switch (error.code) {
    case 'ECONNREFUSED':
      return ['connection refused (nothing listens on that port)', check];
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return [`host not found (${error.code})`, 'check the host name in target.url (or --target)'];
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return [`no route or no answer (${error.code})`, check];
    case 'ECONNRESET':
      return ['the connection was reset (a TLS server on a ws:// URL, or the reverse?)', 'use wss:// for a TLS port and ws:// for a plain one'];
  }
  if (/handshake has timed out/i.test(error.message)) return [`no WebSocket handshake within ${timeoutMs / 1000} s`, check];
  const status = /Unexpected server response: (\d+)/.exec(error.message)?.[1];
  if (status) return [`it answered HTTP ${status} instead of a WebSocket upgrade`, 'check the path in target.url (e.g. /ws)'];
  if (/subprotocol/i.test(error.message)) return ['the server did not accept the WebSocket subprotocol "sip" (RFC 7118)', check];
  return [error.message, check];
}
