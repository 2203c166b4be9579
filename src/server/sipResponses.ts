/**
 * Responses this proxy writes itself (RFC 3261 8.2.6): Via, From, To, Call-ID
 * and CSeq copied from the request, a To tag added to anything above 100.
 */
import { randomBytes } from 'node:crypto';
import { appendHeader, getHeader, getHeaders, type SipHeader, type SipRequest, type SipResponse } from './sipMessage.js';
import { tagOf } from './sipUri.js';

const REASON_PHRASES: Readonly<Record<number, string>> = {
  100: 'Trying',
  180: 'Ringing',
  200: 'OK',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  416: 'Unsupported URI Scheme',
  480: 'Temporarily Unavailable',
  481: 'Call/Transaction Does Not Exist',
  483: 'Too Many Hops',
  487: 'Request Terminated',
  500: 'Server Internal Error',
  503: 'Service Unavailable',
};

export function reasonPhrase(statusCode: number): string {
  return REASON_PHRASES[statusCode] ?? 'Unknown';
}

/**
 * Prefix of the To tags this proxy generates. An ACK carrying one acknowledges
 * a response we generated, so it is absorbed here and never forwarded.
 */
export const LOCAL_TAG_PREFIX = 'cw.';

export function newLocalTag(): string {
  return LOCAL_TAG_PREFIX + randomBytes(6).toString('hex');
}

export interface ResponseOptions {
  readonly reasonPhrase?: string;
  readonly headers?: readonly SipHeader[];
  /** Human-readable detail, sent as a Warning header (code 399). */
  readonly warning?: string;
}

export function createResponse(request: SipRequest, statusCode: number, options: ResponseOptions = {}): SipResponse {
  const response: SipResponse = {
    kind: 'response',
    statusCode,
    reasonPhrase: options.reasonPhrase ?? reasonPhrase(statusCode),
    headers: [],
    body: '',
  };
  for (const via of getHeaders(request, 'Via')) appendHeader(response, 'Via', via);
  const from = getHeader(request, 'From');
  if (from !== undefined) appendHeader(response, 'From', from);
  const to = getHeader(request, 'To');
  if (to !== undefined) {
    const needsTag = statusCode > 100 && tagOf(to) === undefined;
    appendHeader(response, 'To', needsTag ? `${to};tag=${newLocalTag()}` : to);
  }
  for (const name of ['Call-ID', 'CSeq']) {
    const value = getHeader(request, name);
    if (value !== undefined) appendHeader(response, name, value);
  }
  const timestamp = getHeader(request, 'Timestamp');
  if (statusCode === 100 && timestamp !== undefined) appendHeader(response, 'Timestamp', timestamp);
  for (const header of options.headers ?? []) appendHeader(response, header.name, header.value);
  if (options.warning !== undefined) {
    appendHeader(response, 'Warning', `399 callwright "${options.warning.replace(/["\\]/g, "'")}"`);
  }
  return response;
}
