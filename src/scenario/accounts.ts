/**
 * Roles and their SIP accounts: listed one by one, a numbered range for load
 * scenarios (`range: { from: 1000, count: 500 }`, `user: "{n}"`), or a CSV
 * file (`csv: users.csv`, see accountsCsv.ts).
 * Passwords may come from the environment so scenario files can be committed.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import type { Account, Role } from './types.js';
import { parseAccountsCsv } from './accountsCsv.js';
import { duration, flag, integer, matching, password, sipUser, strictFields, text, textOrInteger } from './fields.js';
import { checkSipUser } from './sipUser.js';
import { profileRef } from './network.js';
import { describeValue, joinPath, type Problems } from './problems.js';

export type Env = Record<string, string | undefined>;

export const ROLE_NAME = /^[a-z][a-z0-9_-]*$/;
const MAX_ACCOUNTS_PER_RANGE = 100_000;
// E.164 numbers have at most 15 digits; larger ones are a typo, not an extension.
const MAX_RANGE_NUMBER = 999_999_999_999_999;

const envName = matching(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name ([A-Za-z_][A-Za-z0-9_]*)');
const displayName = textOrInteger('a display name').refine((name) => !/[\0-\x1f\x7f]/.test(name), {
  message: 'a display name must be one line with no control characters',
});

const listedAccount = strictFields({
  user: sipUser(),
  authUser: sipUser().optional(),
  password: password().optional(),
  passwordEnv: envName.optional(),
  displayName: displayName.optional(),
});

const accountRange = strictFields({
  range: strictFields({ from: integer(0, MAX_RANGE_NUMBER), count: integer(1, MAX_ACCOUNTS_PER_RANGE) }),
  user: text('a user pattern such as "{n}" or "load{n}"').optional(),
  authUser: text('an auth user pattern such as "{n}"').optional(),
  password: password().optional(),
  passwordEnv: envName.optional(),
  displayName: displayName.optional(),
});

const accountCsv = strictFields({
  csv: text('a path to a CSV file with a header row (user,password,...)'),
  passwordEnv: envName.optional(),
});

const autoAnswerFields = strictFields(
  // receiveOnly: a listen-only callee (answers recvonly, captures and sends nothing).
  { after: duration(0, 3600).optional(), receiveOnly: flag().optional() },
  'true, false or a mapping with after and receiveOnly',
);
const autoAnswer = z.preprocess(
  // `autoAnswer: true` is "answer at once"; false is the same as leaving it out.
  (value) => (value === true ? {} : value === false ? undefined : value),
  autoAnswerFields.optional(),
);

// network: the profile its browsers start on; whether the name exists is checked with the network section (network.ts).
// agent: who plays the role, headless Chromium (default) or lite agents (SIP.js in Node, pre-encoded audio; docs/lite-agents.md).
const agentKind = z.enum(['browser', 'lite'], { error: 'expected browser or lite' });
const roleFields = strictFields({ accounts: z.unknown().optional(), autoAnswer, network: profileRef.optional(), agent: agentKind.optional() }, 'a mapping with accounts');

/** The zod shapes of a role and its three account forms, for the JSON Schema (jsonSchema.ts). */
export const ROLE_SHAPES = { listedAccount, accountRange, accountCsv, autoAnswer: autoAnswerFields } as const;

/** Where each SIP user was first seen, so one account is never used by two roles or listed twice. */
type SeenUsers = Map<string, string>;

/**
 * Every role, with accounts expanded. `names` also holds roles that failed
 * validation, so steps naming them do not pile up "unknown role" problems.
 */
export function readRoles(value: unknown, env: Env, problems: Problems, baseDir = '.'): { roles: Record<string, Role>; names: string[] } {
  const roles: Record<string, Role> = {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    problems.add('roles', `${value === undefined ? 'required' : `expected a mapping, got ${describeValue(value)}`} (role names mapped to { accounts, autoAnswer, network, agent })`);
    return { roles, names: [] };
  }
  const entries = Object.entries(value);
  if (entries.length === 0) problems.add('roles', 'needs at least one role');
  const seen: SeenUsers = new Map();
  for (const [name, roleValue] of entries) {
    const path = joinPath('roles', name);
    if (!ROLE_NAME.test(name)) {
      problems.add(path, `invalid role name ${JSON.stringify(name)} (allowed: a lower-case letter, then a-z, 0-9, _ or -)`);
    }
    const role = readRole(name, roleValue, path, env, seen, problems, baseDir);
    if (role && ROLE_NAME.test(name)) roles[name] = role;
  }
  return { roles, names: entries.map(([name]) => name) };
}

