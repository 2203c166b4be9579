/**
 * SDP for lite agents, in Chromium's shape: offers are Chromium's own captured
 * offer (chromeOfferTemplate.ts) with this leg's values put in; answers follow
 * what Chromium writes when it answers (checked against captured answers in
 * chromeSdp.test.ts). Also the far end's SDP read into what the media needs,
 * and rewritten into what libdatachannel accepts.
 *
 * Pure string work, no I/O.
 */
import { STATIC_PAYLOAD_CODECS } from '../sdp/codecs.js';
import { CHROME_AUDIO_OFFER_TEMPLATE } from './chromeOfferTemplate.js';

export type SdpDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
export type DtlsSetup = 'actpass' | 'active' | 'passive';

const DIRECTIONS: readonly string[] = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];

/** What stays the same over the whole leg: the identifiers Chromium draws once per RTCPeerConnection and track. */
export interface LocalIdentity {
  /** o= session id: decimal, below 2^63 as Chromium's. */
  sessionId: string;
  /** MediaStream id and track id (UUIDs, as Chromium's a=msid). */
  streamId: string;
  trackId: string;
  ssrc: number;
  /** RTCP CNAME: 16 characters of the base64 alphabet, as Chromium's. */
  cname: string;
}

/** This leg's transport: what libdatachannel gathered and was told to use. */
export interface LocalTransport {
  /** The address of our one UDP host candidate (the bind address). */
  address: string;
  port: number;
  iceUfrag: string;
  icePwd: string;
  /** `sha-256 AB:CD:...` as in a=fingerprint. */
  fingerprint: string;
  /** Candidate foundations (random, as Chromium's since it mixes a tie-breaker in). */
  foundationUdp: string;
  foundationTcp: string;
}

export interface SdpCodec {
  payloadType: number;
  /** As the SDP spells it (a=rtpmap), or the RFC 3551 name of a static payload type. */
  name: string;
  clockRate: number;
  channels: number;
  fmtp?: string;
  rtcpFb: string[];
}

export interface SdpExtmap {
  id: number;
  uri: string;
}

/** The far end's (or our own) SDP, as far as one audio leg needs it. */
export interface ParsedSdp {
  iceUfrag?: string;
  icePwd?: string;
  fingerprint?: string;
  setup?: string;
  iceLite: boolean;
  /** Mids of a=group:BUNDLE, undefined without one. */
  bundle?: string[];
  extmapAllowMixed: boolean;
  /** The first audio m= section with a non-zero port (or bundle-only), undefined if none. */
  audio?: ParsedAudio;
  sections: ParsedSection[];
}

export interface ParsedSection {
  kind: string;
  port: number;
  protocol: string;
  formats: string[];
  mid?: string;
  lines: string[];
}

export interface ParsedAudio {
  index: number;
  mid?: string;
  port: number;
  connectionAddress?: string;
  direction: SdpDirection;
  codecs: SdpCodec[];
  extmaps: SdpExtmap[];
  candidates: string[];
  rtcpMux: boolean;
  rtcpRsize: boolean;
  rtcpXr?: string;
  ssrcs: number[];
}

const DEFAULT_CLOCK: Record<string, number> = { pcmu: 8000, pcma: 8000, g722: 8000, cn: 8000, g729: 8000 };

