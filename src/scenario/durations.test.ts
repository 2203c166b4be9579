import { describe, expect, it } from 'vitest';
import { formatSeconds, parseDurationSeconds, secondsToMs } from './durations.js';

describe('parseDurationSeconds', () => {
  it.each([
    ['500ms', 0.5],
    ['50ms', 0.05],
    ['5s', 5],
    ['1.5s', 1.5],
    ['.5s', 0.5],
    ['2m', 120],
    ['1h', 3600],
    [' 5 s ', 5],
    [1.5, 1.5],
    [0, 0],
  ])('reads %j as %j seconds', (input, seconds) => {
    expect(parseDurationSeconds(input)).toBe(seconds);
  });

  it.each([['5'], ['5x'], ['-5s'], ['5S'], [''], ['s'], [-1], [Number.NaN], [Number.POSITIVE_INFINITY], [null], [true], [['5s']], [{ s: 5 }]])(
    'rejects %j',
    (input) => {
      expect(parseDurationSeconds(input)).toBeUndefined();
    },
  );
});

describe('formatSeconds and secondsToMs', () => {
  it('print the shortest readable form', () => {
    expect([0.05, 0, 5, 120, 90, 7200].map(formatSeconds)).toEqual(['50ms', '0s', '5s', '2m', '90s', '2h']);
  });

  it('convert without float noise', () => {
    expect(secondsToMs(0.07)).toBe(70);
    expect(secondsToMs(parseDurationSeconds('100ms') ?? 0)).toBe(100);
  });
});
