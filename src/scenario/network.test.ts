import { describe, expect, it } from 'vitest';
import { InputError } from '../errors.js';
import { parseScenario } from './index.js';
import { NETWORK_PRESETS } from './networkPresets.js';
import type { ImpairmentDirection, Scenario } from './types.js';

const ROLES = `
roles:
  alice:
    network: 3g
    accounts:
      - { user: alice, password: alice-pw }
  bob:
    accounts:
      - { user: bob, password: bob-pw }
`;

/** A scenario with the given network section (YAML), roles and steps (list items). */
function scenarioText(network: string, steps = '  - register', roles = ROLES): string {
  return `name: test\n${network}\n${roles}\nsteps:\n${steps}\n`;
}

function load(network: string, steps?: string, roles?: string): Scenario {
  return parseScenario(scenarioText(network, steps, roles), 'test.yaml', { env: {} });
}

function problemsOf(network: string, steps?: string, roles?: string): string[] {
  try {
    load(network, steps, roles);
  } catch (error) {
    if (error instanceof InputError) return error.problems.map((line) => line.replace(/^test\.yaml(?::\d+:\d+)?: /, ''));
    throw error;
  }
  throw new Error('expected an InputError, but the scenario loaded');
}

/** The up direction of profile `p`, defined by the given fields. */
function up(fields: string): ImpairmentDirection | undefined {
  return load(`network:\n  profiles:\n    p: { ${fields} }`).network?.profiles.p?.up;
}

const CLEAN: ImpairmentDirection = { lossPercent: 0, lossBurst: 1, delayMs: 0, jitterMs: 0, reorderPercent: 0 };

describe('network presets', () => {
  it('has clean, 3g, lossy-wifi and satellite, each named after its key', () => {
    expect(Object.keys(NETWORK_PRESETS)).toEqual(['clean', '3g', 'lossy-wifi', 'satellite']);
    for (const [name, profile] of Object.entries(NETWORK_PRESETS)) expect(profile.name).toBe(name);
    expect(NETWORK_PRESETS.clean).toEqual({ name: 'clean', up: CLEAN, down: CLEAN });
    expect(NETWORK_PRESETS['3g']).toEqual({
      name: '3g',
      up: { ...CLEAN, delayMs: 100, jitterMs: 20, lossPercent: 1, rateKbit: 384 },
      down: { ...CLEAN, delayMs: 100, jitterMs: 20, lossPercent: 1, rateKbit: 768 },
    });
    const wifi = { ...CLEAN, delayMs: 5, jitterMs: 10, lossPercent: 3, lossBurst: 2 };
    expect(NETWORK_PRESETS['lossy-wifi']).toEqual({ name: 'lossy-wifi', up: wifi, down: wifi });
    expect(NETWORK_PRESETS.satellite).toEqual({
      name: 'satellite',
      up: { ...CLEAN, delayMs: 300, jitterMs: 10, lossPercent: 0.5, rateKbit: 1024 },
      down: { ...CLEAN, delayMs: 300, jitterMs: 10, lossPercent: 0.5, rateKbit: 2048 },
    });
  });

  it('are in the scenario when a role has a network, and can be named without a network section', () => {
    const scenario = load('');
    expect(scenario.roles.alice?.network).toBe('3g');
    expect(scenario.roles.bob).not.toHaveProperty('network');
    expect(scenario.network?.profiles).toEqual(NETWORK_PRESETS);
  });

  it('leaves Scenario.network out when no role has a network, even with profiles defined', () => {
    const roles = ROLES.replace('    network: 3g\n', '');
    expect(load('', undefined, roles)).not.toHaveProperty('network');
    expect(load('network:\n  profiles:\n    mine: { loss: 1% }', undefined, roles)).not.toHaveProperty('network');
  });
});

