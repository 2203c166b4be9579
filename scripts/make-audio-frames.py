#!/usr/bin/env python3
"""Pre-encode fixtures/audio.wav into 20 ms frames per codec, for lite agents.

Lite agents (Node WebRTC, no browser) never encode at run time: they send the
frames this script writes, once, at fixture time:

    fixtures/audio-frames/opus.bin   Opus, 48 kHz mono input, 20 ms (960 samples) a packet
    fixtures/audio-frames/pcmu.bin   G.711 mu-law, 8 kHz, 160 bytes a frame
    fixtures/audio-frames/pcma.bin   G.711 A-law, 8 kHz, 160 bytes a frame
    fixtures/audio-frames/g722.bin   G.722 64 kbit/s, 16 kHz input, 160 bytes a frame

File format (all four): ASCII magic "CWAF", uint8 version 1, then one record
per frame: uint16 big-endian length, then that many bytes. Read by
src/lite/audioFrames.ts.

Python 3 standard library only; Opus through the system libopus and G.722
through the system spandsp, both with ctypes (Debian: libopus0, libspandsp2).
Deterministic: integer resampling with fixed integer filter taps, integer
G.711, and the same libopus/spandsp give byte-for-byte the same files on every
run (a different libopus version or CPU code path may encode Opus differently).

Usage: python3 scripts/make-audio-frames.py [--wav fixtures/audio.wav] [--out fixtures/audio-frames]
"""

import argparse
import ctypes
import math
import os
import struct
import sys
import wave

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAGIC = b'CWAF'
VERSION = 1
FRAME_MS = 20
MAX_FRAMES = 500  # 10 s; a shorter wav gives all its whole 20 ms frames

LIBOPUS = '/usr/lib/x86_64-linux-gnu/libopus.so.0'
LIBSPANDSP = '/usr/lib/x86_64-linux-gnu/libspandsp.so.2'
OPUS_APPLICATION_VOIP = 2048
OPUS_SET_BITRATE_REQUEST = 4002
OPUS_BITRATE = 32000
OPUS_MAX_PACKET = 4000


# --- input -------------------------------------------------------------------

