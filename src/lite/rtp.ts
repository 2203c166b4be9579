/**
 * RTP, RTCP and RFC 4733 packets for lite agents, and the receive statistics
 * of RFC 3550 appendix A: pure functions and small classes over Buffers, no
 * I/O and no clock of their own (callers pass times in), so they are unit
 * tested on synthetic packet sequences.
 *
 * Only what a lite leg needs: fixed RTP headers (no extensions sent, any
 * received ones skipped), SR/RR with report blocks, SDES CNAME, BYE, and
 * telephone-events.
 */

// ---------------------------------------------------------------------------
// RTP

export interface RtpHeaderFields {
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  marker?: boolean;
}

/** A 12-byte RTP header (version 2, no padding, no extension, no CSRC) followed by `payload`. */
export function buildRtp(fields: RtpHeaderFields, payload: Uint8Array): Buffer {
  const packet = Buffer.allocUnsafe(12 + payload.length);
  packet[0] = 0x80;
  packet[1] = (fields.marker ? 0x80 : 0) | (fields.payloadType & 0x7f);
  packet.writeUInt16BE(fields.sequenceNumber & 0xffff, 2);
  packet.writeUInt32BE(fields.timestamp >>> 0, 4);
  packet.writeUInt32BE(fields.ssrc >>> 0, 8);
  packet.set(payload, 12);
  return packet;
}

export interface RtpPacket {
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  /** Where the payload starts: after the CSRC list and any header extension. */
  payloadOffset: number;
  /** Payload bytes without padding (what getStats counts as bytesReceived). */
  payloadLength: number;
}

/** Parses an RTP header; undefined when the bytes are not a well-formed version 2 RTP packet. */
export function parseRtp(packet: Uint8Array): RtpPacket | undefined {
  if (packet.length < 12 || packet[0]! >> 6 !== 2) return undefined;
  const first = packet[0]!;
  const csrcCount = first & 0x0f;
  let offset = 12 + 4 * csrcCount;
  if (first & 0x10) {
    if (packet.length < offset + 4) return undefined;
    const words = (packet[offset + 2]! << 8) | packet[offset + 3]!;
    offset += 4 + 4 * words;
  }
  let end = packet.length;
  if (first & 0x20) {
    const padding = packet[packet.length - 1]!;
    if (padding === 0) return undefined;
    end -= padding;
  }
  if (end < offset) return undefined;
  return {
    marker: (packet[1]! & 0x80) !== 0,
    payloadType: packet[1]! & 0x7f,
    sequenceNumber: (packet[2]! << 8) | packet[3]!,
    timestamp: readU32(packet, 4),
    ssrc: readU32(packet, 8),
    payloadOffset: offset,
    payloadLength: end - offset,
  };
}

/**
 * RTCP or RTP on an rtcp-mux transport (RFC 5761 section 4): version 2 and a
 * second byte of 192-223, the range RTP payload types 64-95 (never used with
 * rtcp-mux) would take with the marker bit; SR/RR/SDES/BYE/APP/RTPFB/PSFB/XR
 * are 200-207.
 */
export function isRtcp(packet: Uint8Array): boolean {
  return packet.length >= 8 && packet[0]! >> 6 === 2 && packet[1]! >= 192 && packet[1]! <= 223;
}

/**
 * The primary block of an RFC 2198 (red) payload: the last one, after the
 * redundant blocks. undefined when the headers do not add up.
 */
export function redPrimary(payload: Uint8Array): { payloadType: number; data: Uint8Array } | undefined {
  let offset = 0;
  let redundantBytes = 0;
  while (offset < payload.length && payload[offset]! & 0x80) {
    if (offset + 4 > payload.length) return undefined;
    redundantBytes += ((payload[offset + 2]! & 0x03) << 8) | payload[offset + 3]!;
    offset += 4;
  }
  if (offset >= payload.length) return undefined;
  const payloadType = payload[offset]! & 0x7f;
  const start = offset + 1 + redundantBytes;
  if (start > payload.length) return undefined;
  return { payloadType, data: payload.subarray(start) };
}

