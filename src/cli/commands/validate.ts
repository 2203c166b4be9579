import type { Argv } from 'yargs';
import { ExitCode } from '../../errors.js';
import { loadScenario } from '../../scenario/index.js';
import type { CallwrightCommand } from '../command.js';

export interface ValidateArgs {
  scenario: string;
}

/** Checks a scenario without starting anything; problems are thrown as one InputError (bin.ts prints them, exit 2). */
export const validateCommand: CallwrightCommand<ValidateArgs> = {
  command: 'validate <scenario>',
  describe: 'Check a scenario file and list every problem in it, without running it',
  builder: (yargs: Argv) =>
    yargs.positional('scenario', { type: 'string', demandOption: true, describe: 'scenario YAML file' }) as unknown as Argv<ValidateArgs>,
  run: async ({ scenario: file }) => {
    const scenario = await loadScenario(file);
    const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;
    process.stdout.write(
      `ok: ${file}: ${scenario.name}, ${count(Object.keys(scenario.roles).length, 'role')}, ${count(scenario.steps.length, 'step')}, ${count(scenario.load.iterations, 'iteration')}\n`,
    );
    return ExitCode.pass;
  },
};
