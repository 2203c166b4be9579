import { describe, expect, it } from 'vitest';
import {
  getHeader,
  getHeaders,
  parseSipMessage,
  prependHeader,
  removeFirstHeader,
  serializeSipMessage,
  setHeader,
  type SipRequest,
} from './sipMessage.js';

const crlf = (lines: string[]): string => lines.join('\r\n');

describe('parseSipMessage', () => {
  it('parses a request with compact header names into canonical names', () => {
    const { message, problem } = parseSipMessage(
      crlf([
        'MESSAGE sip:bob@callwright.test SIP/2.0',
        'v: SIP/2.0/WSS abc.invalid;branch=z9hG4bK1',
        'f: <sip:alice@callwright.test>;tag=a1',
        't: <sip:bob@callwright.test>',
        'i: call-1',
        'CSeq: 1 MESSAGE',
        'c: text/plain',
        'k: outbound',
        'm: <sip:x@y.invalid;transport=ws>',
        'l: 5',
        '',
        'hello',
      ]),
    );
    expect(problem).toBeUndefined();
    expect(message?.kind).toBe('request');
    const request = message as SipRequest;
    expect(request.method).toBe('MESSAGE');
    expect(request.requestUri).toBe('sip:bob@callwright.test');
    expect(request.headers.map((header) => header.name)).toEqual([
      'Via',
      'From',
      'To',
      'Call-ID',
      'CSeq',
      'Content-Type',
      'Supported',
      'Contact',
      'Content-Length',
    ]);
    expect(getHeader(request, 'call-id')).toBe('call-1');
    expect(request.body).toBe('hello');
  });

  it('splits comma-separated Via, Route, Record-Route and Contact values but not quoted or bracketed commas', () => {
    const { message } = parseSipMessage(
      crlf([
        'SIP/2.0 200 OK',
        'Via: SIP/2.0/WS 127.0.0.1:5060;branch=z9hG4bKcw1, SIP/2.0/WSS a.invalid;branch=z9hG4bK2',
        'Record-Route: <sip:p1;lr>, <sip:p2;lr>',
        'Contact: "Smith, Bob" <sip:bob@b.invalid;transport=ws>;expires=60, <sip:bob@c.invalid>',
        'WWW-Authenticate: Digest realm="a", nonce="b", qop="auth"',
        'CSeq: 1 REGISTER',
        '',
        '',
      ]),
    );
    expect(message).toBeDefined();
    expect(getHeaders(message!, 'Via')).toEqual([
      'SIP/2.0/WS 127.0.0.1:5060;branch=z9hG4bKcw1',
      'SIP/2.0/WSS a.invalid;branch=z9hG4bK2',
    ]);
    expect(getHeaders(message!, 'Record-Route')).toEqual(['<sip:p1;lr>', '<sip:p2;lr>']);
    expect(getHeaders(message!, 'Contact')).toEqual([
      '"Smith, Bob" <sip:bob@b.invalid;transport=ws>;expires=60',
      '<sip:bob@c.invalid>',
    ]);
    expect(getHeaders(message!, 'WWW-Authenticate')).toEqual(['Digest realm="a", nonce="b", qop="auth"']);
  });

  it('keeps Contact: * as one value', () => {
    const { message } = parseSipMessage(crlf(['REGISTER sip:d SIP/2.0', 'Contact: *', 'Expires: 0', '', '']));
    expect(getHeaders(message!, 'Contact')).toEqual(['*']);
  });

  it('unfolds continuation lines', () => {
    const { message } = parseSipMessage(crlf(['OPTIONS sip:d SIP/2.0', 'Subject: first', '  second', '', '']));
    expect(getHeader(message!, 'Subject')).toBe('first second');
  });

  it('parses a response start line with its reason phrase', () => {
    const { message } = parseSipMessage(crlf(['SIP/2.0 487 Request Terminated', 'CSeq: 1 INVITE', '', '']));
    expect(message).toMatchObject({ kind: 'response', statusCode: 487, reasonPhrase: 'Request Terminated' });
  });

  it('cuts the body at Content-Length counted in bytes, not characters', () => {
    const body = 'héllo ☎';
    const bytes = Buffer.byteLength(body);
    const { message, problem } = parseSipMessage(
      crlf(['MESSAGE sip:b@d SIP/2.0', `Content-Length: ${bytes}`, '', body + 'TRAILING']),
    );
    expect(problem).toBeUndefined();
    expect(message!.body).toBe(body);
  });

  it('takes the whole rest of the frame as body when Content-Length is absent', () => {
    const { message } = parseSipMessage(crlf(['MESSAGE sip:b@d SIP/2.0', 'Content-Type: text/plain', '', 'abc']));
    expect(message!.body).toBe('abc');
  });

  it('reports a Content-Length larger than the body as a problem but still returns the request', () => {
    const result = parseSipMessage(crlf(['MESSAGE sip:b@d SIP/2.0', 'Content-Length: 10', '', 'abc']));
    expect(result.message?.kind).toBe('request');
    expect(result.problem).toMatch(/Content-Length 10/);
  });

  it('reports a header line without a colon as a problem', () => {
    const result = parseSipMessage(crlf(['INVITE sip:b@d SIP/2.0', 'Via SIP/2.0/WS x', '', '']));
    expect(result.message?.kind).toBe('request');
    expect(result.problem).toMatch(/malformed header line/);
  });

  it('reports a Request-URI with a space (an invalid login name) as a problem, so it can be answered 400', () => {
    const result = parseSipMessage(crlf(['INVITE sip:john smith@d SIP/2.0', 'Call-ID: x', '', '']));
    expect(result.message).toMatchObject({ kind: 'request', method: 'INVITE', requestUri: 'sip:john smith@d' });
    expect(result.problem).toMatch(/whitespace/);
  });

  it('rejects garbage that has no SIP start line', () => {
    expect(parseSipMessage('hello there\r\n\r\n').message).toBeUndefined();
    expect(parseSipMessage('INVITE sip:b@d HTTP/1.1\r\n\r\n').message).toBeUndefined();
    expect(parseSipMessage('').message).toBeUndefined();
  });

  it('ignores empty lines before the start line and accepts bare LF line endings', () => {
    const { message } = parseSipMessage('\r\n\r\nOPTIONS sip:d SIP/2.0\nCall-ID: x\n\n');
    expect(message).toMatchObject({ kind: 'request', method: 'OPTIONS' });
    expect(getHeader(message!, 'Call-ID')).toBe('x');
  });
});

