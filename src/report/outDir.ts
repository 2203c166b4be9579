import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';

/**
 * Makes the output folder and proves it is writable before the run starts:
 * finding out at the first finished call, with browsers up and calls in
 * flight, would be too late.
 */
export function prepareOutDir(outDir: string): void {
  const hint = 'choose another folder with --out, or fix its permissions';
  try {
    mkdirSync(outDir, { recursive: true });
  } catch (error) {
    throw new InputError(`cannot create the output folder ${outDir}: ${errorCode(error)}`, hint);
  }
  const probe = join(outDir, `.callwright-write-probe-${process.pid}`);
  try {
    writeFileSync(probe, '');
  } catch (error) {
    throw new InputError(`cannot write in the output folder ${outDir}: ${errorCode(error)}`, hint);
  } finally {
    rmSync(probe, { force: true });
  }
}

function errorCode(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code ?? (error instanceof Error ? error.message : String(error));
}
