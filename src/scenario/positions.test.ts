import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineCounter, parseDocument } from 'yaml';
import { locator, pathSegments } from './positions.js';
import { joinPath } from './problems.js';

describe('pathSegments', () => {
  it('reads back every path joinPath writes', () => {
    const segment = fc.oneof(fc.nat({ max: 10_000 }), fc.string(), fc.constantFrom('call', 'codecs', 'step_success{step:register alice, bob}', 'a.b', '"q"', 'x-y'));
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 6 }), (segments) => {
        expect(pathSegments(segments.reduce<string>(joinPath, ''))).toEqual(segments);
      }),
    );
  });

  it('stops at a note after the path', () => {
    expect(pathSegments('roles.alice.accounts.csv (users.csv:3)')).toEqual(['roles', 'alice', 'accounts', 'csv']);
    expect(pathSegments('')).toEqual([]);
  });
});

describe('locator', () => {
  const text = 'name: t\nsteps:\n  - register\n  - call:\n      from: alice\n';
  const lineCounter = new LineCounter();
  const locate = locator(parseDocument(text, { lineCounter }), lineCounter);

  it('finds keys and items, and the nearest parent of what is not there', () => {
    expect(locate('name')).toEqual({ line: 1, col: 1 });
    expect(locate('steps[0]')).toEqual({ line: 3, col: 5 });
    expect(locate('steps[1].call.from')).toEqual({ line: 5, col: 7 });
    expect(locate('steps[1].call.to')).toEqual({ line: 4, col: 5 });
    expect(locate('steps[7].call')).toEqual({ line: 2, col: 1 });
    expect(locate('steps[0].register')).toEqual({ line: 3, col: 5 });
    expect(locate('')).toEqual({ line: 1, col: 1 });
  });
});
