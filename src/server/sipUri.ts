/**
 * The parts of SIP header grammar a proxy has to understand: SIP URIs,
 * name-addr values (From, To, Contact, Route), Via and CSeq. Raw text is kept
 * so forwarded messages carry exactly what the user agent wrote.
 */

export type HeaderParams = ReadonlyMap<string, string | undefined>;

export interface SipUri {
  readonly scheme: string;
  readonly user?: string;
  readonly host: string;
  readonly port?: number;
  /** Names lower-cased. */
  readonly params: HeaderParams;
}

export interface NameAddr {
  readonly displayName?: string;
  /** The URI text between the angle brackets (or the whole addr-spec). */
  readonly uri: string;
  /** Header parameters after the URI (tag, expires...). Names lower-cased. */
  readonly params: HeaderParams;
}

export interface ViaValue {
  /** e.g. "WS", "WSS", "UDP". */
  readonly transport: string;
  readonly host: string;
  readonly port?: number;
  readonly params: HeaderParams;
  readonly branch?: string;
}

export interface CSeqValue {
  readonly sequence: number;
  readonly method: string;
}

/** Splits on `separator` outside double quotes. */
function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  let inQuotes = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"') inQuotes = !inQuotes;
    if (ch === '\\' && inQuotes && i + 1 < text.length) {
      current += ch + text[++i];
      continue;
    }
    if (ch === separator && !inQuotes) {
      parts.push(current);
      current = '';
      continue;
    }
    current += ch;
  }
  parts.push(current);
  return parts;
}

/** Parses ";a=1;b;c=\"x\"" (leading separator optional). */
export function parseParams(text: string): Map<string, string | undefined> {
  const params = new Map<string, string | undefined>();
  for (const part of splitOutsideQuotes(text, ';')) {
    const trimmed = part.trim();
    if (trimmed === '') continue;
    const equals = trimmed.indexOf('=');
    if (equals === -1) params.set(trimmed.toLowerCase(), undefined);
    else params.set(trimmed.slice(0, equals).trim().toLowerCase(), trimmed.slice(equals + 1).trim());
  }
  return params;
}

const SIP_URI = /^(sips?):(?:([^@]*)@)?(\[[^\]]+\]|[^;:?]+)(?::(\d{1,5}))?(;[^?]*)?(?:\?.*)?$/i;

export function parseSipUri(text: string): SipUri | undefined {
  const match = SIP_URI.exec(text.trim());
  if (!match) return undefined;
  const userInfo = match[2];
  // user:password@ is deprecated but legal; the password is never kept.
  const user = userInfo === undefined ? undefined : userInfo.split(':')[0];
  return {
    scheme: match[1]!.toLowerCase(),
    ...(user === undefined || user === '' ? {} : { user: decodeUser(user) }),
    host: match[3]!.toLowerCase(),
    ...(match[4] === undefined ? {} : { port: Number(match[4]) }),
    params: parseParams(match[5] ?? ''),
  };
}

function decodeUser(user: string): string {
  try {
    return decodeURIComponent(user);
  } catch {
    return user;
  }
}

/** The scheme of a URI text ("sip", "tel"...), lower-cased, or undefined. */
export function uriScheme(text: string): string | undefined {
  return /^([a-z][a-z0-9+.-]*):/i.exec(text.trim())?.[1]?.toLowerCase();
}

export function parseNameAddr(value: string): NameAddr | undefined {
  const text = value.trim();
  const open = indexOutsideQuotes(text, '<');
  if (open !== -1) {
    const close = text.indexOf('>', open);
    if (close === -1) return undefined;
    const display = text.slice(0, open).trim();
    const displayName = display === '' ? undefined : display.replace(/^"(.*)"$/, '$1');
    return {
      ...(displayName === undefined ? {} : { displayName }),
      uri: text.slice(open + 1, close).trim(),
      params: parseParams(text.slice(close + 1)),
    };
  }
  // addr-spec form: parameters after the URI belong to the header (RFC 3261 20.10).
  const semicolon = text.indexOf(';');
  const uri = semicolon === -1 ? text : text.slice(0, semicolon);
  if (uri === '') return undefined;
  return { uri, params: parseParams(semicolon === -1 ? '' : text.slice(semicolon)) };
}

function indexOutsideQuotes(text: string, target: string): number {
  let inQuotes = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') inQuotes = !inQuotes;
    else if (ch === '\\' && inQuotes) i++;
    else if (ch === target && !inQuotes) return i;
  }
  return -1;
}

/** The tag parameter of a From/To value. */
export function tagOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return parseNameAddr(value)?.params.get('tag');
}

const VIA = /^SIP\s*\/\s*2\.0\s*\/\s*([A-Za-z]+)\s+(\[[^\]]+\]|[^\s;:]+)(?:\s*:\s*(\d{1,5}))?\s*(;.*)?$/i;

export function parseVia(value: string): ViaValue | undefined {
  const match = VIA.exec(value.trim());
  if (!match) return undefined;
  const params = parseParams(match[4] ?? '');
  const branch = params.get('branch');
  return {
    transport: match[1]!.toUpperCase(),
    host: match[2]!.toLowerCase(),
    ...(match[3] === undefined ? {} : { port: Number(match[3]) }),
    params,
    ...(branch === undefined ? {} : { branch }),
  };
}

export function parseCSeq(value: string | undefined): CSeqValue | undefined {
  const match = /^(\d{1,10})\s+([A-Za-z0-9.!%*_+`'~-]+)$/.exec(value?.trim() ?? '');
  if (!match) return undefined;
  return { sequence: Number(match[1]), method: match[2]! };
}

/**
 * Identifies a contact for routing: user@host[:port], without parameters.
 * Browser contacts are random ".invalid" hosts, so this is a lookup key, never
 * something to resolve.
 */
export function contactKey(uri: SipUri): string {
  return `${uri.user ?? ''}@${uri.host}${uri.port === undefined ? '' : ':' + uri.port}`;
}