describe('network profiles', () => {
  it('copies extends, applies profile-level fields to both directions, then the direction overrides', () => {
    const network = `
network:
  profiles:
    my-dsl:
      extends: 3g
      loss: 2%
      delay: 40ms
      up: { loss: 1%, burst: 3, delay: 20ms, jitter: 5ms, reorder: 0.5%, rate: 1mbit }
      down: { rate: 4mbit }`;
    expect(load(network).network?.profiles['my-dsl']).toEqual({
      name: 'my-dsl',
      up: { lossPercent: 1, lossBurst: 3, delayMs: 20, jitterMs: 5, reorderPercent: 0.5, rateKbit: 1000 },
      // From 3g: jitter 20ms, burst 1, no reordering; from the profile: loss and delay.
      down: { lossPercent: 2, lossBurst: 1, delayMs: 40, jitterMs: 20, reorderPercent: 0, rateKbit: 4000 },
    });
  });

  it('starts a profile without extends from clean, and lets a later one extend it', () => {
    const network = 'network:\n  profiles:\n    base: { delay: 0.3s }\n    more: { extends: base, down: { jitter: 0.05s } }';
    const profiles = load(network).network?.profiles;
    expect(profiles?.base).toEqual({ name: 'base', up: { ...CLEAN, delayMs: 300 }, down: { ...CLEAN, delayMs: 300 } });
    expect(profiles?.more).toEqual({ name: 'more', up: { ...CLEAN, delayMs: 300 }, down: { ...CLEAN, delayMs: 300, jitterMs: 50 } });
  });

  it("replaces a preset by its name (extending the preset itself), and later profiles extend the file's version", () => {
    const network = 'network:\n  profiles:\n    3g: { extends: 3g, loss: 5% }\n    slow: { extends: 3g }';
    const profiles = load(network).network?.profiles;
    expect(profiles?.['3g']?.up).toEqual({ ...NETWORK_PRESETS['3g']!.up, lossPercent: 5 });
    expect(profiles?.slow?.down).toEqual({ ...NETWORK_PRESETS['3g']!.down, lossPercent: 5 });
    expect(NETWORK_PRESETS['3g']!.up.lossPercent).toBe(1);
  });

  it('reads percentages as text or as a number of percent', () => {
    expect(up('loss: 2.5%, reorder: 0.5 %')).toMatchObject({ lossPercent: 2.5, reorderPercent: 0.5 });
    expect(up('loss: 2, reorder: 0')).toMatchObject({ lossPercent: 2, reorderPercent: 0 });
    expect(up('loss: 100%')).toMatchObject({ lossPercent: 100 });
  });

  it('reads rates in kbit, mbit and gbit, kbps and mbps as bits too, into kbit/s', () => {
    expect(up('rate: 512kbit')?.rateKbit).toBe(512);
    expect(up('rate: 1mbit')?.rateKbit).toBe(1000);
    expect(up('rate: 1.5Mbit')?.rateKbit).toBe(1500);
    expect(up('rate: 0.3mbit')?.rateKbit).toBe(300);
    expect(up('rate: 2gbit')?.rateKbit).toBe(2_000_000);
    expect(up('rate: 64kbps')?.rateKbit).toBe(64);
    expect(up('rate: 2mbps')?.rateKbit).toBe(2000);
  });

  it('reads delay and jitter as durations with units, 0 alone without one', () => {
    expect(up('delay: 0.3s, jitter: 1.5ms')).toMatchObject({ delayMs: 300, jitterMs: 1.5 });
    expect(up('delay: 0, jitter: 0ms')).toMatchObject({ delayMs: 0, jitterMs: 0 });
  });
});

