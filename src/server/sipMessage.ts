/**
 * SIP message text <-> structure (RFC 3261 section 7), enough for a proxy:
 * headers are kept in order as name/value pairs, with the list-valued headers
 * a proxy edits (Via, Route, Record-Route, Contact) split into one entry per
 * value so "pop the top Via" is a one-entry operation. Everything else passes
 * through untouched.
 */

export interface SipHeader {
  /** Canonical long form for known headers ("Via", "Call-ID"), as received otherwise. */
  readonly name: string;
  readonly value: string;
}

interface SipMessageBase {
  headers: SipHeader[];
  /** Decoded UTF-8; Content-Length is recomputed in bytes when serialising. */
  body: string;
}

export interface SipRequest extends SipMessageBase {
  readonly kind: 'request';
  method: string;
  requestUri: string;
}

export interface SipResponse extends SipMessageBase {
  readonly kind: 'response';
  statusCode: number;
  reasonPhrase: string;
}

export type SipMessage = SipRequest | SipResponse;

/**
 * `message` is absent when not even the start line made sense (drop it);
 * `problem` is set when the message is malformed but parsed far enough that a
 * request can still be answered with 400.
 */
export type ParseResult =
  | { message: SipMessage; problem?: string }
  | { message?: undefined; problem: string };

const COMPACT_FORMS: Readonly<Record<string, string>> = {
  a: 'Accept-Contact',
  b: 'Referred-By',
  c: 'Content-Type',
  d: 'Request-Disposition',
  e: 'Content-Encoding',
  f: 'From',
  i: 'Call-ID',
  j: 'Reject-Contact',
  k: 'Supported',
  l: 'Content-Length',
  m: 'Contact',
  n: 'Identity-Info',
  o: 'Event',
  r: 'Refer-To',
  s: 'Subject',
  t: 'To',
  u: 'Allow-Events',
  v: 'Via',
  x: 'Session-Expires',
  y: 'Identity',
};

const CANONICAL_NAMES: ReadonlyMap<string, string> = new Map(
  [
    'Accept',
    'Allow',
    'Authorization',
    'Call-ID',
    'Contact',
    'Content-Length',
    'Content-Type',
    'CSeq',
    'Event',
    'Expires',
    'From',
    'Max-Forwards',
    'Min-Expires',
    'Proxy-Authenticate',
    'Proxy-Authorization',
    'Proxy-Require',
    'Record-Route',
    'Refer-To',
    'Retry-After',
    'Route',
    'Server',
    'Supported',
    'Timestamp',
    'To',
    'User-Agent',
    'Via',
    'Warning',
    'WWW-Authenticate',
    ...Object.values(COMPACT_FORMS),
  ].map((name) => [name.toLowerCase(), name]),
);

/** Headers whose comma-separated values are split into one entry each. */
const SPLIT_LIST_HEADERS = new Set(['via', 'route', 'record-route', 'contact']);

export function canonicalHeaderName(name: string): string {
  const lower = name.toLowerCase();
  return COMPACT_FORMS[lower] ?? CANONICAL_NAMES.get(lower) ?? name;
}

/** Splits on commas outside double quotes and angle brackets. */
export function splitHeaderList(value: string): string[] {
  const parts: string[] = [];
  let current = '';
  let inQuotes = false;
  let angleDepth = 0;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (inQuotes) {
      current += ch;
      if (ch === '\\' && i + 1 < value.length) current += value[++i];
      else if (ch === '"') inQuotes = false;
      continue;
    }
    if (ch === '"') inQuotes = true;
    else if (ch === '<') angleDepth++;
    else if (ch === '>' && angleDepth > 0) angleDepth--;
    else if (ch === ',' && angleDepth === 0) {
      parts.push(current.trim());
      current = '';
      continue;
    }
    current += ch;
  }
  parts.push(current.trim());
  return parts.filter((part) => part !== '');
}

