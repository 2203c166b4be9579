/**
 * Network impairment as scenario files write it: `network.profiles` (each one
 * a preset's copy or a clean start, then fields for both directions, then
 * `up` / `down` overrides), and the names that refer to a profile:
 * `roles.<role>.network` and the `network` step (checked in steps.ts).
 *
 *     network:
 *       profiles:
 *         my-dsl: { extends: 3g, loss: 2%, delay: 40ms, up: { rate: 1mbit } }
 */
import { z } from 'zod';
import type { ImpairmentDirection, NetworkProfile, Role } from './types.js';
import { parseDurationSeconds, secondsToMs } from './durations.js';
import { jsonSchemaHints, matching, percent, strictFields } from './fields.js';
import { NETWORK_PRESETS, NO_IMPAIRMENT } from './networkPresets.js';
import { describeValue, joinPath, type Problems } from './problems.js';

export const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const MAX_DELAY_SECONDS = 10;
const MAX_RATE_KBIT = 10_000_000;

export const PRESET_NAMES = Object.keys(NETWORK_PRESETS).join(', ');
const isPreset = (name: string): boolean => Object.hasOwn(NETWORK_PRESETS, name);

/** A name of a profile, where one is referred to; whether it exists is checked apart (profileProblem). */
export const profileRef = matching(PROFILE_NAME, `a network profile name: a preset (${PRESET_NAMES}) or one of network.profiles`);

/**
 * netem reads a bare number as ms, scenario durations as seconds: a number other than 0 is refused
 * rather than guessed (`delay: 5` would otherwise be five seconds).
 */
function networkDelay(description: string) {
  const what = `a duration from 0 to ${MAX_DELAY_SECONDS}s with its unit, e.g. 40ms or 0.3s`;
  const schema = z.unknown().transform((value, context) => {
    const seconds = typeof value === 'number' && value !== 0 ? undefined : parseDurationSeconds(value);
    if (seconds !== undefined && seconds <= MAX_DELAY_SECONDS) return seconds;
    const unitless = typeof value === 'number' ? ` (a bare number could mean ms, as in netem, or s: write ${value}ms or ${value}s)` : '';
    context.addIssue({ code: 'custom', message: `expected ${what}${unitless}, got ${describeValue(value)}` });
    return z.NEVER;
  });
  jsonSchemaHints.add(schema, { json: { anyOf: [{ $ref: '#/definitions/durationText' }, { const: 0 }] }, description: `${description}: ${what}` });
  return schema;
}

// tc reads "kbps" as kilobytes per second; here every unit counts bits, as people mostly mean them.
const RATE = /^\s*((?:\d+(?:\.\d+)?|\.\d+))\s*([kmg])(?:bit|bps)\s*$/i;
const RATE_JSON_PATTERN = String.raw`^\s*(?:\d+(?:\.\d+)?|\.\d+)\s*[kKmMgG](?:[bB][iI][tT]|[bB][pP][sS])\s*$`;
const KBIT_PER_UNIT: Record<string, number> = { k: 1, m: 1000, g: 1_000_000 };

/** A rate limit in bits per second with its unit (SI, as tc: 1mbit = 1000kbit); the output is kbit/s. */
function bitRate() {
  const what = 'a rate above 0 with its unit, e.g. 512kbit, 1mbit or 1.5gbit (kbps, mbps and gbps also mean bits per second), at most 10gbit';
  const schema = z.unknown().transform((value, context) => {
    const match = typeof value === 'string' ? RATE.exec(value) : null;
    const kbit = match ? Math.round(Number(match[1]) * (KBIT_PER_UNIT[(match[2] ?? '').toLowerCase()] ?? Number.NaN) * 1000) / 1000 : Number.NaN;
    if (kbit > 0 && kbit <= MAX_RATE_KBIT) return kbit;
    context.addIssue({ code: 'custom', message: `expected ${what}, got ${describeValue(value)}` });
    return z.NEVER;
  });
  jsonSchemaHints.add(schema, { json: { type: 'string', pattern: RATE_JSON_PATTERN }, description: `the rate limit: ${what}` });
  return schema;
}

const lossBurstError = (issue: { input?: unknown }) => `expected the mean length of a run of lost packets, 1 or more (1: each loss on its own), got ${describeValue(issue.input)}`;
const lossBurst = z.number({ error: lossBurstError }).min(1, { error: lossBurstError });
jsonSchemaHints.add(lossBurst, { description: 'the mean length of a run of lost packets, 1 or more (1: each loss on its own)' });

const IMPAIRMENT_FIELDS = {
  loss: percent('packets lost').optional(),
  burst: lossBurst.optional(),
  delay: networkDelay('added one-way delay').optional(),
  jitter: networkDelay("the delay's standard deviation (normal distribution, never below 0)").optional(),
  reorder: percent('packets sent at once, skipping the delay (reordering)').optional(),
  rate: bitRate().optional(),
};
const directionFields = strictFields(IMPAIRMENT_FIELDS, 'a mapping');
type ImpairmentFields = z.output<typeof directionFields>;

const profileFields = strictFields(
  {
    extends: profileRef.optional(),
    ...IMPAIRMENT_FIELDS,
    up: directionFields.optional(),
    down: directionFields.optional(),
  },
  'a profile: a mapping',
);

const networkFields = strictFields({ profiles: z.unknown().optional() }, 'a mapping with profiles');

/** The zod shapes of the network section, for the JSON Schema (jsonSchema.ts). */
export const NETWORK_SHAPES = { profile: profileFields, profileRef } as const;

