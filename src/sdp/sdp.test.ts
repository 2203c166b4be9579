import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { KNOWN_CODECS, canonicalCodecName } from './codecs.js';
import {
  SdpRewriteError,
  addMediaLines,
  addSessionLines,
  restrictCodecs,
  validateExtraSdpLine,
} from './sdp.js';

// A Chromium (M12x, Linux) audio+video offer as SIP.js sends it in an INVITE:
// BUNDLE, ICE candidates already gathered, every codec Chrome offers by default.
const CHROME_OFFER = [
  'v=0',
  'o=- 5781416227489434154 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1',
  'a=extmap-allow-mixed',
  'a=msid-semantic: WMS 4b5c0f1e-9d5f-4a1e-b7a2-3c0b7f2d9e10',
  'm=audio 50432 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126',
  'c=IN IP4 192.168.56.10',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=candidate:3320349744 1 udp 2122260223 192.168.56.10 50432 typ host generation 0 network-id 1',
  'a=candidate:2186512240 1 tcp 1518280447 192.168.56.10 9 typ host tcptype active generation 0 network-id 1',
  'a=ice-ufrag:Yz3p',
  'a=ice-pwd:mV0Q2bLx8xq3Jv0k1R8bXq7L',
  'a=ice-options:trickle',
  'a=fingerprint:sha-256 5B:2E:0C:9A:41:7F:6D:88:13:AE:60:9C:27:D1:4B:F0:3E:8A:55:C2:19:7B:E4:06:AD:31:9F:72:C8:0B:64:1D',
  'a=setup:actpass',
  'a=mid:0',
  'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  'a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid',
  'a=sendrecv',
  'a=msid:4b5c0f1e-9d5f-4a1e-b7a2-3c0b7f2d9e10 8a1f3c2e-5b6d-4e7f-9a0b-1c2d3e4f5a6b',
  'a=rtcp-mux',
  'a=rtcp-rsize',
  'a=rtpmap:111 opus/48000/2',
  'a=rtcp-fb:111 transport-cc',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtpmap:63 red/48000/2',
  'a=fmtp:63 111/111',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:13 CN/8000',
  'a=rtpmap:110 telephone-event/48000',
  'a=fmtp:110 0-15',
  'a=rtpmap:126 telephone-event/8000',
  'a=fmtp:126 0-15',
  'a=ssrc:1001923875 cname:q2Vh5mH3vX7LkA0b',
  'a=ssrc:1001923875 msid:4b5c0f1e-9d5f-4a1e-b7a2-3c0b7f2d9e10 8a1f3c2e-5b6d-4e7f-9a0b-1c2d3e4f5a6b',
  'm=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 104 105 106 107 108 109 127 125 39 40 98 99 100 101 45 46 112 113 114 115 116',
  'c=IN IP4 0.0.0.0',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=ice-ufrag:Yz3p',
  'a=ice-pwd:mV0Q2bLx8xq3Jv0k1R8bXq7L',
  'a=ice-options:trickle',
  'a=fingerprint:sha-256 5B:2E:0C:9A:41:7F:6D:88:13:AE:60:9C:27:D1:4B:F0:3E:8A:55:C2:19:7B:E4:06:AD:31:9F:72:C8:0B:64:1D',
  'a=setup:actpass',
  'a=mid:1',
  'a=extmap:14 urn:ietf:params:rtp-hdrext:toffset',
  'a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  'a=extmap:13 urn:3gpp:video-orientation',
  'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  'a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay',
  'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid',
  'a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id',
  'a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id',
  'a=sendrecv',
  'a=msid:4b5c0f1e-9d5f-4a1e-b7a2-3c0b7f2d9e10 0d6e2b4a-7c8f-4b1a-8e3d-5f6a7b8c9d0e',
  'a=rtcp-mux',
  'a=rtcp-rsize',
  'a=rtpmap:96 VP8/90000',
  'a=rtcp-fb:96 goog-remb',
  'a=rtcp-fb:96 transport-cc',
  'a=rtcp-fb:96 ccm fir',
  'a=rtcp-fb:96 nack',
  'a=rtcp-fb:96 nack pli',
  'a=rtpmap:97 rtx/90000',
  'a=fmtp:97 apt=96',
  'a=rtpmap:102 H264/90000',
  'a=rtcp-fb:102 goog-remb',
  'a=rtcp-fb:102 transport-cc',
  'a=rtcp-fb:102 ccm fir',
  'a=rtcp-fb:102 nack',
  'a=rtcp-fb:102 nack pli',
  'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f',
  'a=rtpmap:103 rtx/90000',
  'a=fmtp:103 apt=102',
  'a=rtpmap:104 H264/90000',
  'a=rtcp-fb:104 goog-remb',
  'a=rtcp-fb:104 transport-cc',
  'a=rtcp-fb:104 ccm fir',
  'a=rtcp-fb:104 nack',
  'a=rtcp-fb:104 nack pli',
  'a=fmtp:104 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f',
  'a=rtpmap:105 rtx/90000',
  'a=fmtp:105 apt=104',
  'a=rtpmap:106 H264/90000',
  'a=rtcp-fb:106 goog-remb',
  'a=rtcp-fb:106 transport-cc',
  'a=rtcp-fb:106 ccm fir',
  'a=rtcp-fb:106 nack',
  'a=rtcp-fb:106 nack pli',
  'a=fmtp:106 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
  'a=rtpmap:107 rtx/90000',
  'a=fmtp:107 apt=106',
  'a=rtpmap:108 H264/90000',
  'a=rtcp-fb:108 goog-remb',
  'a=rtcp-fb:108 transport-cc',
  'a=rtcp-fb:108 ccm fir',
  'a=rtcp-fb:108 nack',
  'a=rtcp-fb:108 nack pli',
  'a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f',
  'a=rtpmap:109 rtx/90000',
  'a=fmtp:109 apt=108',
  'a=rtpmap:127 H264/90000',
  'a=rtcp-fb:127 goog-remb',
  'a=rtcp-fb:127 transport-cc',
  'a=rtcp-fb:127 ccm fir',
  'a=rtcp-fb:127 nack',
  'a=rtcp-fb:127 nack pli',
  'a=fmtp:127 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f',
  'a=rtpmap:125 rtx/90000',
  'a=fmtp:125 apt=127',
  'a=rtpmap:39 H264/90000',
  'a=rtcp-fb:39 goog-remb',
  'a=rtcp-fb:39 transport-cc',
  'a=rtcp-fb:39 ccm fir',
  'a=rtcp-fb:39 nack',
  'a=rtcp-fb:39 nack pli',
  'a=fmtp:39 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=4d001f',
  'a=rtpmap:40 rtx/90000',
  'a=fmtp:40 apt=39',
  'a=rtpmap:98 VP9/90000',
  'a=rtcp-fb:98 goog-remb',
  'a=rtcp-fb:98 transport-cc',
  'a=rtcp-fb:98 ccm fir',
  'a=rtcp-fb:98 nack',
  'a=rtcp-fb:98 nack pli',
  'a=fmtp:98 profile-id=0',
  'a=rtpmap:99 rtx/90000',
  'a=fmtp:99 apt=98',
  'a=rtpmap:100 VP9/90000',
  'a=rtcp-fb:100 goog-remb',
  'a=rtcp-fb:100 transport-cc',
  'a=rtcp-fb:100 ccm fir',
  'a=rtcp-fb:100 nack',
  'a=rtcp-fb:100 nack pli',
  'a=fmtp:100 profile-id=2',
  'a=rtpmap:101 rtx/90000',
  'a=fmtp:101 apt=100',
  'a=rtpmap:45 AV1/90000',
  'a=rtcp-fb:45 goog-remb',
  'a=rtcp-fb:45 transport-cc',
  'a=rtcp-fb:45 ccm fir',
  'a=rtcp-fb:45 nack',
  'a=rtcp-fb:45 nack pli',
  'a=fmtp:45 level-idx=5;profile=0;tier=0',
  'a=rtpmap:46 rtx/90000',
  'a=fmtp:46 apt=45',
  'a=rtpmap:112 H264/90000',
  'a=rtcp-fb:112 goog-remb',
  'a=rtcp-fb:112 transport-cc',
  'a=rtcp-fb:112 ccm fir',
  'a=rtcp-fb:112 nack',
  'a=rtcp-fb:112 nack pli',
  'a=fmtp:112 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=64001f',
  'a=rtpmap:113 rtx/90000',
  'a=fmtp:113 apt=112',
  'a=rtpmap:114 red/90000',
  'a=rtpmap:115 rtx/90000',
  'a=fmtp:115 apt=114',
  'a=rtpmap:116 ulpfec/90000',
  'a=ssrc-group:FID 2853926111 3011209435',
  'a=ssrc:2853926111 cname:q2Vh5mH3vX7LkA0b',
  'a=ssrc:2853926111 msid:4b5c0f1e-9d5f-4a1e-b7a2-3c0b7f2d9e10 0d6e2b4a-7c8f-4b1a-8e3d-5f6a7b8c9d0e',
  'a=ssrc:3011209435 cname:q2Vh5mH3vX7LkA0b',
  'a=ssrc:3011209435 msid:4b5c0f1e-9d5f-4a1e-b7a2-3c0b7f2d9e10 0d6e2b4a-7c8f-4b1a-8e3d-5f6a7b8c9d0e',
  '',
].join('\r\n');

