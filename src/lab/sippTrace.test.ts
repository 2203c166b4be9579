import { describe, expect, it } from 'vitest';
import { parseSippTrace, sippInviteOutcome } from './sippTrace.js';

const trace = `Problem EAGAIN on socket  6 and poll_idx  is 1 
----------------------------------------------- 2026-11-23 08:48:43.112007
TCP message sent (2090 bytes):

INVITE sip:mtu@callwright.lab SIP/2.0
Call-ID: 1-20942@127.0.0.1
CSeq: 1 INVITE
Content-Length:  1745

v=0

----------------------------------------------- 2026-11-23 08:48:43.113454
TCP message received [295] bytes :

SIP/2.0 100 trying -- your call is important to us
Call-ID: 1-20942@127.0.0.1
CSeq: 1 INVITE


----------------------------------------------- 2026-11-23 08:48:48.071247
TCP message received [318] bytes :

SIP/2.0 408 Request Timeout
Call-ID: 1-20942@127.0.0.1
CSeq: 1 INVITE
Content-Length: 0


-----------------------------------------------
Unexpected TCP message received:

SIP/2.0 408 Request Timeout
Call-ID: 1-20942@127.0.0.1
CSeq: 1 INVITE
`;

describe('SIPp message traces', () => {
  it('reads each message with its time, direction and size, leaving out the unexpected-message repeats', () => {
    const messages = parseSippTrace(trace);
    expect(messages.map((m) => [m.sent, m.bytes, m.startLine, m.cseq])).toEqual([
      [true, 2090, 'INVITE sip:mtu@callwright.lab SIP/2.0', '1 INVITE'],
      [false, 295, 'SIP/2.0 100 trying -- your call is important to us', '1 INVITE'],
      [false, 318, 'SIP/2.0 408 Request Timeout', '1 INVITE'],
    ]);
    expect(messages[2]!.atMs! - messages[0]!.atMs!).toBe(4959);
  });

  it('gives the INVITE outcome: final status, time to it, and whether the far end answered at all', () => {
    expect(sippInviteOutcome(parseSippTrace(trace))).toEqual({
      callId: '1-20942@127.0.0.1',
      inviteBytes: 2090,
      status: 408,
      reason: 'Request Timeout',
      finalResponseSeconds: 4.959,
      provisional: [],
    });
  });
});