/** The profiles a scenario may name. */
export interface NetworkProfiles {
  /** The presets, then the file's own (one may replace a preset), each complete. */
  profiles: Map<string, NetworkProfile>;
  /** The file's own profile names, also those with problems: a reference to one is not reported again. */
  own: Set<string>;
}

/** The presets and `network.profiles`; profiles with problems are left out (and reported). */
export function readNetwork(value: unknown, problems: Problems): NetworkProfiles {
  const network: NetworkProfiles = { profiles: new Map(Object.entries(NETWORK_PRESETS)), own: new Set() };
  if (value === undefined || value === null) return network;
  const fields = problems.parse(networkFields, value, 'network');
  if (!fields || fields.profiles === undefined || fields.profiles === null) return network;
  const path = 'network.profiles';
  if (typeof fields.profiles !== 'object' || Array.isArray(fields.profiles)) {
    problems.add(path, `expected a mapping of profile names to { extends, loss, burst, delay, jitter, reorder, rate, up, down }, got ${describeValue(fields.profiles)}`);
    return network;
  }
  const names = Object.keys(fields.profiles);
  for (const [name, profileValue] of Object.entries(fields.profiles)) {
    const profilePath = joinPath(path, name);
    const nameOk = PROFILE_NAME.test(name);
    if (!nameOk) problems.add(profilePath, `invalid profile name ${JSON.stringify(name)} (allowed: a letter or digit, then letters, digits, _, . or -)`);
    const profile = readProfile(name, profileValue, profilePath, network, names, problems);
    network.own.add(name);
    if (profile && nameOk) network.profiles.set(name, profile);
    // A profile with problems must not stand in for the preset it meant to replace.
    else network.profiles.delete(name);
  }
  return network;
}

function readProfile(name: string, value: unknown, path: string, network: NetworkProfiles, fileNames: readonly string[], problems: Problems): NetworkProfile | undefined {
  const fields = problems.parse(profileFields, value, path);
  if (!fields) return undefined;
  let base: NetworkProfile = { name, up: NO_IMPAIRMENT, down: NO_IMPAIRMENT };
  if (fields.extends !== undefined) {
    const parent = network.profiles.get(fields.extends);
    if (!parent) {
      // One defined above with problems of its own is already reported.
      if (!network.own.has(fields.extends)) problems.add(joinPath(path, 'extends'), extendsProblem(name, fields.extends, network, fileNames));
      return undefined;
    }
    base = parent;
  }
  // Copy first, then what applies to both directions, then each direction's own fields.
  const both = impairment(fields);
  return {
    name,
    up: { ...base.up, ...both, ...impairment(fields.up ?? {}) },
    down: { ...base.down, ...both, ...impairment(fields.down ?? {}) },
  };
}

function extendsProblem(name: string, parent: string, network: NetworkProfiles, fileNames: readonly string[]): string {
  const from = `extends names a preset (${PRESET_NAMES}) or a profile defined above this one`;
  if (parent === name) return `a profile cannot extend itself (${from})`;
  if (fileNames.includes(parent)) return `profile ${JSON.stringify(parent)} is defined below this one; ${from}: move it up`;
  const above = [...network.own].filter((own) => !isPreset(own));
  return `unknown profile ${JSON.stringify(parent)} (${from}${above.length > 0 ? `: ${above.join(', ')}` : ''})`;
}

/** Only the fields given, so spreading the result keeps what it does not set. */
function impairment(fields: ImpairmentFields): Partial<ImpairmentDirection> {
  const result: Partial<ImpairmentDirection> = {};
  if (fields.loss !== undefined) result.lossPercent = fields.loss;
  if (fields.burst !== undefined) result.lossBurst = fields.burst;
  if (fields.delay !== undefined) result.delayMs = secondsToMs(fields.delay);
  if (fields.jitter !== undefined) result.jitterMs = secondsToMs(fields.jitter);
  if (fields.reorder !== undefined) result.reorderPercent = fields.reorder;
  if (fields.rate !== undefined) result.rateKbit = fields.rate;
  return result;
}

/** What is wrong with naming `profile`, or undefined when it names a profile (or one whose problems are already reported). */
export function profileProblem(profile: string, network: NetworkProfiles): string | undefined {
  if (network.profiles.has(profile) || network.own.has(profile)) return undefined;
  const own = [...network.own].filter((name) => !isPreset(name));
  return `unknown network profile ${JSON.stringify(profile)} (presets: ${PRESET_NAMES}${own.length > 0 ? `; network.profiles: ${own.join(', ')}` : ''}); name one of them or define it under network.profiles`;
}

/** Each role's `network` names a profile. */
export function checkRoleNetworks(roles: Record<string, Role>, network: NetworkProfiles, problems: Problems): void {
  for (const role of Object.values(roles)) {
    if (role.network === undefined) continue;
    const problem = profileProblem(role.network, network);
    if (problem !== undefined) problems.add(joinPath(joinPath('roles', role.name), 'network'), problem);
  }
}

/** Scenario.network: set only when a role runs in a namespace, i.e. has a `network`; plain copies, not the frozen presets. */
export function scenarioNetwork(roles: Record<string, Role>, network: NetworkProfiles): { profiles: Record<string, NetworkProfile> } | undefined {
  if (!Object.values(roles).some((role) => role.network !== undefined)) return undefined;
  return { profiles: Object.fromEntries([...network.profiles].map(([name, profile]) => [name, structuredClone(profile)])) };
}
