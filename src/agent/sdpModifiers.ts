import type { SessionDescriptionHandlerModifier } from 'sip.js';
import { restrictCodecs } from './sdp.js';

/**
 * Modifiers applied to the local description before it is set, so the
 * browser's own state matches what is offered. They are also applied to
 * re-INVITEs; otherwise a hold re-INVITE offers every codec again.
 */
export function codecModifiers(codecs: readonly string[] | undefined): SessionDescriptionHandlerModifier[] {
  if (!codecs || codecs.length === 0) return [];
  return [
    async (description) => (description.sdp ? { type: description.type, sdp: restrictCodecs(description.sdp, codecs) } : description),
  ];
}
