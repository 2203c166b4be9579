import { describe, expect, it } from 'vitest';
import { restrictCodecs } from '../sdp/sdp.js';
import {
  CHROME_AUDIO_ANSWER_TO_CHROME,
  CHROME_AUDIO_ANSWER_TO_SIP_OFFER,
  CHROME_AUDIO_OFFER_TEMPLATE,
  SIP_STYLE_AUDIO_OFFER,
} from './chromeOfferTemplate.js';
import {
  answerDirection,
  chromeAnswer,
  chromeOffer,
  libdatachannelLocal,
  libdatachannelRemote,
  maySend,
  parseSdp,
  rewriteLocal,
  type LocalIdentity,
  type LocalTransport,
  type SdpCodec,
} from './chromeSdp.js';

const identity: LocalIdentity = {
  sessionId: '1234567890123456789',
  streamId: '0b3bd2a7-8f0e-4a43-9a0f-8d6f1f4f2c11',
  trackId: '5c0d3f6e-1a2b-4c3d-8e9f-0a1b2c3d4e5f',
  ssrc: 3_000_000_001,
  cname: 'Ab+/Cd0123456789',
};
const transport: LocalTransport = {
  address: '127.0.0.1',
  port: 50_000,
  iceUfrag: 'x+/Y',
  icePwd: 'abcdefghijklmnopqrstuvwx',
  fingerprint: 'sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF',
  foundationUdp: '1111111111',
  foundationTcp: '2222222222',
};
/** As a session with every fixture: opus, PCMU, PCMA and G722 frames. */
const sendAll = (codec: SdpCodec): boolean => ['opus', 'PCMU', 'PCMA', 'G722'].includes(codec.name);

/** Every value a leg substitutes, masked: what is left must be Chromium's text exactly. */
function skeleton(sdp: string): string[] {
  return sdp
    .split('\r\n')
    .filter((line) => line !== '')
    .filter((line) => !/^a=candidate:/.test(line) || / 127\.0\.0\.1 /.test(line))
    .map((line) =>
      line
        .replace(/^o=- \d+ \d+ /, 'o=- ID VER ')
        .replace(/^a=msid-semantic: WMS \S+/, 'a=msid-semantic: WMS STREAM')
        .replace(/^m=audio \d+ /, 'm=audio PORT ')
        .replace(/^a=candidate:\d+ 1 udp (\d+) 127\.0\.0\.1 \d+ /, 'a=candidate:F 1 udp $1 127.0.0.1 PORT ')
        .replace(/^a=candidate:\d+ 1 tcp /, 'a=candidate:F 1 tcp ')
        .replace(/^a=ice-ufrag:.*/, 'a=ice-ufrag:UFRAG')
        .replace(/^a=ice-pwd:.*/, 'a=ice-pwd:PWD')
        .replace(/^a=fingerprint:sha-256 .*/, 'a=fingerprint:sha-256 FP')
        .replace(/^a=msid:\S+ \S+/, 'a=msid:STREAM TRACK')
        .replace(/^a=ssrc:\d+ cname:\S+/, 'a=ssrc:SSRC cname:CNAME')
        .replace(/^a=ssrc:\d+ msid:\S+ \S+/, 'a=ssrc:SSRC msid:STREAM TRACK'),
    );
}