// ---------------------------------------------------------------------------
// RFC 4733 telephone-events

/** DTMF tone characters and their RFC 4733 event codes (section 3.2). */
const DTMF_EVENTS = '0123456789*#ABCD';

export function dtmfEventCode(tone: string): number | undefined {
  const index = DTMF_EVENTS.indexOf(tone.toUpperCase());
  return tone.length === 1 && index >= 0 ? index : undefined;
}

export function dtmfTone(event: number): string | undefined {
  return event >= 0 && event < DTMF_EVENTS.length ? DTMF_EVENTS.charAt(event) : undefined;
}

export interface TelephoneEvent {
  event: number;
  end: boolean;
  /** 0-63, the power level as -dBm0 (Chrome's insertDTMF sends 10). */
  volume: number;
  /** In RTP timestamp units of the telephone-event clock. */
  duration: number;
}

export function buildTelephoneEvent(event: TelephoneEvent): Buffer {
  const payload = Buffer.alloc(4);
  payload[0] = event.event & 0xff;
  payload[1] = (event.end ? 0x80 : 0) | (event.volume & 0x3f);
  payload.writeUInt16BE(Math.min(0xffff, event.duration), 2);
  return payload;
}

export function parseTelephoneEvent(payload: Uint8Array): TelephoneEvent | undefined {
  if (payload.length < 4) return undefined;
  return { event: payload[0]!, end: (payload[1]! & 0x80) !== 0, volume: payload[1]! & 0x3f, duration: (payload[2]! << 8) | payload[3]! };
}

// ---------------------------------------------------------------------------
// NTP time (RFC 3550 section 4)

const NTP_UNIX_OFFSET_SECONDS = 2_208_988_800;

export interface NtpTime {
  seconds: number;
  fraction: number;
}

/** Wall-clock milliseconds since 1970 as a 64-bit NTP timestamp. */
export function ntpFromUnixMs(unixMs: number): NtpTime {
  const total = unixMs / 1000 + NTP_UNIX_OFFSET_SECONDS;
  const seconds = Math.floor(total);
  return { seconds: seconds >>> 0, fraction: Math.floor((total - seconds) * 2 ** 32) >>> 0 };
}

/** The middle 32 bits of an NTP timestamp (16.16 fixed point seconds): LSR, DLSR and RTT arithmetic use these. */
export function ntpMiddle32(ntp: NtpTime): number {
  return (((ntp.seconds & 0xffff) << 16) | (ntp.fraction >>> 16)) >>> 0;
}

/**
 * Round-trip time from a report block about our stream (RFC 3550 section
 * 6.4.1): arrival time minus LSR minus DLSR, all middle-32 NTP units
 * (1/65536 s). undefined when the far end has had no SR from us (LSR 0);
 * a tiny negative result (clock granularity) counts as 0.
 */
export function roundTripSeconds(arrivalMiddle32: number, lsr: number, dlsr: number): number | undefined {
  if (lsr === 0) return undefined;
  const rtt = (arrivalMiddle32 - lsr - dlsr) | 0;
  return Math.max(0, rtt) / 65536;
}

// ---------------------------------------------------------------------------
// RTCP

export interface ReportBlock {
  ssrc: number;
  /** Fraction lost since the previous report, 0-255 (fixed point /256). */
  fractionLost: number;
  /** Cumulative packets lost, a signed 24-bit number. */
  cumulativeLost: number;
  extendedHighestSequence: number;
  /** Interarrival jitter in RTP timestamp units. */
  jitter: number;
  lastSr: number;
  delaySinceLastSr: number;
}

export interface SenderInfo {
  ntp: NtpTime;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
}

export type RtcpPacket =
  | { type: 'sr'; ssrc: number; sender: SenderInfo; reports: ReportBlock[] }
  | { type: 'rr'; ssrc: number; reports: ReportBlock[] }
  | { type: 'sdes'; chunks: { ssrc: number; cname?: string }[] }
  | { type: 'bye'; ssrcs: number[] }
  | { type: 'other'; packetType: number };

