import { describe, expect, it } from 'vitest';
import { checkSipUser } from './sipUser.js';

describe('checkSipUser (RFC 3261 section 25.1)', () => {
  it.each(['alice', '1000', '+4930123456', "a-b_c.d!e~f*g'h(i)j", '&=+$,;?/', 'john%20doe', '%3Cjohn%3E', 'caf%C3%A9'])('accepts %j', (user) => {
    expect(checkSipUser(user)).toBeUndefined();
  });

  it('rejects a space and shows the escaped spelling', () => {
    expect(checkSipUser('john doe')).toBe(
      '"john doe" contains a space, which RFC 3261 does not allow in a SIP user; percent-escape it: "john%20doe"',
    );
  });

  it('rejects angle brackets and quotes, naming each once', () => {
    expect(checkSipUser('<john doe>')).toBe(
      '"<john doe>" contains "<", a space and ">", which RFC 3261 does not allow in a SIP user; percent-escape it: "%3Cjohn%20doe%3E"',
    );
    expect(checkSipUser('say"hi"')).toContain('percent-escape it: "say%22hi%22"');
  });

  it('rejects malformed escapes and suggests %25 for a literal percent', () => {
    expect(checkSipUser('50%off')).toBe(
      '"50%off" has a malformed escape "%of" (% must be followed by two hex digits; a literal % is %25); percent-escape it: "50%25off"',
    );
    expect(checkSipUser('end%')).toContain('"%"');
    expect(checkSipUser('a%2')).toContain('percent-escape it: "a%252"');
  });

  it('escapes non-ASCII as UTF-8 and names control characters', () => {
    expect(checkSipUser('café')).toContain('percent-escape it: "caf%C3%A9"');
    expect(checkSipUser('a\tb')).toContain('control character U+0009');
  });

  it('hints that the domain does not belong in the user part', () => {
    expect(checkSipUser('alice@example.com')).toContain('"alice%40example.com" (or give only the user part');
  });

  it('rejects an empty user', () => {
    expect(checkSipUser('')).toBe('must not be empty');
  });
});
