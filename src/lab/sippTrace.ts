/** One message of a SIPp -trace_msg file. */
export interface SippTraceMessage {
  /** From the separator line above the message (local time, as SIPp prints it); absent on "Unexpected ..." repeats. */
  atMs?: number;
  sent: boolean;
  bytes?: number;
  startLine: string;
  callId?: string;
  /** The CSeq header, e.g. "1 INVITE". */
  cseq?: string;
}

const SEPARATOR = /^-{20,}(?: (\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d+))?\s*$/;
// "UDP message sent (803 bytes):" and "TCP message received [295] bytes :".
const HEADER = /^(?:UDP|TCP|TLS|SCTP) message (sent|received) (?:\((\d+) bytes\)|\[(\d+)\] bytes)/;

/**
 * Reads SIPp's message trace: blocks between dashed separators (with a timestamp), each
 * "UDP message sent (N bytes):" or "TCP message received [N] bytes :" and the message.
 * SIPp repeats a message it did not expect as "Unexpected ... message received:" without a
 * timestamp; those repeats are left out.
 */
export function parseSippTrace(text: string): SippTraceMessage[] {
  const messages: SippTraceMessage[] = [];
  let atMs: number | undefined;
  let current: { header: RegExpExecArray; atMs?: number; lines: string[] } | undefined;
  const flush = () => {
    if (!current) return;
    const lines = current.lines;
    const startLine = lines.find((line) => line.trim() !== '')?.trim() ?? '';
    const header = (name: string) => lines.find((line) => line.toLowerCase().startsWith(`${name}:`))?.slice(name.length + 1).trim();
    messages.push({
      ...(current.atMs === undefined ? {} : { atMs: current.atMs }),
      sent: current.header[1] === 'sent',
      bytes: Number(current.header[2] ?? current.header[3]),
      startLine,
      ...(header('call-id') === undefined ? {} : { callId: header('call-id') }),
      ...(header('cseq') === undefined ? {} : { cseq: header('cseq') }),
    });
    current = undefined;
  };
  let expectHeader = false;
  for (const line of text.split(/\r?\n/)) {
    const separator = SEPARATOR.exec(line);
    if (separator) {
      flush();
      atMs = separator[1] ? Date.parse(`${separator[1]}T${separator[2]!.slice(0, 12)}`) : undefined;
      expectHeader = true;
      continue;
    }
    if (expectHeader) {
      expectHeader = false;
      const header = HEADER.exec(line);
      if (header) current = { header, ...(atMs === undefined ? {} : { atMs }), lines: [] };
      continue;
    }
    current?.lines.push(line);
  }
  flush();
  return messages;
}

/** The INVITE SIPp sent first, and the final answer it got to it (status >= 200), from its trace. */
export function sippInviteOutcome(messages: readonly SippTraceMessage[]): {
  callId?: string;
  inviteBytes?: number;
  status?: number;
  reason?: string;
  /** INVITE sent -> final answer received. */
  finalResponseSeconds?: number;
  /** A provisional answer from beyond the proxy (180/183) or a 2xx: the request reached the far end. */
  provisional: number[];
} {
  const invite = messages.find((m) => m.sent && m.startLine.startsWith('INVITE '));
  const isInviteAnswer = (m: SippTraceMessage) => !m.sent && m.startLine.startsWith('SIP/2.0 ') && /\bINVITE$/i.test(m.cseq ?? '');
  const answers = messages.filter(isInviteAnswer);
  const statusOf = (m: SippTraceMessage) => Number(m.startLine.split(' ')[1]);
  const final = answers.find((m) => statusOf(m) >= 200);
  const finalResponseSeconds =
    invite?.atMs !== undefined && final?.atMs !== undefined ? Math.max(0, final.atMs - invite.atMs) / 1000 : undefined;
  return {
    ...(invite?.callId === undefined ? {} : { callId: invite.callId }),
    ...(invite?.bytes === undefined ? {} : { inviteBytes: invite.bytes }),
    ...(final ? { status: statusOf(final), reason: final.startLine.split(' ').slice(2).join(' ') } : {}),
    ...(finalResponseSeconds === undefined ? {} : { finalResponseSeconds }),
    provisional: answers.map(statusOf).filter((status) => status > 100 && status < 200),
  };
}
