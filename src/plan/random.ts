/**
 * Seeded pseudo-random numbers, so a plan is reproducible: the same scenario
 * and seed give the same arrivals and hold times on every machine.
 */

/** A uniform number in [0, 1) for (seed, stream, index), independent of the order draws are made in. */
export function uniformAt(seed: number, stream: number, index: number): number {
  // Two rounds of a 32-bit integer hash (splitmix-style finaliser) over the three inputs.
  let h = mix32((seed >>> 0) ^ Math.imul(stream + 1, 0x9e3779b9));
  h = mix32(h ^ Math.imul((index >>> 0) + 0x632be5ab, 0x85ebca6b));
  h = mix32(h ^ Math.floor(index / 2 ** 32));
  return h / 2 ** 32;
}

/** A sequential generator (mulberry32) for draws that form a sequence, such as Poisson gaps. */
export function sequence(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function mix32(value: number): number {
  let x = value >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}
