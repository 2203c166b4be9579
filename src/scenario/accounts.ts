/**
 * Roles and their SIP accounts: either listed one by one, or a numbered range
 * for load scenarios (`range: { from: 1000, count: 500 }`, `user: "{n}"`).
 * Passwords may come from the environment so scenario files can be committed.
 */
import { z } from 'zod';
import type { Account, Role } from './types.js';
import { duration, integer, matching, password, sipUser, strictFields, text, textOrInteger } from './fields.js';
import { checkSipUser } from './sipUser.js';
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

const autoAnswer = z.preprocess(
  // `autoAnswer: true` is "answer at once"; false is the same as leaving it out.
  (value) => (value === true ? {} : value === false ? undefined : value),
  strictFields({ after: duration(0, 3600).optional() }, 'true, false or a mapping with after').optional(),
);

const roleFields = strictFields({ accounts: z.unknown().optional(), autoAnswer }, 'a mapping with accounts');

/** Where each SIP user was first seen, so one account is never used by two roles or listed twice. */
type SeenUsers = Map<string, string>;

/**
 * Every role, with accounts expanded. `names` also holds roles that failed
 * validation, so steps naming them do not pile up "unknown role" problems.
 */
export function readRoles(value: unknown, env: Env, problems: Problems): { roles: Record<string, Role>; names: string[] } {
  const roles: Record<string, Role> = {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    problems.add('roles', `${value === undefined ? 'required' : `expected a mapping, got ${describeValue(value)}`} (role names mapped to { accounts, autoAnswer })`);
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
    const role = readRole(name, roleValue, path, env, seen, problems);
    if (role && ROLE_NAME.test(name)) roles[name] = role;
  }
  return { roles, names: entries.map(([name]) => name) };
}

function readRole(name: string, value: unknown, path: string, env: Env, seen: SeenUsers, problems: Problems): Role | undefined {
  const fields = problems.parse(roleFields, value, path);
  if (!fields) return undefined;
  const accountsPath = `${path}.accounts`;
  let accounts: Account[] | undefined;
  if (Array.isArray(fields.accounts)) {
    accounts = readAccountList(fields.accounts, accountsPath, env, seen, problems);
  } else if (fields.accounts !== null && typeof fields.accounts === 'object') {
    accounts = readAccountRange(fields.accounts, accountsPath, env, seen, problems);
  } else {
    const found = fields.accounts === undefined ? 'required' : `expected a list or a range, got ${describeValue(fields.accounts)}`;
    problems.add(accountsPath, `${found} (a list of { user, password } or { range: { from, count }, user: "{n}" })`);
  }
  if (!accounts) return undefined;
  const role: Role = { name, accounts };
  if (fields.autoAnswer) role.autoAnswer = { afterSeconds: fields.autoAnswer.after ?? 0 };
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
