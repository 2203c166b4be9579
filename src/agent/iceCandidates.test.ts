import { describe, expect, it } from 'vitest';
import { candidateCoverage, usableCandidateTypes } from './iceCandidates.js';

const offer = (audio: string[], video?: string[], bundle = 'a=group:BUNDLE 0 1') =>
  [
    'v=0',
    'o=- 1 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    ...(bundle ? [bundle] : []),
    'm=audio 9 UDP/TLS/RTP/SAVPF 111',
    'c=IN IP4 0.0.0.0',
    'a=mid:0',
    ...audio,
    ...(video ? ['m=video 9 UDP/TLS/RTP/SAVPF 96', 'c=IN IP4 0.0.0.0', 'a=mid:1', ...video] : []),
    '',
  ].join('\r\n');

const host = 'a=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host generation 0';
const srflx = 'a=candidate:2 1 udp 1686052607 203.0.113.5 50001 typ srflx raddr 127.0.0.1 rport 50000';
const relay = 'a=candidate:3 1 udp 41885439 127.0.0.1 3478 typ relay raddr 0.0.0.0 rport 0';

describe('candidateCoverage', () => {
  it('names every media section with no candidate, by mid', () => {
    expect(candidateCoverage(offer([], []), ['host'], )).toEqual({ missing: ['0', '1'], candidates: 0, types: [] });
  });

  it('counts a host candidate as usable when no ICE server is configured', () => {
    expect(candidateCoverage(offer([host]), usableCandidateTypes([], false))).toEqual({ missing: [], candidates: 1, types: ['host'] });
  });

  it('lets one candidate cover every section of its BUNDLE group, but not a section outside it', () => {
    expect(candidateCoverage(offer([host], []), ['host']).missing).toEqual([]);
    expect(candidateCoverage(offer([host], [], ''), ['host']).missing).toEqual(['1']);
  });

  it('ignores rejected (port 0) sections', () => {
    const sdp = offer([host], [], '').replace('m=video 9', 'm=video 0');
    expect(candidateCoverage(sdp, ['host']).missing).toEqual([]);
  });

  it('waits for srflx with STUN and for relay with TURN or a relay-only policy', () => {
    expect(usableCandidateTypes([{ urls: 'stun:stun.example.com' }], false)).toEqual(['srflx', 'relay']);
    expect(usableCandidateTypes([{ urls: ['stun:a', 'turn:b?transport=udp'] }], false)).toEqual(['relay']);
    expect(usableCandidateTypes([], true)).toEqual(['relay']);
    expect(candidateCoverage(offer([host]), ['srflx', 'relay']).missing).toEqual(['0']);
    expect(candidateCoverage(offer([host, srflx]), ['srflx', 'relay'])).toEqual({ missing: [], candidates: 2, types: ['host', 'srflx'] });
    expect(candidateCoverage(offer([host, relay]), ['relay']).missing).toEqual([]);
  });

  it('reads LF-only SDP and sections without a mid', () => {
    const sdp = 'v=0\nm=audio 9 RTP/AVP 0\n' + host + '\nm=audio 9 RTP/AVP 0\n';
    expect(candidateCoverage(sdp, ['host']).missing).toEqual(['1']);
  });
});