// Loose on the Request-URI so a URI with spaces (a bad login name) gets a 400 instead of silence.
const REQUEST_LINE = /^([A-Za-z0-9.!%*_+`'~-]+) (.+) SIP\/2\.0$/;
const STATUS_LINE = /^SIP\/2\.0 ([1-6]\d\d)(?: (.*))?$/;

export function parseSipMessage(raw: string): ParseResult {
  // RFC 3261 7.5: empty lines before the start line are ignored.
  const text = raw.replace(/^(?:\r?\n)+/, '');
  const separator = /\r?\n\r?\n/.exec(text);
  const headerSection = separator ? text.slice(0, separator.index) : text.replace(/\r?\n$/, '');
  const bodyText = separator ? text.slice(separator.index + separator[0].length) : '';
  const lines = headerSection.split(/\r?\n/);
  const startLine = lines[0] ?? '';

  let message: SipMessage;
  const requestLine = REQUEST_LINE.exec(startLine);
  const statusLine = STATUS_LINE.exec(startLine);
  if (requestLine) {
    message = { kind: 'request', method: requestLine[1]!, requestUri: requestLine[2]!, headers: [], body: '' };
  } else if (statusLine) {
    message = {
      kind: 'response',
      statusCode: Number(statusLine[1]),
      reasonPhrase: statusLine[2] ?? '',
      headers: [],
      body: '',
    };
  } else {
    return { problem: `not a SIP start line: ${JSON.stringify(startLine.slice(0, 80))}` };
  }

  let problem: string | undefined;
  if (message.kind === 'request' && /\s/.test(message.requestUri)) {
    problem = `Request-URI contains whitespace: ${JSON.stringify(message.requestUri)}`;
  }
  for (const line of unfoldHeaderLines(lines.slice(1))) {
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim() : '';
    if (name === '' || /\s/.test(name)) {
      problem ??= `malformed header line: ${JSON.stringify(line.slice(0, 80))}`;
      continue;
    }
    const canonical = canonicalHeaderName(name);
    const value = line.slice(colon + 1).trim();
    const values = SPLIT_LIST_HEADERS.has(canonical.toLowerCase()) && value !== '*' ? splitHeaderList(value) : [value];
    for (const single of values) message.headers.push({ name: canonical, value: single });
  }

  const bodyBytes = Buffer.from(bodyText, 'utf8');
  const contentLength = getHeader(message, 'Content-Length');
  if (contentLength === undefined) {
    // Over WebSocket one frame is one message, so the rest of the frame is the body.
    message.body = bodyText;
  } else if (!/^\d+$/.test(contentLength)) {
    problem ??= `invalid Content-Length: ${contentLength}`;
    message.body = bodyText;
  } else if (Number(contentLength) > bodyBytes.length) {
    problem ??= `Content-Length ${contentLength} is larger than the body (${bodyBytes.length} bytes)`;
    message.body = bodyText;
  } else {
    message.body = bodyBytes.subarray(0, Number(contentLength)).toString('utf8');
  }
  return problem === undefined ? { message } : { message, problem };
}

function unfoldHeaderLines(lines: readonly string[]): string[] {
  const unfolded: string[] = [];
  for (const line of lines) {
    if (/^[ \t]/.test(line) && unfolded.length > 0) {
      unfolded[unfolded.length - 1] += ' ' + line.trim();
    } else if (line !== '') {
      unfolded.push(line);
    }
  }
  return unfolded;
}

export function serializeSipMessage(message: SipMessage): string {
  const startLine =
    message.kind === 'request'
      ? `${message.method} ${message.requestUri} SIP/2.0`
      : `SIP/2.0 ${message.statusCode} ${message.reasonPhrase}`;
  const lines = [startLine];
  for (const header of message.headers) {
    if (header.name !== 'Content-Length') lines.push(`${header.name}: ${header.value}`);
  }
  lines.push(`Content-Length: ${Buffer.byteLength(message.body, 'utf8')}`);
  return lines.join('\r\n') + '\r\n\r\n' + message.body;
}

function sameName(header: SipHeader, name: string): boolean {
  return header.name.toLowerCase() === canonicalHeaderName(name).toLowerCase();
}

export function getHeader(message: SipMessage, name: string): string | undefined {
  return message.headers.find((header) => sameName(header, name))?.value;
}

export function getHeaders(message: SipMessage, name: string): string[] {
  return message.headers.filter((header) => sameName(header, name)).map((header) => header.value);
}

export function hasHeader(message: SipMessage, name: string): boolean {
  return message.headers.some((header) => sameName(header, name));
}

/** Replaces every value of `name` with one value, kept where the first one was. */
export function setHeader(message: SipMessage, name: string, value: string): void {
  const canonical = canonicalHeaderName(name);
  const index = message.headers.findIndex((header) => sameName(header, name));
  removeHeaders(message, name);
  message.headers.splice(index === -1 ? message.headers.length : index, 0, { name: canonical, value });
}

/** Adds a value above the existing ones (Via, Record-Route), or at the top if there are none. */
export function prependHeader(message: SipMessage, name: string, value: string): void {
  const index = message.headers.findIndex((header) => sameName(header, name));
  message.headers.splice(index === -1 ? 0 : index, 0, { name: canonicalHeaderName(name), value });
}

export function appendHeader(message: SipMessage, name: string, value: string): void {
  message.headers.push({ name: canonicalHeaderName(name), value });
}

export function removeFirstHeader(message: SipMessage, name: string): string | undefined {
  const index = message.headers.findIndex((header) => sameName(header, name));
  if (index === -1) return undefined;
  return message.headers.splice(index, 1)[0]!.value;
}

export function removeHeaders(message: SipMessage, name: string): void {
  message.headers = message.headers.filter((header) => !sameName(header, name));
}

export function cloneMessage<T extends SipMessage>(message: T): T {
  return { ...message, headers: message.headers.map((header) => ({ ...header })) };
}