describe('serializeSipMessage', () => {
  it('writes one header per line and a Content-Length in bytes', () => {
    const request: SipRequest = {
      kind: 'request',
      method: 'MESSAGE',
      requestUri: 'sip:b@d',
      headers: [
        { name: 'Via', value: 'SIP/2.0/WS a.invalid;branch=z9hG4bK1' },
        { name: 'Content-Length', value: '999' },
      ],
      body: '☎',
    };
    expect(serializeSipMessage(request)).toBe(
      'MESSAGE sip:b@d SIP/2.0\r\nVia: SIP/2.0/WS a.invalid;branch=z9hG4bK1\r\nContent-Length: 3\r\n\r\n☎',
    );
  });

  it('round-trips a parsed message', () => {
    const raw = crlf([
      'INVITE sip:bob@callwright.test SIP/2.0',
      'Via: SIP/2.0/WSS a.invalid;branch=z9hG4bK1',
      'Max-Forwards: 70',
      'To: <sip:bob@callwright.test>',
      'From: "Alice" <sip:alice@callwright.test>;tag=x',
      'Call-ID: c1',
      'CSeq: 2 INVITE',
      'Content-Type: application/sdp',
      'Content-Length: 4',
      '',
      'v=0\n',
    ]);
    const first = parseSipMessage(raw).message!;
    expect(serializeSipMessage(first)).toBe(raw);
  });
});

describe('header editing', () => {
  it('prepends a Via above the existing ones and pops it again', () => {
    const { message } = parseSipMessage(
      crlf(['INVITE sip:b@d SIP/2.0', 'From: <sip:a@d>', 'Via: SIP/2.0/WSS a.invalid;branch=z9hG4bK1', '', '']),
    );
    prependHeader(message!, 'Via', 'SIP/2.0/WS 127.0.0.1:1;branch=z9hG4bKcw');
    expect(message!.headers.map((header) => header.value)).toEqual([
      '<sip:a@d>',
      'SIP/2.0/WS 127.0.0.1:1;branch=z9hG4bKcw',
      'SIP/2.0/WSS a.invalid;branch=z9hG4bK1',
    ]);
    expect(removeFirstHeader(message!, 'via')).toBe('SIP/2.0/WS 127.0.0.1:1;branch=z9hG4bKcw');
    expect(getHeaders(message!, 'Via')).toEqual(['SIP/2.0/WSS a.invalid;branch=z9hG4bK1']);
  });

  it('setHeader replaces all values in place', () => {
    const { message } = parseSipMessage(crlf(['INVITE sip:b@d SIP/2.0', 'Max-Forwards: 70', 'To: <sip:b@d>', '', '']));
    setHeader(message!, 'max-forwards', '69');
    expect(message!.headers).toEqual([
      { name: 'Max-Forwards', value: '69' },
      { name: 'To', value: '<sip:b@d>' },
    ]);
  });
});
