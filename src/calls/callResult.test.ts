import { describe, expect, it } from 'vitest';
import { buildCallResult, type CallJudgement } from './callResult.js';
import { LegRecord } from './legRecord.js';
import type { CallRecord } from './callRecord.js';

const T0 = 1_000_000;

function call(overrides: Partial<CallRecord> = {}): CallRecord {
  return {
    key: '1.main', name: 'main', iteration: 1, callerRole: 'alice', calleeRole: 'bob', calleeAgentId: 'bob#0',
    from: 'sip:alice@lab', to: 'sip:bob@lab', startedAtMs: T0, callerLegId: 'a', calleeLegId: 'b',
    failure: undefined, failureExpected: false, reported: true, ...overrides,
  };
}

function leg(id: string, role: string, direction: 'outgoing' | 'incoming'): LegRecord {
  const record = new LegRecord(id, `${role}#0`, role, direction);
  record.createdAtMs = T0;
  record.pageId = 'p1';
  return record;
}

/** Cumulative stats samples: packets at 50/s in each direction, energy when `energy` is set. */
function stats(record: LegRecord, atMs: number, packetsIn: number, energy?: number, concealedSamples = 0): void {
  record.addStats({
    type: 'stats',
    legId: record.legId,
    atMs,
    sample: {
      audioIn: { packetsReceived: packetsIn, bytesReceived: packetsIn * 100, packetsLost: 0, jitterSeconds: 0.001, ...(energy === undefined ? {} : { totalAudioEnergy: energy, totalSamplesReceived: packetsIn * 960, concealedSamples }) },
      audioOut: { packetsSent: (atMs - T0) / 20, bytesSent: 0 },
    },
  });
}

function established(caller: LegRecord, callee: LegRecord): void {
  caller.wire = { challenges: 1, inviteSentAtMs: T0 + 120, provisionalReceivedAtMs: T0 + 150, finalReceivedAtMs: T0 + 480, finalStatus: 200 };
  callee.wire = { challenges: 0, inviteReceivedAtMs: T0 + 140, okSentAtMs: T0 + 470 };
  caller.establishedAtMs = T0 + 485;
  callee.establishedAtMs = T0 + 490;
}

const calm: CallJudgement = { pageLagMs: () => 20, stalledLagMs: 250 };