describe('chromeOffer', () => {
  const offer = chromeOffer(identity, transport, 2, 'sendrecv', sendAll);

  it("is Chromium's captured offer line for line, only this leg's values changed", () => {
    const template = skeleton(CHROME_AUDIO_OFFER_TEMPLATE);
    expect(skeleton(offer)).toEqual(template);
    expect(offer.split('\r\n').filter(Boolean)).toHaveLength(template.length);
    expect(offer.endsWith('\r\n')).toBe(true);
    expect(offer).not.toContain('\n\n');
  });

  it('puts in our values', () => {
    const lines = offer.split('\r\n');
    expect(lines).toContain('o=- 1234567890123456789 2 IN IP4 127.0.0.1');
    expect(lines).toContain('m=audio 50000 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126');
    expect(lines).toContain('c=IN IP4 127.0.0.1');
    expect(lines).toContain('a=candidate:1111111111 1 udp 2122194687 127.0.0.1 50000 typ host generation 0 network-id 3 network-cost 50');
    expect(lines).toContain('a=candidate:2222222222 1 tcp 1518214911 127.0.0.1 9 typ host tcptype active generation 0 network-id 3 network-cost 50');
    expect(lines.filter((l) => l.startsWith('a=candidate:'))).toHaveLength(2);
    expect(lines).toContain('a=ice-ufrag:x+/Y');
    expect(lines).toContain('a=setup:actpass');
    expect(lines).toContain(`a=ssrc:3000000001 cname:Ab+/Cd0123456789`);
    expect(lines).toContain(`a=ssrc:3000000001 msid:${identity.streamId} ${identity.trackId}`);
    expect(lines).toContain(`a=msid-semantic: WMS ${identity.streamId}`);
  });

  it('writes the direction asked for', () => {
    expect(chromeOffer(identity, transport, 2, 'recvonly', sendAll)).toContain('\r\na=recvonly\r\n');
  });

  it('drops a codec it has no frames for, and red with opus', () => {
    const noOpus = chromeOffer(identity, transport, 2, 'sendrecv', (codec: SdpCodec) => codec.name !== 'opus');
    expect(noOpus).toContain('m=audio 50000 UDP/TLS/RTP/SAVPF 9 0 8 13 110 126\r\n');
    expect(noOpus).not.toMatch(/a=(rtpmap|fmtp|rtcp-fb):(111|63) /);
  });

  it("takes callwright's codec allow-list through restrictCodecs (telephone-event only if listed)", () => {
    const pcmu = restrictCodecs(offer, ['PCMU']);
    expect(pcmu).toContain('m=audio 50000 UDP/TLS/RTP/SAVPF 0\r\n');
    expect(parseSdp(pcmu).audio?.codecs.map((c) => c.name)).toEqual(['PCMU']);
    const withDtmf = restrictCodecs(offer, ['PCMU', 'telephone-event']);
    expect(parseSdp(withDtmf).audio?.codecs.map((c) => `${c.name}/${c.clockRate}`)).toEqual(['PCMU/8000', 'telephone-event/48000', 'telephone-event/8000']);
  });

  it('uses the non-loopback candidate shape for another IPv4 bind address', () => {
    const lan = chromeOffer(identity, { ...transport, address: '10.1.2.3' }, 2, 'sendrecv', sendAll);
    expect(lan).toContain('a=candidate:1111111111 1 udp 2122063615 10.1.2.3 50000 typ host generation 0 network-id 1\r\n');
    expect(lan).toContain('c=IN IP4 10.1.2.3\r\n');
  });
});

describe('chromeAnswer', () => {
  it("answers a SIP-style offer as Chromium did (no BUNDLE, TCP candidate, mid 0, Chromium's fmtp)", () => {
    const answer = chromeAnswer(SIP_STYLE_AUDIO_OFFER, identity, transport, 2, { direction: 'sendrecv', setup: 'active', canSend: sendAll });
    expect(skeleton(answer)).toEqual(skeleton(CHROME_AUDIO_ANSWER_TO_SIP_OFFER));
  });

  it("answers Chromium's offer as Chromium did, without red", () => {
    const answer = chromeAnswer(CHROME_AUDIO_OFFER_TEMPLATE, identity, transport, 2, { direction: 'sendrecv', setup: 'active', canSend: sendAll });
    const chromeWithoutRed = CHROME_AUDIO_ANSWER_TO_CHROME.replace(' 111 63 9 ', ' 111 9 ')
      .split('\r\n')
      .filter((line) => !/^a=(rtpmap|fmtp):63 /.test(line))
      .join('\r\n');
    expect(skeleton(answer)).toEqual(skeleton(chromeWithoutRed));
  });

  it('keeps the offer order and payload numbers, answers static types with an rtpmap, and offers no codec it cannot send', () => {
    const offer = SIP_STYLE_AUDIO_OFFER.replace('m=audio 30000 UDP/TLS/RTP/SAVPF 0 8 111 101', 'm=audio 30000 UDP/TLS/RTP/SAVPF 18 8 0 101').replace(
      'a=rtpmap:0 PCMU/8000\r\n',
      '',
    );
    const answer = chromeAnswer(offer, identity, transport, 2, { direction: 'sendrecv', setup: 'active', canSend: (c) => sendAll(c) && c.name !== 'PCMA' });
    expect(answer).toContain('m=audio 50000 UDP/TLS/RTP/SAVPF 0 101\r\n');
    expect(answer).toContain('a=rtpmap:0 PCMU/8000\r\n');
    expect(answer).toContain('a=rtpmap:101 telephone-event/8000\r\n');
  });

  it('refuses an offer with no codec in common', () => {
    const offer = SIP_STYLE_AUDIO_OFFER.replace('UDP/TLS/RTP/SAVPF 0 8 111 101', 'UDP/TLS/RTP/SAVPF 18 101');
    expect(() => chromeAnswer(offer, identity, transport, 2, { direction: 'sendrecv', setup: 'active', canSend: sendAll })).toThrow(/no audio codec in common/);
  });

  it('refuses other m= sections with port 0 and keeps their place', () => {
    const withVideo = CHROME_AUDIO_OFFER_TEMPLATE.replace('a=group:BUNDLE 0', 'a=group:BUNDLE 0 1') + 'm=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=rtpmap:96 VP8/90000\r\n';
    const answer = chromeAnswer(withVideo, identity, transport, 2, { direction: 'sendrecv', setup: 'active', canSend: sendAll });
    expect(answer).toContain('a=group:BUNDLE 0\r\n');
    expect(answer).toMatch(/\r\nm=video 0 UDP\/TLS\/RTP\/SAVPF 96\r\nc=IN IP4 0\.0\.0\.0\r\na=mid:1\r\na=inactive\r\n$/);
  });
});

