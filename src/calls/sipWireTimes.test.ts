import { describe, expect, it } from 'vitest';
import { noteSipMessage, readSipStart, type SipWireTimes } from './sipWireTimes.js';

const request = (method: string, cseq: number, toTag = false) =>
  `${method} sip:bob@lab SIP/2.0\r\nVia: SIP/2.0/WSS x\r\nTo: <sip:bob@lab>${toTag ? ';tag=b1' : ''}\r\nFrom: <sip:alice@lab>;tag=a1\r\nCall-ID: c1\r\nCSeq: ${cseq} ${method}\r\nContent-Length: 0\r\n\r\n`;
const response = (status: number, method: string, cseq: number) =>
  `SIP/2.0 ${status} Whatever\r\nTo: <sip:bob@lab>;tag=b1\r\nFrom: <sip:alice@lab>;tag=a1\r\nCall-ID: c1\r\nCSeq: ${cseq} ${method}\r\nContent-Length: 0\r\n\r\n`;

function times(messages: [number, boolean, string][]): SipWireTimes {
  const t: SipWireTimes = { challenges: 0 };
  for (const [atMs, sent, raw] of messages) noteSipMessage(t, { atMs, sent, raw });
  return t;
}

describe('SIP wire times (RFC 6076 moments)', () => {
  it('reads the first line, the CSeq method and a To tag', () => {
    expect(readSipStart(request('INVITE', 1))).toEqual({ method: 'INVITE', cseqMethod: 'INVITE', hasToTag: false });
    expect(readSipStart(response(180, 'INVITE', 1))).toEqual({ status: 180, cseqMethod: 'INVITE', hasToTag: true });
  });

  it('times a call from its FIRST INVITE through a digest challenge to 180 and 200; 100 Trying is no provisional', () => {
    const t = times([
      [1000, true, request('INVITE', 1)],
      [1002, false, response(407, 'INVITE', 1)],
      [1003, true, request('ACK', 1)],
      [1004, true, request('INVITE', 2)],
      [1005, false, response(100, 'INVITE', 2)],
      [1040, false, response(180, 'INVITE', 2)],
      [1090, false, response(183, 'INVITE', 2)],
      [1300, false, response(200, 'INVITE', 2)],
      [1301, true, request('ACK', 2, true)],
    ]);
    expect(t).toMatchObject({ inviteSentAtMs: 1000, provisionalReceivedAtMs: 1040, finalReceivedAtMs: 1300, finalStatus: 200, challenges: 1 });
  });

  it('is not moved by a re-INVITE (hold) or a retransmitted 200', () => {
    const t = times([
      [0, true, request('INVITE', 1)],
      [10, false, response(200, 'INVITE', 1)],
      [20, false, response(200, 'INVITE', 1)],
      [5000, true, request('INVITE', 2, true)],
      [5010, false, response(200, 'INVITE', 2)],
    ]);
    expect(t).toMatchObject({ inviteSentAtMs: 0, finalReceivedAtMs: 10 });
  });

  it('records a final error status', () => {
    expect(times([[0, true, request('INVITE', 1)], [30, false, response(486, 'INVITE', 1)]])).toMatchObject({ finalReceivedAtMs: 30, finalStatus: 486 });
  });

  it('times the callee side: INVITE received -> 200 OK sent', () => {
    const t = times([
      [100, false, request('INVITE', 2)],
      [101, true, response(180, 'INVITE', 2)],
      [400, true, response(200, 'INVITE', 2)],
    ]);
    expect(t).toMatchObject({ inviteReceivedAtMs: 100, okSentAtMs: 400 });
    expect(t.inviteSentAtMs).toBeUndefined();
  });

  it('times the session disconnect delay: our BYE -> its final response', () => {
    const t = times([
      [0, true, request('BYE', 3, true)],
      [12, false, response(200, 'BYE', 3)],
    ]);
    expect(t).toMatchObject({ byeSentAtMs: 0, byeAnsweredAtMs: 12 });
    expect(times([[0, false, request('BYE', 3, true)]])).toMatchObject({ byeReceivedAtMs: 0 });
  });
});
