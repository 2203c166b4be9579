import { CallwrightError, exitCodeOf, InputError } from '../errors.js';

/**
 * Tells the user about an error that ended a command and returns the exit
 * code: ours (bad input 2, infrastructure 3) in one line and a hint, the
 * stack only with --verbose; anything else is a bug (70, EX_SOFTWARE), never
 * an infrastructure failure, told with its stack so it can be reported.
 */
export function reportError(error: unknown, verbose: boolean, write: (text: string) => void = (text) => void process.stderr.write(text)): number {
  if (error instanceof CallwrightError) {
    write(`error: ${error.message}\n`);
    if (error instanceof InputError && error.problems.length > 1) for (const problem of error.problems) write(`  ${problem}\n`);
    if (error.hint) write(`hint: ${error.hint}\n`);
    if (verbose && error.stack) write(`${error.stack}\n`);
    return error.exitCode;
  }
  write(`callwright: unexpected error (a bug; please report it)\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return exitCodeOf(error);
}