// A desk phone's offer (the incoming-call topology): session-level c=, static
// payload types listed without a=rtpmap, plain RTP/AVP, LF-free CRLF.
const DESK_PHONE_OFFER = [
  'v=0',
  'o=yealink 1686 1686 IN IP4 192.168.56.20',
  's=SDP data',
  'c=IN IP4 192.168.56.20',
  't=0 0',
  'm=audio 11800 RTP/AVP 0 8 18 9 101',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
  'a=ptime:20',
  'a=sendrecv',
  '',
].join('\r\n');

interface ParsedSection {
  mediaLine: string;
  payloads: string[];
  lines: string[];
}

/** Test-side parser, independent of the code under test. */
function sections(sdp: string): ParsedSection[] {
  const result: ParsedSection[] = [];
  for (const line of sdp.split('\r\n')) {
    if (line.startsWith('m=')) result.push({ mediaLine: line, payloads: line.split(' ').slice(3), lines: [] });
    else result.at(-1)?.lines.push(line);
  }
  return result;
}

function section(sdp: string, kind: 'audio' | 'video'): ParsedSection {
  const found = sections(sdp).find((s) => s.mediaLine.startsWith(`m=${kind} `));
  if (!found) throw new Error(`no ${kind} section`);
  return found;
}

/** Every payload a line refers to (rtpmap/fmtp/rtcp-fb, rtx apt=, red's carried list) is on the m= line. */
function danglingPayloadReferences(sdp: string): string[] {
  const problems: string[] = [];
  for (const { mediaLine, payloads, lines } of sections(sdp)) {
    for (const line of lines) {
      const pt = /^a=(?:rtpmap|fmtp|rtcp-fb):(\d+)/.exec(line)?.[1];
      if (pt !== undefined && !payloads.includes(pt)) problems.push(`${mediaLine}: ${line}`);
      const apt = /apt=(\d+)/.exec(line)?.[1];
      if (apt !== undefined && !payloads.includes(apt)) problems.push(`${mediaLine}: ${line} (apt)`);
      const carried = /^a=fmtp:\d+ (\d+(?:\/\d+)+)$/.exec(line)?.[1];
      for (const p of carried?.split('/') ?? []) if (!payloads.includes(p)) problems.push(`${mediaLine}: ${line} (red)`);
    }
  }
  return problems;
}