describe('network problems', () => {
  const profile = (fields: string): string[] => problemsOf(`network:\n  profiles:\n    p: { ${fields} }`);

  it('names unknown fields with the allowed ones, at the profile and in a direction', () => {
    expect(profile('los: 1%')).toEqual(['network.profiles.p.los: unknown field "los" (allowed: extends, loss, burst, delay, jitter, reorder, rate, up, down)']);
    expect(profile('up: { extends: 3g }')).toEqual(['network.profiles.p.up.extends: unknown field "extends" (allowed: loss, burst, delay, jitter, reorder, rate)']);
    expect(problemsOf('network:\n  profile: {}')).toEqual(['network.profile: unknown field "profile" (allowed: profiles)']);
  });

  it('says what each field allows', () => {
    expect(profile('loss: 120%')).toEqual(['network.profiles.p.loss: expected a percentage from 0% to 100% (e.g. 2% or 0.5%, or a number meaning percent), got "120%"']);
    expect(profile('reorder: lots')).toEqual(['network.profiles.p.reorder: expected a percentage from 0% to 100% (e.g. 2% or 0.5%, or a number meaning percent), got "lots"']);
    expect(profile('burst: 0.5')).toEqual(['network.profiles.p.burst: expected the mean length of a run of lost packets, 1 or more (1: each loss on its own), got 0.5']);
    expect(profile('down: { delay: 11s }')).toEqual(['network.profiles.p.down.delay: expected a duration from 0 to 10s with its unit, e.g. 40ms or 0.3s, got "11s"']);
    expect(profile('jitter: 5')).toEqual([
      'network.profiles.p.jitter: expected a duration from 0 to 10s with its unit, e.g. 40ms or 0.3s (a bare number could mean ms, as in netem, or s: write 5ms or 5s), got 5',
    ]);
    const rate = 'expected a rate above 0 with its unit, e.g. 512kbit, 1mbit or 1.5gbit (kbps, mbps and gbps also mean bits per second), at most 10gbit';
    expect(profile('rate: 1000')).toEqual([`network.profiles.p.rate: ${rate}, got 1000`]);
    expect(profile('rate: 1MB')).toEqual([`network.profiles.p.rate: ${rate}, got "1MB"`]);
    expect(profile('rate: 0kbit')).toEqual([`network.profiles.p.rate: ${rate}, got "0kbit"`]);
    expect(problemsOf('network:\n  profiles: [3g]')).toEqual([
      'network.profiles: expected a mapping of profile names to { extends, loss, burst, delay, jitter, reorder, rate, up, down }, got a list',
    ]);
    expect(problemsOf('network:\n  profiles:\n    "my dsl": {}')).toEqual(['network.profiles["my dsl"]: invalid profile name "my dsl" (allowed: a letter or digit, then letters, digits, _, . or -)']);
  });

  it('rejects an unknown extends, one defined below, and a profile extending itself', () => {
    expect(problemsOf('network:\n  profiles:\n    a: {}\n    b: { extends: 4g }')).toEqual([
      'network.profiles.b.extends: unknown profile "4g" (extends names a preset (clean, 3g, lossy-wifi, satellite) or a profile defined above this one: a)',
    ]);
    expect(problemsOf('network:\n  profiles:\n    a: { extends: b }\n    b: {}')).toEqual([
      'network.profiles.a.extends: profile "b" is defined below this one; extends names a preset (clean, 3g, lossy-wifi, satellite) or a profile defined above this one: move it up',
    ]);
    expect(problemsOf('network:\n  profiles:\n    a: { extends: a }')).toEqual([
      'network.profiles.a.extends: a profile cannot extend itself (extends names a preset (clean, 3g, lossy-wifi, satellite) or a profile defined above this one)',
    ]);
  });

  it('reports a broken profile once, not again where it is extended or named', () => {
    const roles = ROLES.replace('network: 3g', 'network: a');
    expect(problemsOf('network:\n  profiles:\n    a: { loss: x }\n    b: { extends: a }', '  - network: { role: alice, profile: b }', roles)).toEqual([
      'network.profiles.a.loss: expected a percentage from 0% to 100% (e.g. 2% or 0.5%, or a number meaning percent), got "x"',
    ]);
  });

  it('puts each problem at the key of its field', () => {
    const text = scenarioText('network:\n  profiles:\n    p: { loss: x }', '  - network: { role: alice, profile: 4g }', ROLES.replace('network: 3g', 'network: 5g'));
    let lines: string[] = [];
    try {
      parseScenario(text, 'test.yaml', { env: {} });
    } catch (error) {
      if (error instanceof InputError) lines = error.problems.map((line) => line.replace(/: .*/, ''));
    }
    expect(lines).toEqual(['test.yaml:4:10', 'test.yaml:8:5', 'test.yaml:16:29']);
  });

  it("rejects an unknown profile in a role's network", () => {
    expect(problemsOf('network:\n  profiles:\n    mine: {}', undefined, ROLES.replace('network: 3g', 'network: 5g'))).toEqual([
      'roles.alice.network: unknown network profile "5g" (presets: clean, 3g, lossy-wifi, satellite; network.profiles: mine); name one of them or define it under network.profiles',
    ]);
  });
});

describe('network steps', () => {
  it('switch a role to any profile, named "network <role> -> <profile>"', () => {
    const scenario = load('', '  - register\n  - network: { role: alice, profile: satellite }\n  - network: { role: alice, profile: clean, timeout: 2s }');
    expect(scenario.steps[1]).toEqual({ kind: 'network', name: 'network alice -> satellite', timeoutSeconds: 10, role: 'alice', profile: 'satellite' });
    expect(scenario.steps[2]).toEqual({ kind: 'network', name: 'network alice -> clean', timeoutSeconds: 2, role: 'alice', profile: 'clean' });
  });

  it("name the file's own profiles", () => {
    const steps = load('network:\n  profiles:\n    mine: { loss: 1% }', '  - network: { role: alice, profile: mine }').steps;
    expect(steps[0]).toMatchObject({ kind: 'network', role: 'alice', profile: 'mine' });
  });

  it('reject an unknown role, an unknown profile, and a role without a network', () => {
    expect(problemsOf('', '  - network: { role: carol, profile: 3g }')).toEqual(['steps[0].network.role: unknown role "carol" (roles: alice, bob)']);
    expect(problemsOf('', '  - network: { role: alice, profile: 4g }')).toEqual([
      'steps[0].network.profile: unknown network profile "4g" (presets: clean, 3g, lossy-wifi, satellite); name one of them or define it under network.profiles',
    ]);
    expect(problemsOf('', '  - network: { role: bob, profile: 3g }')).toEqual([
      'steps[0].network.role: bob has no network profile: give roles.bob a network: (e.g. clean) so its browsers run in a namespace that can be switched',
    ]);
    expect(problemsOf('', '  - network: { role: alice }')).toEqual(['steps[0].network.profile: required (a network profile name: a preset (clean, 3g, lossy-wifi, satellite) or one of network.profiles)']);
    expect(problemsOf('', '  - network: alice')).toEqual([expect.stringMatching(/^steps\[0\]\.network: expected a mapping: \{ role, profile \}/)]);
  });
});