def read_wav(path):
    """(mono int16 samples as a list, sample rate). Any PCM width; channels averaged."""
    with wave.open(path, 'rb') as w:
        channels, width, rate, count = w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()
        raw = w.readframes(count)
    count = len(raw) // (channels * width)
    if width == 1:  # unsigned 8-bit
        values = [(b - 128) << 8 for b in raw]
    elif width == 2:
        values = list(struct.unpack('<%dh' % (len(raw) // 2), raw))
    elif width == 3:
        values = [int.from_bytes(raw[i:i + 3], 'little', signed=True) >> 8 for i in range(0, len(raw), 3)]
    elif width == 4:
        values = [v >> 16 for v in struct.unpack('<%di' % (len(raw) // 4), raw)]
    else:
        raise SystemExit('%s: %d-byte samples are not supported' % (path, width))
    if channels > 1:
        # Floor division: deterministic, and the sum of int16s fits any int.
        values = [sum(values[i:i + channels]) // channels for i in range(0, count * channels, channels)]
    return values, rate, (channels, width * 8, rate, count)


# --- resampling ----------------------------------------------------------------

def lowpass_taps(ratio):
    """Windowed-sinc low-pass for decimating by `ratio` (> 1), as Q16 integers summing to 65536.

    Cutoff at 0.9 x the output Nyquist; Blackman window, 16 taps per output
    sample period. Integer taps keep the output exact and repeatable.
    """
    half = int(math.ceil(8 * ratio))
    cutoff = 0.9 * 0.5 / ratio  # cycles per input sample
    floats = []
    for n in range(-half, half + 1):
        x = 2 * cutoff * n
        sinc = 1.0 if n == 0 else math.sin(math.pi * x) / (math.pi * x)
        window = 0.42 + 0.5 * math.cos(math.pi * n / (half + 1)) + 0.08 * math.cos(2 * math.pi * n / (half + 1))
        floats.append(2 * cutoff * sinc * window)
    total = sum(floats)
    taps = [int(round(65536 * f / total)) for f in floats]
    taps[half] += 65536 - sum(taps)  # exact unity gain at DC
    return taps


def clamp16(v):
    return -32768 if v < -32768 else 32767 if v > 32767 else v


def resample(samples, src, dst):
    """Resample int16 samples from src Hz to dst Hz (integers in, integers out).

    Down: low-pass (above) evaluated only where needed, then linear
    interpolation between the two filtered input samples around each output
    position (exact when src/dst is an integer, as 48000 -> 16000/8000 are).
    Up: linear interpolation. Outside the input counts as silence.
    """
    if src == dst:
        return list(samples)
    n_in = len(samples)
    n_out = n_in * dst // src
    if dst < src:
        taps = lowpass_taps(src / dst)
        half = len(taps) // 2
        padded = [0] * half + list(samples) + [0] * (half + 1)
        cache = {}

        def at(i):  # filtered input sample i
            v = cache.get(i)
            if v is None:
                window = padded[i:i + 2 * half + 1]
                v = clamp16((sum(map(int.__mul__, window, taps)) + 32768) >> 16)
                cache[i] = v
            return v
    else:
        def at(i):
            return samples[i] if i < n_in else 0
    out = []
    for k in range(n_out):
        pos, frac = divmod(k * src, dst)
        if frac == 0:
            out.append(at(pos))
        else:
            a, b = at(pos), at(pos + 1)
            out.append(clamp16((a * (dst - frac) + b * frac + dst // 2) // dst))
    return out


# --- G.711 (ITU-T G.711, as in the classic Sun g711.c that audioop also uses) --

SEG_UEND = (0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF)
SEG_AEND = (0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF)


def _segment(value, ends):
    for seg, end in enumerate(ends):
        if value <= end:
            return seg
    return len(ends)


def linear_to_ulaw(sample):
    pcm = sample >> 2  # 14-bit
    if pcm < 0:
        pcm, mask = -pcm, 0x7F
    else:
        mask = 0xFF
    pcm = min(pcm, 8159) + (0x84 >> 2)
    seg = _segment(pcm, SEG_UEND)
    if seg >= 8:
        return 0x7F ^ mask
    return ((seg << 4) | ((pcm >> (seg + 1)) & 0x0F)) ^ mask


def linear_to_alaw(sample):
    pcm = sample >> 3  # 13-bit
    if pcm >= 0:
        mask = 0xD5
    else:
        mask, pcm = 0x55, -pcm - 1
    seg = _segment(pcm, SEG_AEND)
    if seg >= 8:
        return 0x7F ^ mask
    aval = seg << 4
    aval |= (pcm >> 1 if seg < 2 else pcm >> seg) & 0x0F
    return aval ^ mask


ULAW = bytes(linear_to_ulaw(v) for v in range(-32768, 32768))
ALAW = bytes(linear_to_alaw(v) for v in range(-32768, 32768))


def g711(samples, table):
    return bytes(table[v + 32768] for v in samples)


def check_g711_against_audioop():
    """audioop (stdlib up to Python 3.12) implements the same encoders: agree on every input."""
    try:
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', DeprecationWarning)
            import audioop
    except ImportError:
        return 'audioop not available; own G.711 encoder unchecked'
    every = struct.pack('<65536h', *range(-32768, 32768))
    if audioop.lin2ulaw(every, 2) != ULAW or audioop.lin2alaw(every, 2) != ALAW:
        raise SystemExit('G.711: own encoder disagrees with audioop')
    return 'G.711 tables equal audioop.lin2ulaw/lin2alaw on all 65536 inputs'


# --- codecs through ctypes -----------------------------------------------------

def encode_opus(samples, frame_count):
    lib = ctypes.CDLL(LIBOPUS)
    lib.opus_get_version_string.restype = ctypes.c_char_p
    lib.opus_encoder_create.restype = ctypes.c_void_p
    lib.opus_encoder_create.argtypes = [ctypes.c_int32, ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
    lib.opus_encode.restype = ctypes.c_int32
    lib.opus_encode.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int16), ctypes.c_int,
                                ctypes.POINTER(ctypes.c_ubyte), ctypes.c_int32]
    lib.opus_encoder_ctl.restype = ctypes.c_int  # variadic: arguments passed as explicit c_int
    lib.opus_encoder_destroy.argtypes = [ctypes.c_void_p]
    error = ctypes.c_int(0)
    enc = lib.opus_encoder_create(48000, 1, OPUS_APPLICATION_VOIP, ctypes.byref(error))
    if error.value != 0 or not enc:
        raise SystemExit('opus_encoder_create failed: %d' % error.value)
    try:
        rc = lib.opus_encoder_ctl(ctypes.c_void_p(enc), ctypes.c_int(OPUS_SET_BITRATE_REQUEST), ctypes.c_int(OPUS_BITRATE))
        if rc != 0:
            raise SystemExit('opus_encoder_ctl(OPUS_SET_BITRATE) failed: %d' % rc)
        step = 960
        out = (ctypes.c_ubyte * OPUS_MAX_PACKET)()
        frames = []
        for f in range(frame_count):
            pcm = (ctypes.c_int16 * step)(*samples[f * step:(f + 1) * step])
            n = lib.opus_encode(enc, pcm, step, out, OPUS_MAX_PACKET)
            if n < 0:
                raise SystemExit('opus_encode failed on frame %d: %d' % (f, n))
            frames.append(bytes(out[:n]))
        return frames, lib.opus_get_version_string().decode()
    finally:
        lib.opus_encoder_destroy(enc)


def encode_g722(samples, frame_count):
    lib = ctypes.CDLL(LIBSPANDSP)
    lib.g722_encode_init.restype = ctypes.c_void_p
    lib.g722_encode_init.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
    lib.g722_encode.restype = ctypes.c_int
    lib.g722_encode.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_ubyte), ctypes.POINTER(ctypes.c_int16), ctypes.c_int]
    lib.g722_encode_free.argtypes = [ctypes.c_void_p]
    state = lib.g722_encode_init(None, 64000, 0)  # 64 kbit/s, 16 kHz input, unpacked bytes
    if not state:
        raise RuntimeError('g722_encode_init returned NULL')
    try:
        step = 320
        out = (ctypes.c_ubyte * step)()
        frames = []
        for f in range(frame_count):
            pcm = (ctypes.c_int16 * step)(*samples[f * step:(f + 1) * step])
            n = lib.g722_encode(state, out, pcm, step)
            if n != 160:
                raise RuntimeError('g722_encode wrote %d bytes for 20 ms, not 160' % n)
            frames.append(bytes(out[:n]))
        return frames
    finally:
        lib.g722_encode_free(state)


# --- output ---------------------------------------------------------------------

def write_frames(path, frames):
    body = bytearray(MAGIC + bytes([VERSION]))
    for frame in frames:
        if not 0 < len(frame) <= 0xFFFF:
            raise SystemExit('%s: frame of %d bytes does not fit a record' % (path, len(frame)))
        body += struct.pack('>H', len(frame)) + frame
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(body)
    os.replace(tmp, path)
    return len(body)


def frames_of(samples, rate, frame_count, encode):
    step = rate * FRAME_MS // 1000
    needed = step * frame_count
    samples = samples[:needed] + [0] * max(0, needed - len(samples))
    return [encode(samples[f * step:(f + 1) * step]) for f in range(frame_count)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--wav', default=os.path.join(ROOT, 'fixtures', 'audio.wav'))
    parser.add_argument('--out', default=os.path.join(ROOT, 'fixtures', 'audio-frames'))
    args = parser.parse_args()

    samples, rate, (channels, bits, _, count) = read_wav(args.wav)
    frame_count = min(MAX_FRAMES, count * 1000 // (rate * FRAME_MS))
    if frame_count == 0:
        raise SystemExit('%s: shorter than one 20 ms frame' % args.wav)
    print('%s: %d Hz, %d channel(s), %d-bit, %d samples (%.3f s) -> %d frames of %d ms'
          % (os.path.relpath(args.wav), rate, channels, bits, count, count / rate, frame_count, FRAME_MS))
    os.makedirs(args.out, exist_ok=True)

    at48 = resample(samples, rate, 48000)
    at16 = resample(samples, rate, 16000)
    at8 = resample(samples, rate, 8000)
    print(check_g711_against_audioop())

    results = []
    opus, version = encode_opus(at48 + [0] * (960 * frame_count - len(at48)), frame_count)
    results.append(('opus.bin', opus, 'Opus (%s), 48 kHz mono, VOIP, %d bit/s VBR' % (version, OPUS_BITRATE)))
    results.append(('pcmu.bin', frames_of(at8, 8000, frame_count, lambda s: g711(s, ULAW)), 'G.711 mu-law, 8 kHz'))
    results.append(('pcma.bin', frames_of(at8, 8000, frame_count, lambda s: g711(s, ALAW)), 'G.711 A-law, 8 kHz'))
    skipped = []
    try:
        g722 = encode_g722(at16 + [0] * (320 * frame_count - len(at16)), frame_count)
        results.append(('g722.bin', g722, 'G.722 64 kbit/s (spandsp), 16 kHz'))
    except (OSError, AttributeError, RuntimeError) as error:
        skipped.append('g722.bin skipped: %s' % error)

    for name, frames, what in results:
        path = os.path.join(args.out, name)
        size = write_frames(path, frames)
        payload = sum(len(f) for f in frames)
        print('  %-9s %4d frames, %7d bytes (payload %d), mean %.1f bytes/frame, min %d, max %d  [%s]'
              % (name, len(frames), size, payload, payload / len(frames), min(map(len, frames)), max(map(len, frames)), what))
    for line in skipped:
        print('  ' + line, file=sys.stderr)
    print('wrote %s' % os.path.relpath(args.out))
    return 1 if skipped else 0


if __name__ == '__main__':
    sys.exit(main())
