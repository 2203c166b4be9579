import type { Argv } from 'yargs';
import { ExitCode } from '../../errors.js';
import { loadScenario } from '../../scenario/index.js';
import { readSecretsFile } from '../../scenario/secrets.js';
import type { CallwrightCommand } from '../command.js';
import { planLoad } from '../../plan/loadPlan.js';
import type { Scenario } from '../../scenario/types.js';

export interface ValidateArgs {
  scenario: string;
  secrets?: string;
}

/** Checks a scenario without starting anything; problems are thrown as one InputError (bin.ts prints them, exit 2). */
export const validateCommand: CallwrightCommand<ValidateArgs> = {
  command: 'validate <scenario>',
  describe: 'Check a scenario file and list every problem in it, without running it',
  builder: (yargs: Argv) =>
    yargs
      .positional('scenario', { type: 'string', demandOption: true, describe: 'scenario YAML file' })
      .option('secrets', { type: 'string', describe: 'file of NAME=value lines that passwordEnv names are looked up in first' }) as unknown as Argv<ValidateArgs>,
  run: async ({ scenario: file, secrets: secretsFile }) => {
    const secrets = secretsFile === undefined ? undefined : readSecretsFile(secretsFile, (message) => process.stderr.write(`warn: ${message}\n`));
    const scenario = await loadScenario(file, secrets ? { env: { ...process.env, ...secrets } } : {});
    const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;
    process.stdout.write(
      `ok: ${file}: ${scenario.name}, ${count(Object.keys(scenario.roles).length, 'role')}, ${count(scenario.steps.length, 'step')}, ${describeIterations(scenario)}\n`,
    );
    return ExitCode.pass;
  },
};

/** Planned iterations, or the duration when only that bounds the run. */
function describeIterations(scenario: Scenario): string {
  const planned = planLoad(scenario).plannedIterations;
  if (planned === undefined) return `${scenario.load.concurrency} at once for ${scenario.load.durationSeconds} s`;
  return `${planned} iteration${planned === 1 ? '' : 's'}`;
}
