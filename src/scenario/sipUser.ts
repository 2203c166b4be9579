/**
 * SIP user parts and auth names, checked against RFC 3261 section 25.1:
 *
 *   user            = 1*( unreserved / escaped / user-unreserved )
 *   unreserved      = alphanum / "-" / "_" / "." / "!" / "~" / "*" / "'" / "(" / ")"
 *   escaped         = "%" HEXDIG HEXDIG
 *   user-unreserved = "&" / "=" / "+" / "$" / "," / ";" / "?" / "/"
 *
 * Servers treat a login with a space or angle brackets differently (some hang
 * the call in a pending state), so callwright refuses it up front and says how
 * to write it escaped.
 */

const ALLOWED_CHAR = /^[A-Za-z0-9\-_.!~*'()&=+$,;?/]$/;
const TWO_HEX = /^[0-9A-Fa-f]{2}$/;

/** undefined if `user` is a valid RFC 3261 user part, else why and the escaped spelling to use instead. */
export function checkSipUser(user: string): string | undefined {
  if (user === '') return 'must not be empty';
  const badChars = new Set<string>();
  const badEscapes: string[] = [];
  let escaped = '';
  for (let index = 0; index < user.length; ) {
    const char = String.fromCodePoint(user.codePointAt(index) ?? 0xfffd);
    if (char === '%') {
      const digits = user.slice(index + 1, index + 3);
      if (TWO_HEX.test(digits)) {
        escaped += `%${digits}`;
        index += 3;
        continue;
      }
      badEscapes.push(JSON.stringify(`%${digits}`));
      escaped += '%25';
    } else if (ALLOWED_CHAR.test(char)) {
      escaped += char;
    } else {
      badChars.add(describeChar(char));
      escaped += percentEncode(char);
    }
    index += char.length;
  }
  if (badChars.size === 0 && badEscapes.length === 0) return undefined;

  const reasons: string[] = [];
  if (badChars.size > 0) {
    reasons.push(`contains ${joinWords([...badChars])}, which RFC 3261 does not allow in a SIP user`);
  }
  if (badEscapes.length > 0) {
    reasons.push(`has a malformed escape ${joinWords(badEscapes)} (% must be followed by two hex digits; a literal % is %25)`);
  }
  const domainHint = user.includes('@') ? ' (or give only the user part: the domain comes from target.domain)' : '';
  return `${JSON.stringify(user)} ${reasons.join(' and ')}; percent-escape it: ${JSON.stringify(escaped)}${domainHint}`;
}

function percentEncode(char: string): string {
  return [...Buffer.from(char, 'utf8')].map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join('');
}

function describeChar(char: string): string {
  if (char === ' ') return 'a space';
  const code = char.codePointAt(0) ?? 0;
  if (code < 0x20 || code === 0x7f) return `control character U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return JSON.stringify(char);
}

function joinWords(words: readonly string[]): string {
  return words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} and ${words.at(-1)}`;
}
