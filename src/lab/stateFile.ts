import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.js';
import type { LabState } from './types.js';

export const stateFileName = 'lab.json';

export function stateFilePath(dir: string): string {
  return path.join(path.resolve(dir), stateFileName);
}

/** Written atomically (temp file + rename) so a reader never sees half a file. */
export function writeLabState(state: LabState): void {
  const file = stateFilePath(state.dir);
  const temp = `${file}.tmp`;
  writeFileSync(temp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(temp, file);
}

/** The state of the lab in dir, or undefined when no lab was started there. */
export function readLabState(dir: string): LabState | undefined {
  let text: string;
  try {
    text = readFileSync(stateFilePath(dir), 'utf8');
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text) as LabState;
  } catch {
    throw new InputError(`${stateFilePath(dir)} is not valid JSON`, 'Stop what it started by hand (see the *.pid files), then delete it.');
  }
}
