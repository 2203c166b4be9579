import { describe, expect, it } from 'vitest';
import { InputError } from '../errors.js';
import { parseScenario } from './index.js';
import type { Scenario } from './types.js';

const ROLES = `
roles:
  alice: { accounts: [{ user: alice }] }
  bob: { accounts: [{ user: bob }] }
`;

const load = (steps: string): Scenario => parseScenario(`name: test\n${ROLES}\nsteps:\n${steps}\n`, 'test.yaml', { env: {} });

describe('extraSdp: session-level lines, or lines for the audio and video sections', () => {
  it('keeps a plain list at session level, as before', () => {
    const [, call] = load('  - register: [alice, bob]\n  - call: { from: alice, to: bob, extraSdp: [b=AS:3000] }').steps;
    expect(call).toMatchObject({ kind: 'call', extraSdp: ['b=AS:3000'] });
    expect(call).not.toHaveProperty('extraMediaSdp');
  });

  it('takes a mapping of session, audio and video lines on call and answer', () => {
    const steps = load(
      '  - register: [alice, bob]\n  - call: { from: alice, to: bob, video: true, extraSdp: { session: [b=AS:3000], video: [b=AS:256] } }\n  - answer: { role: bob, video: true, extraSdp: { audio: [b=AS:64], video: [b=TIAS:128000] } }',
    ).steps;
    expect(steps[1]).toMatchObject({ extraSdp: ['b=AS:3000'], extraMediaSdp: { video: ['b=AS:256'] } });
    expect(steps[2]).toMatchObject({ extraMediaSdp: { audio: ['b=AS:64'], video: ['b=TIAS:128000'] } });
    expect(steps[2]).not.toHaveProperty('extraSdp');
  });

  it('refuses other keys and malformed lines with the field named', () => {
    for (const extra of ['{ screen: [b=AS:1] }', '{ video: [b=AS 256] }']) {
      try {
        load(`  - register: [alice, bob]\n  - call: { from: alice, to: bob, extraSdp: ${extra} }`);
        throw new Error('loaded');
      } catch (error) {
        expect(error).toBeInstanceOf(InputError);
        expect((error as InputError).problems.join('\n')).toMatch(/extraSdp/);
      }
    }
  });
});
