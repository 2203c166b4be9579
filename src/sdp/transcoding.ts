/**
 * Codecs per stream, and transcoding told from them. A call is transcoded on a way (a media
 * kind, one end to the other) when the codec one end encodes (its outbound-rtp's codec in
 * getStats) is not the codec the other end decodes (its inbound-rtp's codec): something on
 * the path (a media server, an SBC) re-encoded the stream. Only callwright legs are observed:
 * a far end outside callwright (a SIP device) leaves the call's transcoding unknown.
 *
 * Pure data, no DOM or Node APIs: checks (runner/), call results (calls/) and reports read it.
 */
import { AUXILIARY_CODECS, canonicalCodecName, type MediaKind } from './codecs.js';

/** The last codec getStats named for each of a leg's streams (out: encoded, in: decoded). */
export interface StreamCodecs {
  audioOut?: string;
  audioIn?: string;
  videoOut?: string;
  videoIn?: string;
}

export function codecOf(codecs: StreamCodecs, media: MediaKind, direction: 'in' | 'out'): string | undefined {
  if (media === 'audio') return direction === 'out' ? codecs.audioOut : codecs.audioIn;
  return direction === 'out' ? codecs.videoOut : codecs.videoIn;
}

/** One end of a call: a callwright leg's role and codecs. */
export interface CodecEnd {
  role: string;
  codecs: StreamCodecs;
}

/** One media kind one way: what `from` encodes and what `to` decodes (undefined: not seen). */
export interface CodecWay {
  media: MediaKind;
  from: string;
  to: string;
  sent?: string;
  received?: string;
}

export type WayVerdict = 'same' | 'transcoded' | 'unobserved';

/**
 * Whether a way was transcoded. Unobserved when either codec is unknown, or is one that only
 * rides along with a real one (red, rtx, FEC, CN, telephone-event): no evidence either way.
 */
export function wayVerdict(way: CodecWay): WayVerdict {
  if (way.sent === undefined || way.received === undefined) return 'unobserved';
  const sent = canonicalCodecName(way.sent) ?? way.sent;
  const received = canonicalCodecName(way.received) ?? way.received;
  if (AUXILIARY_CODECS.includes(sent) || AUXILIARY_CODECS.includes(received)) return 'unobserved';
  return sent.toLowerCase() === received.toLowerCase() ? 'same' : 'transcoded';
}

/** The four ways of a call between two callwright legs: audio and video, caller to callee and back. */
export function codecWays(caller: CodecEnd, callee: CodecEnd): CodecWay[] {
  const ways: CodecWay[] = [];
  for (const media of ['audio', 'video'] as const) {
    for (const [from, to] of [
      [caller, callee],
      [callee, caller],
    ] as const) {
      const sent = codecOf(from.codecs, media, 'out');
      const received = codecOf(to.codecs, media, 'in');
      // Neither end has the stream: the call does not carry this kind this way.
      if (sent === undefined && received === undefined) continue;
      ways.push({ media, from: from.role, to: to.role, ...(sent === undefined ? {} : { sent }), ...(received === undefined ? {} : { received }) });
    }
  }
  return ways;
}

/** `audio opus->PCMU`: how reports name a transcoded way. */
export function describeTranscode(way: CodecWay): string {
  return `${way.media} ${way.sent ?? '?'}->${way.received ?? '?'}`;
}

/** calls.csv's `transcoded` when no way of the call was observed (one end outside callwright, or no media). */
export const TRANSCODING_UNKNOWN = 'unknown';

/**
 * calls.csv's `transcoded`: the transcoded ways (`audio opus->PCMU; audio PCMU->opus`, caller to
 * callee first), '' when at least one way was observed and none was transcoded, `unknown` when
 * none was observed (or the call has only one callwright leg: `ways` undefined).
 */
export function transcodedColumn(ways: readonly CodecWay[] | undefined): string {
  if (ways === undefined) return TRANSCODING_UNKNOWN;
  const verdicts = ways.map((way) => ({ way, verdict: wayVerdict(way) }));
  if (!verdicts.some(({ verdict }) => verdict !== 'unobserved')) return TRANSCODING_UNKNOWN;
  return verdicts
    .filter(({ verdict }) => verdict === 'transcoded')
    .map(({ way }) => describeTranscode(way))
    .join('; ');
}

/** The transcoded ways of a calls.csv `transcoded` value (none for '' and `unknown`). */
export function transcodedPairs(column: string | undefined): string[] {
  if (!column || column === TRANSCODING_UNKNOWN) return [];
  return column
    .split(';')
    .map((pair) => pair.trim())
    .filter(Boolean);
}
