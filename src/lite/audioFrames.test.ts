import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { KnownFrames, loadAllAudioFrames, loadAudioFrames, parseAudioFrames } from './audioFrames.js';

const FRAMES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'audio-frames');

/** A CWAF file: magic, version, then a big-endian uint16 length before each frame. */
function cwaf(frames: Uint8Array[], version = 1): Buffer {
  const parts: Buffer[] = [Buffer.from('CWAF', 'latin1'), Buffer.from([version])];
  for (const frame of frames) {
    const length = Buffer.alloc(2);
    length.writeUInt16BE(frame.length);
    parts.push(length, Buffer.from(frame));
  }
  return Buffer.concat(parts);
}

/** Frame duration in ms of an Opus TOC byte's config (RFC 6716 section 3.1, table 2). */
function opusFrameMs(toc: number): number {
  const config = toc >> 3;
  if (config < 12) return [10, 20, 40, 60][config % 4]!; // SILK-only NB/MB/WB
  if (config < 16) return [10, 20][config % 2]!; // Hybrid SWB/FB
  return [2.5, 5, 10, 20][config % 4]!; // CELT-only NB/WB/SWB/FB
}

describe('parseAudioFrames', () => {
  it('reads back the frames it was given, with the codec timing', () => {
    const frames = [Buffer.from([1, 2, 3]), Buffer.alloc(300, 7), Buffer.from([0xff])];
    const parsed = parseAudioFrames('opus', cwaf(frames), 'mem');
    expect(parsed).toMatchObject({ codec: 'opus', clockRate: 48_000, timestampStep: 960, frameMs: 20 });
    expect(parsed.frames.map((f) => [...f])).toEqual(frames.map((f) => [...f]));

    const pcmu = parseAudioFrames('PCMU', cwaf([Buffer.alloc(160, 0xff), Buffer.alloc(160, 0x7f)]), 'mem');
    expect(pcmu).toMatchObject({ clockRate: 8000, timestampStep: 160 });
    expect(parseAudioFrames('G722', cwaf([Buffer.alloc(160)]), 'mem')).toMatchObject({ clockRate: 8000, timestampStep: 160 });
  });

  it('bad magic: the error names the source', () => {
    expect(() => parseAudioFrames('opus', Buffer.from('RIFF\x01\x00\x01\x00', 'latin1'), '/x/opus.bin')).toThrow(/\/x\/opus\.bin.*not a CWAF file/);
    expect(() => parseAudioFrames('opus', Buffer.alloc(0), 'empty.bin')).toThrow(/empty\.bin/);
    expect(() => parseAudioFrames('opus', cwaf([Buffer.from([1])], 2), 'v2.bin')).toThrow(/v2\.bin: version 2/);
  });

  it('truncated records are errors naming the source', () => {
    const whole = cwaf([Buffer.from([1, 2, 3]), Buffer.from([4, 5, 6, 7])]);
    expect(() => parseAudioFrames('opus', whole.subarray(0, whole.length - 1), 'cut.bin')).toThrow(/cut\.bin: truncated: record 1 at byte 10 says 4 bytes, 3 remain/);
    expect(() => parseAudioFrames('opus', Buffer.concat([whole, Buffer.from([0])]), 'cut.bin')).toThrow(/cut\.bin: truncated: record 2 .* 1 of its 2 length bytes/);
    expect(() => parseAudioFrames('opus', cwaf([]), 'none.bin')).toThrow(/none\.bin: no frames/);
    expect(() => parseAudioFrames('opus', cwaf([Buffer.alloc(0)]), 'zero.bin')).toThrow(/zero\.bin: record 0 .* is empty/);
  });

  it('a fixed-rate codec frame that is not 160 bytes (20 ms) is an error', () => {
    expect(() => parseAudioFrames('PCMA', cwaf([Buffer.alloc(160), Buffer.alloc(80)]), 'pcma.bin')).toThrow(/pcma\.bin: PCMA frame 1 is 80 bytes, not 160/);
  });
});