export function parseSdp(sdp: string): ParsedSdp {
  const lines = sdp.split(/\r\n|\r|\n/).filter((line) => line !== '');
  const session: string[] = [];
  const sections: ParsedSection[] = [];
  for (const line of lines) {
    if (line.startsWith('m=')) {
      const [kind = '', port = '0', protocol = '', ...formats] = line.slice(2).split(' ');
      sections.push({ kind, port: Number.parseInt(port, 10), protocol, formats, lines: [] });
    } else {
      (sections.at(-1)?.lines ?? session).push(line);
    }
  }
  for (const section of sections) section.mid = attribute(section.lines, 'mid');
  const parsed: ParsedSdp = {
    iceUfrag: attribute(session, 'ice-ufrag'),
    icePwd: attribute(session, 'ice-pwd'),
    fingerprint: attribute(session, 'fingerprint'),
    setup: attribute(session, 'setup'),
    iceLite: session.includes('a=ice-lite'),
    bundle: session.find((line) => line.startsWith('a=group:BUNDLE'))?.split(' ').slice(1).filter(Boolean),
    extmapAllowMixed: session.includes('a=extmap-allow-mixed'),
    sections,
  };
  const sessionDirection = session.map((line) => line.slice(2)).find((value) => DIRECTIONS.includes(value)) as SdpDirection | undefined;
  const index = sections.findIndex((s) => s.kind === 'audio' && (s.port !== 0 || s.lines.includes('a=bundle-only')));
  const section = sections[index];
  if (section) {
    const own = section.lines;
    parsed.iceUfrag = attribute(own, 'ice-ufrag') ?? parsed.iceUfrag;
    parsed.icePwd = attribute(own, 'ice-pwd') ?? parsed.icePwd;
    parsed.fingerprint = attribute(own, 'fingerprint') ?? parsed.fingerprint;
    parsed.setup = attribute(own, 'setup') ?? parsed.setup;
    if (own.includes('a=extmap-allow-mixed')) parsed.extmapAllowMixed = true;
    parsed.audio = {
      index,
      mid: section.mid,
      port: section.port,
      connectionAddress: own.find((line) => line.startsWith('c='))?.split(' ')[2],
      direction: (own.map((line) => line.slice(2)).find((value) => DIRECTIONS.includes(value)) as SdpDirection | undefined) ?? sessionDirection ?? 'sendrecv',
      codecs: parseCodecs(section),
      extmaps: own.flatMap((line) => {
        const match = /^a=extmap:(\d+)(?:\/\S+)? (\S+)/.exec(line);
        return match ? [{ id: Number(match[1]), uri: match[2]! }] : [];
      }),
      candidates: own.filter((line) => line.startsWith('a=candidate:')).map((line) => line.slice(2)),
      rtcpMux: own.includes('a=rtcp-mux'),
      rtcpRsize: own.includes('a=rtcp-rsize'),
      rtcpXr: attribute(own, 'rtcp-xr'),
      ssrcs: [...new Set(own.flatMap((line) => /^a=ssrc:(\d+)/.exec(line)?.[1] ?? []).map(Number))],
    };
  }
  return parsed;
}

function attribute(lines: readonly string[], name: string): string | undefined {
  const prefix = `a=${name}:`;
  return lines.find((line) => line.startsWith(prefix))?.slice(prefix.length).trim();
}

function parseCodecs(section: ParsedSection): SdpCodec[] {
  return section.formats.flatMap((format) => {
    if (!/^\d+$/.test(format)) return [];
    const payloadType = Number(format);
    const rtpmap = new RegExp(`^a=rtpmap:${format} ([^/\\s]+)/(\\d+)(?:/(\\d+))?`);
    const map = section.lines.map((line) => rtpmap.exec(line)).find((match) => match !== null);
    const name = map?.[1] ?? STATIC_PAYLOAD_CODECS[payloadType];
    if (name === undefined) return [];
    const clockRate = map?.[2] ? Number(map[2]) : (DEFAULT_CLOCK[name.toLowerCase()] ?? 8000);
    return [
      {
        payloadType,
        name,
        clockRate,
        channels: map?.[3] ? Number(map[3]) : 1,
        fmtp: section.lines.find((line) => line.startsWith(`a=fmtp:${format} `))?.slice(`a=fmtp:${format} `.length),
        rtcpFb: section.lines.filter((line) => line.startsWith(`a=rtcp-fb:${format} `)).map((line) => line.slice(`a=rtcp-fb:${format} `.length)),
      },
    ];
  });
}

// ---------------------------------------------------------------------------
// Directions (RFC 3264 section 6.1)

function sends(direction: SdpDirection): boolean {
  return direction === 'sendrecv' || direction === 'sendonly';
}

function receives(direction: SdpDirection): boolean {
  return direction === 'sendrecv' || direction === 'recvonly';
}

function directionOf(send: boolean, receive: boolean): SdpDirection {
  return send ? (receive ? 'sendrecv' : 'sendonly') : receive ? 'recvonly' : 'inactive';
}

