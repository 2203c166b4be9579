import { createHash } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { WebSocket as NodeWebSocket } from 'ws';

export interface LiteTls {
  /** base64(sha256(SubjectPublicKeyInfo)) of certificates to accept although no CA vouches for them (the lab's). */
  spkiSha256Base64: string[];
  insecure: boolean;
}

/**
 * The WebSocket class SIP.js will construct (it uses the global one), with
 * the browser's TLS trust: a wss:// server is accepted when a CA vouches for
 * it, when its key is one of the pinned ones, or with --insecure-tls.
 */
export function pinnedWebSocket(Base: typeof NodeWebSocket, tls: LiteTls | undefined): new (address: string, protocols?: string | string[]) => NodeWebSocket {
  const pins = new Set(tls?.spkiSha256Base64 ?? []);
  const lenient = tls?.insecure === true || pins.size > 0;
  class TrustedWebSocket extends Base {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, lenient ? { rejectUnauthorized: false } : {});
      if (!lenient || tls?.insecure) return;
      this.once('upgrade', (response) => {
        const socket = response.socket as TLSSocket;
        if (socket.authorized) return;
        const key = socket.getPeerCertificate?.()?.pubkey;
        const pin = key ? createHash('sha256').update(key).digest('base64') : '';
        if (!pins.has(pin)) this.terminate();
      });
    }
  }
  return TrustedWebSocket;
}
