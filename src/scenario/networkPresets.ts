/**
 * Network impairment profiles every scenario may name without defining them
 * (`roles.<role>.network: 3g`). The figures are illustrative: round numbers
 * in the range commonly published for such links, not measurements of any
 * network. A scenario that needs its own defines it under network.profiles,
 * by a new name or by a preset's name to replace it.
 */
import type { ImpairmentDirection, NetworkProfile } from './types.js';

/** A direction that does nothing to packets; a burst of 1 is netem's independent loss. */
export const NO_IMPAIRMENT: Readonly<ImpairmentDirection> = Object.freeze({ lossPercent: 0, lossBurst: 1, delayMs: 0, jitterMs: 0, reorderPercent: 0 });

function direction(fields: Partial<ImpairmentDirection>): ImpairmentDirection {
  return { ...NO_IMPAIRMENT, ...fields };
}

function preset(name: string, up: Partial<ImpairmentDirection>, down: Partial<ImpairmentDirection> = up): NetworkProfile {
  return { name, up: direction(up), down: direction(down) };
}

export const NETWORK_PRESETS: Readonly<Record<string, NetworkProfile>> = deepFreeze({
  // Nothing added: the role still runs in a namespace of its own, so a step can impair it later.
  clean: preset('clean', {}),
  // A 3G (UMTS) mobile link: 384 kbit/s is the rate early UMTS offered a moving user, the downlink
  // here twice that; ~100 ms one way, with the jitter and loss radio links typically show.
  '3g': preset('3g', { delayMs: 100, jitterMs: 20, lossPercent: 1, rateKbit: 384 }, { delayMs: 100, jitterMs: 20, lossPercent: 1, rateKbit: 768 }),
  // A busy or distant Wi-Fi link: little added latency, but interference and retries make delay vary
  // and losses come in short runs (burst 2) rather than one packet at a time.
  'lossy-wifi': preset('lossy-wifi', { delayMs: 5, jitterMs: 10, lossPercent: 3, lossBurst: 2, reorderPercent: 0 }),
  // A geostationary satellite link: up ~36,000 km and back down alone takes about 240-280 ms one
  // way, so 300 ms with the ground segment; a consumer terminal's upstream slower than its downstream.
  satellite: preset('satellite', { delayMs: 300, jitterMs: 10, lossPercent: 0.5, rateKbit: 1024 }, { delayMs: 300, jitterMs: 10, lossPercent: 0.5, rateKbit: 2048 }),
});

/** Frozen, so no run can change a preset another scenario (or a later profile's extends) reads. */
function deepFreeze<T extends Record<string, NetworkProfile>>(profiles: T): Readonly<T> {
  for (const profile of Object.values(profiles)) {
    Object.freeze(profile.up);
    Object.freeze(profile.down);
    Object.freeze(profile);
  }
  return Object.freeze(profiles);
}
