import type { SessionDescriptionHandlerModifier } from 'sip.js';
import { restrictCodecs, setAudioPtime } from '../sdp/sdp.js';

/**
 * Modifiers applied to the local description before it is set, so the
 * browser's own state matches what is offered. They are also applied to
 * re-INVITEs; otherwise a hold re-INVITE offers every codec again. SIP.js
 * runs the same modifiers on remote descriptions (setDescription), which is
 * what makes a packet time take effect: Chrome encodes with the remote ptime.
 */
export function codecModifiers(codecs: readonly string[] | undefined, ptimeMs?: number): SessionDescriptionHandlerModifier[] {
  const modifiers: SessionDescriptionHandlerModifier[] = [];
  if (codecs && codecs.length > 0) {
    modifiers.push(async (description) => (description.sdp ? { type: description.type, sdp: restrictCodecs(description.sdp, codecs) } : description));
  }
  if (ptimeMs !== undefined) {
    modifiers.push(async (description) => (description.sdp ? { type: description.type, sdp: setAudioPtime(description.sdp, ptimeMs) } : description));
  }
  return modifiers;
}
