import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../errors.js';
import type { FakeMedia } from '../browser/chromium.js';

/** fixtures/ ships with the package, two levels above dist/runner (and src/runner). */
export const FIXTURES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures');

/** Enough to find the fmt and data chunks of any WAV a user would give, and the Y4M stream header. */
const HEADER_BYTES = 64 * 1024;

/**
 * The fake microphone and camera files Chromium loops, checked before any
 * browser starts: Chromium given a file it cannot read captures silence or
 * nothing, and every call would then fail for a reason far from its cause.
 */
export function fixturePaths(dir = FIXTURES_DIR): FakeMedia {
  const shipped = dir === FIXTURES_DIR;
  const fix = shipped ? 'run `npm run fixtures` to make the shipped files again' : 'fix the file, or leave out --media-dir to use the shipped fixtures';
  const media = { audioFile: join(dir, 'audio.wav'), videoFile: join(dir, 'video.y4m') };
  const problems = [
    problemOf(media.audioFile, wavProblem, 'a 16-bit PCM WAV, e.g. `ffmpeg -i in.mp3 -ac 1 -ar 48000 -c:a pcm_s16le audio.wav`'),
    problemOf(media.videoFile, y4mProblem, 'a 4:2:0 YUV4MPEG2 file, e.g. `ffmpeg -i in.mp4 -pix_fmt yuv420p video.y4m`'),
  ].filter((problem): problem is string => problem !== undefined);
  if (problems.length > 0) {
    throw new InputError(problems.length === 1 ? problems[0]! : `${problems.length} problems with the media fixtures`, fix, problems);
  }
  return media;
}

function problemOf(file: string, check: (header: Buffer) => string | undefined, wanted: string): string | undefined {
  let header: Buffer;
  try {
    if (!statSync(file).isFile()) return `media fixture ${file}: is not a file (expected ${wanted})`;
    header = readHead(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return `media fixture ${file}: ${code === 'ENOENT' ? 'missing' : `cannot read it (${code ?? String(error)})`} (expected ${wanted})`;
  }
  const problem = check(header);
  return problem === undefined ? undefined : `media fixture ${file}: ${problem} (expected ${wanted})`;
}

function readHead(file: string): Buffer {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(HEADER_BYTES);
    return buffer.subarray(0, readSync(fd, buffer, 0, HEADER_BYTES, 0));
  } finally {
    closeSync(fd);
  }
}

/** RIFF/WAVE with a PCM (or extensible PCM) fmt chunk of 16-bit samples, and a data chunk. */
export function wavProblem(header: Buffer): string | undefined {
  if (header.length < 12 || header.toString('latin1', 0, 4) !== 'RIFF' || header.toString('latin1', 8, 12) !== 'WAVE') {
    return 'not a WAV file (no RIFF/WAVE header)';
  }
  let format: { code: number; channels: number; rate: number; bits: number } | undefined;
  for (let offset = 12; offset + 8 <= header.length; ) {
    const id = header.toString('latin1', offset, offset + 4);
    const size = header.readUInt32LE(offset + 4);
    if (id === 'fmt ') {
      if (size < 16 || offset + 24 > header.length) return 'its fmt chunk is cut short';
      format = { code: header.readUInt16LE(offset + 8), channels: header.readUInt16LE(offset + 10), rate: header.readUInt32LE(offset + 12), bits: header.readUInt16LE(offset + 22) };
      // WAVE_FORMAT_EXTENSIBLE: the real format is the first two bytes of the sub-format GUID.
      if (format.code === 0xfffe && size >= 40 && offset + 34 <= header.length) format.code = header.readUInt16LE(offset + 32);
    } else if (id === 'data') {
      if (!format) return 'its data chunk comes before any fmt chunk';
      if (format.code !== 1) return `its samples are not PCM (format code ${format.code}${format.code === 3 ? ', float' : ''})`;
      if (format.bits !== 16) return `its samples are ${format.bits}-bit, not 16-bit`;
      if (format.channels < 1 || format.channels > 2) return `it has ${format.channels} channels, not 1 or 2`;
      if (format.rate < 8000 || format.rate > 96_000) return `its sample rate ${format.rate} Hz is outside 8000-96000`;
      if (size === 0) return 'its data chunk is empty';
      return undefined;
    }
    offset += 8 + size + (size % 2);
  }
  return format ? 'no data chunk in its first 64 KiB' : 'no fmt chunk in its first 64 KiB';
}

/** `YUV4MPEG2 W.. H.. F..` with 4:2:0 colour (Chromium's file capture reads only that), then a FRAME. */
export function y4mProblem(header: Buffer): string | undefined {
  const end = header.indexOf(0x0a);
  const line = header.toString('latin1', 0, end < 0 ? Math.min(header.length, 200) : end);
  if (!line.startsWith('YUV4MPEG2 ')) return 'not a Y4M file (no YUV4MPEG2 header)';
  if (end < 0) return 'its header line does not end';
  const params = new Map(line.split(' ').slice(1).filter(Boolean).map((token) => [token[0]!, token.slice(1)]));
  const width = Number(params.get('W'));
  const height = Number(params.get('H'));
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) return 'its header has no valid W (width) and H (height)';
  const frameRate = params.get('F');
  if (frameRate !== undefined && !/^\d+:\d+$/.test(frameRate)) return `its frame rate F${frameRate} is not n:d`;
  const colour = params.get('C');
  if (colour !== undefined && !colour.startsWith('420')) return `its colour space C${colour} is not 4:2:0`;
  if (header.toString('latin1', end + 1, end + 6) !== 'FRAME') return 'no FRAME after its header';
  return undefined;
}
