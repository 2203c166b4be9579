/**
 * When a call's SIP messages met one agent's WebSocket: the moments RFC 6076's
 * end-to-end metrics are measured between. Fed with the page's 'sip' events,
 * whose timestamps are taken at the WebSocket (never around harness work), so
 * every figure built from these is the wire's.
 */

export interface SipWireTimes {
  /** Caller side. The first INVITE of the dialog (a digest challenge's retry does not move it). */
  inviteSentAtMs?: number;
  /** First provisional response above 100 (180, 183) to the INVITE. */
  provisionalReceivedAtMs?: number;
  /** First final response to the initial INVITE, with its status. */
  finalReceivedAtMs?: number;
  finalStatus?: number;
  /** How many digest challenges (401/407) the INVITE met. */
  challenges: number;
  /** Callee side. */
  inviteReceivedAtMs?: number;
  okSentAtMs?: number;
  /** Session disconnect delay: our BYE and its final response; or the far end's BYE. */
  byeSentAtMs?: number;
  byeAnsweredAtMs?: number;
  byeReceivedAtMs?: number;
}

interface SipStart {
  method?: string;
  status?: number;
  cseqMethod?: string;
  hasToTag: boolean;
}

/** Just what the timings need from a message: its first line, CSeq method and whether To has a tag. */
export function readSipStart(raw: string): SipStart {
  const headEnd = raw.indexOf('\r\n\r\n');
  const head = headEnd >= 0 ? raw.slice(0, headEnd) : raw;
  const lines = head.split('\r\n');
  const first = lines[0] ?? '';
  const status = /^SIP\/2\.0 (\d{3})/.exec(first);
  let cseqMethod: string | undefined;
  let hasToTag = false;
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (name === 'cseq') cseqMethod = line.slice(colon + 1).trim().split(/\s+/)[1]?.toUpperCase();
    else if (name === 'to' || name === 't') hasToTag = /;\s*tag=/i.test(line.slice(colon + 1));
  }
  return status ? { status: Number(status[1]), cseqMethod, hasToTag } : { method: first.split(' ')[0]?.toUpperCase(), cseqMethod, hasToTag };
}

/** Folds one message into the times; first occurrences win (retransmissions and re-INVITEs move nothing). */
export function noteSipMessage(times: SipWireTimes, message: { atMs: number; sent: boolean; raw: string }): void {
  const sip = readSipStart(message.raw);
  const { atMs, sent } = message;
  if (sip.method === 'INVITE' && !sip.hasToTag) {
    if (sent) times.inviteSentAtMs ??= atMs;
    else times.inviteReceivedAtMs ??= atMs;
    return;
  }
  if (sip.method === 'BYE') {
    if (sent) times.byeSentAtMs ??= atMs;
    else times.byeReceivedAtMs ??= atMs;
    return;
  }
  if (sip.status === undefined) return;
  if (sip.cseqMethod === 'INVITE') {
    if (sent) {
      if (sip.status >= 200 && sip.status < 300 && times.inviteReceivedAtMs !== undefined) times.okSentAtMs ??= atMs;
      return;
    }
    if (times.inviteSentAtMs === undefined || times.finalReceivedAtMs !== undefined) return;
    if (sip.status > 100 && sip.status < 200) times.provisionalReceivedAtMs ??= atMs;
    else if (sip.status === 401 || sip.status === 407) times.challenges++;
    else if (sip.status >= 200) {
      times.finalReceivedAtMs = atMs;
      times.finalStatus = sip.status;
    }
  } else if (sip.cseqMethod === 'BYE' && !sent && sip.status >= 200 && times.byeSentAtMs !== undefined) {
    times.byeAnsweredAtMs ??= atMs;
  }
}

export const secondsBetween = (from: number | undefined, to: number | undefined): number | undefined =>
  from === undefined || to === undefined ? undefined : Math.max(0, to - from) / 1000;
