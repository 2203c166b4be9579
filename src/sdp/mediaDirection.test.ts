import { describe, expect, it } from 'vitest';
import { mediaDirection, sendsNo } from './mediaDirection.js';

const sdp = (...lines: string[]) => ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 't=0 0', ...lines].join('\r\n') + '\r\n';

describe('mediaDirection', () => {
  it("reads a medium's own direction, else the session's, else sendrecv", () => {
    expect(mediaDirection(sdp('m=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=recvonly'), 'audio')).toBe('recvonly');
    expect(mediaDirection(sdp('a=sendonly', 'm=audio 9 RTP/AVP 0'), 'audio')).toBe('sendonly');
    expect(mediaDirection(sdp('a=sendonly', 'm=audio 9 RTP/AVP 0', 'a=inactive'), 'audio')).toBe('inactive');
    expect(mediaDirection(sdp('m=audio 9 RTP/AVP 0'), 'audio')).toBe('sendrecv');
  });

  it('tells audio from video, and has none for a missing or refused medium', () => {
    const both = sdp('m=audio 9 RTP/AVP 0', 'a=sendrecv', 'm=video 9 RTP/AVP 96', 'a=recvonly');
    expect([mediaDirection(both, 'audio'), mediaDirection(both, 'video')]).toEqual(['sendrecv', 'recvonly']);
    expect(mediaDirection(sdp('m=video 9 RTP/AVP 96', 'a=recvonly'), 'audio')).toBeUndefined();
    expect(mediaDirection(sdp('m=audio 0 RTP/AVP 0', 'a=recvonly'), 'audio')).toBeUndefined();
  });

  it('says which descriptions send none of a medium', () => {
    expect(sendsNo(sdp('m=audio 9 RTP/AVP 0', 'a=recvonly'), 'audio')).toBe(true);
    expect(sendsNo(sdp('m=audio 9 RTP/AVP 0', 'a=inactive'), 'audio')).toBe(true);
    expect(sendsNo(sdp('m=audio 9 RTP/AVP 0', 'a=sendonly'), 'audio')).toBe(false);
    expect(sendsNo(sdp('m=audio 9 RTP/AVP 0'), 'audio')).toBe(false);
  });
});