describe('directions (RFC 3264 6.1)', () => {
  it('answers an offer by what it allows', () => {
    expect(answerDirection('sendonly', 'sendrecv')).toBe('recvonly');
    expect(answerDirection('recvonly', 'sendrecv')).toBe('sendonly');
    expect(answerDirection('inactive', 'sendrecv')).toBe('inactive');
    expect(answerDirection('sendrecv', 'sendrecv')).toBe('sendrecv');
    expect(answerDirection('sendrecv', 'recvonly')).toBe('recvonly');
    expect(answerDirection('sendrecv', 'sendonly')).toBe('sendonly');
    expect(answerDirection('sendonly', 'sendonly')).toBe('inactive');
  });

  it('sends only when our side says send and theirs says receive', () => {
    expect(maySend('sendrecv', 'sendrecv')).toBe(true);
    expect(maySend('sendonly', 'recvonly')).toBe(true);
    expect(maySend('recvonly', 'sendonly')).toBe(false);
    expect(maySend('sendrecv', 'sendonly')).toBe(false);
    expect(maySend('inactive', 'sendrecv')).toBe(false);
  });

  it('rewrites a stored description for a re-offer', () => {
    const offer = chromeOffer(identity, transport, 2, 'sendrecv', sendAll);
    const hold = rewriteLocal(offer, { direction: 'sendonly', version: 3, setup: 'actpass' });
    expect(hold).toContain('o=- 1234567890123456789 3 IN IP4 127.0.0.1\r\n');
    expect(hold).toContain('\r\na=sendonly\r\n');
    expect(hold.split('\r\n')).toHaveLength(offer.split('\r\n').length);
  });
});

describe('what libdatachannel is given', () => {
  it('gets an rtpengine-style offer with a mid, sendrecv, no a=rtcp, and an end of candidates', () => {
    const noMid = SIP_STYLE_AUDIO_OFFER.replace('a=mid:0\r\n', '').replace('a=sendrecv', 'a=sendonly');
    const given = libdatachannelRemote(noMid, { bindAddress: '127.0.0.1' });
    const lines = given.split('\r\n');
    expect(lines).toContain('a=mid:0');
    expect(lines).toContain('a=sendrecv');
    expect(lines).not.toContain('a=sendonly');
    expect(lines.some((l) => l.startsWith('a=rtcp:'))).toBe(false);
    expect(lines.at(-2)).toBe('a=end-of-candidates');
    expect(lines.filter((l) => l === 'a=end-of-candidates')).toHaveLength(1);
  });

  it("keeps only the audio section and the UDP candidates on our bind address's kind", () => {
    const given = libdatachannelRemote(CHROME_AUDIO_OFFER_TEMPLATE + 'm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\n', { bindAddress: '127.0.0.1' });
    expect(given).not.toContain('m=video');
    expect(given.split('\r\n').filter((l) => l.startsWith('a=candidate:'))).toEqual([
      'a=candidate:2674300951 1 udp 2122194687 127.0.0.1 45766 typ host generation 0 network-id 3 network-cost 50',
    ]);
    expect(given).toContain('a=group:BUNDLE 0\r\n');
  });

  it("reads libdatachannel's own description", () => {
    const own = [
      'v=0',
      'o=rtc 1 0 IN IP4 127.0.0.1',
      's=-',
      't=0 0',
      'a=fingerprint:sha-256 AA:BB',
      'm=audio 38464 UDP/TLS/RTP/SAVPF 111',
      'c=IN IP4 127.0.0.1',
      'a=mid:0',
      'a=setup:active',
      'a=candidate:1 1 UDP 2114977791 127.0.0.1 38464 typ host',
      '',
    ].join('\r\n');
    expect(libdatachannelLocal(own, '127.0.0.1')).toEqual({ fingerprint: 'sha-256 AA:BB', setup: 'active', port: 38464 });
  });
});