describe('loadAudioFrames on fixtures/audio-frames', () => {
  it('PCMU, PCMA and G722: 160-byte 20 ms frames, all codecs the same length of audio', () => {
    const all = loadAllAudioFrames(FRAMES_DIR);
    expect([...all.keys()].sort()).toEqual(['G722', 'PCMA', 'PCMU', 'opus']);
    const counts = new Set([...all.values()].map((set) => set.frames.length));
    expect(counts.size).toBe(1);
    const [count] = counts;
    expect(count).toBeGreaterThanOrEqual(50); // at least 1 s of audio
    expect(count).toBeLessThanOrEqual(500);
    for (const codec of ['PCMU', 'PCMA', 'G722'] as const) {
      const set = loadAudioFrames(FRAMES_DIR, codec);
      expect(set).toMatchObject({ clockRate: 8000, timestampStep: 160, frameMs: 20 });
      expect(set.frames.every((frame) => frame.length === 160)).toBe(true);
    }
  });

  it('opus: packets of 3-400 bytes, each one 20 ms frame (TOC config and code 0)', () => {
    const opus = loadAudioFrames(FRAMES_DIR, 'opus');
    expect(opus).toMatchObject({ codec: 'opus', clockRate: 48_000, timestampStep: 960, frameMs: 20 });
    for (const packet of opus.frames) {
      expect(packet.length).toBeGreaterThanOrEqual(3);
      expect(packet.length).toBeLessThanOrEqual(400);
      expect(opusFrameMs(packet[0]!)).toBe(20);
      expect(packet[0]! & 0x03).toBe(0); // code 0: one frame in the packet
    }
    // The tone is not silence: the encoder did not fall back to tiny DTX/comfort packets.
    const mean = opus.frames.reduce((sum, packet) => sum + packet.length, 0) / opus.frames.length;
    expect(mean).toBeGreaterThan(40);
  });

  it('a missing file says which file and how to make it; loadAllAudioFrames skips it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-frames-'));
    try {
      expect(() => loadAudioFrames(dir, 'G722')).toThrow(new RegExp(`${join(dir, 'g722.bin').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: missing.*python3 scripts/make-audio-frames\\.py`));
      writeFileSync(join(dir, 'pcmu.bin'), cwaf([Buffer.alloc(160, 0xff)]));
      expect([...loadAllAudioFrames(dir).keys()]).toEqual(['PCMU']);
      writeFileSync(join(dir, 'pcma.bin'), Buffer.from('junk'));
      expect(() => loadAllAudioFrames(dir)).toThrow(/pcma\.bin: not a CWAF file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('KnownFrames', () => {
  const all = loadAllAudioFrames(FRAMES_DIR);
  const known = new KnownFrames(all.values());

  it('recognises every frame of every codec, also as a copy inside a larger packet buffer', () => {
    for (const set of all.values()) {
      for (const frame of set.frames) expect(known.has(frame)).toBe(true);
    }
    const opusFrame = all.get('opus')!.frames[7]!;
    const packet = Buffer.concat([Buffer.alloc(12, 0x80), opusFrame]); // an RTP header, then the payload
    expect(known.has(packet.subarray(12))).toBe(true);
    expect(known.has(new Uint8Array(opusFrame))).toBe(true);
  });

  it('rejects a frame with one bit changed, cut short, or extended', () => {
    for (const set of all.values()) {
      const frame = set.frames[set.frames.length >> 1]!;
      const flipped = Buffer.from(frame);
      flipped[flipped.length - 1]! ^= 0x01;
      expect(known.has(flipped)).toBe(false);
      const middle = Buffer.from(frame);
      middle[middle.length >> 1]! ^= 0x80;
      expect(known.has(middle)).toBe(false);
      expect(known.has(frame.subarray(0, frame.length - 1))).toBe(false);
      expect(known.has(Buffer.concat([frame, Buffer.from([0])]))).toBe(false);
    }
    expect(known.has(new Uint8Array(0))).toBe(false);
  });

  it('frames that differ only in bytes the key does not sample are told apart by their bytes', () => {
    const a = Buffer.alloc(160, 0x55);
    const b = Buffer.from(a);
    b[1] = 0xaa; // the key samples every 5th byte of 160: byte 1 is not among them
    const c = Buffer.from(a);
    c[2] = 0xaa;
    const set = new KnownFrames([{ codec: 'PCMU', clockRate: 8000, timestampStep: 160, frameMs: 20, frames: [a, b, a] }]);
    expect(set.size).toBe(2);
    expect(set.has(a)).toBe(true);
    expect(set.has(b)).toBe(true);
    expect(set.has(c)).toBe(false);
  });

  it('an empty set knows nothing', () => {
    expect(new KnownFrames([]).has(Buffer.from([1, 2, 3]))).toBe(false);
  });
});
