/**
 * `--secrets FILE`: passwords kept out of scenario files and out of the
 * process environment. The file holds `NAME=value` lines (dotenv style);
 * accounts name them with `passwordEnv: NAME`, and a name in the file wins
 * over the same name in the environment. No value ever enters a message.
 */
import { readFileSync, statSync } from 'node:fs';
import { InputError } from '../errors.js';
import type { Env } from './accounts.js';

const HINT = 'write one NAME=value per line (# starts a comment), e.g. ALICE_PASSWORD=s3cret, and name it in an account with passwordEnv: ALICE_PASSWORD';
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function readSecretsFile(file: string, warn: (message: string) => void = () => undefined): Env {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a folder, not a file' : `cannot read it (${code ?? 'error'})`;
    throw new InputError(`--secrets ${file}: ${reason}`, HINT);
  }
  const secrets: Env = {};
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `--secrets ${file}:${index + 1}`;
    const equals = line.indexOf('=');
    const name = (equals < 0 ? line : line.slice(0, equals)).replace(/^export\s+/, '').trim();
    if (equals < 0) return void problems.push(`${where}: expected NAME=value`);
    if (!NAME.test(name)) return void problems.push(`${where}: ${JSON.stringify(name)} is not a variable name ([A-Za-z_][A-Za-z0-9_]*)`);
    let value = line.slice(equals + 1).trim();
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.length >= 2 && value.endsWith(quote)) value = value.slice(1, -1);
    if (value === '') return void problems.push(`${where}: ${name} is empty`);
    secrets[name] = value;
  });
  if (problems.length > 0) throw new InputError(problems.length === 1 ? problems[0]! : `--secrets ${file}: ${problems.length} problems`, HINT, problems);
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0) warn(`--secrets ${file} can be read by other users (mode ${mode.toString(8)}): chmod 600 ${file}`);
  return secrets;
}
