/**
 * Collects every problem found in a scenario, each with the field path where
 * it was found (`steps[3].call.codecs[0]`), so the user can fix all of them in
 * one pass (k6 style) instead of one error per run.
 */
import type { z } from 'zod';

export interface Problem {
  /** Field path, e.g. `steps[3].call.codecs[0]`; '' for the document itself. */
  path: string;
  message: string;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** Appends one key or index to a path, quoting keys that would be ambiguous. */
export function joinPath(path: string, key: PropertyKey): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  const name = String(key);
  if (!IDENTIFIER.test(name)) return `${path}[${JSON.stringify(name)}]`;
  return path === '' ? name : `${path}.${name}`;
}

/** How a value looks in a message; strings are quoted and cut short. Never used for passwords. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Uint8Array) return 'binary data';
  return typeof value === 'object' ? 'a mapping' : typeof value;
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
};

/**
 * Messages for zod issues that a schema did not word itself. The phrasing is
 * what is allowed, then what was found; the value is shown only for scalars,
 * and password fields set their own message so their value never appears.
 */
function defaultMessage(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type': {
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      return issue.input === undefined ? `required (${expected})` : `expected ${expected}, got ${describeValue(issue.input)}`;
    }
    case 'too_small':
      if (issue.origin === 'array') return `needs at least ${String(issue.minimum)} item${issue.minimum === 1 ? '' : 's'}`;
      if (issue.origin === 'string') return 'must not be empty';
      return `must be at least ${String(issue.minimum)}, got ${describeValue(issue.input)}`;
    case 'too_big':
      if (issue.origin === 'array') return `allows at most ${String(issue.maximum)} items`;
      if (issue.origin === 'string') return `allows at most ${String(issue.maximum)} characters`;
      return `must be at most ${String(issue.maximum)}, got ${describeValue(issue.input)}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map(String).join(', ')}, got ${describeValue(issue.input)}`;
    default:
      return undefined;
  }
}

export class Problems {
  readonly list: Problem[] = [];

  add(path: string, message: string): void {
    this.list.push({ path, message });
  }

  get count(): number {
    return this.list.length;
  }

  /**
   * Validates `value` at `path`; records every issue and returns undefined if there was any.
   * `shorthandKey`: the value was written in short form (`hold: alice` for `hold: { role: alice }`),
   * so issues under that key are reported where the user wrote them, without the key.
   */
  parse<S extends z.ZodType>(schema: S, value: unknown, path: string, shorthandKey?: string): z.output<S> | undefined {
    const result = schema.safeParse(value, { error: defaultMessage });
    if (result.success) return result.data;
    for (const issue of result.error.issues) {
      const segments = shorthandKey !== undefined && issue.path[0] === shorthandKey ? issue.path.slice(1) : issue.path;
      const issuePath = segments.reduce<string>(joinPath, path);
      if (issue.code === 'unrecognized_keys') {
        // strictFields() words the allowed list; one problem per unknown key, at that key.
        for (const key of issue.keys) this.add(joinPath(issuePath, key), `unknown field ${JSON.stringify(key)} (allowed: ${issue.message})`);
      } else {
        this.add(issuePath, issue.message);
      }
    }
    return undefined;
  }
}
