/**
 * The scenario file format as a JSON Schema (draft-07), for editors:
 * completion, hover text and checks as you type (yaml-language-server, VS
 * Code's YAML extension, JetBrains IDEs). It is written from the zod shapes
 * the loader validates with, so the two cannot drift apart; what the loader
 * checks across fields (references between steps, accounts per call slot,
 * threshold expressions) only `callwright validate` checks.
 * `npm run schema` writes it to schema/scenario.schema.json.
 */
import { z } from 'zod';
import { ROLE_NAME, ROLE_SHAPES } from './accounts.js';
import { JSON_DEFINITIONS, jsonSchemaHints, type JsonSchema } from './fields.js';
import { topLevel } from './loader.js';
import { NETWORK_SHAPES, PRESET_NAMES, PROFILE_NAME } from './network.js';
import { scenarioName, SETTINGS_SHAPES } from './settings.js';
import { CHECK_KINDS, SHAPES, SHORTHAND, STEP_KINDS } from './stepShapes.js';

/** A metric a threshold may name (verdict/metrics.ts has the list; scenario/ may not import it, so the caller passes it). */
export interface ThresholdMetricInfo {
  name: string;
  measures: string;
  /** Tag keys of its `{tag:value}` selector, if it takes one. */
  tags?: readonly string[];
}

const STEP_DESCRIPTIONS: Record<(typeof STEP_KINDS)[number], string> = {
  register: 'REGISTER the accounts of the roles named (every role when none is)',
  unregister: 'un-REGISTER the accounts of the roles named (every role when none is)',
  call: 'send an INVITE from a role to a role or a sip: URI',
  answer: 'answer (or reject: 486) the call at the role called; incoming: true waits for a call from a SIP device',
  expect: 'check one thing: state, media, codec (kind: audio|video, direction), firstAudio, dtmf, message, inviteSize, sdp, transcoded (true|false) or video',
  wait: 'wait a duration, or holdTime for the draw from load.holdTime',
  dtmf: 'send DTMF tones, RFC 4733 or SIP INFO',
  hold: 'put the call on hold (re-INVITE with sendonly)',
  unhold: 'take the call off hold',
  hangup: 'end the call (BYE or CANCEL)',
  fault: "inject a media fault on a role's audio (or kind: video) sender: stop, silence or restore",
  transfer: 'blind transfer (REFER) to a role or a sip: URI',
  message: 'send a SIP MESSAGE',
  network: "switch a role's network to another impairment profile at once (the role needs roles.<role>.network)",
};

/** The JSON Schema of a scenario file; `thresholdMetrics` lists the metric names editors offer under thresholds. */
export function scenarioJsonSchema(thresholdMetrics: readonly ThresholdMetricInfo[] = []): JsonSchema {
  const properties: Record<string, JsonSchema> = {
    name: jsonOf(scenarioName),
    description: { type: 'string', description: 'what the scenario does, for people and reports' },
    target: { ...jsonOf(SETTINGS_SHAPES.target), description: 'your SIP server (SIP over WebSocket); absent: the embedded server' },
    options: { ...jsonOf(SETTINGS_SHAPES.options), description: 'sampling, ICE, placement, watchdog and evidence options; all optional' },
    load: loadJson(),
    thresholds: thresholdsJson(thresholdMetrics),
    network: networkJson(),
    roles: rolesJson(),
    steps: stepsJson(),
  };
  const fields = Object.keys(topLevel.shape);
  if (JSON.stringify(Object.keys(properties)) !== JSON.stringify(fields)) throw new Error(`scenarioJsonSchema: top-level fields ${fields.join(', ')} need a schema each`);
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'callwright scenario',
    description: 'A callwright scenario: roles and their SIP accounts, the steps of one call script, load and thresholds. `callwright validate` checks the rest (references between steps, threshold expressions, accounts per call slot).',
    type: 'object',
    additionalProperties: false,
    required: ['name', 'roles', 'steps'],
    properties,
    definitions: { ...JSON_DEFINITIONS, thresholdExpressions: thresholdExpressionsJson() },
  };
}

/** zod -> JSON Schema, as the loader reads input, with the hints of fields.ts (durations, SIP users) in place of what zod would write. */
function jsonOf(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, {
    target: 'draft-07',
    io: 'input',
    unrepresentable: 'any',
    override: ({ zodSchema, jsonSchema }) => {
      const hint = jsonSchemaHints.get(zodSchema as unknown as z.ZodType);
      if (!hint) return;
      if (hint.json) {
        for (const key of Object.keys(jsonSchema)) delete (jsonSchema as JsonSchema)[key];
        Object.assign(jsonSchema, structuredClone(hint.json));
      }
      if (hint.description) (jsonSchema as JsonSchema).description = hint.description;
    },
  }) as JsonSchema;
  delete json.$schema;
  return json;
}

function loadJson(): JsonSchema {
  const load = jsonOf(SETTINGS_SHAPES.load);
  const properties = load.properties as Record<string, JsonSchema>;
  // holdTime is read by hand (a duration, or a distribution); its forms are listed here.
  properties.holdTime = {
    anyOf: [jsonOf(SETTINGS_SHAPES.fixedHoldTime), ...((jsonOf(SETTINGS_SHAPES.holdTime).anyOf as JsonSchema[] | undefined) ?? [])],
    description: 'how long each call is held (`- wait: holdTime`): a duration, or { uniform: { min, max } }, { exponential: { mean, max } }, { normal: { mean, stddev, min, max } }',
  };
  return { ...load, description: 'the load model (docs/load.md): closed (iterations, concurrency) or open (rate or phases, maxConcurrent); absent: one iteration' };
}

