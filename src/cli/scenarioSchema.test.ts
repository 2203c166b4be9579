/**
 * schema/scenario.schema.json: current, well-formed, complete, and in step
 * with the loader: every scenario the project ships, and every short form the
 * loader accepts, passes it; what the loader refuses by shape, it refuses.
 * Ajv (draft-07) is what eslint already installs; nothing is added for it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseScenario } from '../scenario/index.js';
import { topLevel } from '../scenario/loader.js';
import { STEP_KINDS } from '../scenario/stepShapes.js';
import { THRESHOLD_METRIC_NAMES } from '../verdict/metrics.js';
import { SCENARIO_SCHEMA_PATH, scenarioSchema, scenarioSchemaText } from './scenarioSchema.js';

const root = join(import.meta.dirname, '../..');
const schema = scenarioSchema();
const ajv = new Ajv({ allErrors: true });
const validate = ajv.compile(schema);

/** Ajv's complaints about a YAML text, one line each; empty when it passes. */
function schemaProblems(text: string): string[] {
  if (validate(parse(text))) return [];
  return (validate.errors ?? []).map((error) => `${error.dataPath} ${error.message}`);
}

const ROLES = 'roles:\n  alice: { accounts: [{ user: alice, password: pw }] }\n  bob: { accounts: [{ user: 1000 }] }\n';

describe('schema/scenario.schema.json', () => {
  it('is what `npm run schema` writes now (run it after changing a scenario field)', () => {
    expect(readFileSync(join(root, SCENARIO_SCHEMA_PATH), 'utf8')).toBe(scenarioSchemaText());
  });

  it('is a well-formed draft-07 schema', () => {
    expect(ajv.validateSchema(schema), JSON.stringify(ajv.errors)).toBe(true);
  });

  it('lists every top-level field, step kind and threshold metric', () => {
    const properties = schema.properties as Record<string, { properties?: Record<string, unknown>; items?: { anyOf: { properties?: Record<string, unknown> }[] } }>;
    expect(Object.keys(properties)).toEqual(Object.keys(topLevel.shape));
    const stepForms = properties.steps!.items!.anyOf.flatMap((form) => Object.keys(form.properties ?? {}));
    expect(stepForms).toEqual(STEP_KINDS);
    expect(Object.keys(properties.thresholds!.properties!)).toEqual(THRESHOLD_METRIC_NAMES);
  });
});

describe('the schema and the loader agree', () => {
  const shipped = ['scenarios', 'scenarios/lab'].flatMap((folder) =>
    readdirSync(join(root, folder))
      .filter((name) => name.endsWith('.yaml'))
      .map((name) => `${folder}/${name}`),
  );

  it('finds the shipped scenarios', () => {
    expect(shipped.length).toBeGreaterThan(15);
  });

  it.each(shipped)('%s passes the schema', (file) => {
    expect(schemaProblems(readFileSync(join(root, file), 'utf8'))).toEqual([]);
  });

  it.each([
    ['bare kinds and short forms', 'steps:\n  - register\n  - register: alice\n  - unregister: [alice, bob]\n  - call: { from: alice, to: bob }\n  - answer: bob\n  - hold: alice\n  - unhold:\n  - wait: 5\n  - wait: 1m30s\n  - dtmf: 123\n  - expect: { sdp: "b=AS:64", role: alice }\n  - expect: { state: established }\n  - hangup\n'],
    ['a range, a CSV pool, autoAnswer and a hold time', 'roles:\n  agents: { accounts: { range: { from: 1000, count: 2 }, user: "{n}", password: "p{n}" }, autoAnswer: true }\n  pool: { accounts: { csv: users.csv }, autoAnswer: { after: 1s } }\nload: { iterations: 2, concurrency: 2, holdTime: { uniform: { min: 1s, max: 2s } } }\nsteps:\n  - call: { from: agents, to: pool }\n  - wait: holdTime\n'],
    ['thresholds in every form', "thresholds:\n  call_success: 'rate>=0.99'\n  setup_time: ['p(95)<2s', { threshold: 'p(99)<3s', abortOnFail: true, delayAbortEval: 10s }]\n  'step_success{step:register alice, bob}': ['rate==1']\nsteps: [register]\n"],
    ['network profiles, a role on one and a network step', 'roles:\n  alice: { accounts: [{ user: alice }], network: my-dsl }\n  bob: { accounts: [{ user: bob }] }\nnetwork:\n  profiles:\n    my-dsl: { extends: 3g, loss: 2%, delay: 40ms, up: { loss: 1, burst: 3, jitter: 0, reorder: 0.5%, rate: 1mbit }, down: { rate: 4Mbps } }\nsteps:\n  - network: { role: alice, profile: satellite }\n'],
    ['options with every duration spelling', 'options: { statsInterval: 1, stepTimeout: 1m30s, iceGatheringTimeout: 500ms, watchdog: { eventLoopLag: 0.25 } }\nload: { rate: 2, duration: 1h2m, maxConcurrent: 1 }\nsteps: [register]\n'],
  ])('%s: the loader and the schema both accept them', (_what, body) => {
    const text = `name: t\n${body.startsWith('roles:') ? '' : ROLES}${body}`;
    expect(schemaProblems(text)).toEqual([]);
    if (!body.includes('csv:')) expect(() => parseScenario(text, 'test.yaml', { env: {} })).not.toThrow();
  });

  it.each([
    ['an unknown top-level field', `${ROLES}steps: [register]\nstep: [register]\n`],
    ['an unknown step kind', `${ROLES}steps: [{ cal: { from: alice, to: bob } }]\n`],
    ['a step with two keys', `${ROLES}steps: [{ call: { from: alice, to: bob }, name: x }]\n`],
    ['a duration without a unit', `${ROLES}steps: [{ wait: "5" }]\n`],
    ['durations out of order', `${ROLES}steps: [{ wait: 30s1m }]\n`],
    ['an unknown field in a step', `${ROLES}steps: [{ call: { from: alice, to: bob, codec: PCMU } }]\n`],
    ['an expect with no check', `${ROLES}steps: [{ expect: { role: alice } }]\n`],
    ['an unknown threshold metric', `${ROLES}thresholds: { call_sucess: ['rate>0.9'] }\nsteps: [register]\n`],
    ['a role name with a capital', 'roles:\n  Alice: { accounts: [{ user: alice }] }\nsteps: [register]\n'],
    ['no steps', `${ROLES}`],
    ['an unknown field in a network profile', `network:\n  profiles:\n    p: { up: { los: 1% } }\n${ROLES}steps: [register]\n`],
    ['a network delay without a unit', `network:\n  profiles:\n    p: { delay: 40 }\n${ROLES}steps: [register]\n`],
    ['a network step without a profile', `${ROLES}steps: [{ network: { role: alice } }]\n`],
  ])('%s: the schema refuses it, as the loader does', (_what, body) => {
    const text = `name: t\n${body}`;
    expect(schemaProblems(text)).not.toEqual([]);
    expect(() => parseScenario(text, 'test.yaml', { env: {}, thresholds: { problems: (spec) => ('call_sucess' in spec ? [{ metricLabel: 'call_sucess', message: 'unknown metric' }] : []), hint: '' } })).toThrow();
  });
});
