import type { PageConfig } from '../protocol/commands.js';

/**
 * Whether a leg plays (and so decodes) its received audio. Decoding is where
 * concealment and audio levels come from, and about a fifth of a leg's CPU:
 * the low-cost profile plays a sample of legs, chosen by a hash of the leg id
 * so the choice is stable and spread evenly.
 */
export function playsReceivedAudio(config: Pick<PageConfig, 'playReceivedAudio' | 'receivedAudioSample'>, legId: string): boolean {
  if (!config.playReceivedAudio) return false;
  const sample = config.receivedAudioSample ?? 1;
  if (sample >= 1) return true;
  // FNV-1a over the id, as a fraction of 2^32.
  let hash = 0x811c9dc5;
  for (let i = 0; i < legId.length; i++) hash = Math.imul(hash ^ legId.charCodeAt(i), 0x01000193) >>> 0;
  return hash / 2 ** 32 < sample;
}