/** True if `sub` can be obtained from `full` by deleting elements (order kept). */
function isSubsequence(sub: readonly string[], full: readonly string[]): boolean {
  let index = 0;
  for (const item of full) if (item === sub[index]) index++;
  return index === sub.length;
}

const withoutMediaLines = (sdp: string): string[] => sdp.split('\r\n').filter((l) => !l.startsWith('m='));

describe('the fixtures', () => {
  it('are consistent, so the tests below start from a valid offer', () => {
    expect(danglingPayloadReferences(CHROME_OFFER)).toEqual([]);
    expect(section(CHROME_OFFER, 'video').payloads).toHaveLength(25);
  });
});

describe('restrictCodecs on a Chrome offer', () => {
  it('keeps only opus when only opus is allowed, and drops every line of the removed audio payloads', () => {
    const sdp = restrictCodecs(CHROME_OFFER, ['opus']);
    const audio = section(sdp, 'audio');
    expect(audio.mediaLine).toBe('m=audio 50432 UDP/TLS/RTP/SAVPF 111');
    expect(audio.lines.filter((l) => /^a=(rtpmap|fmtp|rtcp-fb):/.test(l))).toEqual([
      'a=rtpmap:111 opus/48000/2',
      'a=rtcp-fb:111 transport-cc',
      'a=fmtp:111 minptime=10;useinbandfec=1',
    ]);
    expect(danglingPayloadReferences(sdp)).toEqual([]);
  });

  it('matches names case-insensitively', () => {
    expect(section(restrictCodecs(CHROME_OFFER, ['OPUS', 'pcmu']), 'audio').payloads).toEqual(['111', '0']);
  });

  it('keeps the offer order of payloads, not the allow-list order', () => {
    expect(section(restrictCodecs(CHROME_OFFER, ['PCMA', 'PCMU', 'G722']), 'audio').payloads).toEqual(['9', '0', '8']);
  });

  it('keeps audio red only with the opus it carries', () => {
    expect(section(restrictCodecs(CHROME_OFFER, ['opus', 'red']), 'audio').payloads).toEqual(['111', '63']);
    const withoutOpus = restrictCodecs(CHROME_OFFER, ['PCMU', 'red']);
    expect(section(withoutOpus, 'audio').payloads).toEqual(['0']);
    expect(withoutOpus).not.toContain('a=fmtp:63');
  });

  it('keeps telephone-event with PCMU only when telephone-event is listed', () => {
    const pcmuOnly = restrictCodecs(CHROME_OFFER, ['PCMU']);
    expect(section(pcmuOnly, 'audio').payloads).toEqual(['0']);
    expect(pcmuOnly).not.toMatch(/telephone-event|a=fmtp:126|a=fmtp:110/);
    const withDtmf = restrictCodecs(CHROME_OFFER, ['PCMU', 'telephone-event']);
    expect(section(withDtmf, 'audio').payloads).toEqual(['0', '110', '126']);
    expect(section(withDtmf, 'audio').lines).toContain('a=fmtp:126 0-15');
    expect(danglingPayloadReferences(withDtmf)).toEqual([]);
  });

  it('keeps comfort noise only when CN is listed', () => {
    expect(section(restrictCodecs(CHROME_OFFER, ['PCMA', 'CN']), 'audio').payloads).toEqual(['8', '13']);
  });

  it('leaves the video section byte for byte untouched with an audio-only allow-list', () => {
    const sdp = restrictCodecs(CHROME_OFFER, ['opus', 'telephone-event']);
    expect(section(sdp, 'video')).toEqual(section(CHROME_OFFER, 'video'));
  });

  it('leaves the audio section untouched with a video-only allow-list', () => {
    const sdp = restrictCodecs(CHROME_OFFER, ['VP8']);
    expect(section(sdp, 'audio')).toEqual(section(CHROME_OFFER, 'audio'));
    expect(section(sdp, 'video').mediaLine).toBe('m=video 9 UDP/TLS/RTP/SAVPF 96');
  });

  it('keeps rtx only when rtx is allowed and its apt payload is kept', () => {
    expect(section(restrictCodecs(CHROME_OFFER, ['VP8']), 'video').payloads).toEqual(['96']);
    expect(section(restrictCodecs(CHROME_OFFER, ['VP8', 'rtx']), 'video').payloads).toEqual(['96', '97']);
    const h264 = restrictCodecs(CHROME_OFFER, ['H264', 'rtx']);
    expect(section(h264, 'video').payloads).toEqual(['102', '103', '104', '105', '106', '107', '108', '109', '127', '125', '39', '40', '112', '113']);
    expect(danglingPayloadReferences(h264)).toEqual([]);
  });

  it('keeps video red, its rtx and ulpfec only when allowed', () => {
    expect(section(restrictCodecs(CHROME_OFFER, ['VP9', 'rtx', 'red', 'ulpfec']), 'video').payloads).toEqual([
      '98', '99', '100', '101', '114', '115', '116',
    ]);
    expect(section(restrictCodecs(CHROME_OFFER, ['VP9', 'red']), 'video').payloads).toEqual(['98', '100', '114']);
    expect(section(restrictCodecs(CHROME_OFFER, ['AV1', 'ulpfec']), 'video').payloads).toEqual(['45', '116']);
  });

  it('restricts both kinds with a mixed list', () => {
    const sdp = restrictCodecs(CHROME_OFFER, ['PCMA', 'H264']);
    expect(section(sdp, 'audio').payloads).toEqual(['8']);
    expect(section(sdp, 'video').payloads).toEqual(['102', '104', '106', '108', '127', '39', '112']);
    expect(danglingPayloadReferences(sdp)).toEqual([]);
  });

  it('only deletes lines: every other line survives in its original order', () => {
    const sdp = restrictCodecs(CHROME_OFFER, ['G722', 'VP8', 'rtx']);
    expect(isSubsequence(withoutMediaLines(sdp), withoutMediaLines(CHROME_OFFER))).toBe(true);
    // Only payload lines went away; candidates, ssrc, extmap, FID group all stay.
    const removed = withoutMediaLines(CHROME_OFFER).filter((l) => !withoutMediaLines(sdp).includes(l));
    expect(removed.every((l) => /^a=(rtpmap|fmtp|rtcp-fb):/.test(l))).toBe(true);
    expect(sdp).toContain('a=ssrc-group:FID 2853926111 3011209435');
  });

  it('keeps CRLF line endings, and LF ones in an LF document', () => {
    const sdp = restrictCodecs(CHROME_OFFER, ['opus', 'VP8']);
    expect(sdp.endsWith('\r\n')).toBe(true);
    expect(sdp.replaceAll('\r\n', '')).not.toMatch(/[\r\n]/);
    const lf = restrictCodecs(CHROME_OFFER.replaceAll('\r\n', '\n'), ['opus']);
    expect(lf).not.toContain('\r');
    expect(lf).toContain('m=audio 50432 UDP/TLS/RTP/SAVPF 111\nc=IN IP4 192.168.56.10\n');
  });

  it('returns the SDP unchanged when the allow-list names no media codec', () => {
    expect(restrictCodecs(CHROME_OFFER, [])).toBe(CHROME_OFFER);
    expect(restrictCodecs(CHROME_OFFER, ['rtx', 'telephone-event'])).toBe(CHROME_OFFER);
  });

  it('throws SdpRewriteError naming the kind and what the offer had when nothing would be left', () => {
    expect(() => restrictCodecs(CHROME_OFFER, ['G729'])).toThrow(SdpRewriteError);
    expect(() => restrictCodecs(CHROME_OFFER, ['G729', 'telephone-event'])).toThrow(
      /audio m= section \(mid 0\).*offer had: opus, red, G722, PCMU, PCMA, CN, telephone-event/,
    );
    expect(() => restrictCodecs(CHROME_OFFER, ['opus', 'H265'])).toThrow(/video m= section \(mid 1\).*VP8, rtx, H264/);
  });

  it('leaves a rejected (port 0) section alone', () => {
    const rejected = CHROME_OFFER.replace('m=video 9 ', 'm=video 0 ');
    expect(section(restrictCodecs(rejected, ['opus', 'H265']), 'video')).toEqual(section(rejected, 'video'));
  });

  it('still restricts a bundle-only port 0 section, which does carry media', () => {
    const bundleOnly = CHROME_OFFER.replace('m=video 9 ', 'm=video 0 ').replace('a=mid:1', 'a=mid:1\r\na=bundle-only');
    expect(section(restrictCodecs(bundleOnly, ['VP8']), 'video').mediaLine).toBe('m=video 0 UDP/TLS/RTP/SAVPF 96');
  });
});

