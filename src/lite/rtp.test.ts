import { describe, expect, it } from 'vitest';
import {
  buildBye,
  buildReceiverReport,
  buildRtp,
  buildSdesCname,
  buildSenderReport,
  buildTelephoneEvent,
  dtmfEventCode,
  dtmfTone,
  isRtcp,
  ntpFromUnixMs,
  ntpMiddle32,
  parseRtcp,
  parseRtp,
  parseTelephoneEvent,
  ReceiveStatistics,
  redPrimary,
  roundTripSeconds,
  type ReportBlock,
} from './rtp.js';

describe('RTP packets', () => {
  it('builds and parses a fixed header with its payload', () => {
    const payload = Buffer.from([1, 2, 3, 4, 5]);
    const packet = buildRtp({ payloadType: 111, sequenceNumber: 0xfffe, timestamp: 0xfffffff0, ssrc: 0xdeadbeef, marker: true }, payload);
    expect(packet.length).toBe(17);
    expect(packet[0]).toBe(0x80);
    expect(packet[1]).toBe(0x80 | 111);
    expect(parseRtp(packet)).toEqual({ marker: true, payloadType: 111, sequenceNumber: 0xfffe, timestamp: 0xfffffff0, ssrc: 0xdeadbeef, payloadOffset: 12, payloadLength: 5 });
    expect(isRtcp(packet)).toBe(false);
  });

  it('skips CSRCs and a header extension, and drops padding from the payload length', () => {
    // V=2, P=1, X=1, CC=1; one CSRC; one-byte extension header with 1 word; 3 payload bytes; 2 padding bytes.
    const packet = Buffer.from([
      0xb1, 0x00, 0x00, 0x01, 0, 0, 0, 1, 0, 0, 0, 2, // header
      0, 0, 0, 3, // CSRC
      0xbe, 0xde, 0x00, 0x01, 0x10, 0xff, 0x00, 0x00, // extension (1 word)
      9, 9, 9, // payload
      0, 2, // padding, last byte = count
    ]);
    const parsed = parseRtp(packet)!;
    expect(parsed.payloadOffset).toBe(24);
    expect(parsed.payloadLength).toBe(3);
    expect(parseRtp(Buffer.from([0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))).toBeUndefined(); // version 1
    expect(parseRtp(Buffer.alloc(8, 0x80))).toBeUndefined();
  });

  it('tells RTCP from RTP on an rtcp-mux transport by the second byte', () => {
    expect(isRtcp(buildReceiverReport(1))).toBe(true);
    expect(isRtcp(buildRtp({ payloadType: 0, sequenceNumber: 1, timestamp: 1, ssrc: 1, marker: true }, Buffer.alloc(4)))).toBe(false); // 0x80
    expect(isRtcp(buildRtp({ payloadType: 127, sequenceNumber: 1, timestamp: 1, ssrc: 1, marker: true }, Buffer.alloc(4)))).toBe(false); // 0xff
  });

  it('finds the primary block of an RFC 2198 red payload', () => {
    // one redundant block (PT 111, offset 960, 2 bytes), then the primary (PT 111) of 3 bytes
    const red = Buffer.from([0x80 | 111, 0x0f, 0x00, 0x02, 111, 0xaa, 0xbb, 1, 2, 3]);
    const primary = redPrimary(red)!;
    expect(primary.payloadType).toBe(111);
    expect([...primary.data]).toEqual([1, 2, 3]);
    expect(redPrimary(Buffer.from([0x80 | 111, 0, 0]))).toBeUndefined();
  });
});

describe('RFC 4733 telephone-events', () => {
  it('maps tones to event codes and back', () => {
    expect(dtmfEventCode('0')).toBe(0);
    expect(dtmfEventCode('9')).toBe(9);
    expect(dtmfEventCode('*')).toBe(10);
    expect(dtmfEventCode('#')).toBe(11);
    expect(dtmfEventCode('a')).toBe(12);
    expect(dtmfEventCode('D')).toBe(15);
    expect(dtmfEventCode('E')).toBeUndefined();
    expect(dtmfTone(11)).toBe('#');
    expect(dtmfTone(16)).toBeUndefined();
  });

  it('builds and parses the 4-byte payload', () => {
    const payload = buildTelephoneEvent({ event: 11, end: true, volume: 10, duration: 800 });
    expect([...payload]).toEqual([11, 0x80 | 10, 0x03, 0x20]);
    expect(parseTelephoneEvent(payload)).toEqual({ event: 11, end: true, volume: 10, duration: 800 });
    expect(parseTelephoneEvent(buildTelephoneEvent({ event: 1, end: false, volume: 10, duration: 70000 }))?.duration).toBe(0xffff);
  });
});

describe('RTCP', () => {
  const block: ReportBlock = { ssrc: 0x01020304, fractionLost: 64, cumulativeLost: -3, extendedHighestSequence: 0x0001_0005, jitter: 123, lastSr: 0xabcd1234, delaySinceLastSr: 65536 };

  it('round-trips a compound SR + SDES + BYE', () => {
    const ntp = ntpFromUnixMs(1_700_000_000_250);
    const sr = buildSenderReport(42, { ntp, rtpTimestamp: 9600, packetCount: 500, octetCount: 40000 }, [block]);
    expect(sr.length).toBe(52);
    expect(sr.readUInt16BE(2)).toBe(12); // length in words minus one
    const compound = Buffer.concat([sr, buildSdesCname(42, 'DQFI44hl7xaYLrV0'), buildBye(42)]);
    expect(isRtcp(compound)).toBe(true);
    const packets = parseRtcp(compound);
    expect(packets).toEqual([
      { type: 'sr', ssrc: 42, sender: { ntp, rtpTimestamp: 9600, packetCount: 500, octetCount: 40000 }, reports: [block] },
      { type: 'sdes', chunks: [{ ssrc: 42, cname: 'DQFI44hl7xaYLrV0' }] },
      { type: 'bye', ssrcs: [42] },
    ]);
  });

  it('round-trips an RR, with and without report blocks', () => {
    expect(parseRtcp(buildReceiverReport(7, [block]))).toEqual([{ type: 'rr', ssrc: 7, reports: [block] }]);
    expect(parseRtcp(buildReceiverReport(7))).toEqual([{ type: 'rr', ssrc: 7, reports: [] }]);
  });

  it('pads SDES chunks to 32 bits whatever the CNAME length', () => {
    for (const cname of ['', 'a', 'ab', 'abc', 'abcd', 'abcdefghijklmnop']) {
      const sdes = buildSdesCname(5, cname);
      expect(sdes.length % 4).toBe(0);
      expect(parseRtcp(sdes)).toEqual([{ type: 'sdes', chunks: [{ ssrc: 5, ...(cname ? { cname } : { cname: '' }) }] }]);
    }
  });

  it('reads the packets it does not know as "other" and stops at a truncated one', () => {
    const feedback = Buffer.from([0x8f, 205, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2]);
    expect(parseRtcp(Buffer.concat([feedback, buildReceiverReport(1).subarray(0, 6)]))).toEqual([{ type: 'other', packetType: 205 }]);
  });
});

describe('NTP time and round-trip time', () => {
  it('converts Unix milliseconds to NTP and takes the middle 32 bits', () => {
    const ntp = ntpFromUnixMs(0);
    expect(ntp).toEqual({ seconds: 2_208_988_800, fraction: 0 });
    const half = ntpFromUnixMs(500);
    expect(half.fraction).toBe(2 ** 31);
    expect(ntpMiddle32(half)).toBe((((2_208_988_800 & 0xffff) << 16) | 0x8000) >>> 0);
  });

  it('computes RTT as arrival - LSR - DLSR (RFC 3550 6.4.1)', () => {
    // We sent an SR at t=10.000 s; the far end held it 0.25 s; its report arrived at t=10.300 s: RTT 50 ms.
    const lsr = ntpMiddle32(ntpFromUnixMs(10_000));
    const arrival = ntpMiddle32(ntpFromUnixMs(10_300));
    const rtt = roundTripSeconds(arrival, lsr, 0.25 * 65536)!;
    expect(rtt).toBeCloseTo(0.05, 4);
    expect(roundTripSeconds(arrival, 0, 100)).toBeUndefined(); // no SR of ours seen yet
    expect(roundTripSeconds(lsr, lsr, 10)).toBe(0); // clock granularity: never negative
    // across the wrap of the middle 32 bits
    expect(roundTripSeconds(0x00000100, 0xffffff00, 0x100)!).toBeCloseTo(0x100 / 65536, 8);
  });
});

describe('ReceiveStatistics (RFC 3550 A.1, A.3, A.8)', () => {
  const CLOCK = 8000;

  it('counts a gap as loss, in total and as the fraction of the interval', () => {
    const stats = new ReceiveStatistics();
    // 100 packets at 20 ms, seq 1000..1099, with 1040..1049 missing
    for (let i = 0; i < 100; i++) {
      if (i >= 40 && i < 50) continue;
      stats.update(1000 + i, 160 * i, i * 0.02, CLOCK);
    }
    expect(stats.packetsReceived).toBe(90);
    expect(stats.cumulativeLost).toBe(10);
    expect(stats.extendedHighestSequence).toBe(1099);
    const block = stats.reportBlock(9);
    expect(block.fractionLost).toBe(Math.floor((10 * 256) / 100));
    expect(block.cumulativeLost).toBe(10);
    // the next interval has no loss
    for (let i = 100; i < 150; i++) stats.update(1000 + i, 160 * i, i * 0.02, CLOCK);
    expect(stats.reportBlock(9).fractionLost).toBe(0);
    expect(stats.cumulativeLost).toBe(10);
  });

  it('keeps zero jitter for perfectly paced packets and converges on a known delay variation', () => {
    const steady = new ReceiveStatistics();
    for (let i = 0; i < 200; i++) steady.update(i, 160 * i, 5 + i * 0.02, CLOCK);
    expect(steady.jitter).toBeCloseTo(0, 9);

    // Every other packet arrives 4 ms late: |D| is 4 ms = 32 timestamp units between every pair,
    // and J += (|D| - J) / 16 converges on 32 units (4 ms).
    const alternating = new ReceiveStatistics();
    for (let i = 0; i < 400; i++) alternating.update(i, 160 * i, i * 0.02 + (i % 2 ? 0.004 : 0), CLOCK);
    expect(alternating.jitter).toBeCloseTo(32, 3);
    expect(alternating.jitter / CLOCK).toBeCloseTo(0.004, 6);
  });

  it('follows A.8 step by step on a short sequence', () => {
    const stats = new ReceiveStatistics();
    stats.update(1, 0, 0, CLOCK);
    stats.update(2, 160, 0.03, CLOCK); // D = 0.01 s late = 80 units: J = 80/16 = 5
    expect(stats.jitter).toBeCloseTo(5, 9);
    stats.update(3, 320, 0.05, CLOCK); // D = 0: J = 5 - 5/16
    expect(stats.jitter).toBeCloseTo(5 - 5 / 16, 9);
  });

  it('does not count the repeated timestamps of an RFC 4733 event as jitter', () => {
    const stats = new ReceiveStatistics();
    for (let i = 0; i < 10; i++) stats.update(i, 1000, i * 0.02, CLOCK); // one event, 10 packets, same timestamp
    expect(stats.jitter).toBe(0);
    expect(stats.packetsReceived).toBe(10);
  });

  it('extends sequence numbers across the 16-bit wrap without counting loss', () => {
    const stats = new ReceiveStatistics();
    for (let i = 0; i < 20; i++) stats.update((65530 + i) % 65536, 160 * i, i * 0.02, CLOCK);
    expect(stats.extendedHighestSequence).toBe(65536 + 13);
    expect(stats.cumulativeLost).toBe(0);
    expect(stats.reportBlock(1).extendedHighestSequence).toBe(65536 + 13);
  });

  it('takes reordered and duplicated packets as A.1 does (duplicates make loss negative)', () => {
    const stats = new ReceiveStatistics();
    for (const seq of [10, 11, 13, 12, 14, 14]) stats.update(seq, seq * 160, seq * 0.02, CLOCK);
    expect(stats.extendedHighestSequence).toBe(14);
    expect(stats.packetsReceived).toBe(6);
    expect(stats.cumulativeLost).toBe(-1);
  });

  it('sets aside one big jump, and restarts on a second packet that confirms it', () => {
    const stats = new ReceiveStatistics();
    for (let i = 0; i < 10; i++) stats.update(100 + i, i * 160, i * 0.02, CLOCK);
    expect(stats.update(40_000, 0, 1, CLOCK)).toBe(false);
    expect(stats.update(40_001, 160, 1.02, CLOCK)).toBe(true);
    expect(stats.update(40_002, 320, 1.04, CLOCK)).toBe(true);
    expect(stats.packetsReceived).toBe(12);
    expect(stats.extendedHighestSequence).toBe(40_002);
    expect(stats.cumulativeLost).toBe(0);
  });
});
