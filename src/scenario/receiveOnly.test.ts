import { describe, expect, it } from 'vitest';
import { InputError } from '../errors.js';
import { parseScenario } from './index.js';
import type { Scenario } from './types.js';

const ROLES = `
roles:
  alice:
    accounts:
      - { user: alice, password: alice-pw }
  bob:
    accounts:
      - { user: bob, password: bob-pw }
`;

function load(steps: string, roles = ROLES): Scenario {
  return parseScenario(`name: test\n${roles}\nsteps:\n${steps}\n`, 'test.yaml', { env: {} });
}

function problemsOf(steps: string, roles = ROLES): string[] {
  try {
    load(steps, roles);
  } catch (error) {
    if (error instanceof InputError) return error.problems.map((line) => line.replace(/^test\.yaml(?::\d+:\d+)?: /, ''));
    throw error;
  }
  throw new Error('expected an InputError, but the scenario loaded');
}

describe('receive-only legs', () => {
  it('takes receiveOnly on a call and on an answer, naming the steps after it', () => {
    const steps = load('  - register\n  - call: { from: alice, to: bob, receiveOnly: true }\n  - answer: bob\n  - call: { from: bob, to: alice, name: back }\n  - answer: { role: alice, call: back, receiveOnly: true }').steps;
    expect(steps[1]).toMatchObject({ kind: 'call', name: 'call alice->bob receive-only', audio: true, video: false, receiveOnly: true });
    expect(steps[2]).toMatchObject({ kind: 'answer', name: 'answer bob' });
    expect(steps[2]).not.toHaveProperty('receiveOnly');
    expect(steps[4]).toMatchObject({ kind: 'answer', name: 'answer alice receive-only on back', receiveOnly: true });
    // false is the same as leaving it out.
    expect(load('  - call: { from: alice, to: bob, receiveOnly: false }').steps[0]).not.toHaveProperty('receiveOnly');
  });

  it('takes receiveOnly on an incoming answer and on autoAnswer', () => {
    expect(load('  - answer: { role: bob, incoming: true, receiveOnly: true }').steps[0]).toMatchObject({ name: 'answer incoming call at bob receive-only on incoming', receiveOnly: true });
    const roles = ROLES.replace('bob:\n    accounts:', 'bob:\n    autoAnswer: { after: 1s, receiveOnly: true }\n    accounts:');
    expect(load('  - register', roles).roles.bob?.autoAnswer).toEqual({ afterSeconds: 1, receiveOnly: true });
  });

  it('refuses a receive-only leg with nothing to receive, a receive-only reject, and both ends receive-only', () => {
    expect(problemsOf('  - call: { from: alice, to: bob, receiveOnly: true, audio: false }')).toEqual([
      'steps[0].call.receiveOnly: a receive-only leg receives audio, video or both: leave audio on (the default) or set video: true',
    ]);
    expect(problemsOf('  - call: { from: alice, to: bob }\n  - answer: { role: bob, reject: 486, receiveOnly: true }')).toEqual([
      'steps[1].answer.receiveOnly: does not go with reject: a rejected call has no media; remove one of them',
    ]);
    expect(problemsOf('  - call: { from: alice, to: bob, receiveOnly: true }\n  - answer: { role: bob, receiveOnly: true }')).toEqual([
      'steps[1].answer.receiveOnly: call main is offered receive-only by steps[0].call: with both ends receive-only no media could flow (answer without receiveOnly: it then sends only)',
    ]);
    const roles = ROLES.replace('bob:\n    accounts:', 'bob:\n    autoAnswer: { receiveOnly: true }\n    accounts:');
    expect(problemsOf('  - call: { from: alice, to: bob, receiveOnly: true }', roles)).toEqual([
      'steps[0].call.receiveOnly: bob answers receive-only (roles.bob.autoAnswer.receiveOnly): with both ends receive-only no media could flow',
    ]);
    expect(problemsOf('  - call: { from: alice, to: bob, receiveOnly: yes }')).toEqual(['steps[0].call.receiveOnly: expected true or false, got "yes"']);
  });
});