describe('restrictCodecs on static payload types', () => {
  it('matches payload types without a=rtpmap by number', () => {
    expect(section(restrictCodecs(DESK_PHONE_OFFER, ['PCMA']), 'audio').mediaLine).toBe('m=audio 11800 RTP/AVP 8');
    expect(section(restrictCodecs(DESK_PHONE_OFFER, ['g729', 'G722']), 'audio').payloads).toEqual(['18', '9']);
    const withDtmf = restrictCodecs(DESK_PHONE_OFFER, ['PCMU', 'telephone-event']);
    expect(section(withDtmf, 'audio').payloads).toEqual(['0', '101']);
    expect(withDtmf).toContain('a=ptime:20\r\n');
  });

  it('lets an a=rtpmap remap a static number', () => {
    const remapped = DESK_PHONE_OFFER.replace('a=rtpmap:101', 'a=rtpmap:18 opus/48000/2\r\na=rtpmap:101');
    expect(section(restrictCodecs(remapped, ['opus']), 'audio').payloads).toEqual(['18']);
  });
});

describe('restrictCodecs property', () => {
  const knownNames = [...new Set([...KNOWN_CODECS.audio, ...KNOWN_CODECS.video])];
  const codecName = fc.oneof(
    fc.constantFrom(...knownNames),
    fc.constantFrom(...knownNames).map((n) => n.toUpperCase()),
    fc.string(),
  );

  it('either returns an SDP with no dangling payload reference, or throws SdpRewriteError', () => {
    fc.assert(
      fc.property(fc.constantFrom(CHROME_OFFER, DESK_PHONE_OFFER), fc.array(codecName, { maxLength: 8 }), (offer, allow) => {
        let sdp: string;
        try {
          sdp = restrictCodecs(offer, allow);
        } catch (error) {
          return error instanceof SdpRewriteError;
        }
        const allowed = new Set(allow.map((n) => n.toLowerCase()));
        return (
          danglingPayloadReferences(sdp).length === 0 &&
          isSubsequence(withoutMediaLines(sdp), withoutMediaLines(offer)) &&
          sections(sdp).every((s, i) => {
            const original = sections(offer)[i];
            const names = codecNames(s.mediaLine, s.lines);
            // A rewritten section keeps only allowed names; an untouched one is identical.
            return s.mediaLine === original?.mediaLine || names.every((n) => allowed.has(n.toLowerCase()));
          })
        );
      }),
      { numRuns: 500 },
    );
  });
});

