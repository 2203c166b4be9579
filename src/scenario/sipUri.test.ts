import { describe, expect, it } from 'vitest';
import { checkSipUri } from './sipUri.js';

describe('checkSipUri', () => {
  it('accepts what scenarios and devices use', () => {
    for (const uri of [
      'sip:echo@{domain}',
      'SIP:echo@{domain}',
      'sips:ivr@pbx.example.com',
      'sip:echo@127.0.0.1:5070',
      'sip:echo@[::1]:5070',
      'sip:pbx.example.com',
      'sip:+4930123;phone-context=example.com@{domain}',
      'sip:john%20doe@example.com',
      'sip:echo@{domain};transport=tcp;lr',
      'sip:echo@{domain}?subject=test&priority=urgent',
      'sip:echo@media.{domain}',
    ]) {
      expect(checkSipUri(uri), uri).toBeUndefined();
    }
  });

  it('says what is wrong, and how to write it, for what RFC 3261 forbids', () => {
    expect(checkSipUri('tel:+123')).toBe('expected a sip: or sips: URI such as sip:echo@{domain} or sip:ivr@pbx.example.com:5060');
    expect(checkSipUri('sip:')).toMatch(/^has no host \(the part after @\)/);
    expect(checkSipUri('sip:alice@')).toMatch(/^has no host/);
    expect(checkSipUri('sip:bob smith@x')).toBe('its user part "bob smith" contains a space, which RFC 3261 does not allow in a SIP user; percent-escape it: "bob%20smith"');
    expect(checkSipUri('sip:<bob>@x')).toMatch(/^its user part "<bob>" contains "<" and ">".*"%3Cbob%3E"/);
    expect(checkSipUri('sip:bob@x:99999')).toBe('its port "99999" is not a number from 1 to 65535');
    expect(checkSipUri('sip:bob@x:0')).toBe('its port "0" is not a number from 1 to 65535');
    expect(checkSipUri('sip:bob@x:')).toBe('its port "" is not a number from 1 to 65535');
    expect(checkSipUri('sip:bob@pbx_1.example')).toMatch(/^its host "pbx_1.example" is not a host name or IP address/);
    expect(checkSipUri('sip:bob@999.1.1.1')).toMatch(/^its host "999.1.1.1" is not a host name/);
    expect(checkSipUri('sip:bob@b a')).toMatch(/^its host "b a" is not/);
    expect(checkSipUri('sip:bob@[::1')).toMatch(/^has an IPv6 host with no closing/);
    expect(checkSipUri('sip:bob@[zz::1]')).toBe('"[zz::1]" is not an IPv6 address');
    expect(checkSipUri('sip:bob:secret@x')).toMatch(/^has a password in the URI/);
    expect(checkSipUri('sip:bob@x;=1')).toMatch(/^has a malformed parameter ";=1"/);
    expect(checkSipUri('sip:bob@x;a=b=c')).toMatch(/^has a malformed parameter/);
    expect(checkSipUri('sip:bob@x?subject')).toMatch(/^has a malformed header "subject" after "\?"/);
  });

  it('never echoes a password given in the URI', () => {
    expect(checkSipUri('sip:bob:Hunter2@x')).not.toContain('Hunter2');
  });
});
