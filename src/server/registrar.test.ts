import { describe, expect, it } from 'vitest';
import { applyRegister } from './registerRequest.js';
import { Registrar } from './registrar.js';
import { getHeaders, parseSipMessage, type SipRequest } from './sipMessage.js';

function register(contactLines: string[], extra: string[] = []): SipRequest {
  const raw = [
    'REGISTER sip:callwright.test SIP/2.0',
    'Via: SIP/2.0/WSS a.invalid;branch=z9hG4bK1',
    'From: <sip:alice@callwright.test>;tag=t',
    'To: <sip:alice@callwright.test>',
    'Call-ID: reg-1',
    'CSeq: 1 REGISTER',
    ...contactLines,
    ...extra,
    '',
    '',
  ].join('\r\n');
  return parseSipMessage(raw).message as SipRequest;
}

describe('Registrar and REGISTER processing', () => {
  it('binds contacts with their own expires or the Expires header, and lists them all', () => {
    let clockMs = 0;
    const registrar = new Registrar(() => clockMs);
    const response = applyRegister(
      register(['Contact: <sip:one@a.invalid;transport=ws>;expires=600', 'Contact: <sip:two@b.invalid>'], ['Expires: 120']),
      'alice',
      7,
      registrar,
    );
    expect(response.statusCode).toBe(200);
    expect(getHeaders(response, 'Contact').sort()).toEqual([
      '<sip:one@a.invalid;transport=ws>;expires=600',
      '<sip:two@b.invalid>;expires=120',
    ]);
    expect(registrar.registeredUserCount()).toBe(1);
    expect(registrar.connectionsOf('alice')).toEqual([7]);

    clockMs = 121_000;
    expect(registrar.bindingsOf('alice').map((binding) => binding.contactKey)).toEqual(['one@a.invalid']);
    clockMs = 601_000;
    expect(registrar.bindingsOf('alice')).toEqual([]);
    expect(registrar.registeredUserCount()).toBe(0);
    expect(registrar.hasEverRegistered('alice')).toBe(true);
  });

  it('caps expires at the maximum and removes a binding with expires=0', () => {
    const registrar = new Registrar(() => 0);
    const first = applyRegister(register(['Contact: <sip:one@a.invalid>;expires=99999']), 'alice', 1, registrar);
    expect(getHeaders(first, 'Contact')).toEqual(['<sip:one@a.invalid>;expires=3600']);
    const removal = applyRegister(register(['Contact: <sip:one@a.invalid>;expires=0']), 'alice', 1, registrar);
    expect(removal.statusCode).toBe(200);
    expect(getHeaders(removal, 'Contact')).toEqual([]);
    expect(registrar.registeredUserCount()).toBe(0);
  });

  it('removes every binding with Contact: * and Expires: 0, and refuses * without it', () => {
    const registrar = new Registrar(() => 0);
    applyRegister(register(['Contact: <sip:one@a.invalid>', 'Contact: <sip:two@b.invalid>']), 'alice', 1, registrar);
    expect(applyRegister(register(['Contact: *']), 'alice', 1, registrar).statusCode).toBe(400);
    expect(registrar.bindingsOf('alice')).toHaveLength(2);
    expect(applyRegister(register(['Contact: *'], ['Expires: 0']), 'alice', 1, registrar).statusCode).toBe(200);
    expect(registrar.bindingsOf('alice')).toEqual([]);
  });

  it('answers a query without Contact with the current bindings', () => {
    const registrar = new Registrar(() => 0);
    applyRegister(register(['Contact: <sip:one@a.invalid>;expires=60']), 'alice', 1, registrar);
    expect(getHeaders(applyRegister(register([]), 'alice', 2, registrar), 'Contact')).toEqual([
      '<sip:one@a.invalid>;expires=60',
    ]);
  });

  it('moves a refreshed binding to the new connection and forgets bindings of a closed connection', () => {
    let clockMs = 0;
    const registrar = new Registrar(() => clockMs);
    applyRegister(register(['Contact: <sip:one@a.invalid>']), 'alice', 1, registrar);
    clockMs = 10;
    applyRegister(register(['Contact: <sip:one@a.invalid>']), 'alice', 2, registrar);
    applyRegister(register(['Contact: <sip:two@b.invalid>']), 'alice', 3, registrar);
    expect(registrar.bindingsOf('alice').map((binding) => binding.connectionId).sort()).toEqual([2, 3]);
    expect(registrar.unbindConnection(2)).toEqual(['alice']);
    expect(registrar.bindingsOf('alice').map((binding) => binding.contactKey)).toEqual(['two@b.invalid']);
  });

  it('refuses an unparsable contact without changing the bindings', () => {
    const registrar = new Registrar(() => 0);
    const response = applyRegister(register(['Contact: <sip:ok@a.invalid>', 'Contact: <mailto:x>']), 'alice', 1, registrar);
    expect(response.statusCode).toBe(400);
    expect(registrar.bindingsOf('alice')).toEqual([]);
  });
});
