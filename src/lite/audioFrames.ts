import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Pre-encoded audio for lite agents: 20 ms frames per codec, made once from
 * fixtures/audio.wav by scripts/make-audio-frames.py, so nothing is encoded at
 * run time. File format (fixtures/audio-frames/README.md): ASCII `CWAF`, a
 * version byte (1), then per frame a big-endian uint16 length and the bytes.
 */
export type LiteCodec = 'opus' | 'PCMU' | 'PCMA' | 'G722';

export const LITE_CODECS: readonly LiteCodec[] = ['opus', 'PCMU', 'PCMA', 'G722'];

export interface AudioFrames {
  codec: LiteCodec;
  /** RTP clock rate: opus 48000, PCMU/PCMA 8000, G722 8000 (RFC 3551: G.722 is clocked at 8000 though sampled at 16000). */
  clockRate: number;
  /** RTP timestamp increment per 20 ms frame: opus 960, PCMU/PCMA/G722 160. */
  timestampStep: number;
  frameMs: 20;
  /** The frames in order (views into the file's bytes: do not modify). Loop them for longer calls. */
  frames: Buffer[];
}

const MAGIC = 'CWAF';
const VERSION = 1;
const HEADER_BYTES = MAGIC.length + 1;
const FIX = 'run `python3 scripts/make-audio-frames.py` to make fixtures/audio-frames/ again';

const CODEC_INFO: Record<LiteCodec, { file: string; clockRate: number; timestampStep: number; fixedBytes?: number }> = {
  opus: { file: 'opus.bin', clockRate: 48_000, timestampStep: 960 },
  PCMU: { file: 'pcmu.bin', clockRate: 8000, timestampStep: 160, fixedBytes: 160 },
  PCMA: { file: 'pcma.bin', clockRate: 8000, timestampStep: 160, fixedBytes: 160 },
  G722: { file: 'g722.bin', clockRate: 8000, timestampStep: 160, fixedBytes: 160 },
};

/** The file name a codec's frames live in: opus.bin, pcmu.bin, pcma.bin, g722.bin. */
export function audioFramesFile(codec: LiteCodec): string {
  return CODEC_INFO[codec].file;
}

/** Parses a CWAF file's bytes; throws an Error naming `source` when the bytes are not whole, valid frames. */
export function parseAudioFrames(codec: LiteCodec, data: Buffer, source: string): AudioFrames {
  const info = CODEC_INFO[codec];
  if (data.length < HEADER_BYTES || data.toString('latin1', 0, MAGIC.length) !== MAGIC) {
    throw new Error(`audio frames ${source}: not a CWAF file (no "${MAGIC}" magic at its start)`);
  }
  const version = data[MAGIC.length]!;
  if (version !== VERSION) throw new Error(`audio frames ${source}: version ${version}, this reader knows only ${VERSION}`);
  const frames: Buffer[] = [];
  let offset = HEADER_BYTES;
  while (offset < data.length) {
    if (offset + 2 > data.length) {
      throw new Error(`audio frames ${source}: truncated: record ${frames.length} at byte ${offset} has ${data.length - offset} of its 2 length bytes`);
    }
    const length = data.readUInt16BE(offset);
    const start = offset + 2;
    if (start + length > data.length) {
      throw new Error(`audio frames ${source}: truncated: record ${frames.length} at byte ${offset} says ${length} bytes, ${data.length - start} remain`);
    }
    if (length === 0) throw new Error(`audio frames ${source}: record ${frames.length} at byte ${offset} is empty`);
    if (info.fixedBytes !== undefined && length !== info.fixedBytes) {
      throw new Error(`audio frames ${source}: ${codec} frame ${frames.length} is ${length} bytes, not ${info.fixedBytes} (20 ms)`);
    }
    frames.push(data.subarray(start, start + length));
    offset = start + length;
  }
  if (frames.length === 0) throw new Error(`audio frames ${source}: no frames`);
  return { codec, clockRate: info.clockRate, timestampStep: info.timestampStep, frameMs: 20, frames };
}

/** Reads `<dir>/<opus|pcmu|pcma|g722>.bin`; a missing file is an Error that says how to make it. */
export function loadAudioFrames(dir: string, codec: LiteCodec): AudioFrames {
  const file = join(dir, CODEC_INFO[codec].file);
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`audio frames ${file}: missing (${codec} pre-encoded audio for lite agents); ${FIX}`);
    throw new Error(`audio frames ${file}: cannot read it (${code ?? String(error)})`);
  }
  return parseAudioFrames(codec, data, file);
}

/** Every codec whose file exists in `dir`; a file that exists but is bad still throws. */
export function loadAllAudioFrames(dir: string): Map<LiteCodec, AudioFrames> {
  const all = new Map<LiteCodec, AudioFrames>();
  for (const codec of LITE_CODECS) {
    if (existsSync(join(dir, CODEC_INFO[codec].file))) all.set(codec, loadAudioFrames(dir, codec));
  }
  return all;
}

/** Bytes the key hashes: enough to tell frames apart, few enough that a 160-byte G.711 payload costs no more than a small Opus one. */
const KEY_SAMPLES = 32;

/**
 * 32-bit FNV-1a over the length and up to KEY_SAMPLES bytes spread evenly
 * over the payload. Not every byte: `has` compares the bytes on a key hit,
 * so the key only has to be selective, not exact.
 */
function frameKey(bytes: Uint8Array): number {
  const length = bytes.length;
  let hash = Math.imul(0x811c9dc5 ^ length, 0x01000193);
  if (length <= KEY_SAMPLES) {
    for (let i = 0; i < length; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
  } else {
    const stride = length / KEY_SAMPLES;
    for (let i = 0; i < KEY_SAMPLES; i++) hash = Math.imul(hash ^ bytes[(i * stride) | 0]!, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * Every frame payload of the given sets, to recognise our own frames echoed
 * back (a media loop, or a server that reflects RTP). `has` runs per received
 * packet: an FNV-1a key over the length and at most 32 sampled bytes, a Map
 * lookup, and only on a key hit a byte compare, so the answer is exact (a
 * frame that differs anywhere, in any byte, is not known).
 */
export class KnownFrames {
  private readonly byKey = new Map<number, Uint8Array[]>();

  constructor(sets: Iterable<AudioFrames>) {
    for (const set of sets) {
      for (const frame of set.frames) {
        const key = frameKey(frame);
        const same = this.byKey.get(key);
        if (!same) this.byKey.set(key, [frame]);
        else if (!same.some((known) => Buffer.compare(known, frame) === 0)) same.push(frame);
      }
    }
  }

  /** Number of distinct frame payloads known. */
  get size(): number {
    let count = 0;
    for (const same of this.byKey.values()) count += same.length;
    return count;
  }

  has(payload: Uint8Array): boolean {
    const same = this.byKey.get(frameKey(payload));
    if (!same) return false;
    for (const known of same) {
      if (known.length === payload.length && Buffer.compare(known, payload) === 0) return true;
    }
    return false;
  }
}