describe('buildCallResult', () => {
  it('takes timings from the SIP wire moments: prep before the INVITE, PDD, setup from the first INVITE, callee answer time', () => {
    const [a, b] = [leg('a', 'alice', 'outgoing'), leg('b', 'bob', 'incoming')];
    established(a, b);
    const result = buildCallResult('s', call({ answerDelaySeconds: 0.3 }), a, b, calm);
    expect(result).toMatchObject({ result: 'success', harnessPrepSeconds: 0.12, timeTo180Seconds: 0.03, setupSeconds: 0.36, calleeAnswerSeconds: 0.33, answerDelaySeconds: 0.3 });
    expect(result.legs?.map((l) => l.legId)).toEqual(['a', 'b']);
  });

  it('fails an offer that left with no candidate as no_candidates (the harness), not as the SIP status the far end then sent', () => {
    const [a, b] = [leg('a', 'alice', 'outgoing'), leg('b', 'bob', 'incoming')];
    a.endCause = { kind: 'sipStatus', status: 488 };
    a.endedAtMs = T0 + 600;
    b.gathering = { type: 'iceGathered', legId: 'b', atMs: T0 + 500, durationMs: 5000, candidates: 0, candidateTypes: [], endedBy: 'timeout', missingMids: ['0'] };
    const result = buildCallResult('s', call(), a, b, calm);
    expect(result.failureReason).toBe('no_candidates');
    expect(result.failureDetail).toContain('bob: ICE gathering found no candidate for media section 0');
  });

  it('fails a relay-only leg whose TURN server refused the credentials as turn_refused, saying so', () => {
    const [a, b] = [leg('a', 'alice', 'outgoing'), leg('b', 'bob', 'incoming')];
    a.commandError = 'ICE gathering found no usable candidate';
    a.gathering = {
      type: 'iceGathered', legId: 'a', atMs: T0 + 600, durationMs: 571, candidates: 0, candidateTypes: [], endedBy: 'complete', missingMids: ['0'], relayOnly: true,
      iceServerErrors: [{ url: 'turn:127.0.0.1:3478?transport=udp', errorCode: 401, errorText: 'Unauthorized.' }],
    };
    const result = buildCallResult('s', call(), a, b, calm);
    expect(result.failureReason).toBe('turn_refused');
    expect(result.failureDetail).toBe('alice: the TURN server refused the credentials (turn:127.0.0.1:3478?transport=udp 401 Unauthorized.); relay-only, so no candidate for media section 0 and no media path');
    expect(result.legs?.[0]?.iceServerErrors).toBe('turn:127.0.0.1:3478?transport=udp 401 Unauthorized.');
  });

  it('fails a relay-only leg no TURN server answered as turn_unreachable: a 701, or silence until the gathering bound', () => {
    const [a, b] = [leg('a', 'alice', 'outgoing'), leg('b', 'bob', 'incoming')];
    const gathering = { type: 'iceGathered', legId: 'a', atMs: T0 + 600, candidates: 0, candidateTypes: [], missingMids: ['0'], relayOnly: true } as const;
    a.gathering = { ...gathering, durationMs: 12, endedBy: 'complete', iceServerErrors: [{ url: 'turn:127.0.0.1:9?transport=tcp', errorCode: 701, errorText: 'Failed to establish connection' }] };
    expect(buildCallResult('s', call(), a, b, calm)).toMatchObject({
      failureReason: 'turn_unreachable',
      failureDetail: 'alice: no connection to or answer from the TURN server (turn:127.0.0.1:9?transport=tcp 701 Failed to establish connection); relay-only, so no candidate for media section 0 and no media path',
    });
    a.gathering = { ...gathering, durationMs: 1000, endedBy: 'timeout' };
    expect(buildCallResult('s', call(), a, b, calm).failureReason).toBe('turn_unreachable');
    expect(buildCallResult('s', call(), a, b, calm).failureDetail).toMatch(/^alice: no relay candidate within 1000 ms \(ended by timeout\) and no error from any TURN server: none answered/);
    // Without TURN, or not relay-only, an empty offer stays the harness's own failure.
    a.gathering = { ...gathering, relayOnly: undefined, durationMs: 1000, endedBy: 'timeout' };
    expect(buildCallResult('s', call(), a, b, calm).failureReason).toBe('no_candidates');
  });

  it('records the selected pair types, the TURN allocation time and the server errors of each leg', () => {
    const [a, b] = [leg('a', 'alice', 'outgoing'), leg('b', 'bob', 'incoming')];
    established(a, b);
    a.gathering = { type: 'iceGathered', legId: 'a', atMs: T0 + 100, durationMs: 220, candidates: 2, candidateTypes: ['relay'], endedBy: 'usable', missingMids: [], relayOnly: true, relayAllocationMs: 197.46 };
    a.selectedPair = {
      local: { type: 'relay', protocol: 'udp', address: '127.0.0.1', port: 49160, relayProtocol: 'udp' },
      remote: { type: 'relay', protocol: 'udp', address: '127.0.0.1', port: 49170 },
    };
    const result = buildCallResult('s', call(), a, b, calm);
    expect(result.result).toBe('success');
    expect(result.candidatePair).toBe('relay/udp(udp) 127.0.0.1:49160 -> relay/udp 127.0.0.1:49170');
    expect(result.legs?.[0]).toMatchObject({ candidatePairType: 'relay->relay', turnAllocationMs: 197.46 });
    expect(result.legs?.[0]?.iceServerErrors).toBeUndefined();
    expect(result.legs?.[1]).toMatchObject({ candidatePairType: undefined, turnAllocationMs: undefined });
  });

  it('says, when relay-only ICE fails after the relay was allocated, that the TURN server may refuse to relay to the far end', () => {
    const [a, b] = [leg('a', 'alice', 'outgoing'), leg('b', 'bob', 'incoming')];
    established(a, b);
    a.gathering = { type: 'iceGathered', legId: 'a', atMs: T0 + 100, durationMs: 220, candidates: 2, candidateTypes: ['relay'], endedBy: 'usable', missingMids: [], relayOnly: true, relayAllocationMs: 200 };
    a.transport.push({ layer: 'ice', state: 'checking', atMs: T0 + 500 }, { layer: 'ice', state: 'failed', atMs: T0 + 5500 });
    const result = buildCallResult('s', call({ failure: { reason: 'no_media', detail: 'no packets' } }), a, b, calm);
    expect(result.failureReason).toBe('ice_failed');
    expect(result.failureDetail).toContain('relay-only and the relay was allocated: the TURN server may refuse to relay to the far end (coturn: denied-peer-ip, no allow-loopback-peers for 127.x)');
  });

  it('explains missing media by a failed ICE or DTLS transport', () => {
    const [a, b] = [leg('a', 'alice', 'outgoing'), leg('b', 'bob', 'incoming')];
    established(a, b);
    a.transport.push({ layer: 'ice', state: 'checking', atMs: T0 + 500 }, { layer: 'ice', state: 'failed', atMs: T0 + 5500 });
    expect(buildCallResult('s', call({ failure: { reason: 'no_media', detail: 'expect: no packets' } }), a, b, calm).failureReason).toBe('ice_failed');
    const [c, d] = [leg('a', 'alice', 'outgoing'), leg('b', 'bob', 'incoming')];
    established(c, d);
    d.transport.push({ layer: 'ice', state: 'connected', atMs: T0 + 520 }, { layer: 'dtls', state: 'failed', atMs: T0 + 600 });
    expect(buildCallResult('s', call({ failure: { reason: 'no_media', detail: 'x' } }), c, d, calm).failureReason).toBe('dtls_failed');
  });

  it('blames the harness when a page was stalled while the call failed, and says what it saw', () => {
    const [a, b] = [leg('a', 'alice', 'outgoing'), leg('b', 'bob', 'incoming')];
    established(a, b);
    const stalled: CallJudgement = { pageLagMs: () => 1800, stalledLagMs: 250 };
    const result = buildCallResult('s', call({ failure: { reason: 'no_media', detail: 'no packets' } }), a, b, stalled);
    expect(result.failureReason).toBe('harness_saturated');
    expect(result.failureDetail).toMatch(/^no_media while page p1 \(alice\) was stalled \(main thread 1\.80 s late\)/);
    // A success stays a success, and an expected failure is left alone.
    expect(buildCallResult('s', call(), a, b, stalled).result).toBe('success');
    expect(buildCallResult('s', call({ failure: { reason: 'sip_status', detail: '486' }, failureExpected: true }), a, b, stalled).failureReason).toBe('sip_status');
  });

  it('fails a call whose received audio stopped mid-call, with the time, but not one that stopped at its hangup or on hold', () => {
    const [a, b] = [leg('a', 'alice', 'outgoing'), leg('b', 'bob', 'incoming')];
    established(a, b);
    stats(a, T0 + 1000, 0);
    stats(a, T0 + 2000, 50);
    stats(a, T0 + 3000, 100);
    stats(a, T0 + 4000, 101);
    stats(a, T0 + 5000, 101);
    a.endedAtMs = T0 + 9000;
    const result = buildCallResult('s', call(), a, b, calm);
    expect(result).toMatchObject({ failureReason: 'media_stopped', audioInterruptedAtSeconds: 3 });

    const [c, d] = [leg('a', 'alice', 'outgoing'), leg('b', 'bob', 'incoming')];
    established(c, d);
    stats(c, T0 + 1000, 0);
    stats(c, T0 + 2000, 50);
    stats(c, T0 + 3000, 51);
    c.endedAtMs = T0 + 3500;
    expect(buildCallResult('s', call(), c, d, calm).result).toBe('success');

    const [e, f] = [leg('a', 'alice', 'outgoing'), leg('b', 'bob', 'incoming')];
    established(e, f);
    stats(e, T0 + 1000, 0);
    stats(e, T0 + 2000, 50);
    e.farEndHeld = true;
    e.lastHoldChangeAtMs = T0 + 2100;
    stats(e, T0 + 3000, 52);
    stats(e, T0 + 4000, 52);
    e.endedAtMs = T0 + 9000;
    expect(buildCallResult('s', call(), e, f, calm).result).toBe('success');
  });

  /** Audio at alice from 1 s, silent from 3 s with packets still coming; `concealedSamples` of that silent second concealed. */
  function goesSilentAt3s(concealedSamples: number) {
    const [a, b] = [leg('a', 'alice', 'outgoing'), leg('b', 'bob', 'incoming')];
    established(a, b);
    stats(a, T0 + 1000, 0, 0);
    stats(a, T0 + 2000, 50, 0.5);
    stats(a, T0 + 3000, 100, 1.0);
    stats(a, T0 + 4000, 150, 1.0, concealedSamples);
    a.endedAtMs = T0 + 9000;
    return buildCallResult('s', call(), a, b, calm);
  }

  it('fails a call whose decoded audio went silent while packets kept coming', () => {
    const result = goesSilentAt3s(0);
    expect(result).toMatchObject({ failureReason: 'silent_audio', audioInterruptedAtSeconds: 3 });
    expect(result.failureDetail).toMatch(/went silent 2\.5 s into the call \(packets still arriving\)$/);
  });

  it('says when the silent packets were not played at all (the receiver concealed every sample): out of line, not quiet', () => {
    // Every sample of the silent second concealed: the relay's Opus was stamped seconds late.
    const result = goesSilentAt3s(50 * 960);
    expect(result).toMatchObject({ failureReason: 'silent_audio', audioInterruptedAtSeconds: 3 });
    expect(result.failureDetail).toContain('the receiver concealed 100% of the samples: it played none of them');
  });

  it('records the far end\'s RTCP view of the caller\'s audio beside what the legs received; empty without a report', () => {
    const [a, b] = [leg('a', 'alice', 'outgoing'), leg('b', 'bob', 'incoming')];
    established(a, b);
    const audioIn = { packetsReceived: 190, bytesReceived: 0, packetsLost: 10, jitterSeconds: 0.002 };
    a.addStats({ type: 'stats', legId: 'a', atMs: T0 + 4000, sample: { audioIn, audioOut: { packetsSent: 200, bytesSent: 0, remotePacketsLost: 8, remoteFractionLost: 0.1, remoteJitterSeconds: 0.009 } } });
    b.addStats({ type: 'stats', legId: 'b', atMs: T0 + 4000, sample: { audioIn: { ...audioIn, packetsLost: 0 }, audioOut: { packetsSent: 200, bytesSent: 0, remotePacketsLost: 10 } } });
    expect(buildCallResult('s', call(), a, b, calm)).toMatchObject({ packetLossRatio: 0.05, jitterSeconds: 0.002, farEndLossRatio: 0.04, farEndJitterSeconds: 0.009 });

    const [c, d] = [leg('c', 'alice', 'outgoing'), leg('d', 'bob', 'incoming')];
    established(c, d);
    stats(c, T0 + 4000, 175);
    const result = buildCallResult('s', call(), c, d, calm);
    expect(result.farEndLossRatio).toBeUndefined();
    expect(result.farEndJitterSeconds).toBeUndefined();
  });

  describe('receive-only legs', () => {
    const SDP = (direction: string) => `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=${direction}\r\n`;
    const sdpEvent = (record: LegRecord, sent: boolean, offer: boolean, direction: string) =>
      record.sdp.push({ type: 'sdp', legId: record.legId, atMs: T0 + 200, sent, offer, bytes: 300, sdp: SDP(direction) });

    /** alice (caller) receives 50 packets/s; bob receives nothing for 5 s. */
    function listenOnlyCall(): [LegRecord, LegRecord] {
      const [a, b] = [leg('a', 'alice', 'outgoing'), leg('b', 'bob', 'incoming')];
      established(a, b);
      for (const at of [2000, 4000, 6000]) {
        stats(a, T0 + at, (at - 485) / 20, at / 1000);
        stats(b, T0 + at, 0);
      }
      a.endedAtMs = b.endedAtMs = T0 + 6500;
      return [a, b];
    }

    it('is not one-way audio when the leg that hears nothing was offered recvonly (a listen-only caller)', () => {
      const [a, b] = listenOnlyCall();
      sdpEvent(a, true, true, 'recvonly');
      sdpEvent(b, false, true, 'recvonly');
      sdpEvent(b, true, false, 'sendonly');
      sdpEvent(a, false, false, 'sendonly');
      expect(buildCallResult('s', call(), a, b, calm)).toMatchObject({ result: 'success', oneWayAudio: false });
    });

    it('is not one-way audio when the far end answered recvonly or inactive (a listen-only callee)', () => {
      const [a, b] = listenOnlyCall();
      // Here bob is the one who hears: seen from alice, the far end's answer says it sends nothing.
      const [caller, callee] = [b, a];
      sdpEvent(caller, false, false, 'inactive');
      expect(buildCallResult('s', call(), caller, callee, calm)).toMatchObject({ result: 'success', oneWayAudio: false });
    });

    it('is still one-way audio when the far end offered sendrecv or sendonly and no audio came', () => {
      for (const direction of ['sendrecv', 'sendonly']) {
        const [a, b] = listenOnlyCall();
        sdpEvent(b, false, true, direction);
        expect(buildCallResult('s', call(), a, b, calm)).toMatchObject({ result: 'failed', failureReason: 'one_way_audio', oneWayAudio: true });
      }
      // Nor does this leg's own recvonly excuse it: it asked to receive.
      const [a, b] = listenOnlyCall();
      sdpEvent(b, true, true, 'recvonly');
      expect(buildCallResult('s', call(), a, b, calm)).toMatchObject({ failureReason: 'one_way_audio' });
    });
  });
});

