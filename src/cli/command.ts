import type { Argv } from 'yargs';

/**
 * One CLI command. bin.ts wraps `run` into a yargs handler; `run` returns the
 * exit code instead of calling process.exit, so commands are testable in-process
 * and bin.ts stays the only place that exits.
 */
export interface CallwrightCommand<Args> {
  command: string | readonly string[];
  describe: string;
  builder: (yargs: Argv) => Argv<Args>;
  run: (args: Args) => Promise<number>;
}