function readRole(name: string, value: unknown, path: string, env: Env, seen: SeenUsers, problems: Problems, baseDir: string): Role | undefined {
  const fields = problems.parse(roleFields, value, path);
  if (!fields) return undefined;
  const accountsPath = `${path}.accounts`;
  let accounts: Account[] | undefined;
  if (Array.isArray(fields.accounts)) {
    accounts = readAccountList(fields.accounts, accountsPath, env, seen, problems);
  } else if (fields.accounts !== null && typeof fields.accounts === 'object' && 'csv' in fields.accounts) {
    accounts = readAccountCsv(fields.accounts, accountsPath, env, seen, problems, baseDir);
  } else if (fields.accounts !== null && typeof fields.accounts === 'object') {
    accounts = readAccountRange(fields.accounts, accountsPath, env, seen, problems);
  } else {
    const found = fields.accounts === undefined ? 'required' : `expected a list or a range, got ${describeValue(fields.accounts)}`;
    problems.add(accountsPath, `${found} (a list of { user, password }, { range: { from, count }, user: "{n}" } or { csv: users.csv })`);
  }
  if (!accounts) return undefined;
  const role: Role = { name, accounts };
  if (fields.autoAnswer) {
    role.autoAnswer = { afterSeconds: fields.autoAnswer.after ?? 0, ...(fields.autoAnswer.receiveOnly ? { receiveOnly: true as const } : {}) };
  }
  if (fields.network !== undefined) role.network = fields.network;
  if (fields.agent === 'lite') {
    if (fields.network !== undefined) {
      problems.add(`${path}.agent`, 'lite agents do not run in a network namespace of their own yet: use agent: browser for a role with a network profile');
    }
    role.agent = 'lite';
  }
  return role;
}

function readAccountList(items: unknown[], path: string, env: Env, seen: SeenUsers, problems: Problems): Account[] | undefined {
  if (items.length === 0) {
    problems.add(path, 'needs at least one account');
    return undefined;
  }
  const before = problems.count;
  const accounts = items.map((item, index) => {
    const itemPath = joinPath(path, index);
    const fields = problems.parse(listedAccount, item, itemPath);
    if (!fields) return undefined;
    const secret = resolvePassword(fields, itemPath, env, problems);
    noteUser(fields.user, `${itemPath}.user`, seen, problems);
    return account(fields.user, fields.authUser, secret, fields.displayName);
  });
  return problems.count === before ? accounts.filter((a): a is Account => a !== undefined) : undefined;
}

function readAccountRange(value: object, path: string, env: Env, seen: SeenUsers, problems: Problems): Account[] | undefined {
  const fields = problems.parse(accountRange, value, path);
  if (!fields) return undefined;
  const before = problems.count;
  const { from, count } = fields.range;
  const patterns = { user: fields.user ?? '{n}', authUser: fields.authUser };
  for (const [key, pattern] of Object.entries(patterns)) {
    if (pattern === undefined) continue;
    if (count > 1 && !pattern.includes('{n}')) {
      problems.add(`${path}.${key}`, `${JSON.stringify(pattern)} must contain {n}, or all ${count} accounts get the same ${key}`);
      continue;
    }
    // {n} only ever becomes digits, so checking one expansion checks them all.
    const problem = checkSipUser(expand(pattern, from));
    if (problem !== undefined) problems.add(`${path}.${key}`, `${problem} ({n} is replaced by the account number)`);
  }
  const secret = resolvePassword(fields, path, env, problems);
  if (from + count - 1 > MAX_RANGE_NUMBER) problems.add(`${path}.range`, `from + count - 1 must stay at or below ${MAX_RANGE_NUMBER}`);
  if (problems.count > before) return undefined;

  const accounts: Account[] = [];
  for (let n = from; n < from + count; n++) {
    const user = expand(patterns.user, n);
    accounts.push(
      account(
        user,
        patterns.authUser === undefined ? undefined : expand(patterns.authUser, n),
        secret === undefined ? undefined : expand(secret, n),
        fields.displayName === undefined ? undefined : expand(fields.displayName, n),
      ),
    );
  }
  // One problem per range, not one per account: overlapping ranges would flood the list.
  const duplicate = accounts.find((a) => seen.has(a.user));
  if (duplicate) noteUser(duplicate.user, `${path}.user`, seen, problems);
  for (const a of accounts) seen.set(a.user, `${path}.user`);
  return duplicate ? undefined : accounts;
}