describe('buildCallResult: codecs and transcoding', () => {
  const sample = (audio: [string, string], video?: [string, string]) => ({
    audioOut: { codec: audio[0], packetsSent: 50, bytesSent: 4000 },
    audioIn: { codec: audio[1], packetsReceived: 50, bytesReceived: 4000, packetsLost: 0, jitterSeconds: 0 },
    ...(video
      ? {
          videoOut: { codec: video[0], packetsSent: 90, bytesSent: 90_000, framesEncoded: 30 },
          videoIn: { codec: video[1], packetsReceived: 90, bytesReceived: 90_000, packetsLost: 0, jitterSeconds: 0, framesDecoded: 30 },
        }
      : {}),
  });

  it("reports the caller leg's video codec each way, kept when the last sample no longer names it", () => {
    const [a, b] = [leg('a', 'alice', 'outgoing'), leg('b', 'bob', 'incoming')];
    established(a, b);
    a.addStats({ type: 'stats', legId: 'a', atMs: T0 + 1500, sample: sample(['opus', 'opus'], ['H264', 'H264']) });
    b.addStats({ type: 'stats', legId: 'b', atMs: T0 + 1500, sample: sample(['opus', 'opus'], ['H264', 'H264']) });
    a.addStats({ type: 'stats', legId: 'a', atMs: T0 + 2500, sample: {} });
    const result = buildCallResult('s', call(), a, b, calm);
    expect(result).toMatchObject({ codecOut: 'opus', codecIn: 'opus', videoCodecOut: 'H264', videoCodecIn: 'H264', transcoded: '' });
  });

  it('names the transcoded ways between the two legs; unknown with a single callwright leg', () => {
    const [a, b] = [leg('a', 'alice', 'outgoing'), leg('b', 'bob', 'incoming')];
    established(a, b);
    a.addStats({ type: 'stats', legId: 'a', atMs: T0 + 1500, sample: sample(['opus', 'opus']) });
    b.addStats({ type: 'stats', legId: 'b', atMs: T0 + 1500, sample: sample(['PCMU', 'PCMU']) });
    expect(buildCallResult('s', call(), a, b, calm).transcoded).toBe('audio opus->PCMU; audio PCMU->opus');
    // A call from a SIP device: its one callwright leg stands for both ends.
    expect(buildCallResult('s', call({ calleeLegId: 'b' }), b, b, calm)).toMatchObject({ transcoded: 'unknown', codecOut: 'PCMU', videoCodecOut: undefined });
  });
});
