import { describe, expect, it } from 'vitest';
import { InputError } from '../../errors.js';
import { parseScenario } from '../../scenario/index.js';
import { capacityLevels, type CapacityArgs } from './capacity.js';

// The levels `callwright capacity` steps through: explicit, or start/step/max with defaults from
// the scenario's accounts; whole calls for concurrency, any rate for calls per second.

const scenario = parseScenario(
  `
name: levels
load: { iterations: 10, concurrency: 4 }
roles:
  alice: { accounts: { range: { from: 1000, count: 40 }, user: "{n}" } }
  bob: { accounts: { range: { from: 2000, count: 25 }, user: "{n}" } }
steps:
  - register: [alice, bob]
`,
  'levels.yaml',
);

const args = (extra: Partial<CapacityArgs> = {}) => ({ scenario: 'levels.yaml', ...extra }) as CapacityArgs;
const refusal = (run: () => unknown): string => {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as InputError).message;
  }
  throw new Error('not refused');
};

describe('capacityLevels', () => {
  it('concurrency by default: ten steps up to the accounts of the smallest role', () => {
    expect(capacityLevels(scenario, 'concurrency', args())).toEqual([3, 6, 9, 12, 15, 18, 21, 24]);
    expect(capacityLevels(scenario, 'concurrency', args({ start: 5, step: 10 }))).toEqual([5, 15, 25]);
    expect(capacityLevels(scenario, 'concurrency', args({ start: 20, max: 20 }))).toEqual([20]);
  });

  it('rate by default: 1 to 20 calls/s; fractional steps land on the max, not a hair under it', () => {
    expect(capacityLevels(scenario, 'rate', args())).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(capacityLevels(scenario, 'rate', args({ start: 0.1, step: 0.1, max: 1 }))).toEqual([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]);
    expect(capacityLevels(scenario, 'rate', args({ start: 0.5, step: 0.75, max: 2.5 }))).toEqual([0.5, 1.25, 2]);
  });

  it('explicit levels: ascending, each once', () => {
    expect(capacityLevels(scenario, 'concurrency', args({ levels: '10, 4,4,20' }))).toEqual([4, 10, 20]);
    expect(capacityLevels(scenario, 'rate', args({ levels: '2.5,0.5' }))).toEqual([0.5, 2.5]);
  });

  it('refuses what cannot be run, naming the option', () => {
    expect(refusal(() => capacityLevels(scenario, 'rate', args({ levels: '1,two' })))).toBe('--levels: expected positive numbers separated by commas, got "1,two"');
    expect(refusal(() => capacityLevels(scenario, 'rate', args({ levels: '0,1' })))).toContain('--levels: expected positive numbers');
    expect(refusal(() => capacityLevels(scenario, 'rate', args({ start: 5, max: 2 })))).toBe('--start 5, --step 5, --max 2: need 0 < start <= max and step > 0');
    expect(refusal(() => capacityLevels(scenario, 'concurrency', args({ levels: '2.5' })))).toBe('concurrency levels must be whole numbers');
    expect(refusal(() => capacityLevels(scenario, 'concurrency', args({ levels: '10,30' })))).toBe('level 30 needs 30 accounts per role; the scenario has 25');
  });
});
