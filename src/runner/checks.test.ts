import { describe, expect, it } from 'vitest';
import { newCallRecord } from '../calls/callRecord.js';
import { LegRecord, MIN_PACKET_RATE, SILENCE_ENERGY_RATE, type MediaRates } from '../calls/legRecord.js';
import type { MediaSample } from '../protocol/events.js';
import type { Check } from '../scenario/types.js';
import { evaluateCheck, type CheckOutcome } from './checks.js';
import type { AgentInfo } from './runState.js';

const T0 = 1_700_000_000_000;
const call = newCallRecord({
  iteration: 1, name: 'main', callerRole: 'alice', calleeRole: 'bob', calleeAgentId: 'bob#0',
  from: 'sip:alice@lab', to: 'sip:bob@lab', startedAtMs: T0, callerLegId: '1.main.alice',
});

function leg(role = 'alice', direction: 'outgoing' | 'incoming' = 'outgoing'): LegRecord {
  return new LegRecord(`1.main.${role}`, `${role}#0`, role, direction);
}

function rates(values: Partial<MediaRates>): MediaRates {
  return { atMs: T0, inAudioPacketRate: 0, outAudioPacketRate: 0, inVideoFrameRate: 0, outVideoPacketRate: 0, ...values };
}

function withRates(values: Partial<MediaRates>, role = 'alice'): LegRecord {
  const record = leg(role);
  record.rates = rates(values);
  return record;
}

function withSample(sample: MediaSample): LegRecord {
  const record = leg();
  record.addStats({ type: 'stats', legId: record.legId, atMs: T0, sample });
  return record;
}

function check(condition: Check, ...legs: LegRecord[]): CheckOutcome {
  return evaluateCheck(condition, { call, legs, agents: [] });
}

const established = (): LegRecord => {
  const record = leg();
  record.inviteSentAtMs = T0;
  record.firstProgressAtMs = T0 + 100;
  record.establishedAtMs = T0 + 400;
  return record;
};

describe('state checks', () => {
  it('established: waits (timeout) while the call is calling or ringing, holds once it is up', () => {
    const record = leg();
    record.inviteSentAtMs = T0;
    expect(check({ kind: 'state', state: 'established' }, record)).toEqual({ ok: false, detail: 'alice: calling', reason: 'timeout' });
    record.firstProgressAtMs = T0 + 100;
    expect(check({ kind: 'state', state: 'established' }, record)).toEqual({ ok: false, detail: 'alice: ringing', reason: 'timeout' });
    record.establishedAtMs = T0 + 400;
    expect(check({ kind: 'state', state: 'established' }, record)).toEqual({ ok: true, detail: 'alice: established', reason: 'check_failed' });
  });

  it('ringing: an outgoing leg once a provisional response came, an incoming leg at once, an answered call too', () => {
    const outgoing = leg();
    outgoing.inviteSentAtMs = T0;
    expect(check({ kind: 'state', state: 'ringing' }, outgoing).ok).toBe(false);
    outgoing.firstProgressAtMs = T0 + 100;
    expect(check({ kind: 'state', state: 'ringing' }, outgoing).ok).toBe(true);
    expect(check({ kind: 'state', state: 'ringing' }, leg('bob', 'incoming')).ok).toBe(true);
    const answeredAtOnce = leg();
    answeredAtOnce.establishedAtMs = T0 + 50;
    expect(check({ kind: 'state', state: 'ringing' }, answeredAtOnce).ok).toBe(true);
  });

  it('a call refused with a SIP status fails an established check as sip_status, naming the status', () => {
    const refused = leg();
    refused.inviteSentAtMs = T0;
    refused.endCause = { kind: 'sipStatus', status: 486, reasonPhrase: 'Busy Here' };
    refused.endedAtMs = T0 + 300;
    expect(check({ kind: 'state', state: 'established' }, refused)).toEqual({ ok: false, detail: 'alice: failed (SIP 486)', reason: 'sip_status' });
    // ...and passes a check that asked for that failure, with that status only.
    expect(check({ kind: 'state', state: 'failed' }, refused).ok).toBe(true);
    expect(check({ kind: 'state', state: 'failed', status: 486 }, refused).ok).toBe(true);
    expect(check({ kind: 'state', state: 'failed', status: 404 }, refused)).toEqual({ ok: false, detail: 'alice: failed (SIP 486)', reason: 'check_failed' });
  });

  it('ended: only a call that is over; a call that was up and hung up is ended, not failed', () => {
    const record = established();
    expect(check({ kind: 'state', state: 'ended' }, record)).toEqual({ ok: false, detail: 'alice: established', reason: 'timeout' });
    record.endCause = { kind: 'hangup', by: 'remote' };
    record.endedAtMs = T0 + 5000;
    expect(check({ kind: 'state', state: 'ended' }, record)).toEqual({ ok: true, detail: 'alice: ended', reason: 'check_failed' });
    expect(check({ kind: 'state', state: 'failed' }, record).ok).toBe(false);
  });

  it('blames a lost page (browser_crashed) and a lost WebSocket (transport_lost) before the SIP status', () => {
    const crashed = leg();
    crashed.inviteSentAtMs = T0;
    crashed.lost = 'page crashed';
    expect(check({ kind: 'state', state: 'established' }, crashed)).toEqual({ ok: false, detail: 'alice: calling (page crashed)', reason: 'browser_crashed' });
    const cut = established();
    cut.endCause = { kind: 'transportLost' };
    cut.endedAtMs = T0 + 2000;
    expect(check({ kind: 'state', state: 'established' }, cut).reason).toBe('transport_lost');
  });

  it('no leg yet is a wait (timeout); with several legs the first that fails decides, all passing join their details', () => {
    expect(check({ kind: 'state', state: 'established' })).toEqual({ ok: false, detail: 'no leg of this call exists yet', reason: 'timeout' });
    const alice = established();
    const bob = leg('bob', 'incoming');
    expect(check({ kind: 'state', state: 'established' }, alice, bob)).toEqual({ ok: false, detail: 'bob: created', reason: 'timeout' });
    bob.establishedAtMs = T0 + 420;
    expect(check({ kind: 'state', state: 'established' }, alice, bob)).toEqual({ ok: true, detail: 'alice: established; bob: established', reason: 'check_failed' });
  });
});