/** Our answer's direction: what we want, limited by what the offer allows (an offer's sendonly lets us only receive). */
export function answerDirection(offered: SdpDirection, wanted: SdpDirection): SdpDirection {
  return directionOf(sends(wanted) && receives(offered), receives(wanted) && sends(offered));
}

/** Whether RTP that arrives is ours to take: as Chrome's receiver of a sendonly or inactive transceiver, a held leg drops it. */
export function mayReceive(local: SdpDirection): boolean {
  return receives(local);
}

/** Whether we may send RTP, given our own description's direction and the far end's. */
export function maySend(local: SdpDirection, remote: SdpDirection): boolean {
  return sends(local) && receives(remote);
}

// ---------------------------------------------------------------------------
// Chromium's candidate lines

const LOOPBACK_V4 = /^127\./;

interface TemplateCandidate {
  protocol: 'udp' | 'tcp';
  priority: string;
  /** Everything after "typ host": "tcptype active generation 0 network-id 3 network-cost 50". */
  tail: string;
}

/**
 * The template's candidate lines for an address like ours (IPv4 loopback, or
 * IPv4 not loopback): Chromium's priority and network-id/cost for that kind
 * of interface, one UDP and one TCP (active, port 9) line.
 */
function templateCandidates(address: string): TemplateCandidate[] {
  const loopback = LOOPBACK_V4.test(address);
  const wanted: TemplateCandidate[] = [];
  for (const line of CHROME_AUDIO_OFFER_TEMPLATE.split('\r\n')) {
    const match = /^a=candidate:\S+ 1 (udp|tcp) (\d+) (\S+) \d+ typ host ?(.*)$/.exec(line);
    if (!match) continue;
    const [, protocol, priority = '', candidateAddress = '', tail = ''] = match;
    if (candidateAddress.includes(':') || LOOPBACK_V4.test(candidateAddress) !== loopback) continue;
    if (wanted.some((c) => c.protocol === protocol)) continue;
    wanted.push({ protocol: protocol as 'udp' | 'tcp', priority, tail });
  }
  return wanted;
}

function candidateLine(candidate: TemplateCandidate, transport: LocalTransport): string {
  return candidate.protocol === 'udp'
    ? `a=candidate:${transport.foundationUdp} 1 udp ${candidate.priority} ${transport.address} ${transport.port} typ host ${candidate.tail}`.trimEnd()
    : `a=candidate:${transport.foundationTcp} 1 tcp ${candidate.priority} ${transport.address} 9 typ host ${candidate.tail}`.trimEnd();
}

// ---------------------------------------------------------------------------
// Offers

/**
 * Chromium's captured offer with this leg's values: o= session id and
 * version, msid ids, m= port and c= address of our candidate, our candidate
 * lines (Chromium's format, priority and network-id for that kind of
 * address), ICE credentials, fingerprint, setup:actpass, direction, SSRC and
 * CNAME. Every other line is Chromium's, byte for byte. Codecs we cannot send
 * (no frames) are dropped from it; pass the rest through restrictCodecs for
 * an allow-list.
 */
