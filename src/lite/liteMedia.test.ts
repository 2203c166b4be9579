import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MediaSample } from '../protocol/events.js';
import { KnownFrames, loadAllAudioFrames } from './audioFrames.js';
import { makeCertificate } from './certificate.js';
import { parseSdp } from './chromeSdp.js';
import { LiteMediaSession, sendScheduler, type LiteMediaOptions } from './liteMedia.js';

// Two lite legs in this process over 127.0.0.1: real ICE, DTLS-SRTP and RTP through node-datachannel.
const frames = loadAllAudioFrames(fileURLToPath(new URL('../../fixtures/audio-frames', import.meta.url)));
const known = new KnownFrames(frames.values());

interface Leg {
  session: LiteMediaSession;
  transport: string[];
  dtmf: string[];
  firstMedia: number;
  /** The selected candidate pair, from the first sample that had it. */
  pair?: MediaSample['selectedPair'];
}

/** A sample, keeping the selected pair (samples carry it only when it changes). */
function sampleOf(l: Leg): MediaSample {
  const sample = l.session.sample();
  l.pair ??= sample.selectedPair;
  return sample;
}

function leg(extra: Partial<LiteMediaOptions> = {}): Leg {
  const leg: Leg = { session: undefined as unknown as LiteMediaSession, transport: [], dtmf: [], firstMedia: 0 };
  leg.session = new LiteMediaSession({
    frames,
    known,
    rtcpIntervalMs: 400,
    onTransport: (layer, state) => leg.transport.push(`${layer}:${state}`),
    onFirstMedia: () => leg.firstMedia++,
    onDtmf: (tone) => leg.dtmf.push(tone),
    ...extra,
  });
  return leg;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, condition: () => boolean, timeoutMs = 8000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

async function connect(a: Leg, b: Leg, offerCodecs?: string[], mangle: (offer: string) => string = (s) => s): Promise<{ offer: string; answer: string }> {
  const offer = await a.session.createOffer('sendrecv', offerCodecs);
  const answer = await b.session.acceptOffer(mangle(offer), 'sendrecv');
  await a.session.setRemoteAnswer(answer);
  await until('both legs connected', () => a.transport.includes('connection:connected') && b.transport.includes('connection:connected'));
  await until('media both ways', () => (sampleOf(a).audioIn?.packetsReceived ?? 0) > 0 && (sampleOf(b).audioIn?.packetsReceived ?? 0) > 0);
  return { offer, answer };
}

describe('LiteMediaSession: two legs over loopback', () => {
  const a = leg();
  const b = leg();
  let answer = '';

  beforeAll(async () => {
    ({ answer } = await connect(a, b));
  }, 20_000);

  afterAll(() => {
    a.session.close();
    b.session.close();
  });

  it('negotiates opus and reports the transport as RTCPeerConnection would', () => {
    expect(a.session.codec).toBe('opus');
    expect(b.session.codec).toBe('opus');
    expect(parseSdp(answer).setup).toBe('active');
    for (const l of [a, b]) {
      expect(l.transport).toContain('ice:checking');
      expect(l.transport).toContain('ice:connected');
      expect(l.transport).toContain('dtls:connecting');
      expect(l.transport).toContain('dtls:connected');
      expect(l.transport.indexOf('dtls:connecting')).toBeLessThan(l.transport.indexOf('dtls:connected'));
      expect(l.firstMedia).toBe(1);
    }
  });

  it('carries 3 s of audio without loss, recognises every frame, and measures RTT from its own SR/RR', async () => {
    expect(a.pair?.local).toMatchObject({ type: 'host', protocol: 'udp', address: '127.0.0.1' });
    expect(a.pair?.remote.address).toBe('127.0.0.1');
    expect(a.session.sample().selectedPair).toBeUndefined(); // only when it changes
    const sentBefore = a.session.sample().audioOut!.packetsSent;
    const receivedBefore = b.session.sample().audioIn!.packetsReceived;
    await sleep(3000);
    const out = a.session.sample().audioOut!;
    const inB = b.session.sample().audioIn!;
    const sent = out.packetsSent - sentBefore;
    const received = inB.packetsReceived - receivedBefore;
    expect(sent).toBeGreaterThan(140); // 50 a second
    expect(sent).toBeLessThan(160);
    expect(Math.abs(received - sent) / sent).toBeLessThan(0.05);
    expect(inB.knownFrames).toBe(inB.packetsReceived);
    expect(inB.packetsLost).toBe(0);
    expect(inB.codec).toBe('opus');
    expect(inB.bytesReceived).toBeGreaterThan(inB.packetsReceived * 50);
    expect(inB.jitterSeconds).toBeLessThan(0.02);
    expect(out.bytesSent).toBeGreaterThan(out.packetsSent * 50);
    for (const l of [a, b]) {
      const o = l.session.sample().audioOut!;
      expect(o.roundTripTimeSeconds).toBeGreaterThan(0);
      expect(o.roundTripTimeSeconds).toBeLessThan(0.05);
      expect(o.remotePacketsLost).toBe(0);
      expect(o.remoteFractionLost).toBe(0);
      expect(o.remoteJitterSeconds).toBeLessThan(0.02);
    }
    expect(sendScheduler.lateMsMax).toBeLessThan(200);
  });

  it('sends RFC 4733 "1#" as insertDTMF would, and the far end hears each tone once', async () => {
    const tones: string[] = [];
    const started = performance.now();
    const burst = await a.session.sendDtmf('1#', 100, 70, (tone) => tones.push(tone));
    const elapsed = performance.now() - started;
    expect(tones).toEqual(['1', '#']);
    await until('both tones at the far end', () => b.dtmf.length >= 2, 2000);
    expect(b.dtmf).toEqual(['1', '#']);
    // 2 x (100 ms + 70 ms gap); each tone: 4 event packets + 3 end packets, audio packets in the gaps
    expect(elapsed).toBeGreaterThan(320);
    expect(elapsed).toBeLessThan(600);
    expect(burst.packetsSent).toBeGreaterThanOrEqual(14);
    expect(burst.packetsSent).toBeLessThan(25);
    expect(burst.seconds).toBeCloseTo(elapsed / 1000, 1);
    await expect(a.session.sendDtmf('x', 100, 70, () => undefined)).rejects.toThrow(/not a DTMF tone/);
  });

  it('holds with a sendonly re-offer (the held side stops sending) and resumes', async () => {
    const hold = a.session.reOffer('sendonly');
    expect(hold).toMatch(/\r\na=sendonly\r\n/);
    expect(parseSdp(hold).setup).toBe('actpass');
    const holdAnswer = await b.session.acceptOffer(hold, 'sendrecv');
    expect(holdAnswer).toMatch(/\r\na=recvonly\r\n/);
    expect(holdAnswer).toMatch(/^v=0\r\no=- \d+ 3 IN IP4 127\.0\.0\.1\r\n/);
    expect(parseSdp(holdAnswer).fingerprint).toBe(parseSdp(answer).fingerprint);
    await a.session.setRemoteAnswer(holdAnswer);
    await sleep(100);
    const aBefore = a.session.sample().audioOut!.packetsSent;
    const bBefore = b.session.sample().audioOut!.packetsSent;
    await sleep(1000);
    expect(a.session.sample().audioOut!.packetsSent - aBefore).toBeGreaterThan(40);
    expect(b.session.sample().audioOut!.packetsSent - bBefore).toBe(0);

    const resume = a.session.reOffer('sendrecv');
    await a.session.setRemoteAnswer(await b.session.acceptOffer(resume, 'sendrecv'));
    const bResumed = b.session.sample().audioOut!.packetsSent;
    await sleep(500);
    expect(b.session.sample().audioOut!.packetsSent - bResumed).toBeGreaterThan(15);
  });

  it("stops or silences its audio on a fault, and the far end's counters show it", async () => {
    a.session.setFault('silence');
    await sleep(100);
    const known = b.session.sample().audioIn!.knownFrames;
    const received = b.session.sample().audioIn!.packetsReceived;
    await sleep(500);
    expect(b.session.sample().audioIn!.packetsReceived - received).toBeGreaterThan(15);
    expect(b.session.sample().audioIn!.knownFrames).toBe(known); // silence is not a fixture frame
    a.session.setFault('stop');
    await sleep(100);
    const stopped = a.session.sample().audioOut!.packetsSent;
    await sleep(300);
    expect(a.session.sample().audioOut!.packetsSent).toBe(stopped);
    a.session.setFault('restore');
    await sleep(300);
    expect(a.session.sample().audioOut!.packetsSent).toBeGreaterThan(stopped);
  });
});

describe('LiteMediaSession: negotiation variants', () => {
  it("restricts the offer to a codec allow-list (['PCMU']) and sends PCMU", async () => {
    const a = leg();
    const b = leg();
    try {
      const { offer, answer } = await connect(a, b, ['PCMU']);
      expect(parseSdp(offer).audio?.codecs.map((c) => c.name)).toEqual(['PCMU']);
      expect(parseSdp(answer).audio?.codecs.map((c) => c.name)).toEqual(['PCMU']);
      expect(a.session.codec).toBe('PCMU');
      expect(b.session.codec).toBe('PCMU');
      await sleep(300);
      const inB = b.session.sample().audioIn!;
      expect(inB.codec).toBe('PCMU');
      expect(inB.knownFrames).toBe(inB.packetsReceived);
      expect(inB.bytesReceived).toBe(inB.packetsReceived * 160);
      await expect(a.session.sendDtmf('1', 100, 70, () => undefined)).rejects.toThrow(/no telephone-event/);
    } finally {
      a.session.close();
      b.session.close();
    }
  }, 20_000);

  it('answers an rtpengine-style offer (no BUNDLE, no mid, a=rtcp:PORT, G.711 first)', async () => {
    const a = leg();
    const b = leg();
    try {
      const { answer } = await connect(a, b, undefined, (offer) =>
        offer
          .replace('a=group:BUNDLE 0\r\n', '')
          .replace('a=mid:0\r\n', '')
          .replace(/a=extmap[^\r]*\r\n/g, '')
          .replace(/m=audio (\d+) UDP\/TLS\/RTP\/SAVPF 111 63 9 0 8 13 110 126/, 'm=audio $1 UDP/TLS/RTP/SAVPF 8 0 111 126')
          .replace('a=rtcp:9 IN IP4 0.0.0.0', (_, __, s: string) => `a=rtcp:${/m=audio (\d+)/.exec(s)?.[1]}`),
      );
      expect(answer).not.toContain('a=group:BUNDLE');
      expect(answer).toContain('\r\na=mid:0\r\n');
      expect(parseSdp(answer).audio?.codecs.map((c) => `${c.payloadType} ${c.name}`)).toEqual(['8 PCMA', '0 PCMU', '111 opus', '126 telephone-event']);
      expect(b.session.codec).toBe('PCMA');
      expect(a.session.codec).toBe('PCMA');
      await sleep(300);
      expect(a.session.sample().audioIn!.codec).toBe('PCMA');
    } finally {
      a.session.close();
      b.session.close();
    }
  }, 20_000);

  it("fails the transport when the far end's certificate is not the one its description names (the check libdatachannel skips)", async () => {
    const a = leg();
    const b = leg();
    try {
      const offer = await a.session.createOffer('sendrecv');
      const answer = await b.session.acceptOffer(offer, 'sendrecv');
      // The answer names another certificate than the one b's DTLS will present.
      const forged = answer.replace(/a=fingerprint:sha-256 ([0-9A-F:]+)/, (_, hex: string) => `a=fingerprint:sha-256 ${hex.startsWith('00') ? '11' : '00'}${hex.slice(2)}`);
      expect(forged).not.toBe(answer);
      await a.session.setRemoteAnswer(forged);
      await until('a fails the transport', () => a.transport.includes('dtls:failed'));
      expect(a.transport).toContain('connection:failed');
      expect(a.transport).not.toContain('connection:connected');
      await sleep(200);
      expect(b.session.sample().audioIn?.packetsReceived ?? 0).toBe(0);
    } finally {
      a.session.close();
      b.session.close();
    }
  }, 20_000);

  it('recovers from a connection lost while the first answer is applied: rebuilt under the offer already sent (same credentials, certificate and port)', async () => {
    const certificate = makeCertificate();
    const a = leg({ certificate });
    const b = leg();
    try {
      const offer = await a.session.createOffer('sendrecv');
      const answer = await b.session.acceptOffer(offer, 'sendrecv');
      const portBefore = /a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 (\d+)/.exec(offer)![1];
      // What applyFirstAnswer does when libdatachannel's DTLS startup race closed the connection.
      await (a.session as unknown as { rebuildTransport(): Promise<void> }).rebuildTransport();
      await a.session.setRemoteAnswer(answer);
      await until('both connected', () => a.transport.includes('connection:connected') && b.transport.includes('connection:connected'));
      await until('media both ways', () => (sampleOf(a).audioIn?.packetsReceived ?? 0) > 10 && (sampleOf(b).audioIn?.packetsReceived ?? 0) > 10);
      // The rebuilt connection took the port the offer named again: the far end's DTLS keeps its address.
      expect(b.pair && String(b.pair.remote.port)).toBe(portBefore);
      expect(b.transport).not.toContain('dtls:failed');
    } finally {
      a.session.close();
      b.session.close();
      rmSync(dirname(certificate.certificatePemFile), { recursive: true, force: true });
    }
  }, 20_000);
});
