/**
 * Call hold times: the length of `wait: holdTime` steps, drawn per iteration
 * from the scenario's distribution. Draws depend only on (seed, iteration), so
 * a plan can be printed before the run and matches it.
 */
import type { HoldTime } from '../scenario/types.js';
import { uniformAt } from './random.js';

const HOLD_STREAM = 1;
const NORMAL_STREAM = 2;

export function holdSecondsFor(holdTime: HoldTime, seed: number, iteration: number): number {
  const u = uniformAt(seed, HOLD_STREAM, iteration);
  switch (holdTime.kind) {
    case 'fixed':
      return holdTime.seconds;
    case 'uniform':
      return holdTime.minSeconds + u * (holdTime.maxSeconds - holdTime.minSeconds);
    case 'exponential':
      return Math.min(holdTime.maxSeconds, -holdTime.meanSeconds * Math.log(1 - u));
    case 'normal': {
      // Box-Muller with a second, independent uniform.
      const v = uniformAt(seed, NORMAL_STREAM, iteration);
      const z = Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * v);
      return Math.min(holdTime.maxSeconds, Math.max(holdTime.minSeconds, holdTime.meanSeconds + z * holdTime.stddevSeconds));
    }
  }
}

/** The mean, for estimates such as calls at once = rate x hold time (Little's law). Cut tails are ignored. */
export function meanHoldSeconds(holdTime: HoldTime): number {
  switch (holdTime.kind) {
    case 'fixed':
      return holdTime.seconds;
    case 'uniform':
      return (holdTime.minSeconds + holdTime.maxSeconds) / 2;
    case 'exponential':
      return holdTime.meanSeconds;
    case 'normal':
      return holdTime.meanSeconds;
  }
}

/** The longest a draw can be. */
export function maxHoldSeconds(holdTime: HoldTime): number {
  return holdTime.kind === 'fixed' ? holdTime.seconds : holdTime.maxSeconds;
}

export function describeHoldTime(holdTime: HoldTime): string {
  switch (holdTime.kind) {
    case 'fixed':
      return `${holdTime.seconds} s`;
    case 'uniform':
      return `uniform ${holdTime.minSeconds}-${holdTime.maxSeconds} s`;
    case 'exponential':
      return `exponential, mean ${holdTime.meanSeconds} s, at most ${holdTime.maxSeconds} s`;
    case 'normal':
      return `normal, mean ${holdTime.meanSeconds} s, sd ${holdTime.stddevSeconds} s, within ${holdTime.minSeconds}-${holdTime.maxSeconds} s`;
  }
}