export function chromeOffer(identity: LocalIdentity, transport: LocalTransport, version: number, direction: SdpDirection, canSend: (codec: SdpCodec) => boolean): string {
  const template = parseSdp(CHROME_AUDIO_OFFER_TEMPLATE);
  const unsendable = new Set(
    (template.audio?.codecs ?? []).filter((codec) => isPrimaryAudio(codec) && !canSend(codec)).map((codec) => String(codec.payloadType)),
  );
  // red carries a primary codec: it goes when that codec goes.
  for (const codec of template.audio?.codecs ?? []) {
    if (codec.name.toLowerCase() === 'red' && (codec.fmtp ?? '').split('/').some((pt) => unsendable.has(pt))) unsendable.add(String(codec.payloadType));
  }
  const candidates = templateCandidates(transport.address);
  const out: string[] = [];
  let candidatesWritten = false;
  for (const line of CHROME_AUDIO_OFFER_TEMPLATE.split('\r\n')) {
    if (line === '') continue;
    const payload = /^a=(?:rtpmap|fmtp|rtcp-fb):(\d+)/.exec(line)?.[1];
    if (payload !== undefined && unsendable.has(payload)) continue;
    if (line.startsWith('o=')) out.push(`o=- ${identity.sessionId} ${version} IN IP4 127.0.0.1`);
    else if (line.startsWith('a=msid-semantic:')) out.push(`a=msid-semantic: WMS ${identity.streamId}`);
    else if (line.startsWith('m=audio ')) {
      const [, , protocol = '', ...formats] = line.split(' ');
      out.push(['m=audio', String(transport.port), protocol, ...formats.filter((f) => !unsendable.has(f))].join(' '));
    } else if (line.startsWith('c=IN IP4 ')) out.push(`c=IN IP4 ${transport.address}`);
    else if (line.startsWith('a=candidate:')) {
      if (!candidatesWritten) out.push(...candidates.map((c) => candidateLine(c, transport)));
      candidatesWritten = true;
    } else if (line.startsWith('a=ice-ufrag:')) out.push(`a=ice-ufrag:${transport.iceUfrag}`);
    else if (line.startsWith('a=ice-pwd:')) out.push(`a=ice-pwd:${transport.icePwd}`);
    else if (line.startsWith('a=fingerprint:')) out.push(`a=fingerprint:${transport.fingerprint}`);
    else if (line.startsWith('a=setup:')) out.push('a=setup:actpass');
    else if (DIRECTIONS.includes(line.slice(2))) out.push(`a=${direction}`);
    else if (line.startsWith('a=msid:')) out.push(`a=msid:${identity.streamId} ${identity.trackId}`);
    else if (/^a=ssrc:\d+ cname:/.test(line)) out.push(`a=ssrc:${identity.ssrc} cname:${identity.cname}`);
    else if (/^a=ssrc:\d+ msid:/.test(line)) out.push(`a=ssrc:${identity.ssrc} msid:${identity.streamId} ${identity.trackId}`);
    else out.push(line);
  }
  return out.join('\r\n') + '\r\n';
}

// ---------------------------------------------------------------------------
// Answers

/** Header extensions Chromium's audio sender offers (and so accepts in an answer). */
const CHROME_AUDIO_EXTENSIONS = new Set([
  'urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  'urn:ietf:params:rtp-hdrext:sdes:mid',
]);

/** Chromium's own spelling of each codec's rtpmap and the fmtp it answers with. */
const CHROME_CODECS: Record<string, { rtpmap: (c: SdpCodec) => string; fmtp?: string }> = {
  opus: { rtpmap: () => 'opus/48000/2', fmtp: 'minptime=10;useinbandfec=1' },
  g722: { rtpmap: () => 'G722/8000' },
  pcmu: { rtpmap: () => 'PCMU/8000' },
  pcma: { rtpmap: () => 'PCMA/8000' },
  cn: { rtpmap: (c) => `CN/${c.clockRate}` },
  'telephone-event': { rtpmap: (c) => `telephone-event/${c.clockRate}` },
};

const PRIMARY_AUDIO = new Set(['opus', 'pcmu', 'pcma', 'g722', 'g729', 'ilbc', 'isac', 'speex']);

export function isPrimaryAudio(codec: SdpCodec): boolean {
  return PRIMARY_AUDIO.has(codec.name.toLowerCase());
}

/**
 * The offer's payload types we answer with, in the offer's order: media codecs
 * we can send, telephone-event (each clock Chromium supports) and CN/8000 when
 * offered. Not red: a lite agent sends no redundancy, and would rather the far
 * end sent plain frames it can recognise.
 */
export function answerCodecs(offer: ParsedAudio, canSend: (codec: SdpCodec) => boolean): SdpCodec[] {
  return offer.codecs.filter((codec) => {
    const name = codec.name.toLowerCase();
    if (isPrimaryAudio(codec)) return canSend(codec) && (name !== 'opus' || (codec.clockRate === 48000 && codec.channels === 2));
    if (name === 'telephone-event') return [8000, 16000, 32000, 48000].includes(codec.clockRate);
    if (name === 'cn') return codec.clockRate === 8000;
    return false;
  });
}

export interface AnswerOptions {
  direction: SdpDirection;
  setup: 'active' | 'passive';
  canSend: (codec: SdpCodec) => boolean;
}

