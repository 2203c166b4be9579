/**
 * zod building blocks for scenario fields. Each one words its own message as
 * "what is allowed, got what", so a problem line tells the user how to fix it.
 */
import { z } from 'zod';
import { DURATION_PATTERN } from '../common/durations.js';
import { formatSeconds, parseDurationSeconds } from './durations.js';
import { describeValue } from './problems.js';
import { checkSipUser } from './sipUser.js';

type Shape = Record<string, z.ZodType>;

/** A JSON Schema fragment (jsonSchema.ts writes the scenario's JSON Schema from these fields). */
export type JsonSchema = { [keyword: string]: unknown };

/**
 * What the JSON Schema says of a field that zod cannot put in JSON Schema by
 * itself (a duration is "5s" or 5, a SIP user 1000 or "alice"): `json`
 * replaces what zod would write; `description` is shown by editors. Refined
 * copies of a field inherit its entry.
 */
export const jsonSchemaHints = z.registry<{ json?: JsonSchema; description?: string }>();

function hinted<S extends z.ZodType>(schema: S, hint: { json?: JsonSchema; description?: string }): S {
  jsonSchemaHints.add(schema, hint);
  return schema;
}

/** Input that YAML may read as text or as a whole number. */
const TEXT_OR_INTEGER: JsonSchema = { anyOf: [{ type: 'string' }, { type: 'integer', minimum: 0 }] };

/** Parts the schema defines once and refers to (`#/definitions/<name>`); jsonSchema.ts puts them in the document. */
export const JSON_DEFINITIONS: Record<string, JsonSchema> = {
  durationText: { type: 'string', pattern: DURATION_PATTERN, description: 'a duration with units: 500ms, 5s, 2m, 1h, or several from the largest down, e.g. 1m30s' },
};

/** A duration in JSON Schema: a string with units, or a number of seconds. */
export function durationJson(minSeconds: number, maxSeconds: number): JsonSchema {
  return { anyOf: [{ $ref: '#/definitions/durationText' }, { type: 'number', minimum: minSeconds, maximum: maxSeconds }] };
}

/**
 * A mapping that rejects unknown fields. The unrecognized_keys message is the
 * allowed list (Problems.parse turns it into one line per unknown key);
 * `expected` words the type error, e.g. "a role name or a mapping".
 */
export function strictFields<T extends Shape>(shape: T, expected = 'a mapping') {
  const allowed = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code === 'unrecognized_keys') return allowed;
      if (issue.code === 'invalid_type') {
        return issue.input === undefined ? `required (${expected})` : `expected ${expected} (fields: ${allowed}), got ${describeValue(issue.input)}`;
      }
      return undefined;
    },
  });
}

function rangeMessage(what: string, issue: { input?: unknown }): string {
  return issue.input === undefined ? `required (${what})` : `expected ${what}, got ${describeValue(issue.input)}`;
}

/** A number (not only whole) within [min, max]. */
export function decimal(min: number, max: number) {
  const error = (issue: { input?: unknown }) => rangeMessage(`a number from ${min} to ${max}`, issue);
  return z.number({ error }).min(min, { error }).max(max, { error });
}

export function integer(min: number, max: number) {
  const error = (issue: { input?: unknown }) => rangeMessage(`an integer from ${min} to ${max}`, issue);
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

/** A duration (see durations.ts) within [min, max] seconds; the output is seconds. */
export function duration(minSeconds: number, maxSeconds: number) {
  const what = `a duration from ${formatSeconds(minSeconds)} to ${formatSeconds(maxSeconds)} (e.g. 500ms, 5s, 2m, or a number of seconds)`;
  const schema = z.unknown().transform((value, context) => {
    const seconds = parseDurationSeconds(value);
    if (seconds !== undefined && seconds >= minSeconds && seconds <= maxSeconds) return seconds;
    context.addIssue({ code: 'custom', message: rangeMessage(what, { input: value }) });
    return z.NEVER;
  });
  return hinted(schema, { json: durationJson(minSeconds, maxSeconds), description: what });
}

const DECIMAL = String.raw`(?:\d+(?:\.\d+)?|\.\d+)`;
const PERCENT = new RegExp(String.raw`^\s*(${DECIMAL})\s*%\s*$`);

/** A percentage: "2%", "0.5%", or a number meaning percent; the output is the number of percent (0..100). */
export function percent(description?: string) {
  const what = 'a percentage from 0% to 100% (e.g. 2% or 0.5%, or a number meaning percent)';
  const schema = z.unknown().transform((value, context) => {
    const number = typeof value === 'number' ? value : typeof value === 'string' ? Number(PERCENT.exec(value)?.[1] ?? Number.NaN) : Number.NaN;
    if (Number.isFinite(number) && number >= 0 && number <= 100) return number;
    context.addIssue({ code: 'custom', message: rangeMessage(what, { input: value }) });
    return z.NEVER;
  });
  const json = { anyOf: [{ type: 'string', pattern: PERCENT.source }, { type: 'number', minimum: 0, maximum: 100 }] };
  return hinted(schema, { json, description: description === undefined ? what : `${description}: ${what}` });
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: (issue) => rangeMessage(`one of ${values.join(', ')}`, issue) });
}

export function flag() {
  return z.boolean({ error: (issue) => rangeMessage('true or false', issue) });
}

export function text(what = 'a string') {
  const schema = z.string({ error: (issue) => rangeMessage(what, issue) });
  return what === 'a string' ? schema : hinted(schema, { description: what });
}

/** A string matching `pattern`; `what` describes it for the message, e.g. "a role name ([a-z][a-z0-9_-]*)". */
export function matching(pattern: RegExp, what: string) {
  const error = (issue: { input?: unknown }) => rangeMessage(what, issue);
  return hinted(z.string({ error }).regex(pattern, { error }), { description: what });
}

/**
 * YAML reads `user: 1000` as a number; extensions are written that way, so
 * integers are taken as their decimal text. (The loader keeps `0123` and
 * `+4930...` as written before they ever become numbers.)
 */
function integerAsText(value: unknown): unknown {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? String(value) : value;
}

/** A SIP user part or auth name, RFC 3261 checked. */
export function sipUser() {
  const schema = z.preprocess(
    integerAsText,
    text('a SIP user name').superRefine((user, context) => {
      const problem = checkSipUser(user);
      if (problem !== undefined) context.addIssue({ code: 'custom', message: problem });
    }),
  );
  return hinted(schema, { json: TEXT_OR_INTEGER, description: 'a SIP user name (RFC 3261; percent-escape spaces and <>)' });
}

/** Its message never shows the value: a mistyped password is still a password. */
export function password() {
  const schema = z.preprocess(
    integerAsText,
    z.string({ error: (issue) => (issue.input === undefined ? 'required' : 'expected a string (quote the password)') }),
  );
  return hinted(schema, { json: TEXT_OR_INTEGER, description: 'the password (prefer passwordEnv, so the file can be committed)' });
}

/** Text fields where YAML may have read digits as a number (DTMF tones, display names). */
export function textOrInteger(what: string) {
  return hinted(z.preprocess(integerAsText, text(what)), { json: TEXT_OR_INTEGER, description: what });
}
