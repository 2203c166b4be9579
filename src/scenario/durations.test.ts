import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DURATION_PATTERN, parseDurationText } from '../common/durations.js';
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
    ['1m30s', 90],
    ['1h2m3.5s', 3723.5],
    ['1s500ms', 1.5],
    ['2m 5s', 125],
    ['5m500ms', 300.5],
    [1.5, 1.5],
    [0, 0],
  ])('reads %j as %j seconds', (input, seconds) => {
    expect(parseDurationSeconds(input)).toBe(seconds);
  });

  it.each([['5'], ['5x'], ['-5s'], ['5S'], [''], ['s'], ['30s1m'], ['1s2s'], ['1m30'], ['1m-30s'], ['1.5.5s'], [-1], [Number.NaN], [Number.POSITIVE_INFINITY], [null], [true], [['5s']], [{ s: 5 }]])(
    'rejects %j',
    (input) => {
      expect(parseDurationSeconds(input)).toBeUndefined();
    },
  );
});

describe('DURATION_PATTERN (the JSON Schema form of the grammar)', () => {
  it('accepts exactly the strings parseDurationText reads', () => {
    const pattern = new RegExp(DURATION_PATTERN);
    const text = fc.array(fc.constantFrom('0', '1', '5', '30', '.', ' ', 'h', 'm', 's', 'ms', 'x'), { maxLength: 8 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(text, (candidate) => {
        expect(pattern.test(candidate), JSON.stringify(candidate)).toBe(parseDurationText(candidate) !== undefined);
      }),
      { numRuns: 5000 },
    );
    for (const sample of ['1m30s', '1h2m3.5s', '1s500ms', ' 5 s ', '5m500ms']) expect(pattern.test(sample)).toBe(true);
  });
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
