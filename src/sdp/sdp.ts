/**
 * SDP rewriting for the SessionDescriptionHandler modifiers: codec allow-lists
 * and extra lines (b=AS, b=TIAS...), plus a summary for reports.
 *
 * Pure string functions, no DOM and no Node APIs: this runs in the page and in
 * unit tests. Every rewrite only deletes lines, inserts lines or rewrites the
 * format list of an m= line; everything else, including each line's own line
 * ending (CRLF from browsers, sometimes LF from hand-written SDP), is kept
 * byte for byte, so a far end sees exactly what the browser produced minus our
 * edits.
 */
import { AUXILIARY_CODECS, STATIC_PAYLOAD_CODECS, isPrimaryCodecOf, type MediaKind } from './codecs.js';

/** The SDP cannot be rewritten as asked: bad input, not a bug. */
export class SdpRewriteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SdpRewriteError';
  }
}

// ---------------------------------------------------------------------------
// Lines and sections

interface Line {
  text: string;
  /** '\r\n', '\n', '\r', or '' for a last line with no terminator. */
  eol: string;
}

function splitLines(sdp: string): Line[] {
  const lines: Line[] = [];
  let start = 0;
  while (start < sdp.length) {
    let end = start;
    while (end < sdp.length && sdp[end] !== '\n' && sdp[end] !== '\r') end++;
    const eol = sdp.startsWith('\r\n', end) ? '\r\n' : end < sdp.length ? sdp.charAt(end) : '';
    lines.push({ text: sdp.slice(start, end), eol });
    start = end + eol.length;
  }
  return lines;
}

function joinLines(lines: readonly Line[]): string {
  return lines.map((line) => line.text + line.eol).join('');
}

/** Lines before the first m= (session level), then one array per m= section. */
function splitSections(lines: readonly Line[]): { session: Line[]; media: Line[][] } {
  const session: Line[] = [];
  const media: Line[][] = [];
  for (const line of lines) {
    if (line.text.startsWith('m=')) media.push([line]);
    else (media.at(-1) ?? session).push(line);
  }
  return { session, media };
}

function parseSdp(sdp: string): { session: Line[]; media: Line[][]; eol: string } {
  const lines = splitLines(sdp);
  if (!lines[0]?.text.startsWith('v=')) {
    throw new SdpRewriteError(`not an SDP: it must start with "v=", got ${JSON.stringify(sdp.slice(0, 40))}`);
  }
  // Inserted lines use the document's own line ending; RFC 4566 says CRLF.
  const eol = lines.find((line) => line.eol !== '')?.eol ?? '\r\n';
  return { ...splitSections(lines), eol };
}

function joinSections(session: readonly Line[], media: readonly (readonly Line[])[]): string {
  return joinLines([...session, ...media.flat()]);
}

interface MediaLine {
  kind: string;
  port: number;
  protocol: string;
  formats: string[];
}

const MEDIA_LINE = /^m=(\S+) (\d+)(?:\/\d+)? (\S+)((?: \S+)*) *$/;

function parseMediaLine(text: string): MediaLine | undefined {
  const match = MEDIA_LINE.exec(text);
  if (!match) return undefined;
  const [, kind = '', port = '', protocol = '', formats = ''] = match;
  return { kind, port: Number(port), protocol, formats: formats.split(' ').filter((f) => f !== '') };
}

// ---------------------------------------------------------------------------
// Codec allow-list

/** a= lines whose first token is a payload type, and that must go with it. */
const PAYLOAD_LINE = /^a=(?:rtpmap|fmtp|rtcp-fb):(\S+)/;
const RTPMAP = /^a=rtpmap:(\d+) ([^/\s]+)/;
const FMTP = /^a=fmtp:(\d+) (.*)$/;

/** payload type -> first capture group after it, for RTPMAP (codec name) or FMTP (parameters). */
function payloadValues(section: readonly Line[], pattern: RegExp): Map<string, string> {
  const values = new Map<string, string>();
  for (const { text } of section) {
    const [, pt, value] = pattern.exec(text) ?? [];
    if (pt !== undefined && value !== undefined) values.set(pt, value);
  }
  return values;
}