describe('media checks', () => {
  it('flowing both ways: packets in and out at or above the minimum rate', () => {
    expect(check({ kind: 'media', flow: 'flowing', direction: 'both', media: 'audio' }, withRates({ inAudioPacketRate: 50, outAudioPacketRate: 50 }))).toEqual({
      ok: true,
      detail: 'alice: audio in 50 pkt/s, out 50 pkt/s',
      reason: 'check_failed', // a passing check carries no failure of its own
    });
    const atMinimum = withRates({ inAudioPacketRate: MIN_PACKET_RATE, outAudioPacketRate: MIN_PACKET_RATE });
    expect(check({ kind: 'media', flow: 'flowing', direction: 'both', media: 'audio' }, atMinimum).ok).toBe(true);
    const under = withRates({ inAudioPacketRate: MIN_PACKET_RATE - 0.1, outAudioPacketRate: 50 });
    expect(check({ kind: 'media', flow: 'flowing', direction: 'both', media: 'audio' }, under).ok).toBe(false);
  });

  it('audio one way only is one_way_audio; none either way is no_media', () => {
    const oneWay = withRates({ inAudioPacketRate: 0, outAudioPacketRate: 50 });
    expect(check({ kind: 'media', flow: 'flowing', direction: 'both', media: 'audio' }, oneWay)).toEqual({ ok: false, detail: 'alice: audio in 0 pkt/s, out 50 pkt/s', reason: 'one_way_audio' });
    const none = withRates({});
    expect(check({ kind: 'media', flow: 'flowing', direction: 'both', media: 'audio' }, none).reason).toBe('no_media');
    // Asked about what it sends only, the same leg passes.
    expect(check({ kind: 'media', flow: 'flowing', direction: 'out', media: 'audio' }, oneWay).ok).toBe(true);
    expect(check({ kind: 'media', flow: 'flowing', direction: 'in', media: 'audio' }, oneWay).ok).toBe(false);
  });

  it('packets of silence (a held or muted sender) are not received audio; without an energy figure packets decide', () => {
    const silent = withRates({ inAudioPacketRate: 50, outAudioPacketRate: 50, inAudioEnergyRate: SILENCE_ENERGY_RATE / 10 });
    expect(check({ kind: 'media', flow: 'flowing', direction: 'in', media: 'audio' }, silent).ok).toBe(false);
    expect(check({ kind: 'media', flow: 'stopped', direction: 'in', media: 'audio' }, silent).ok).toBe(true);
    expect(check({ kind: 'media', flow: 'stopped', direction: 'in', media: 'audio' }, silent).detail).toBe('alice: audio in 50 pkt/s, energy 1.0e-6/s, out 50 pkt/s');
    const loud = withRates({ inAudioPacketRate: 50, inAudioEnergyRate: 0.02 });
    expect(check({ kind: 'media', flow: 'flowing', direction: 'in', media: 'audio' }, loud).ok).toBe(true);
    const unknownEnergy = withRates({ inAudioPacketRate: 50 });
    expect(check({ kind: 'media', flow: 'flowing', direction: 'in', media: 'audio' }, unknownEnergy).ok).toBe(true);
  });

  it('stopped: holds only when nothing flows in the directions asked; its failure is check_failed', () => {
    const flowing = withRates({ inAudioPacketRate: 50, outAudioPacketRate: 50 });
    expect(check({ kind: 'media', flow: 'stopped', direction: 'both', media: 'audio' }, flowing)).toMatchObject({ ok: false, reason: 'check_failed' });
    const held = withRates({ inAudioPacketRate: 0, outAudioPacketRate: 50 });
    expect(check({ kind: 'media', flow: 'stopped', direction: 'in', media: 'audio' }, held).ok).toBe(true);
    expect(check({ kind: 'media', flow: 'stopped', direction: 'both', media: 'audio' }, held).ok).toBe(false);
  });

  it('video: frames decoded in, packets out', () => {
    const video = withRates({ inVideoFrameRate: 15, outVideoPacketRate: 120 });
    expect(check({ kind: 'media', flow: 'flowing', direction: 'both', media: 'video' }, video)).toEqual({ ok: true, detail: 'alice: video in 15 frames/s, out 120 pkt/s', reason: 'check_failed' });
    const frozen = withRates({ inVideoFrameRate: 0.5, outVideoPacketRate: 120 });
    expect(check({ kind: 'media', flow: 'flowing', direction: 'in', media: 'video' }, frozen).ok).toBe(false);
  });

  it('before any statistics: no_media for flowing, check_failed for stopped', () => {
    expect(check({ kind: 'media', flow: 'flowing', direction: 'both', media: 'audio' }, leg())).toEqual({ ok: false, detail: 'alice: no media statistics yet', reason: 'no_media' });
    expect(check({ kind: 'media', flow: 'stopped', direction: 'both', media: 'audio' }, leg()).reason).toBe('check_failed');
  });
});

