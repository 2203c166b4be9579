import { Web } from 'sip.js';
import { arrivalTimeOfCurrentMessage, takeUnclaimedSendListener, whenNextSendLeaves } from './workerWebSocket.js';

/** What the tap reports of one SIP message crossing this user agent's WebSocket. */
export interface SipTapMessage {
  sent: boolean;
  raw: string;
  bytes: number;
  /** Epoch ms where the message met the WebSocket: just before send(), or as it arrived. */
  atMs: number;
}

export type SipTapListener = (message: SipTapMessage) => void;

/**
 * SIP.js's WebSocket transport with a tap on every message, so the agent can
 * report what really crossed the wire: INVITE size (the MTU failure), the SDP
 * the far end sent (extra lines, codecs). The listener is set per user agent;
 * incoming messages are tapped by wrapping onMessage once the UserAgent set it.
 */
export class TappedTransport extends Web.Transport {
  tap: SipTapListener | undefined;
  /** Last chance to change an outgoing message (extra SDP lines go in here, on the wire). */
  rewrite: ((raw: string) => string) | undefined;

  override send(message: string): Promise<void> {
    const wire = this.rewrite ? this.rewrite(message) : message;
    const tapAt = (atMs: number) => this.tap?.({ sent: true, raw: wire, bytes: utf8Length(wire), atMs });
    // The socket's worker tells when the message left; without a worker, now is when it leaves.
    const fromWorker = whenNextSendLeaves(tapAt);
    const beforeMs = Date.now();
    if (!fromWorker) tapAt(beforeMs);
    const sending = super.send(wire);
    // Not handed to a socket (not connected): tapped all the same, as before.
    takeUnclaimedSendListener()?.(beforeMs);
    return sending;
  }

  /** Call once the UserAgent has set onMessage (it does so in its constructor). */
  tapIncoming(): void {
    const deliver = this.onMessage;
    if (!deliver) return;
    this.onMessage = (message: string) => {
      // The socket's worker stamped it on arrival; the main thread may get to it much later.
      const atMs = arrivalTimeOfCurrentMessage() ?? Date.now();
      this.tap?.({ sent: false, raw: message, bytes: utf8Length(message), atMs });
      deliver(message);
    };
  }

}

export function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}

/** Minimal header read for the tap: first line, Call-ID, CSeq method, body. */
export function readSipMessage(raw: string): {
  startLine: string;
  callId?: string;
  cseqMethod?: string;
  status?: number;
  method?: string;
  body: string;
  hasToTag: boolean;
} {
  const split = raw.indexOf('\r\n\r\n');
  const head = split >= 0 ? raw.slice(0, split) : raw;
  const body = split >= 0 ? raw.slice(split + 4) : '';
  const lines = head.split('\r\n');
  const startLine = lines[0] ?? '';
  let callId: string | undefined;
  let cseqMethod: string | undefined;
  let hasToTag = false;
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'call-id' || name === 'i') callId = value;
    else if (name === 'cseq') cseqMethod = value.split(/\s+/)[1]?.toUpperCase();
    else if (name === 'to' || name === 't') hasToTag = /;\s*tag=/i.test(value);
  }
  const statusMatch = /^SIP\/2\.0 (\d{3})/.exec(startLine);
  return {
    startLine,
    callId,
    cseqMethod,
    status: statusMatch ? Number(statusMatch[1]) : undefined,
    method: statusMatch ? undefined : startLine.split(' ')[0],
    body,
    hasToTag,
  };
}

/** Replace a SIP message's body, fixing Content-Length. */
export function replaceSipBody(raw: string, body: string): string {
  const split = raw.indexOf('\r\n\r\n');
  if (split < 0) return raw;
  const head = raw
    .slice(0, split)
    .split('\r\n')
    .map((line) => (/^(content-length|l)\s*:/i.test(line) ? `Content-Length: ${utf8Length(body)}` : line))
    .join('\r\n');
  return `${head}\r\n\r\n${body}`;
}
