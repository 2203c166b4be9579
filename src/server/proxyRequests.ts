/**
 * Request-level pieces of the proxy that need no state: the checks that decide
 * a 400, transaction identity, and the hop-by-hop CANCEL/ACK it writes itself.
 */
import { createHash } from 'node:crypto';
import { appendHeader, getHeader, getHeaders, type SipRequest } from './sipMessage.js';
import { dialogKey } from './dialogTracker.js';
import { parseCSeq, parseNameAddr, parseSipUri, parseVia, tagOf, uriScheme } from './sipUri.js';

export const DEFAULT_MAX_FORWARDS = 70;

/** Why a request cannot be processed (answered 400), or undefined. */
export function requestProblem(request: SipRequest): string | undefined {
  const scheme = uriScheme(request.requestUri);
  if ((scheme === 'sip' || scheme === 'sips') && parseSipUri(request.requestUri) === undefined) {
    return `unparsable Request-URI ${request.requestUri}`;
  }
  const via = getHeader(request, 'Via');
  if (via === undefined) return 'missing Via';
  if (parseVia(via) === undefined) return `unparsable Via ${via}`;
  for (const name of ['From', 'To']) {
    const value = getHeader(request, name);
    if (value === undefined) return `missing ${name}`;
    const nameAddr = parseNameAddr(value);
    if (nameAddr === undefined || uriScheme(nameAddr.uri) === undefined) return `unparsable ${name} ${value}`;
  }
  if (getHeader(request, 'Call-ID') === undefined) return 'missing Call-ID';
  const cseq = parseCSeq(getHeader(request, 'CSeq'));
  if (cseq === undefined) return 'missing or unparsable CSeq';
  if (cseq.method !== request.method) return `CSeq method ${cseq.method} does not match ${request.method}`;
  const maxForwards = getHeader(request, 'Max-Forwards');
  if (maxForwards !== undefined && !/^\s*\d+\s*$/.test(maxForwards)) return `invalid Max-Forwards ${maxForwards}`;
  return undefined;
}

/** The client's top Via branch; RFC 2543 clients without one get a key from the request identity. */
export function upstreamBranch(request: SipRequest): string {
  const branch = parseVia(getHeader(request, 'Via')!)?.branch;
  if (branch !== undefined) return branch;
  const identity = [
    getHeader(request, 'Call-ID'),
    parseCSeq(getHeader(request, 'CSeq'))?.sequence,
    tagOf(getHeader(request, 'From')),
    request.requestUri,
  ].join('|');
  return 'legacy-' + createHash('sha1').update(identity).digest('hex');
}

export function maxForwardsOf(request: SipRequest): number {
  const value = getHeader(request, 'Max-Forwards');
  return value === undefined ? DEFAULT_MAX_FORWARDS : Number(value.trim());
}

export function dialogKeyOfRequest(request: SipRequest): string {
  return dialogKey(
    getHeader(request, 'Call-ID')!,
    tagOf(getHeader(request, 'From')) ?? '',
    tagOf(getHeader(request, 'To')) ?? '',
  );
}

/**
 * CANCEL or ACK built from the request we forwarded (RFC 3261 9.1, 17.1.1.3):
 * same Request-URI, our Via only, same Route set, From, Call-ID and CSeq number.
 */
export function hopByHopRequest(method: 'CANCEL' | 'ACK', forwarded: SipRequest, to: string): SipRequest {
  const request: SipRequest = { kind: 'request', method, requestUri: forwarded.requestUri, headers: [], body: '' };
  appendHeader(request, 'Via', getHeader(forwarded, 'Via')!);
  for (const route of getHeaders(forwarded, 'Route')) appendHeader(request, 'Route', route);
  appendHeader(request, 'Max-Forwards', String(DEFAULT_MAX_FORWARDS));
  appendHeader(request, 'From', getHeader(forwarded, 'From')!);
  appendHeader(request, 'To', to);
  appendHeader(request, 'Call-ID', getHeader(forwarded, 'Call-ID')!);
  appendHeader(request, 'CSeq', `${parseCSeq(getHeader(forwarded, 'CSeq'))!.sequence} ${method}`);
  return request;
}