function staticCodecName(pt: string): string | undefined {
  return /^\d{1,3}$/.test(pt) ? STATIC_PAYLOAD_CODECS[Number(pt)] : undefined;
}

const auxiliaryLower = new Set(AUXILIARY_CODECS.map((name) => name.toLowerCase()));

/**
 * Allow-list rewrite: in each m= section keep only payload types whose a=rtpmap codec name is in `allow`
 * (case-insensitive) and drop the a=rtpmap, a=fmtp and a=rtcp-fb lines of every removed payload;
 * rtx payloads (a=fmtp apt=X) survive only if 'rtx' is allowed AND their apt payload is kept; red/ulpfec likewise
 * only when allowed. Static payload types without a=rtpmap (0 PCMU, 8 PCMA, 9 G722, 18 G729, 13 CN) are matched by number.
 * An m= section of a kind for which `allow` names no codec of that kind is left untouched (an audio-only list does not strip video).
 * If a section would keep no payload, throw SdpRewriteError naming the kind and what the offer had.
 *
 * Details:
 * - "Names a codec of that kind" means a media codec (opus, PCMU, VP8...):
 *   rtx, red, FEC, CN and telephone-event only ride along, so ['PCMU', 'red']
 *   does not touch video, and a section left with only those is an error.
 * - red (RFC 2198) with an a=fmtp list such as "111/111" is kept only if the
 *   payloads it carries are kept; rtx whose apt is a kept red is kept.
 * - Port 0 sections (rejected or stopped, not bundle-only) carry no media and
 *   are left alone, so a stopped transceiver cannot make the rewrite fail.
 * - An empty allow-list restricts nothing. Unknown names in `allow` still
 *   match a=rtpmap names case-insensitively; rejecting typos is the scenario
 *   validator's job (canonicalCodecName).
 * - a=ssrc-group:FID lines are left as they are even when rtx goes: the SSRCs
 *   are still the sender's, and browsers accept the group without the codec.
 */
export function restrictCodecs(sdp: string, allow: readonly string[]): string {
  const restrictedKinds = (['audio', 'video'] as const).filter((kind) => allow.some((name) => isPrimaryCodecOf(kind, name)));
  if (restrictedKinds.length === 0) return sdp;
  const allowedLower = new Set(allow.map((name) => name.toLowerCase()));
  const { session, media } = parseSdp(sdp);
  const rewritten = media.map((section) => {
    const mediaLine = parseMediaLine(section[0]?.text ?? '');
    if (!mediaLine) throw new SdpRewriteError(`malformed m= line: ${JSON.stringify(section[0]?.text)}`);
    const kind = restrictedKinds.find((k) => k === mediaLine.kind);
    if (kind === undefined) return section;
    const bundleOnly = section.some((line) => line.text === 'a=bundle-only');
    if (mediaLine.port === 0 && !bundleOnly) return section;
    return restrictSection(section, mediaLine, kind, allow, allowedLower);
  });
  return joinSections(session, rewritten);
}