function header(packetType: number, count: number, lengthBytes: number): Buffer {
  const packet = Buffer.alloc(lengthBytes);
  packet[0] = 0x80 | (count & 0x1f);
  packet[1] = packetType;
  packet.writeUInt16BE(lengthBytes / 4 - 1, 2);
  return packet;
}

function writeReportBlock(packet: Buffer, offset: number, block: ReportBlock): void {
  packet.writeUInt32BE(block.ssrc >>> 0, offset);
  packet[offset + 4] = Math.max(0, Math.min(255, block.fractionLost));
  // Signed 24-bit, saturated (RFC 3550 6.4.1).
  const lost = Math.max(-0x800000, Math.min(0x7fffff, block.cumulativeLost)) & 0xffffff;
  packet[offset + 5] = lost >> 16;
  packet.writeUInt16BE(lost & 0xffff, offset + 6);
  packet.writeUInt32BE(block.extendedHighestSequence >>> 0, offset + 8);
  packet.writeUInt32BE(Math.min(0xffffffff, Math.max(0, Math.floor(block.jitter))) >>> 0, offset + 12);
  packet.writeUInt32BE(block.lastSr >>> 0, offset + 16);
  packet.writeUInt32BE(block.delaySinceLastSr >>> 0, offset + 20);
}

function readReportBlock(packet: Uint8Array, offset: number): ReportBlock {
  const lost24 = (packet[offset + 5]! << 16) | (packet[offset + 6]! << 8) | packet[offset + 7]!;
  return {
    ssrc: readU32(packet, offset),
    fractionLost: packet[offset + 4]!,
    cumulativeLost: lost24 & 0x800000 ? lost24 - 0x1000000 : lost24,
    extendedHighestSequence: readU32(packet, offset + 8),
    jitter: readU32(packet, offset + 12),
    lastSr: readU32(packet, offset + 16),
    delaySinceLastSr: readU32(packet, offset + 20),
  };
}

export function buildSenderReport(ssrc: number, sender: SenderInfo, reports: readonly ReportBlock[] = []): Buffer {
  const packet = header(200, reports.length, 28 + 24 * reports.length);
  packet.writeUInt32BE(ssrc >>> 0, 4);
  packet.writeUInt32BE(sender.ntp.seconds >>> 0, 8);
  packet.writeUInt32BE(sender.ntp.fraction >>> 0, 12);
  packet.writeUInt32BE(sender.rtpTimestamp >>> 0, 16);
  packet.writeUInt32BE(sender.packetCount >>> 0, 20);
  packet.writeUInt32BE(sender.octetCount >>> 0, 24);
  reports.forEach((block, i) => writeReportBlock(packet, 28 + 24 * i, block));
  return packet;
}

export function buildReceiverReport(ssrc: number, reports: readonly ReportBlock[] = []): Buffer {
  const packet = header(201, reports.length, 8 + 24 * reports.length);
  packet.writeUInt32BE(ssrc >>> 0, 4);
  reports.forEach((block, i) => writeReportBlock(packet, 8 + 24 * i, block));
  return packet;
}

/** SDES with one chunk: CNAME (item 1), then END, padded to 32 bits. */
export function buildSdesCname(ssrc: number, cname: string): Buffer {
  const name = Buffer.from(cname, 'utf8').subarray(0, 255);
  const chunkBytes = 4 + 2 + name.length + 1;
  const padded = Math.ceil(chunkBytes / 4) * 4;
  const packet = header(202, 1, 4 + padded);
  packet.writeUInt32BE(ssrc >>> 0, 4);
  packet[8] = 1;
  packet[9] = name.length;
  name.copy(packet, 10);
  return packet;
}

export function buildBye(ssrc: number): Buffer {
  const packet = header(203, 1, 8);
  packet.writeUInt32BE(ssrc >>> 0, 4);
  return packet;
}