describe('addMediaLines', () => {
  it('puts b=AS into every video section right after its c= line, and nowhere else', () => {
    const sdp = addMediaLines(CHROME_OFFER, 'video', ['b=AS:256', 'b=TIAS:256000']);
    const video = section(sdp, 'video').lines;
    const c = video.findIndex((line) => line.startsWith('c='));
    expect(video.slice(c, c + 3)).toEqual([video[c], 'b=AS:256', 'b=TIAS:256000']);
    expect(section(sdp, 'audio').lines).toEqual(section(CHROME_OFFER, 'audio').lines);
    expect(sdp.replace('b=AS:256\r\nb=TIAS:256000\r\n', '')).toBe(CHROME_OFFER);
  });

  it('leaves an SDP without a section of that kind as it was, and refuses a malformed line', () => {
    expect(addMediaLines(DESK_PHONE_OFFER, 'video', ['b=AS:256'])).toBe(DESK_PHONE_OFFER);
    expect(() => addMediaLines(CHROME_OFFER, 'video', ['b=AS 256'])).toThrow(/invalid extra SDP line/);
  });
});

describe('addSessionLines', () => {
  it('inserts before t= when the session has no c= (Chrome puts c= in each m= section)', () => {
    const sdp = addSessionLines(CHROME_OFFER, ['b=AS:3000', 'b=TIAS:2500000']);
    expect(sdp.startsWith('v=0\r\no=- 5781416227489434154 2 IN IP4 127.0.0.1\r\ns=-\r\nb=AS:3000\r\nb=TIAS:2500000\r\nt=0 0\r\n')).toBe(true);
    expect(sdp.replace('b=AS:3000\r\nb=TIAS:2500000\r\n', '')).toBe(CHROME_OFFER);
  });

  it('inserts after the session c= line when there is one, and after b= lines already there', () => {
    expect(addSessionLines(DESK_PHONE_OFFER, ['b=AS:64'])).toContain('c=IN IP4 192.168.56.20\r\nb=AS:64\r\nt=0 0\r\n');
    const twice = addSessionLines(addSessionLines(DESK_PHONE_OFFER, ['b=AS:64']), ['b=RR:0']);
    expect(twice).toContain('c=IN IP4 192.168.56.20\r\nb=AS:64\r\nb=RR:0\r\nt=0 0\r\n');
  });

  it('puts a session a= line after the other session attributes, before the first m=', () => {
    expect(addSessionLines(CHROME_OFFER, ['a=tool:callwright'])).toContain('a=msid-semantic: WMS 4b5c0f1e-9d5f-4a1e-b7a2-3c0b7f2d9e10\r\na=tool:callwright\r\nm=audio');
  });

  it('keeps LF endings in an LF document and terminates an unterminated last line', () => {
    expect(addSessionLines('v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0', ['b=AS:1'])).toBe('v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nb=AS:1\nt=0 0');
    expect(addSessionLines('v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0', ['a=x'])).toBe('v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\na=x');
  });

  it('rejects lines that would break the SDP', () => {
    expect(() => addSessionLines(CHROME_OFFER, ['b=AS:3000\r\nm=audio 9 RTP/AVP 0'])).toThrow(SdpRewriteError);
    expect(() => addSessionLines(CHROME_OFFER, ['c=IN IP4 10.0.0.1'])).toThrow(/cannot be injected/);
    expect(() => addSessionLines('hello', ['b=AS:1'])).toThrow(/not an SDP/);
  });
});

