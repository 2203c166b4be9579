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
const VIDEO_CALL = '  - register\n  - call: { from: alice, to: bob, video: true }\n  - answer: bob\n';
const AUDIO_CALL = '  - register\n  - call: { from: alice, to: bob }\n  - answer: bob\n';

function load(steps: string): Scenario {
  return parseScenario(`name: test\n${ROLES}\nsteps:\n${steps}\n`, 'test.yaml', { env: {} });
}

function problemsOf(steps: string): string[] {
  try {
    load(steps);
  } catch (error) {
    if (error instanceof InputError) return error.problems.map((line) => line.replace(/^test\.yaml(?::\d+:\d+)?: /, ''));
    throw error;
  }
  throw new Error('expected an InputError, but the scenario loaded');
}

describe('video check', () => {
  it('takes any subset of the limits, durations for freeze time, and names the step after them', () => {
    const scenario = load(`${VIDEO_CALL}  - expect: { video: { minFps: 20, maxFreezes: 0, maxFreezeSeconds: 500ms, minKbps: 100, maxKbps: 300, minWidth: 320 }, role: bob, within: 5s }`);
    expect(scenario.steps[3]).toMatchObject({
      kind: 'expect',
      role: 'bob',
      timeoutSeconds: 5,
      check: { kind: 'video', limits: { minFps: 20, maxFreezes: 0, maxFreezeSeconds: 0.5, minKbps: 100, maxKbps: 300, minWidth: 320 } },
    });
    expect(scenario.steps[3]!.name).toMatch(/^expect video fps>=20 freezes<=0 freeze<=\S+ kbps>=100 kbps<=300 width>=320 at bob$/);
    const one = load(`${VIDEO_CALL}  - expect: { video: { minFps: 10 } }`).steps[3]!;
    expect(one).toMatchObject({ check: { kind: 'video', limits: { minFps: 10 } }, name: 'expect video fps>=10' });
    expect(Object.keys((one as { check: { limits: object } }).check.limits)).toEqual(['minFps']);
  });

  it('refuses no limit, unknown limits, bad values and a minimum above the maximum, each with what is allowed', () => {
    expect(problemsOf(`${VIDEO_CALL}  - expect: { video: {} }`)).toEqual([
      'steps[3].expect.video: needs at least one limit: minFps, maxFreezes, maxFreezeSeconds, minKbps, maxKbps, minWidth, minHeight',
    ]);
    const problems = problemsOf(`${VIDEO_CALL}  - expect: { video: { minFPS: 20, maxFreezes: -1, minKbps: 300, maxKbps: 100 } }`);
    expect(problems.join('\n')).toMatch(/minFPS/);
    expect(problems.join('\n')).toMatch(/maxFreezes: expected an integer from 0/);
    expect(problemsOf(`${VIDEO_CALL}  - expect: { video: { minKbps: 300, maxKbps: 100 } }`)).toEqual(['steps[3].expect.video: minKbps must not be above maxKbps']);
    expect(problemsOf(`${VIDEO_CALL}  - expect: { video: 20 }`)[0]).toMatch(/^steps\[3\]\.expect\.video: expected a mapping of limits/);
    // One check per expect step.
    expect(problemsOf(`${VIDEO_CALL}  - expect: { video: { minFps: 1 }, media: flowing }`)[0]).toMatch(/has 2 checks \(media, video\)/);
  });
});

describe('video fault', () => {
  it('kind: video acts on the camera; audio stays the default', () => {
    const scenario = load(`${VIDEO_CALL}  - fault: { role: alice, media: stop, kind: video }\n  - fault: { role: alice, media: restore, kind: video }\n  - fault: { role: alice, media: stop }`);
    expect(scenario.steps[3]).toMatchObject({ kind: 'fault', role: 'alice', media: 'stop', mediaKind: 'video', name: 'fault alice video stop' });
    expect(scenario.steps[4]).toMatchObject({ media: 'restore', mediaKind: 'video' });
    expect(scenario.steps[5]).toMatchObject({ media: 'stop', mediaKind: 'audio', name: 'fault alice media stop' });
  });

  it('refuses a video fault on a call without video, and an unknown kind', () => {
    expect(problemsOf(`${AUDIO_CALL}  - fault: { role: alice, media: stop, kind: video }`)).toEqual([
      'steps[3].fault.kind: call main has no video to fault (set video: true on its call step)',
    ]);
    expect(problemsOf(`${VIDEO_CALL}  - fault: { role: alice, media: stop, kind: screen }`)).toEqual(['steps[3].fault.kind: expected one of audio, video, got "screen"']);
  });
});
