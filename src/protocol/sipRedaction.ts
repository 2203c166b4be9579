/**
 * Credentials out of SIP text, one rule for the page (before a message leaves
 * it) and for Node (again, before a log is written): Authorization and
 * Proxy-Authorization headers, folded continuation lines too, keep their
 * scheme and username (who tried) and lose the rest (digest response, nonce
 * echo, cnonce). Imports nothing, so both sides share it.
 */
export const REDACTED = '[redacted]';

export function redactAuthorizationHeaders(text: string): string {
  return text.replace(/^([A-Za-z-]*Authorization)[ \t]*:[ \t]*(\S*)([^\r\n]*(?:\r?\n[ \t]+[^\r\n]*)*)/gim, (_line, name: string, scheme: string, rest: string) => {
    const username = /\busername[ \t]*=[ \t]*("[^"]*"|[^,\s]+)/i.exec(rest)?.[1];
    return `${name}: ${scheme}${username ? ` username=${username},` : ''} ${REDACTED}`;
  });
}