describe('validateExtraSdpLine', () => {
  it.each(['b=AS:3000', 'b=TIAS:2500000', 'b=RS:1000', 'b=RR:3000', 'b=CT:128', 'a=ptime:20', 'a=sendonly', 'i=callwright test'])(
    'accepts %s',
    (line) => expect(validateExtraSdpLine(line)).toBeUndefined(),
  );

  it.each([
    ['b=AS:3000\r\n', /one line/],
    ['b=XX:1', /AS\|CT\|TIAS\|RS\|RR/],
    ['b=AS:fast', /<integer>/],
    ['b=AS:-1', /<integer>/],
    ['m=audio 9 RTP/AVP 0', /cannot be injected/],
    ['v=0', /cannot be injected/],
    ['t=0 0', /cannot be injected/],
    ['c=IN IP4 1.2.3.4', /cannot be injected/],
    ['AS:3000', /<letter>=<value>/],
    ['b = AS:1', /<letter>=<value>/],
    ['b=', /needs a value/],
    ['a= ptime:20', /needs a value/],
    ['a=bad attr', /a=<attribute>/],
  ])('rejects %j', (line, message) => expect(validateExtraSdpLine(line)).toMatch(message));
});

describe('canonicalCodecName', () => {
  it('finds known codecs in any case and nothing else', () => {
    expect(canonicalCodecName('OPUS')).toBe('opus');
    expect(canonicalCodecName('h264')).toBe('H264');
    expect(canonicalCodecName('Telephone-Event')).toBe('telephone-event');
    expect(canonicalCodecName('FLEXFEC-03')).toBe('flexfec-03');
    expect(canonicalCodecName('mp3')).toBeUndefined();
  });
});

/** Codec names of one m= section: its rtpmap names, else the static payload type's name, else the format itself. */
function codecNames(mediaLine: string, lines: readonly string[]): string[] {
  const rtpmap = new Map(lines.flatMap((line) => {
    const match = /^a=rtpmap:(\d+) ([^/\s]+)/.exec(line);
    return match ? [[match[1]!, match[2]!] as const] : [];
  }));
  const STATIC: Record<string, string> = { '0': 'PCMU', '8': 'PCMA', '9': 'G722', '18': 'G729' };
  return mediaLine.split(' ').slice(3).map((pt) => rtpmap.get(pt) ?? STATIC[pt] ?? pt);
}