/** Each packet of a compound RTCP datagram; parsing stops at the first malformed one. */
export function parseRtcp(datagram: Uint8Array): RtcpPacket[] {
  const packets: RtcpPacket[] = [];
  let offset = 0;
  while (offset + 4 <= datagram.length) {
    if (datagram[offset]! >> 6 !== 2) break;
    const count = datagram[offset]! & 0x1f;
    const packetType = datagram[offset + 1]!;
    const length = (((datagram[offset + 2]! << 8) | datagram[offset + 3]!) + 1) * 4;
    if (offset + length > datagram.length) break;
    const body = datagram.subarray(offset, offset + length);
    if (packetType === 200 && length >= 28 + 24 * count) {
      packets.push({
        type: 'sr',
        ssrc: readU32(body, 4),
        sender: {
          ntp: { seconds: readU32(body, 8), fraction: readU32(body, 12) },
          rtpTimestamp: readU32(body, 16),
          packetCount: readU32(body, 20),
          octetCount: readU32(body, 24),
        },
        reports: Array.from({ length: count }, (_, i) => readReportBlock(body, 28 + 24 * i)),
      });
    } else if (packetType === 201 && length >= 8 + 24 * count) {
      packets.push({ type: 'rr', ssrc: readU32(body, 4), reports: Array.from({ length: count }, (_, i) => readReportBlock(body, 8 + 24 * i)) });
    } else if (packetType === 202) {
      packets.push({ type: 'sdes', chunks: parseSdesChunks(body, count) });
    } else if (packetType === 203) {
      packets.push({ type: 'bye', ssrcs: Array.from({ length: Math.min(count, (length - 4) / 4) }, (_, i) => readU32(body, 4 + 4 * i)) });
    } else {
      packets.push({ type: 'other', packetType });
    }
    offset += length;
  }
  return packets;
}

function parseSdesChunks(body: Uint8Array, count: number): { ssrc: number; cname?: string }[] {
  const chunks: { ssrc: number; cname?: string }[] = [];
  let offset = 4;
  for (let c = 0; c < count && offset + 4 <= body.length; c++) {
    const chunk: { ssrc: number; cname?: string } = { ssrc: readU32(body, offset) };
    offset += 4;
    while (offset < body.length && body[offset] !== 0) {
      const item = body[offset]!;
      const length = body[offset + 1] ?? 0;
      if (item === 1) chunk.cname = Buffer.from(body.subarray(offset + 2, offset + 2 + length)).toString('utf8');
      offset += 2 + length;
    }
    offset = (Math.floor(offset / 4) + 1) * 4; // the END item and padding to the next 32-bit boundary
    chunks.push(chunk);
  }
  return chunks;
}

// ---------------------------------------------------------------------------
// Receive statistics (RFC 3550 appendix A.1, A.3, A.8)

const RTP_SEQ_MOD = 0x10000;
const MAX_DROPOUT = 3000;
const MAX_MISORDER = 100;

/**
 * One received source's sequence, loss and jitter bookkeeping. No probation
 * (A.1's MIN_SEQUENTIAL): SRTP already authenticates the source, and
 * browsers count a stream from its first packet.
 */
export class ReceiveStatistics {
  /** Every packet counted, duplicates included, never reset (getStats' packetsReceived). */
  packetsReceived = 0;
  /** Interarrival jitter in RTP timestamp units, as RFC 3550 A.8 keeps it (a float here). */
  jitter = 0;
  /** The clock rate `jitter` is in (0 before any audio). */
  get jitterClockRate(): number {
    return this.lastClockRate;
  }
  private started = false;
  private baseSeq = 0;
  private maxSeq = 0;
  private cycles = 0;
  private badSeq = RTP_SEQ_MOD + 1;
  /** A.1's `received`: packets since base_seq (reset when the sender restarts its sequence). */
  private received = 0;
  private expectedPrior = 0;
  private receivedPrior = 0;
  /** Loss counted before a sequence restart, so the cumulative figure keeps it. */
  private lostBeforeRestart = 0;
  private lastTransit: number | undefined;
  private lastTimestamp: number | undefined;
  private lastClockRate = 0;

