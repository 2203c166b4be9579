import type { Argv } from 'yargs';
import { ExitCode } from '../../errors.js';
import type { CallwrightCommand } from '../command.js';
import { planLoad } from '../../plan/loadPlan.js';
import type { Scenario } from '../../scenario/types.js';
import { prepareScenario, scenarioOptions, shardingOf, type ScenarioArgs } from '../prepare.js';

export type ValidateArgs = ScenarioArgs;

/**
 * Checks a scenario without starting anything: the same checks, in the same
 * code, as `run` makes before it starts (cli/prepare.ts), with the same
 * options, so a file that validates does not then exit 2 from `run`. Problems
 * are thrown as one InputError (bin.ts prints them, exit 2).
 */
export const validateCommand: CallwrightCommand<ValidateArgs> = {
  command: 'validate <scenario>',
  describe: 'Check a scenario file, and the options a run would take, and list every problem (file:line:column), without running anything',
  builder: (yargs: Argv) =>
    scenarioOptions(yargs.positional('scenario', { type: 'string', demandOption: true, describe: 'scenario YAML file' })) as unknown as Argv<ValidateArgs>,
  run: async (args) => {
    const warn = (message: string): void => void process.stderr.write(`warn: ${message}\n`);
    const sharding = shardingOf(args, process.env);
    const { whole, scenario, thresholds } = await prepareScenario(args, { env: process.env, warn, sharding, command: 'validate' });
    const parts = [
      scenario.name,
      count(Object.keys(scenario.roles).length, 'role'),
      count(scenario.steps.length, 'step'),
      describeIterations(scenario),
      ...(thresholds.length > 0 ? [count(thresholds.length, 'threshold')] : []),
      ...(sharding ? [`shard ${sharding.shard.index}/${sharding.shard.count}: ${scenario.load.concurrency} of ${whole.load.concurrency} account slots`] : []),
    ];
    process.stdout.write(`ok: ${args.scenario}: ${parts.join(', ')}\n`);
    return ExitCode.pass;
  },
};

function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

/** Planned iterations, or the duration when only that bounds the run. */
function describeIterations(scenario: Scenario): string {
  const planned = planLoad(scenario).plannedIterations;
  if (planned === undefined) return `${scenario.load.concurrency} at once for ${scenario.load.durationSeconds} s`;
  return `${planned} iteration${planned === 1 ? '' : 's'}`;
}