/**
 * Our answer to `offerSdp`, written the way Chromium answers: session lines,
 * BUNDLE and extmap-allow-mixed only when offered, the offer's mid (0 when it
 * had none), the offer's header extensions Chromium supports with their ids,
 * rtcp-rsize and rtcp-xr only when offered, Chromium's rtpmap spellings and
 * fmtp, a=ssrc with cname only. Our candidates: UDP, and TCP active when the
 * offer has no BUNDLE group (so Chromium 156 did, answering a SIP-style offer,
 * and not answering its own). Other m= sections are refused (port 0).
 * Throws when no audio codec is left.
 */
export function chromeAnswer(offerSdp: string, identity: LocalIdentity, transport: LocalTransport, version: number, options: AnswerOptions): string {
  const offer = parseSdp(offerSdp);
  const audio = offer.audio;
  if (!audio) throw new Error('the offer has no audio m= line we can answer');
  const codecs = answerCodecs(audio, options.canSend);
  if (!codecs.some(isPrimaryAudio)) {
    throw new Error(`no audio codec in common: the offer has ${audio.codecs.map((c) => `${c.name}/${c.clockRate}`).join(', ') || 'none'}`);
  }
  const mid = audio.mid ?? '0';
  const bundled = offer.bundle?.includes(mid) === true;
  const out: string[] = ['v=0', `o=- ${identity.sessionId} ${version} IN IP4 127.0.0.1`, 's=-', 't=0 0'];
  if (bundled) out.push(`a=group:BUNDLE ${mid}`);
  if (offer.extmapAllowMixed) out.push('a=extmap-allow-mixed');
  out.push(`a=msid-semantic: WMS ${identity.streamId}`);
  const credentials = [
    `a=ice-ufrag:${transport.iceUfrag}`,
    `a=ice-pwd:${transport.icePwd}`,
    'a=ice-options:trickle',
    `a=fingerprint:${transport.fingerprint}`,
    `a=setup:${options.setup}`,
  ];
  offer.sections.forEach((section, index) => {
    if (index !== audio.index) {
      out.push(`m=${section.kind} 0 ${section.protocol} ${section.formats.join(' ')}`, 'c=IN IP4 0.0.0.0', ...(section.mid !== undefined ? [`a=mid:${section.mid}`] : []), 'a=inactive');
      return;
    }
    out.push(`m=audio ${transport.port} ${section.protocol} ${codecs.map((c) => c.payloadType).join(' ')}`);
    out.push(`c=IN IP4 ${transport.address}`, 'a=rtcp:9 IN IP4 0.0.0.0');
    out.push(...templateCandidates(transport.address).filter((c) => c.protocol === 'udp' || !bundled).map((c) => candidateLine(c, transport)));
    out.push(...credentials, `a=mid:${mid}`);
    out.push(...audio.extmaps.filter((e) => CHROME_AUDIO_EXTENSIONS.has(e.uri)).map((e) => `a=extmap:${e.id} ${e.uri}`));
    out.push(`a=${options.direction}`, `a=msid:${identity.streamId} ${identity.trackId}`, 'a=rtcp-mux');
    if (audio.rtcpRsize) out.push('a=rtcp-rsize');
    if (audio.rtcpXr?.includes('rcvr-rtt')) out.push('a=rtcp-xr:rcvr-rtt=all');
    for (const codec of codecs) {
      const chrome = CHROME_CODECS[codec.name.toLowerCase()];
      out.push(`a=rtpmap:${codec.payloadType} ${chrome ? chrome.rtpmap(codec) : `${codec.name}/${codec.clockRate}`}`);
      if (codec.name.toLowerCase() === 'opus' && codec.rtcpFb.includes('transport-cc')) out.push(`a=rtcp-fb:${codec.payloadType} transport-cc`);
      if (chrome?.fmtp) out.push(`a=fmtp:${codec.payloadType} ${chrome.fmtp}`);
    }
    out.push(`a=ssrc:${identity.ssrc} cname:${identity.cname}`);
  });
  return out.join('\r\n') + '\r\n';
}

// ---------------------------------------------------------------------------
// Small rewrites of our own stored descriptions