  /**
   * Counts one packet. `arrivalSeconds` is any monotonic clock; `clockRate`
   * the RTP clock of its payload type, or undefined to leave jitter alone
   * (a telephone-event on another clock than the audio). Jitter is updated
   * only when the RTP timestamp moves (as Chrome does), so the repeated
   * timestamps of an RFC 4733 event do not read as delay variation; a change
   * of clock rate restarts it. Returns false for a packet A.1 sets aside (a
   * big jump not yet confirmed by the next packet).
   */
  update(sequenceNumber: number, timestamp: number, arrivalSeconds: number, clockRate: number | undefined): boolean {
    if (!this.started) {
      this.started = true;
      this.restart(sequenceNumber);
    } else if (!this.updateSequence(sequenceNumber)) {
      return false;
    }
    this.received++;
    this.packetsReceived++;
    if (clockRate !== undefined && (timestamp !== this.lastTimestamp || clockRate !== this.lastClockRate)) {
      const transit = arrivalSeconds * clockRate - timestamp;
      if (this.lastTransit !== undefined && clockRate === this.lastClockRate) {
        // RTP timestamps wrap at 2^32: the difference modulo 2^32, as a signed number.
        const d = mod(transit - this.lastTransit + 2 ** 31, 2 ** 32) - 2 ** 31;
        this.jitter += (Math.abs(d) - this.jitter) / 16;
      } else if (this.lastClockRate !== 0) {
        this.jitter = 0;
      }
      this.lastTransit = transit;
      this.lastTimestamp = timestamp;
      this.lastClockRate = clockRate;
    }
    return true;
  }

  /** A.1 init_seq. */
  private restart(seq: number): void {
    this.baseSeq = seq;
    this.maxSeq = seq;
    this.badSeq = RTP_SEQ_MOD + 1;
    this.cycles = 0;
    this.received = 0;
    this.receivedPrior = 0;
    this.expectedPrior = 0;
  }

  /** RFC 3550 A.1 update_seq without probation. */
  private updateSequence(seq: number): boolean {
    const delta = mod(seq - this.maxSeq, RTP_SEQ_MOD);
    if (delta < MAX_DROPOUT) {
      if (seq < this.maxSeq) this.cycles += RTP_SEQ_MOD; // wrapped
      this.maxSeq = seq;
    } else if (delta <= RTP_SEQ_MOD - MAX_MISORDER) {
      // A very large jump: if the next packet follows on from it, the sender restarted its sequence.
      if (seq !== this.badSeq) {
        this.badSeq = (seq + 1) % RTP_SEQ_MOD;
        return false;
      }
      this.lostBeforeRestart = this.cumulativeLost;
      this.restart(seq);
    }
    // else: a duplicate or reordered packet: counted, max_seq stays.
    return true;
  }

  /** cycles + max_seq: the extended highest sequence number received. */
  get extendedHighestSequence(): number {
    return this.cycles + this.maxSeq;
  }

  /** A.3 expected since base_seq. */
  private get expected(): number {
    return this.started ? this.extendedHighestSequence - this.baseSeq + 1 : 0;
  }

  /** Cumulative packets lost (A.3): expected minus received; negative with duplicates. */
  get cumulativeLost(): number {
    return this.lostBeforeRestart + this.expected - this.received;
  }

  /**
   * The report block for this source, with the fraction lost since the
   * previous call (A.3), and LSR/DLSR from the last SR the caller saw from it.
   */
  reportBlock(ssrc: number, lastSr = 0, delaySinceLastSr = 0): ReportBlock {
    const expected = this.expected;
    const expectedInterval = expected - this.expectedPrior;
    const receivedInterval = this.received - this.receivedPrior;
    this.expectedPrior = expected;
    this.receivedPrior = this.received;
    const lostInterval = expectedInterval - receivedInterval;
    const fractionLost = expectedInterval === 0 || lostInterval <= 0 ? 0 : Math.floor((lostInterval * 256) / expectedInterval);
    return {
      ssrc,
      fractionLost: Math.min(255, fractionLost),
      cumulativeLost: this.cumulativeLost,
      extendedHighestSequence: this.extendedHighestSequence >>> 0,
      jitter: Math.floor(this.jitter),
      lastSr,
      delaySinceLastSr,
    };
  }
}

function mod(value: number, modulus: number): number {
  return ((value % modulus) + modulus) % modulus;
}

function readU32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0;
}
