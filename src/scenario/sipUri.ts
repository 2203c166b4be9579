/**
 * SIP URIs a scenario names (a callee or transfer target outside callwright),
 * checked against the RFC 3261 section 25.1 grammar before anything is sent:
 *
 *   SIP-URI  = ("sip:" / "sips:") [ user "@" ] hostport uri-parameters [ headers ]
 *   hostport = host [ ":" port ]
 *   host     = hostname / IPv4address / "[" IPv6address "]"
 *
 * `{domain}` stands for the target's SIP domain and is accepted wherever a
 * host name part may go. A password in the URI (user:password@) is refused:
 * RFC 3261 advises against it, and it would land in every report.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { checkSipUser } from './sipUser.js';

const SCHEME = /^(sips?):/i;
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?';
const HOSTNAME = new RegExp(`^(?:${LABEL}\\.)*${LABEL}\\.?$`);
// paramchar / hnv: unreserved, escaped and the few extra marks RFC 3261 allows there.
const PARAM = /^(?:[A-Za-z0-9\-_.!~*'()[\]/:&+$]|%[0-9A-Fa-f]{2})+$/;
const HEADER_PART = /^(?:[A-Za-z0-9\-_.!~*'()[\]/?:+$]|%[0-9A-Fa-f]{2})*$/;
const EXAMPLE = 'such as sip:echo@{domain} or sip:ivr@pbx.example.com:5060';

/** undefined for a valid SIP URI, else what is wrong with it (and how to write it). */
export function checkSipUri(uri: string): string | undefined {
  const scheme = SCHEME.exec(uri);
  if (!scheme) return `expected a sip: or sips: URI ${EXAMPLE}`;
  let rest = uri.slice(scheme[0].length);
  const query = rest.indexOf('?');
  const headers = query >= 0 ? rest.slice(query + 1) : undefined;
  if (query >= 0) rest = rest.slice(0, query);
  const at = rest.lastIndexOf('@');
  const userinfo = at >= 0 ? rest.slice(0, at) : undefined;
  const [hostport = '', ...params] = (at >= 0 ? rest.slice(at + 1) : rest).split(';');

  if (userinfo !== undefined) {
    if (userinfo.includes(':')) return 'has a password in the URI (user:password@); leave it out, passwords go in the role\'s accounts';
    const problem = checkSipUser(userinfo);
    if (problem) return `its user part ${problem}`;
  }
  const hostProblem = checkHostport(hostport);
  if (hostProblem) return hostProblem;
  for (const param of params) {
    const [name = '', value, ...extra] = param.split('=');
    if (name === '' || !PARAM.test(name) || (value !== undefined && !PARAM.test(value)) || extra.length > 0) {
      return `has a malformed parameter ${JSON.stringify(`;${param}`)} (expected ;name or ;name=value, e.g. ;transport=tcp)`;
    }
  }
  if (headers !== undefined) {
    for (const header of headers.split('&')) {
      const [name = '', value, ...extra] = header.split('=');
      if (name === '' || value === undefined || extra.length > 0 || !HEADER_PART.test(name) || !HEADER_PART.test(value)) {
        return `has a malformed header ${JSON.stringify(header)} after "?" (expected name=value pairs joined by &)`;
      }
    }
  }
  return undefined;
}

function checkHostport(hostport: string): string | undefined {
  if (hostport === '') return `has no host (the part after @), ${EXAMPLE}`;
  let host = hostport;
  let port: string | undefined;
  if (hostport.startsWith('[')) {
    const close = hostport.indexOf(']');
    if (close < 0) return `has an IPv6 host with no closing "]": ${JSON.stringify(hostport)}`;
    host = hostport.slice(0, close + 1);
    const after = hostport.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) return `has something after the IPv6 host: ${JSON.stringify(after)}`;
    if (after !== '') port = after.slice(1);
    if (!isIPv6(host.slice(1, -1))) return `${JSON.stringify(host)} is not an IPv6 address`;
  } else {
    const colon = hostport.lastIndexOf(':');
    if (colon >= 0) {
      host = hostport.slice(0, colon);
      port = hostport.slice(colon + 1);
    }
    if (host === '') return `has no host (the part after @), ${EXAMPLE}`;
    // {domain} is filled in with target.domain, itself checked as a host name.
    const hostText = host.replaceAll('{domain}', 'domain.invalid');
    if (/^[\d.]+$/.test(hostText) ? !isIPv4(hostText) : !HOSTNAME.test(hostText)) {
      return `its host ${JSON.stringify(host)} is not a host name or IP address (letters, digits, "-" and "."; an IPv6 address goes in [ ])`;
    }
  }
  if (port !== undefined && !(/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535)) {
    return `its port ${JSON.stringify(port)} is not a number from 1 to 65535`;
  }
  return undefined;
}