function thresholdsJson(metrics: readonly ThresholdMetricInfo[]): JsonSchema {
  const base = { type: 'object', description: 'pass/fail criteria by metric, k6 style (docs/reports.md#thresholds): every expression must hold, or the run exits 99' };
  // Defined once (thresholdExpressions); each metric refers to it with its own description.
  const expressions = (description: string): JsonSchema => ({ allOf: [{ $ref: '#/definitions/thresholdExpressions' }], description });
  if (metrics.length === 0) return { ...base, additionalProperties: { $ref: '#/definitions/thresholdExpressions' } };
  const withTags = metrics.filter((metric) => metric.tags && metric.tags.length > 0);
  return {
    ...base,
    properties: Object.fromEntries(metrics.map((metric) => [metric.name, expressions(metric.measures)])),
    ...(withTags.length > 0
      ? { patternProperties: Object.fromEntries(withTags.map((metric) => [`^${metric.name}\\{(?:${metric.tags!.join('|')}):.+\\}$`, expressions(`${metric.measures} (a selection: {${metric.tags!.join(' or ')}:<name>})`)])) }
      : {}),
    additionalProperties: false,
  };
}

/** One expression, the object form, or a list of them. */
function thresholdExpressionsJson(): JsonSchema {
  const expression: JsonSchema = { type: 'string', minLength: 1, description: 'a k6-style expression: <aggregation><operator><value>, e.g. rate>=0.99, p(95)<2s (a time needs its unit), avg>4.0, count==0' };
  const item: JsonSchema = { anyOf: [expression, jsonOf(SETTINGS_SHAPES.thresholdObject)] };
  return { anyOf: [item, { type: 'array', items: item, minItems: 1 }] };
}

function rolesJson(): JsonSchema {
  const role: JsonSchema = {
    type: 'object',
    additionalProperties: false,
    required: ['accounts'],
    properties: {
      accounts: {
        description: 'the SIP accounts of the role: a list of { user, password }, a numbered range { range: { from, count }, user: "{n}" }, or { csv: users.csv }; one per call at once',
        anyOf: [{ type: 'array', items: jsonOf(ROLE_SHAPES.listedAccount), minItems: 1 }, jsonOf(ROLE_SHAPES.accountRange), jsonOf(ROLE_SHAPES.accountCsv)],
      },
      autoAnswer: { description: 'answer incoming calls without an answer step (true, or { after: 1s, receiveOnly: true })', anyOf: [{ type: 'boolean' }, jsonOf(ROLE_SHAPES.autoAnswer)] },
      agent: { description: 'who plays the role: browser (headless Chromium, default) or lite (SIP.js in Node, pre-encoded audio, audio only; docs/lite-agents.md)', enum: ['browser', 'lite'] },
      network: {
        ...jsonOf(NETWORK_SHAPES.profileRef),
        description: `the impairment profile the role's browsers start on: a preset (${PRESET_NAMES}) or one of network.profiles; the role then runs in a network namespace of its own, which network steps can switch`,
      },
    },
  };
  return {
    type: 'object',
    description: 'who takes part: role names (a lower-case letter, then a-z, 0-9, _ or -) mapped to their accounts',
    minProperties: 1,
    propertyNames: { pattern: ROLE_NAME.source },
    additionalProperties: role,
  };
}

function networkJson(): JsonSchema {
  return {
    type: 'object',
    additionalProperties: false,
    description: `network impairment: the profiles that roles.<role>.network and network steps name, besides the presets (${PRESET_NAMES})`,
    properties: {
      profiles: {
        type: 'object',
        description:
          `impairment profiles by name, a new name or a preset's (${PRESET_NAMES}) to replace it: extends copies a preset or a profile defined above; ` +
          'fields at the profile level apply to both directions; up (what the role sends) and down (what it receives) override them',
        propertyNames: { pattern: PROFILE_NAME.source },
        additionalProperties: jsonOf(NETWORK_SHAPES.profile),
      },
    },
  };
}

function stepsJson(): JsonSchema {
  const bareKinds: string[] = [];
  const forms = STEP_KINDS.map((kind) => {
    const fields = jsonOf(SHAPES[kind]);
    if (kind === 'expect') fields.anyOf = CHECK_KINDS.map((check) => ({ required: [check] }));
    const alternatives: JsonSchema[] = [fields];
    const shorthand = SHORTHAND[kind];
    if (shorthand) {
      const short = (fields.properties as Record<string, JsonSchema>)[shorthand.key]!;
      alternatives.push(shorthand.list ? { anyOf: [short.items as JsonSchema, short] } : short);
    }
    // A kind whose fields are all optional may stand alone: `- register`, `- hangup:`.
    if (!Array.isArray(fields.required) || fields.required.length === 0) {
      bareKinds.push(kind);
      alternatives.push({ type: 'null' });
    }
    return {
      type: 'object',
      additionalProperties: false,
      required: [kind],
      properties: { [kind]: { ...(alternatives.length === 1 ? fields : { anyOf: alternatives }), description: STEP_DESCRIPTIONS[kind] } },
    };
  });
  return {
    type: 'array',
    minItems: 1,
    description: 'the call script, run in order for every iteration; the first failed step ends the iteration',
    items: { anyOf: [{ type: 'string', enum: bareKinds, description: 'a step with every default, e.g. - register' }, ...forms] },
  };
}
