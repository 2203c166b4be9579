/**
 * REGISTER processing (RFC 3261 10.3, steps after authentication): apply the
 * Contact bindings and answer with every live binding of the address-of-record
 * and its remaining lifetime. SIP.js drops a 200 OK that does not list its own
 * contact with an ;expires parameter, so both are always present.
 */
import type { Registrar } from './registrar.js';
import { createResponse } from './sipResponses.js';
import { getHeader, getHeaders, type SipRequest, type SipResponse } from './sipMessage.js';
import { contactKey, parseNameAddr, parseSipUri } from './sipUri.js';

export interface RegisterLimits {
  /** Used when neither the contact nor the request says; RFC 3261 suggests 3600. */
  readonly defaultExpiresSeconds: number;
  /** Longer requests are shortened to this (a registrar may, RFC 3261 10.3 step 7). */
  readonly maxExpiresSeconds: number;
}

export const DEFAULT_REGISTER_LIMITS: RegisterLimits = { defaultExpiresSeconds: 3600, maxExpiresSeconds: 3600 };

export function applyRegister(
  request: SipRequest,
  user: string,
  connectionId: number,
  registrar: Registrar,
  limits: RegisterLimits = DEFAULT_REGISTER_LIMITS,
): SipResponse {
  const contacts = getHeaders(request, 'Contact');
  const expiresHeader = parseSeconds(getHeader(request, 'Expires'));

  if (contacts.includes('*')) {
    if (contacts.length !== 1 || expiresHeader !== 0) {
      return createResponse(request, 400, { warning: 'Contact: * needs Expires: 0 and no other contact' });
    }
    registrar.unbindAll(user);
    return listBindings(request, user, registrar);
  }

  const updates: { uri: string; key: string; expiresSeconds: number }[] = [];
  for (const contact of contacts) {
    const nameAddr = parseNameAddr(contact);
    const uri = nameAddr === undefined ? undefined : parseSipUri(nameAddr.uri);
    if (nameAddr === undefined || uri === undefined) {
      return createResponse(request, 400, { warning: `unparsable Contact ${contact}` });
    }
    const requested = parseSeconds(nameAddr.params.get('expires')) ?? expiresHeader ?? limits.defaultExpiresSeconds;
    updates.push({ uri: nameAddr.uri, key: contactKey(uri), expiresSeconds: Math.min(requested, limits.maxExpiresSeconds) });
  }
  // Validate every contact before changing anything: a 400 leaves bindings as they were.
  const now = registrar.now();
  for (const update of updates) {
    if (update.expiresSeconds === 0) {
      registrar.unbind(user, update.key);
    } else {
      registrar.bind({
        user,
        contactUri: update.uri,
        contactKey: update.key,
        connectionId,
        expiresAtMs: now + update.expiresSeconds * 1000,
      });
    }
  }
  return listBindings(request, user, registrar);
}

function listBindings(request: SipRequest, user: string, registrar: Registrar): SipResponse {
  const now = registrar.now();
  return createResponse(request, 200, {
    headers: registrar.bindingsOf(user).map((binding) => ({
      name: 'Contact',
      value: `<${binding.contactUri}>;expires=${Math.max(1, Math.round((binding.expiresAtMs - now) / 1000))}`,
    })),
  });
}

function parseSeconds(value: string | undefined): number | undefined {
  if (value === undefined || !/^\s*\d+\s*$/.test(value)) return undefined;
  return Number(value);
}
