#!/usr/bin/env node
// Writes the fake capture media Chromium plays into calls:
//   fixtures/audio.wav  for --use-file-for-fake-audio-capture
//   fixtures/video.y4m  for --use-file-for-fake-video-capture
// Node only, no dependencies, and byte-for-byte deterministic (integer output
// of fixed formulas), so regenerating never shows up as a diff.
// Usage: node scripts/make-fixtures.mjs [outDir]   (default: fixtures/)
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const outDir = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures'));

// --- audio.wav ---------------------------------------------------------------
// 48 kHz: WebRTC's native rate (Opus), so Chromium need not resample; mono
// 16-bit PCM is the plain WAVE format its WAV reader takes.
const SAMPLE_RATE = 48_000;
const SECONDS = 6;
const TONES_HZ = [440, 880];
const PEAK_DBFS = -12;
// Chromium loops the file, and (measured with Chromium 156) leaves ~8 ms of
// zeros at each loop point: a hard cut to silence, i.e. a click. Raised-cosine
// fades at both ends turn that into a click-free dip. 20 ms, not 100: the
// near-silent span per loop is then ~16 ms instead of ~40 ms, so a level
// check over 100 ms windows sees under 1 dB of dip. Both tones also complete
// whole cycles in 6 s, so the file's end runs in phase into its start.
const FADE_MS = 20;

function makeWav() {
  const frames = SAMPLE_RATE * SECONDS;
  for (const hz of TONES_HZ) {
    if (!Number.isInteger(hz * SECONDS)) throw new Error(`${hz} Hz does not loop cleanly over ${SECONDS} s`);
  }
  const raw = (i) => TONES_HZ.reduce((sum, hz) => sum + Math.sin((2 * Math.PI * hz * i) / SAMPLE_RATE), 0);
  // Scale so the summed signal peaks at PEAK_DBFS: the tones' peaks do not
  // coincide, so dividing by the tone count would land ~1 dB low.
  let peak = 0;
  for (let i = 0; i < SAMPLE_RATE / 440 * 10; i++) peak = Math.max(peak, Math.abs(raw(i)));
  const scale = (10 ** (PEAK_DBFS / 20) * 32767) / peak;
  const fadeFrames = (SAMPLE_RATE * FADE_MS) / 1000;
  // Raised cosine: no corner in the envelope, so the fade itself does not click.
  const envelope = (i) => {
    const edge = Math.min(i, frames - 1 - i);
    return edge >= fadeFrames ? 1 : 0.5 - 0.5 * Math.cos((Math.PI * edge) / fadeFrames);
  };

  const dataBytes = frames * 2;
  const wav = Buffer.alloc(44 + dataBytes);
  wav.write('RIFF', 0, 'ascii');
  wav.writeUInt32LE(36 + dataBytes, 4);
  wav.write('WAVE', 8, 'ascii');
  wav.write('fmt ', 12, 'ascii');
  wav.writeUInt32LE(16, 16); // fmt chunk size
  wav.writeUInt16LE(1, 20); // PCM
  wav.writeUInt16LE(1, 22); // mono
  wav.writeUInt32LE(SAMPLE_RATE, 24);
  wav.writeUInt32LE(SAMPLE_RATE * 2, 28); // byte rate
  wav.writeUInt16LE(2, 32); // block align
  wav.writeUInt16LE(16, 34); // bits per sample
  wav.write('data', 36, 'ascii');
  wav.writeUInt32LE(dataBytes, 40);
  for (let i = 0; i < frames; i++) {
    wav.writeInt16LE(Math.round(raw(i) * scale * envelope(i)), 44 + i * 2);
  }
  return wav;
}

// --- video.y4m ---------------------------------------------------------------
// Small (160x120) so a page can run many legs; 15 fps for 15 frames = a 1 s
// loop. A bright bar moves right and wraps around, so every frame differs and
// the loop is seamless; a dark vertical gradient gives the encoder texture.
const WIDTH = 160;
const HEIGHT = 120;
const FPS = 15;
const FRAMES = 15;
const BAR_WIDTH = 16;

function makeY4m() {
  // C420jpeg: 4:2:0 with JPEG chroma siting, what ffmpeg writes by default and Chromium reads.
  const header = Buffer.from(`YUV4MPEG2 W${WIDTH} H${HEIGHT} F${FPS}:1 Ip A1:1 C420jpeg\n`, 'ascii');
  const frameHeader = Buffer.from('FRAME\n', 'ascii');
  const lumaBytes = WIDTH * HEIGHT;
  const chromaBytes = (WIDTH / 2) * (HEIGHT / 2);
  const parts = [header];
  for (let frame = 0; frame < FRAMES; frame++) {
    const barStart = Math.floor((frame * WIDTH) / FRAMES);
    const inBar = (x) => (x - barStart + WIDTH) % WIDTH < BAR_WIDTH;
    const y = Buffer.alloc(lumaBytes);
    for (let row = 0; row < HEIGHT; row++) {
      for (let x = 0; x < WIDTH; x++) {
        // Video range: black 16, white 235.
        y[row * WIDTH + x] = inBar(x) ? 235 : 16 + Math.floor((row * 64) / HEIGHT);
      }
    }
    // Neutral chroma (grey) except on the bar, which comes out light orange.
    const u = Buffer.alloc(chromaBytes, 128);
    const v = Buffer.alloc(chromaBytes, 128);
    for (let row = 0; row < HEIGHT / 2; row++) {
      for (let x = 0; x < WIDTH / 2; x++) {
        if (inBar(x * 2)) {
          u[row * (WIDTH / 2) + x] = 80;
          v[row * (WIDTH / 2) + x] = 190;
        }
      }
    }
    parts.push(frameHeader, y, u, v);
  }
  return Buffer.concat(parts);
}

mkdirSync(outDir, { recursive: true });
for (const [name, bytes] of [
  ['audio.wav', makeWav()],
  ['video.y4m', makeY4m()],
]) {
  writeFileSync(join(outDir, name), bytes);
  console.log(`${join(outDir, name)}: ${bytes.length} bytes`);
}