describe('codec, first audio, DTMF, INVITE size, SDP and MESSAGE checks', () => {
  it('codec: by name, any case, in the directions asked', () => {
    const record = withSample({ audioIn: { codec: 'opus', packetsReceived: 1, bytesReceived: 1, packetsLost: 0, jitterSeconds: 0 }, audioOut: { codec: 'PCMU', packetsSent: 1, bytesSent: 1 } });
    expect(check({ kind: 'codec', codec: 'OPUS', direction: 'in', media: 'audio' }, record)).toEqual({ ok: true, detail: 'alice: audio codec out PCMU, in opus', reason: 'check_failed' });
    expect(check({ kind: 'codec', codec: 'pcmu', direction: 'out', media: 'audio' }, record).ok).toBe(true);
    expect(check({ kind: 'codec', codec: 'opus', direction: 'both', media: 'audio' }, record).ok).toBe(false);
    expect(check({ kind: 'codec', codec: 'PCMU', direction: 'both', media: 'audio' }, leg())).toEqual({ ok: false, detail: 'alice: audio codec out none, in none', reason: 'check_failed' });
  });

  it('codec: of the kind asked, each way; a codec named once stays known when a later sample lacks it', () => {
    const record = withSample({
      audioIn: { codec: 'opus', packetsReceived: 1, bytesReceived: 1, packetsLost: 0, jitterSeconds: 0 },
      audioOut: { codec: 'opus', packetsSent: 1, bytesSent: 1 },
      videoIn: { codec: 'H264', packetsReceived: 1, bytesReceived: 1, packetsLost: 0, jitterSeconds: 0, framesDecoded: 1 },
      videoOut: { codec: 'VP8', packetsSent: 1, bytesSent: 1, framesEncoded: 1 },
    });
    expect(check({ kind: 'codec', codec: 'H264', direction: 'in', media: 'video' }, record)).toEqual({ ok: true, detail: 'alice: video codec out VP8, in H264', reason: 'check_failed' });
    expect(check({ kind: 'codec', codec: 'H264', direction: 'out', media: 'video' }, record)).toEqual({ ok: false, detail: 'alice: video codec out VP8, in H264', reason: 'check_failed' });
    expect(check({ kind: 'codec', codec: 'H264', direction: 'both', media: 'video' }, record).ok).toBe(false);
    // The audio codec is not what a video check compares, nor the other way round.
    expect(check({ kind: 'codec', codec: 'H264', direction: 'in', media: 'audio' }, record).ok).toBe(false);
    // The streams stopped (the call ended): the sample names no codec, the codecs seen stay.
    record.addStats({ type: 'stats', legId: record.legId, atMs: T0 + 1000, sample: {} });
    expect(check({ kind: 'codec', codec: 'vp8', direction: 'out', media: 'video' }, record).ok).toBe(true);
  });

  it('first audio: within the seconds asked after the 200 OK; not established is a wait, no audio is no_media', () => {
    expect(check({ kind: 'firstAudio', withinSeconds: 0.5 }, leg())).toEqual({ ok: false, detail: 'alice: not established', reason: 'timeout' });
    const record = established();
    expect(check({ kind: 'firstAudio', withinSeconds: 0.5 }, record)).toEqual({ ok: false, detail: 'alice: no audio received yet', reason: 'no_media' });
    record.firstAudioAtMs = record.establishedAtMs! + 250;
    expect(check({ kind: 'firstAudio', withinSeconds: 0.5 }, record)).toEqual({ ok: true, detail: 'alice: first audio 0.250 s after 200 OK', reason: 'check_failed' });
    record.firstAudioAtMs = record.establishedAtMs! + 800;
    expect(check({ kind: 'firstAudio', withinSeconds: 0.5 }, record)).toEqual({ ok: false, detail: 'alice: first audio 0.800 s after 200 OK', reason: 'check_failed' });
  });

  it('DTMF: the tones received in that order, anywhere in what arrived', () => {
    const record = leg();
    record.dtmfReceived.push('1', '2', '3', '#');
    expect(check({ kind: 'dtmf', tones: '23#' }, record)).toEqual({ ok: true, detail: 'alice: DTMF received "123#"', reason: 'check_failed' });
    expect(check({ kind: 'dtmf', tones: '32' }, record).ok).toBe(false);
    expect(check({ kind: 'dtmf', tones: '1' }, leg())).toEqual({ ok: false, detail: 'alice: DTMF received ""', reason: 'check_failed' });
  });

  it('INVITE size: at most / at least the bytes asked, bounds included; no INVITE on the leg fails', () => {
    const record = leg();
    expect(check({ kind: 'inviteSize', maxBytes: 1300 }, record)).toEqual({ ok: false, detail: 'alice: no INVITE sent on this leg', reason: 'check_failed' });
    record.inviteBytes = 1300;
    expect(check({ kind: 'inviteSize', maxBytes: 1300 }, record)).toEqual({ ok: true, detail: 'alice: INVITE 1300 bytes', reason: 'check_failed' });
    expect(check({ kind: 'inviteSize', maxBytes: 1299 }, record).ok).toBe(false);
    expect(check({ kind: 'inviteSize', minBytes: 1300, maxBytes: 4000 }, record).ok).toBe(true);
    expect(check({ kind: 'inviteSize', minBytes: 1301 }, record).ok).toBe(false);
  });

  it('SDP lines: a line equal to the text or starting with it and a space, on the side asked', () => {
    const record = leg();
    const sdp = (sent: boolean, lines: string[]) => record.sdp.push({ type: 'sdp', legId: record.legId, atMs: T0, sent, offer: sent, bytes: 0, sdp: ['v=0', ...lines, ''].join('\r\n') });
    expect(check({ kind: 'sdp', lines: ['b=AS:64'], direction: 'in' }, record)).toEqual({ ok: false, detail: 'alice: no SDP received', reason: 'check_failed' });
    sdp(false, ['b=AS:64', 'b=TIAS:64000', 'm=video 0 UDP/TLS/RTP/SAVPF 96']);
    sdp(true, ['b=AS:3000']);
    expect(check({ kind: 'sdp', lines: ['b=AS:64', 'm=video 0'], direction: 'in' }, record)).toEqual({ ok: true, detail: 'alice: SDP received has b=AS:64, m=video 0', reason: 'check_failed' });
    // A prefix of a line's value is not that line: b=AS:6 is not b=AS:64.
    expect(check({ kind: 'sdp', lines: ['b=AS:6', 'b=TIAS:64000'], direction: 'in' }, record)).toEqual({ ok: false, detail: 'alice: SDP received lacks b=AS:6', reason: 'check_failed' });
    expect(check({ kind: 'sdp', lines: ['b=AS:3000'], direction: 'both' }, record)).toEqual({ ok: false, detail: 'alice: SDP received lacks b=AS:3000; alice: SDP sent has b=AS:3000', reason: 'check_failed' });
    expect(check({ kind: 'sdp', lines: ['b=AS:3000'], direction: 'out' }, record).ok).toBe(true);
  });

  it('MESSAGE: a body received by an agent of the role, whatever the legs', () => {
    const agent = (bodies: string[]) => ({ agentId: 'bob#0', role: 'bob', messagesReceived: bodies.map((body, i) => ({ from: 'sip:alice@lab', body, atMs: T0 + i })) }) as unknown as AgentInfo;
    const message = (body: string, agents: AgentInfo[]) => evaluateCheck({ kind: 'message', body }, { call, legs: [], agents });
    expect(message('hello', [agent([])])).toEqual({ ok: false, detail: 'no MESSAGE received', reason: 'check_failed' });
    expect(message('hello', [agent(['hi']), agent(['hello'])])).toEqual({ ok: true, detail: 'messages received: "hi", "hello"', reason: 'check_failed' });
    expect(message('hell', [agent(['hello'])]).ok).toBe(false);
  });
});