function restrictSection(
  section: readonly Line[],
  mediaLine: MediaLine,
  kind: MediaKind,
  allow: readonly string[],
  allowedLower: ReadonlySet<string>,
): Line[] {
  const rtpmapNames = payloadValues(section, RTPMAP);
  const fmtpParams = payloadValues(section, FMTP);
  // A dynamic a=rtpmap wins over the static table, as RFC 3264 allows remapping.
  const nameOf = (pt: string): string | undefined => rtpmapNames.get(pt) ?? staticCodecName(pt);
  const lowerNameOf = (pt: string): string => nameOf(pt)?.toLowerCase() ?? '';
  const isAllowed = (pt: string): boolean => allowedLower.has(lowerNameOf(pt));

  const kept = new Set<string>();
  // Order matters: primaries first, then red (needs its primaries), then rtx (whose apt may be red).
  for (const pt of mediaLine.formats) {
    if (isAllowed(pt) && !auxiliaryLower.has(lowerNameOf(pt))) kept.add(pt);
  }
  if (kept.size === 0) {
    const offered = [...new Set(mediaLine.formats.map((pt) => nameOf(pt) ?? `payload ${pt}`))];
    const mid = section.find((line) => line.text.startsWith('a=mid:'))?.text.slice('a=mid:'.length);
    throw new SdpRewriteError(
      `codec allow-list [${allow.join(', ')}] leaves the ${kind} m= section${mid === undefined ? '' : ` (mid ${mid})`} ` +
        `with no ${kind} codec; the offer had: ${offered.join(', ')}`,
    );
  }
  for (const pt of mediaLine.formats) {
    if (lowerNameOf(pt) !== 'red' || !isAllowed(pt)) continue;
    // Audio red's fmtp lists the payloads it carries ("111/111"); video red has none.
    const carried = fmtpParams.get(pt)?.split('/').map((p) => p.trim()) ?? [];
    if (carried.every((p) => kept.has(p))) kept.add(pt);
  }
  for (const pt of mediaLine.formats) {
    const name = lowerNameOf(pt);
    if (name !== 'red' && name !== 'rtx' && auxiliaryLower.has(name) && isAllowed(pt)) kept.add(pt);
  }
  for (const pt of mediaLine.formats) {
    if (lowerNameOf(pt) !== 'rtx' || !isAllowed(pt)) continue;
    const apt = /(?:^|;)\s*apt=(\d+)/.exec(fmtpParams.get(pt) ?? '')?.[1];
    if (apt !== undefined && kept.has(apt)) kept.add(pt);
  }

  const keptFormats = mediaLine.formats.filter((pt) => kept.has(pt));
  const [first, ...rest] = section;
  if (first === undefined) return [];
  // Keep "m=<kind> <port> <proto>" exactly as written; only the format list changes.
  const prefix = /^m=\S+ \d+(?:\/\d+)? \S+/.exec(first.text)?.[0] ?? first.text;
  const newMediaLine = [prefix, ...keptFormats].join(' ');
  return [
    { text: newMediaLine, eol: first.eol },
    ...rest.filter(({ text }) => {
      const pt = PAYLOAD_LINE.exec(text)?.[1];
      return pt === undefined || pt === '*' || kept.has(pt);
    }),
  ];
}

// ---------------------------------------------------------------------------
// Extra lines

