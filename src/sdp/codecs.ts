/**
 * The codec names callwright knows. Scenario files name codecs in allow-lists;
 * SDP spells them in a=rtpmap lines with whatever case the sender chose
 * (Chrome: "opus", "PCMU"; some phones: "g722", "h264"), so names are compared
 * case-insensitively and reported in the canonical spelling below.
 *
 * Page-side and Node-side code both use this: no DOM, no Node APIs.
 */

export type MediaKind = 'audio' | 'video';

export const KNOWN_CODECS: Record<MediaKind, readonly string[]> = {
  audio: ['opus', 'PCMU', 'PCMA', 'G722', 'G729', 'iLBC', 'ISAC', 'speex', 'CN', 'telephone-event', 'red'],
  video: ['VP8', 'VP9', 'H264', 'H265', 'AV1', 'rtx', 'red', 'ulpfec', 'flexfec-03'],
};

/**
 * Payloads that carry no media of their own: retransmission, redundancy, FEC,
 * comfort noise and DTMF only make sense next to a real codec. An allow-list
 * made only of these does not restrict a section, and a section left with
 * only these is an error (the call would connect with nothing to play).
 */
export const AUXILIARY_CODECS: readonly string[] = ['rtx', 'red', 'ulpfec', 'flexfec-03', 'CN', 'telephone-event'];

/**
 * RFC 3551 static payload types, for offers that list them on the m= line
 * without an a=rtpmap (allowed for static types, and common on SIP phones).
 */
export const STATIC_PAYLOAD_CODECS: Readonly<Record<number, string>> = {
  0: 'PCMU',
  8: 'PCMA',
  9: 'G722',
  13: 'CN',
  18: 'G729',
};

const canonicalByLowerName = new Map<string, string>(
  [...KNOWN_CODECS.audio, ...KNOWN_CODECS.video].map((name) => [name.toLowerCase(), name]),
);

/** Case-insensitive lookup -> canonical name, or undefined. */
export function canonicalCodecName(name: string): string | undefined {
  return canonicalByLowerName.get(name.toLowerCase());
}

/** True for a known codec that carries media itself (not rtx, red, FEC, CN, DTMF) of this kind. */
export function isPrimaryCodecOf(kind: MediaKind, name: string): boolean {
  const canonical = canonicalCodecName(name);
  return canonical !== undefined && KNOWN_CODECS[kind].includes(canonical) && !AUXILIARY_CODECS.includes(canonical);
}

/**
 * The media kind a codec name says by itself: opus, PCMU, G722... are audio; VP8, H264, AV1...
 * are video. Undefined for an unknown name and for one of both kinds (red).
 */
export function codecKindOf(name: string): MediaKind | undefined {
  const canonical = canonicalCodecName(name);
  if (canonical === undefined) return undefined;
  const inAudio = KNOWN_CODECS.audio.includes(canonical);
  const inVideo = KNOWN_CODECS.video.includes(canonical);
  return inAudio === inVideo ? undefined : inAudio ? 'audio' : 'video';
}