describe('transcoded checks', () => {
  const audioIn = (codec: string) => ({ codec, packetsReceived: 50, bytesReceived: 4000, packetsLost: 0, jitterSeconds: 0 });
  const audioOut = (codec: string) => ({ codec, packetsSent: 50, bytesSent: 4000 });
  const party = (role: string, direction: 'outgoing' | 'incoming', sample: MediaSample): LegRecord => {
    const record = leg(role, direction);
    record.addStats({ type: 'stats', legId: record.legId, atMs: T0, sample });
    return record;
  };
  const transcoded = (expected: boolean, ...legs: LegRecord[]) => check({ kind: 'transcoded', expected }, ...legs);

  it('the same codec encoded at one end and decoded at the other, both ways: not transcoded', () => {
    const alice = party('alice', 'outgoing', { audioOut: audioOut('opus'), audioIn: audioIn('opus') });
    const bob = party('bob', 'incoming', { audioOut: audioOut('opus'), audioIn: audioIn('opus') });
    const detail = 'not transcoded: alice encodes audio opus, bob decodes opus; bob encodes audio opus, alice decodes opus';
    expect(transcoded(false, alice, bob)).toEqual({ ok: true, detail, reason: 'check_failed' });
    expect(transcoded(true, alice, bob)).toEqual({ ok: false, detail, reason: 'check_failed' });
  });

  it('a media server between them that re-encodes: transcoded, each pair named', () => {
    const alice = party('alice', 'outgoing', { audioOut: audioOut('opus'), audioIn: audioIn('opus') });
    const bob = party('bob', 'incoming', { audioOut: audioOut('PCMU'), audioIn: audioIn('PCMU') });
    expect(transcoded(true, alice, bob)).toEqual({
      ok: true,
      detail: 'transcoded audio opus->PCMU; audio PCMU->opus (alice encodes audio opus, bob decodes PCMU; bob encodes audio PCMU, alice decodes opus)',
      reason: 'check_failed',
    });
    expect(transcoded(false, alice, bob).ok).toBe(false);
  });

  it('video counts as well: H.264 sent, VP8 decoded is a transcode even with audio untouched', () => {
    const video = (codec: string) => ({ codec, packetsReceived: 1, bytesReceived: 1, packetsLost: 0, jitterSeconds: 0, framesDecoded: 1 });
    const alice = party('alice', 'outgoing', { audioOut: audioOut('opus'), audioIn: audioIn('opus'), videoOut: { codec: 'H264', packetsSent: 1, bytesSent: 1, framesEncoded: 1 }, videoIn: video('VP8') });
    const bob = party('bob', 'incoming', { audioOut: audioOut('opus'), audioIn: audioIn('opus'), videoOut: { codec: 'VP8', packetsSent: 1, bytesSent: 1, framesEncoded: 1 }, videoIn: video('VP8') });
    expect(transcoded(true, alice, bob).detail).toBe('transcoded video H264->VP8 (alice encodes video H264, bob decodes VP8)');
  });

  it('not transcoded needs every way seen; nothing seen yet is no_media; one callwright leg cannot tell', () => {
    const alice = party('alice', 'outgoing', { audioOut: audioOut('opus'), audioIn: audioIn('opus') });
    const bob = party('bob', 'incoming', { audioOut: audioOut('opus') });
    expect(transcoded(false, alice, bob)).toEqual({
      ok: false,
      detail: 'not transcoded: alice encodes audio opus, bob decodes nothing yet; bob encodes audio opus, alice decodes opus',
      reason: 'check_failed',
    });
    expect(transcoded(false, leg('alice'), leg('bob', 'incoming'))).toEqual({ ok: false, detail: 'no codec seen on either leg yet', reason: 'no_media' });
    expect(transcoded(false, alice)).toEqual({
      ok: false,
      detail: "only alice leg is callwright's: the far end (sip:bob@lab) is not observed, so transcoding cannot be told",
      reason: 'check_failed',
    });
  });
});