const INJECTABLE_LETTERS = ['a', 'b', 'i', 'k'];
const BANDWIDTH_LINE = /^b=(AS|CT|TIAS|RS|RR):\d{1,10}$/;
// RFC 4566 att-field is a token (RFC 4566 section 9, token-char).
const ATTRIBUTE_LINE = /^a=[A-Za-z0-9!#$%&'*+\-.^_`{|}~]+(?::.*)?$/;

/** undefined if the line is a valid SDP line to inject, else a message saying what is allowed (format `<letter>=<value>`, letter one of b,a,i,k... not v/o/s/t/m/c; b= must be `b=<AS|CT|TIAS|RS|RR>:<integer>`; no CR/LF inside). */
export function validateExtraSdpLine(line: string): string | undefined {
  if (/[\r\n\0]/.test(line)) return 'an extra SDP line must be one line: no CR, LF or NUL inside';
  const match = /^([a-z])=(.*)$/.exec(line);
  if (!match) return `an extra SDP line must look like <letter>=<value>, e.g. b=AS:3000 or a=ptime:20; got ${JSON.stringify(line)}`;
  const [, letter = '', value = ''] = match;
  if (!INJECTABLE_LETTERS.includes(letter)) {
    return `${letter}= lines are written by the browser and cannot be injected; allowed: ${INJECTABLE_LETTERS.map((l) => `${l}=`).join(', ')}`;
  }
  if (value === '' || value.trim() !== value) return `${letter}= needs a value with no space around it (RFC 4566), e.g. b=AS:3000`;
  if (letter === 'b' && !BANDWIDTH_LINE.test(line)) {
    return 'a b= line must be b=<AS|CT|TIAS|RS|RR>:<integer>, e.g. b=AS:3000 or b=TIAS:2500000';
  }
  if (letter === 'a' && !ATTRIBUTE_LINE.test(line)) return 'an a= line must be a=<attribute> or a=<attribute>:<value>, e.g. a=ptime:20';
  return undefined;
}

// RFC 4566 section 5 line order, session level and media level.
const SESSION_ORDER = 'vosiuepcbtrzka';
const MEDIA_ORDER = 'micbka';

/** Insert each line after the last line of the section that RFC 4566 orders at or before it. */
function insertInOrder(section: readonly Line[], extra: readonly string[], order: string, eol: string): Line[] {
  const result = [...section];
  for (const text of extra) {
    const rank = order.indexOf(text.charAt(0));
    let after = -1;
    result.forEach((line, index) => {
      const lineRank = line.text.charAt(1) === '=' ? order.indexOf(line.text.charAt(0)) : -1;
      if (lineRank !== -1 && lineRank <= rank) after = index;
    });
    const anchor = result[after];
    // Inserting after an unterminated last line: that line needs an ending now, the new one takes its place at the end.
    const lineEol = anchor === undefined || anchor.eol !== '' ? eol : '';
    if (anchor !== undefined && anchor.eol === '') result[after] = { ...anchor, eol };
    result.splice(after + 1, 0, { text, eol: lineEol });
  }
  return result;
}

function checkExtraLines(lines: readonly string[]): void {
  for (const line of lines) {
    const problem = validateExtraSdpLine(line);
    if (problem !== undefined) throw new SdpRewriteError(`invalid extra SDP line ${JSON.stringify(line)}: ${problem}`);
  }
}

/**
 * Insert extra lines (e.g. 'b=AS:3000', 'b=TIAS:2500000') at session level: after the session c= line if present, else before t=.
 * Other letters go where RFC 4566 orders them (i= after s=, a= after the session's a= lines), so the result stays parseable.
 */
export function addSessionLines(sdp: string, lines: readonly string[]): string {
  checkExtraLines(lines);
  if (lines.length === 0) return sdp;
  const { session, media, eol } = parseSdp(sdp);
  if (!session.some((line) => line.text.startsWith('t='))) throw new SdpRewriteError('not an SDP: no session-level t= line');
  return joinSections(insertInOrder(session, lines, SESSION_ORDER, eol), media);
}

/**
 * Insert extra lines into every media section of a kind (`b=AS:256` into m=video: browsers take
 * bandwidth limits from a media section's b= line and ignore the session's), each where RFC 4566
 * orders it (b= after the section's c=). An SDP with no such section is left as it is.
 */
export function addMediaLines(sdp: string, kind: 'audio' | 'video', lines: readonly string[]): string {
  checkExtraLines(lines);
  if (lines.length === 0) return sdp;
  const { session, media, eol } = parseSdp(sdp);
  const rewritten = media.map((section) => (parseMediaLine(section[0]?.text ?? '')?.kind === kind ? insertInOrder(section, lines, MEDIA_ORDER, eol) : section));
  return joinSections(session, rewritten);
}

// ---------------------------------------------------------------------------
// Packet time

/**
 * Ask for `ms` audio packets: every audio section gets a=ptime and a=maxptime
 * (replacing any there). Chrome builds its audio encoder from the remote
 * description's ptime, so applied to a remote offer or answer it makes this
 * browser send `ms` packets (60 ms Opus: ~17 packets/s instead of 50); in a
 * local description it asks the far end for the same.
 */
export function setAudioPtime(sdp: string, ms: number): string {
  if (!Number.isInteger(ms) || ms <= 0) throw new SdpRewriteError(`ptime must be a whole number of milliseconds, got ${ms}`);
  const { session, media, eol } = parseSdp(sdp);
  const rewritten = media.map((section) => {
    if (parseMediaLine(section[0]?.text ?? '')?.kind !== 'audio') return section;
    const kept = section.filter((line) => !/^a=(?:max)?ptime:/.test(line.text));
    // A removed last line may have been the one without an ending: the new last line takes its place at the end.
    return insertInOrder(kept, [`a=ptime:${ms}`, `a=maxptime:${ms}`], MEDIA_ORDER, eol);
  });
  return joinSections(session, rewritten);
}
