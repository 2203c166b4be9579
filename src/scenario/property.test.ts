import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse, stringify } from 'yaml';
import { describe, it } from 'vitest';
import { InputError } from '../errors.js';
import { parseScenario } from './index.js';

/** The property: a scenario, or an InputError; never a crash of ours. */
function loadsOrReportsInput(text: string): boolean {
  try {
    parseScenario(text, 'fuzz.yaml', { env: { PW: 'x' } });
    return true;
  } catch (error) {
    if (error instanceof InputError) return true;
    throw error;
  }
}

// The scenario vocabulary, so random documents reach deep into the validator instead of stopping at the top level.
const WORDS = [
  'name', 'description', 'target', 'url', 'domain', 'caFile', 'insecureTls', 'options', 'statsInterval', 'stepTimeout',
  'load', 'iterations', 'concurrency', 'thresholds', 'roles', 'alice', 'bob', 'accounts', 'user', 'password',
  'passwordEnv', 'PW', 'authUser', 'displayName', 'range', 'from', 'count', 'autoAnswer', 'after', 'steps', 'register',
  'unregister', 'call', 'answer', 'expect', 'wait', 'dtmf', 'hold', 'unhold', 'hangup', 'transfer', 'message', 'to',
  'codecs', 'PCMU', 'opus', 'extraSdp', 'b=AS:64', 'headers', 'X-A: 1', 'until', 'sent', 'reject', 'state', 'established',
  'failed', 'status', 'media', 'flowing', 'direction', 'in', 'kind', 'codec', 'firstAudio', 'inviteSize', 'max', 'min',
  'tones', '12#', 'mode', 'info', 'as', 'body', 'role', 'roles', 'seconds', 'within', 'timeout', '5s', '500ms', 'main',
  'sip:x@{domain}', 'ws://h:1', '{n}', 'john doe', '%zz', 'network', 'profiles', 'profile', 'extends', 'loss', 'burst', 'delay',
  'jitter', 'reorder', 'rate', 'up', 'down', '3g', 'clean', '2%', '40ms', '1mbit',
];

const scenarioish = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(...WORDS),
    fc.integer({ min: -5, max: 2000 }),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom(...WORDS), tie('value'), { maxKeys: 4 }),
  ),
})).value;

describe('parseScenario on arbitrary input', () => {
  it('returns a Scenario or throws InputError for any JSON value rendered to YAML', () => {
    fc.assert(fc.property(fc.jsonValue(), (value) => loadsOrReportsInput(stringify(value))), { numRuns: 300 });
  });

  it('does the same for scenario-shaped values', () => {
    fc.assert(fc.property(scenarioish, (value) => loadsOrReportsInput(stringify(value))), { numRuns: 1000 });
  });

  it('does the same for a valid top level around random steps and roles', () => {
    const document = fc.record({ roles: scenarioish, steps: fc.array(scenarioish, { minLength: 1, maxLength: 6 }) });
    fc.assert(fc.property(document, (parts) => loadsOrReportsInput(stringify({ name: 'fuzz', ...parts }))), { numRuns: 1000 });
  });

  it('does the same for shipped scenarios with one field replaced by anything', () => {
    for (const file of ['smoke.yaml', 'transfer.yaml']) {
      const original: unknown = parse(readFileSync(join(import.meta.dirname, '../../scenarios', file), 'utf8'));
      const paths = pathsOf(original);
      fc.assert(
        fc.property(fc.nat({ max: paths.length - 1 }), scenarioish, (index, replacement) =>
          loadsOrReportsInput(stringify(replaceAt(original, paths[index] ?? [], replacement))),
        ),
        { numRuns: 500 },
      );
    }
  });

  it('does the same for random text', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), loadsOrReportsInput), { numRuns: 500 });
    const yamlish = fc.array(fc.constantFrom(...WORDS, ':', ' ', '\n', '  ', '- ', '[', ']', '{', '}', ',', '"', "'", '&a', '*a', '!!str', '#', '|', '>', '---', '?', '\t'), { maxLength: 60 });
    fc.assert(fc.property(yamlish, (tokens) => loadsOrReportsInput(tokens.join(''))), { numRuns: 1000 });
  });
});

type Key = string | number;

/** Every path to a value inside a parsed YAML document. */
function pathsOf(value: unknown, prefix: Key[] = []): Key[][] {
  const children = Array.isArray(value) ? value.map((item, index) => [index, item] as const) : value !== null && typeof value === 'object' ? Object.entries(value) : [];
  return [prefix, ...children.flatMap(([key, child]) => pathsOf(child, [...prefix, key]))];
}

function replaceAt(value: unknown, path: readonly Key[], replacement: unknown): unknown {
  const [key, ...rest] = path;
  if (key === undefined) return replacement;
  if (Array.isArray(value)) return value.map((item, index) => (index === key ? replaceAt(item, rest, replacement) : item));
  const record = value as Record<string, unknown>;
  return { ...record, [key]: replaceAt(record[key], rest, replacement) };
}