describe('video check', () => {
  const videoIn = (frames: number, bytes: number, freezes: number, freezeSeconds: number) => ({
    codec: 'VP8', packetsReceived: frames * 2, bytesReceived: bytes, packetsLost: 0, jitterSeconds: 0, framesDecoded: frames,
    frameWidth: 320, frameHeight: 240, freezeCount: freezes, totalFreezesSeconds: freezeSeconds,
  });
  /** A leg sampled twice, 1 s apart: 15 frames and 31 250 bytes (250 kbps) in the last interval. */
  function receiving(freezes = 0, freezeSeconds = 0): LegRecord {
    const record = leg('bob', 'incoming');
    record.addStats({ type: 'stats', legId: record.legId, atMs: T0, sample: { videoIn: videoIn(100, 100_000, 0, 0) } });
    record.addStats({ type: 'stats', legId: record.legId, atMs: T0 + 1000, sample: { videoIn: videoIn(115, 131_250, freezes, freezeSeconds) } });
    return record;
  }

  it('frame rate and bitrate from the last interval, size from the last frame, freezes since the start', () => {
    expect(check({ kind: 'video', limits: { minFps: 10, minKbps: 100, maxKbps: 300, minWidth: 320, minHeight: 240, maxFreezes: 0, maxFreezeSeconds: 0.5 } }, receiving())).toEqual({
      ok: true,
      detail: 'bob: video in 15.0 fps, 250 kbps, 320x240, 0 freezes (0.000 s)',
      reason: 'check_failed',
    });
  });

  it('names every limit broken', () => {
    const outcome = check({ kind: 'video', limits: { minFps: 20, maxKbps: 200, minWidth: 640, maxFreezes: 0, maxFreezeSeconds: 0.5 } }, receiving(1, 2.1));
    expect(outcome).toEqual({
      ok: false,
      detail: 'bob: video in 15.0 fps, 250 kbps, 320x240, 1 freezes (2.100 s): 15.0 fps < 20, 250 kbps > 200, width 320 < 640, 1 freezes > 0, frozen 2.100 s > 0.5',
      reason: 'check_failed',
    });
  });

  it('no video received is no_media; a limit with nothing to judge it on does not hold', () => {
    expect(check({ kind: 'video', limits: { minFps: 1 } }, leg('bob'))).toEqual({ ok: false, detail: 'bob: no video received yet', reason: 'no_media' });
    const audioOnly = withSample({ audioIn: { packetsReceived: 50, bytesReceived: 1, packetsLost: 0, jitterSeconds: 0 } });
    expect(check({ kind: 'video', limits: { maxFreezes: 0 } }, audioOnly).reason).toBe('no_media');
    const once = leg('bob');
    once.addStats({ type: 'stats', legId: once.legId, atMs: T0, sample: { videoIn: { ...videoIn(10, 1000, 0, 0), freezeCount: undefined, totalFreezesSeconds: undefined } } });
    expect(check({ kind: 'video', limits: { minFps: 1, maxFreezes: 0 } }, once)).toEqual({
      ok: false,
      detail: 'bob: video in no interval yet, 320x240, freezes not reported: no whole stats interval yet, freezes not reported by the browser',
      reason: 'check_failed',
    });
  });
});