/** A pool from a CSV file (accountsCsv.ts); relative paths start at the scenario file's folder. */
function readAccountCsv(value: object, path: string, env: Env, seen: SeenUsers, problems: Problems, baseDir: string): Account[] | undefined {
  const fields = problems.parse(accountCsv, value, path);
  if (!fields) return undefined;
  const file = resolve(baseDir, fields.csv);
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    problems.add(`${path}.csv`, `${code === 'ENOENT' ? 'file not found' : `cannot read it (${code ?? String(error)})`}: ${file} (relative paths start at the scenario file's folder)`);
    return undefined;
  }
  const parsed = parseAccountsCsv(content);
  const before = problems.count;
  // Problems name the file and line: a CSV has no field paths of its own.
  for (const problem of parsed.problems.slice(0, 20)) problems.add(`${path}.csv`, `${fields.csv}:${problem.line}: ${problem.message}`);
  const fallbackPassword = fields.passwordEnv === undefined ? undefined : resolvePassword({ passwordEnv: fields.passwordEnv }, path, env, problems);
  if (parsed.rows.length === 0 && parsed.problems.length === 0) problems.add(`${path}.csv`, `${fields.csv} has a header but no accounts`);
  if (parsed.rows.length > MAX_ACCOUNTS_PER_RANGE) problems.add(`${path}.csv`, `${fields.csv} has ${parsed.rows.length} accounts; at most ${MAX_ACCOUNTS_PER_RANGE}`);
  const accounts: Account[] = [];
  let reported = 0;
  for (const row of parsed.rows) {
    const { user, authUser, password: secret, displayName: name } = row.fields;
    const problem = user === undefined ? 'no user' : (checkSipUser(user) ?? (authUser === undefined ? undefined : checkSipUser(authUser)));
    if (problem !== undefined) {
      if (reported++ < 20) problems.add(`${path}.csv`, `${fields.csv}:${row.line}: ${problem}`);
      continue;
    }
    if (seen.has(user!)) {
      if (reported++ < 20) noteUser(user!, `${path}.csv (${fields.csv}:${row.line})`, seen, problems);
      continue;
    }
    seen.set(user!, `${path}.csv (${fields.csv}:${row.line})`);
    accounts.push(account(user!, authUser, secret ?? fallbackPassword, name));
  }
  return problems.count === before ? accounts : undefined;
}

function expand(pattern: string, n: number): string {
  return pattern.replaceAll('{n}', String(n));
}

/** The password, from the file or the environment; the value never enters a message. */
function resolvePassword(
  fields: { password?: string | undefined; passwordEnv?: string | undefined },
  path: string,
  env: Env,
  problems: Problems,
): string | undefined {
  if (fields.passwordEnv === undefined) return fields.password;
  if (fields.password !== undefined) {
    problems.add(`${path}.passwordEnv`, 'set either password or passwordEnv, not both');
    return undefined;
  }
  const value = env[fields.passwordEnv];
  if (value === undefined || value === '') {
    problems.add(`${path}.passwordEnv`, `environment variable ${fields.passwordEnv} is not set (it should hold the password)`);
    return undefined;
  }
  return value;
}

function noteUser(user: string, path: string, seen: SeenUsers, problems: Problems): void {
  const first = seen.get(user);
  if (first !== undefined) {
    problems.add(path, `account ${JSON.stringify(user)} is already used at ${first}; an account can belong to one role, once`);
  } else {
    seen.set(user, path);
  }
}

function account(user: string, authUser: string | undefined, secret: string | undefined, name: string | undefined): Account {
  const result: Account = { user };
  if (authUser !== undefined) result.authUser = authUser;
  if (secret !== undefined) result.password = secret;
  if (name !== undefined) result.displayName = name;
  return result;
}
