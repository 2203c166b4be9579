import { describe, expect, it } from 'vitest';
import { contactKey, parseCSeq, parseNameAddr, parseSipUri, parseVia, tagOf, uriScheme } from './sipUri.js';

describe('parseSipUri', () => {
  it('parses a SIP.js contact URI', () => {
    const uri = parseSipUri('sip:k3j2h1g0@abcdefgh1234.invalid;transport=ws');
    expect(uri).toMatchObject({ scheme: 'sip', user: 'k3j2h1g0', host: 'abcdefgh1234.invalid' });
    expect(uri?.port).toBeUndefined();
    expect(uri?.params.get('transport')).toBe('ws');
    expect(contactKey(uri!)).toBe('k3j2h1g0@abcdefgh1234.invalid');
  });

  it('parses host, port, valueless params and drops a password', () => {
    const uri = parseSipUri('sip:alice:secret@127.0.0.1:5060;transport=ws;lr');
    expect(uri).toMatchObject({ user: 'alice', host: '127.0.0.1', port: 5060 });
    expect(uri?.params.has('lr')).toBe(true);
    expect(JSON.stringify(uri)).not.toContain('secret');
  });

  it('parses a URI without user and an IPv6 host', () => {
    expect(parseSipUri('sip:callwright.test')).toMatchObject({ host: 'callwright.test' });
    expect(parseSipUri('sip:callwright.test')?.user).toBeUndefined();
    expect(parseSipUri('sips:[::1]:5061')).toMatchObject({ scheme: 'sips', host: '[::1]', port: 5061 });
  });

  it('refuses non-SIP URIs', () => {
    expect(parseSipUri('tel:+15551234')).toBeUndefined();
    expect(parseSipUri('nonsense')).toBeUndefined();
    expect(uriScheme('tel:+15551234')).toBe('tel');
  });
});

describe('parseNameAddr', () => {
  it('separates display name, URI and header params', () => {
    const value = parseNameAddr('"Alice A." <sip:alice@callwright.test;transport=ws>;tag=abc;expires=60');
    expect(value).toMatchObject({ displayName: 'Alice A.', uri: 'sip:alice@callwright.test;transport=ws' });
    expect(value?.params.get('tag')).toBe('abc');
    expect(value?.params.get('expires')).toBe('60');
  });

  it('treats params after a bare addr-spec as header params', () => {
    const value = parseNameAddr('sip:bob@callwright.test;tag=9');
    expect(value?.uri).toBe('sip:bob@callwright.test');
    expect(tagOf('sip:bob@callwright.test;tag=9')).toBe('9');
  });

  it('keeps quoted params with angle brackets intact', () => {
    const value = parseNameAddr('<sip:a@b.invalid;transport=ws>;+sip.instance="<urn:uuid:1-2>";expires=600');
    expect(value?.uri).toBe('sip:a@b.invalid;transport=ws');
    expect(value?.params.get('+sip.instance')).toBe('"<urn:uuid:1-2>"');
    expect(value?.params.get('expires')).toBe('600');
  });
});

describe('parseVia and parseCSeq', () => {
  it('parses the Via SIP.js sends', () => {
    const via = parseVia('SIP/2.0/WSS 6j1a0c9d8e7f.invalid;branch=z9hG4bK4711;rport');
    expect(via).toMatchObject({ transport: 'WSS', host: '6j1a0c9d8e7f.invalid', branch: 'z9hG4bK4711' });
    expect(via?.port).toBeUndefined();
    expect(via?.params.has('rport')).toBe(true);
  });

  it('parses a Via with a port and spaces around the slashes', () => {
    expect(parseVia('SIP / 2.0 / WS 127.0.0.1:5060;branch=z9hG4bKcw1')).toMatchObject({
      transport: 'WS',
      host: '127.0.0.1',
      port: 5060,
      branch: 'z9hG4bKcw1',
    });
    expect(parseVia('garbage')).toBeUndefined();
  });

  it('parses CSeq', () => {
    expect(parseCSeq('42 INVITE')).toEqual({ sequence: 42, method: 'INVITE' });
    expect(parseCSeq('INVITE')).toBeUndefined();
    expect(parseCSeq(undefined)).toBeUndefined();
  });
});