/** The same description with another direction in its audio section, another o= version, and (re-offers) setup:actpass. */
export function rewriteLocal(sdp: string, changes: { direction?: SdpDirection; version?: number; setup?: DtlsSetup }): string {
  let inAudio = false;
  return sdp
    .split('\r\n')
    .map((line) => {
      if (line.startsWith('m=')) inAudio = line.startsWith('m=audio ') && !line.startsWith('m=audio 0 ');
      if (changes.version !== undefined && line.startsWith('o=')) {
        const parts = line.split(' ');
        parts[2] = String(changes.version);
        return parts.join(' ');
      }
      if (inAudio && changes.direction && DIRECTIONS.includes(line.slice(2))) return `a=${changes.direction}`;
      if (inAudio && changes.setup && line.startsWith('a=setup:')) return `a=setup:${changes.setup}`;
      return line;
    })
    .join('\r\n');
}

// ---------------------------------------------------------------------------
// What libdatachannel is given

export interface LibdatachannelRemoteOptions {
  /** Our bind address: remote candidates of another family (or not loopback when we are) cannot be reached from it. */
  bindAddress: string;
  /** The mid libdatachannel's own description uses (answers to our offer). */
  mid?: string;
}

/**
 * The far end's SDP as libdatachannel should see it: only the audio section
 * (a lite leg carries nothing else), with a=mid (added when missing, as
 * Chromium assumes 0), always a=sendrecv (directions are ours to enforce:
 * libdatachannel would drop RTP in a direction it thinks closed, and a hold
 * re-INVITE is not renegotiated into it), BUNDLE reduced to that mid, no
 * a=rtcp:PORT (its answer would copy it), UDP candidates it can reach from
 * our bind address, and a=end-of-candidates (SIP offers carry every candidate).
 */
export function libdatachannelRemote(sdp: string, options: LibdatachannelRemoteOptions): string {
  const parsed = parseSdp(sdp);
  const audio = parsed.audio;
  if (!audio) throw new Error('the far end SDP has no audio m= line');
  const mid = audio.mid ?? options.mid ?? '0';
  const lines = sdp.split(/\r\n|\r|\n/).filter((line) => line !== '');
  const out: string[] = [];
  let section = -1;
  const loopback = LOOPBACK_V4.test(options.bindAddress);
  const v6 = options.bindAddress.includes(':');
  for (const line of lines) {
    if (line.startsWith('m=')) section++;
    if (section >= 0 && section !== audio.index) continue;
    if (line.startsWith('a=group:BUNDLE')) {
      out.push(`a=group:BUNDLE ${mid}`);
      continue;
    }
    if (section < 0) {
      if (DIRECTIONS.includes(line.slice(2))) continue;
      out.push(line);
      continue;
    }
    if (DIRECTIONS.includes(line.slice(2)) || line.startsWith('a=rtcp:') || line.startsWith('a=mid:')) continue;
    if (line === 'a=end-of-candidates') continue;
    if (line.startsWith('a=candidate:')) {
      const [, , protocol = '', , address = ''] = line.slice('a=candidate:'.length).split(' ');
      if (protocol.toLowerCase() !== 'udp' || address.includes(':') !== v6 || (loopback && !LOOPBACK_V4.test(address))) continue;
    }
    out.push(line);
    if (line.startsWith('m=')) out.push(`a=mid:${mid}`, 'a=sendrecv');
  }
  out.push('a=end-of-candidates');
  return out.join('\r\n') + '\r\n';
}

/** What libdatachannel's own description says: its fingerprint, setup role and gathered UDP candidate. */
export function libdatachannelLocal(sdp: string, bindAddress: string): { fingerprint: string; setup: DtlsSetup; port: number } {
  const parsed = parseSdp(sdp);
  const candidate = parsed.audio?.candidates
    .map((c) => c.split(' '))
    .find((parts) => parts[2]?.toLowerCase() === 'udp' && parts[4] === bindAddress);
  const port = Number(candidate?.[5] ?? parsed.audio?.port ?? 0);
  if (!parsed.fingerprint) throw new Error('libdatachannel gave a local description without a fingerprint');
  if (!port) throw new Error(`libdatachannel gathered no UDP candidate on ${bindAddress}`);
  return { fingerprint: parsed.fingerprint, setup: (parsed.setup ?? 'actpass') as DtlsSetup, port };
}
