#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { ExitCode, InputError } from '../errors.js';
import type { CallwrightCommand } from './command.js';
import { reportError } from './reportError.js';
import { runCommand } from './commands/run.js';
import { validateCommand } from './commands/validate.js';
import { labCommand } from './commands/lab.js';
import { reportCommand } from './commands/report.js';
import { compareCommand } from './commands/compare.js';
import { mergeCommand } from './commands/merge.js';
import { capacityCommand } from './commands/capacity.js';

/**
 * The only place that exits. Commands return exit codes; expected errors
 * print one line and a hint (the stack only with --verbose).
 */
async function main(argv: string[]): Promise<number> {
  let exitCode: number = ExitCode.pass;
  const verbose = argv.includes('--verbose');
  const commands: CallwrightCommand<any>[] = [runCommand, validateCommand, reportCommand, mergeCommand, compareCommand, capacityCommand, labCommand];
  const cli = yargs(argv)
    .scriptName('callwright')
    .usage('$0 <command> [options]\n\nHeadless SIP/WebRTC load and interop test harness.')
    .option('verbose', { type: 'boolean', default: false, describe: 'show stack traces for errors' })
    .strict()
    .demandCommand(1, 'name a command: run, validate, report, merge, compare, capacity or lab')
    .recommendCommands()
    .epilogue(
      'Exit codes: 0 pass, 1 calls or steps failed, 2 bad input, 3 infrastructure failure (for merge: a shard missing), 70 internal error (a bug), ' +
        '99 thresholds failed, 130 interrupted (Ctrl-C or SIGTERM; outranks 1 and 99).\n' +
        '`run` never leaves an earlier run\'s verdict in --out: it clears the files it owns as it starts, and on exit 2, 3 or 70 writes junit.xml and summary.json that carry the error.\n' +
        'A sharded run (run --shard I/N) is joined into one run with one verdict by `callwright merge`.',
    )
    .fail((message, error) => {
      throw error ?? new InputError(message ?? 'bad command line', 'see `callwright --help`');
    })
    .help()
    .version();
  for (const command of commands) {
    cli.command(command.command as string, command.describe, command.builder, async (args) => {
      exitCode = await command.run(args);
    });
  }
  try {
    await cli.parseAsync();
    return exitCode;
  } catch (error) {
    return reportError(error, verbose);
  }
}

// `callwright run ... --dry-run | head` closes stdout early: what was not printed is not news, and a run
// must go on to write its reports, not die of an unhandled EPIPE.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
});

const code = await main(hideBin(process.argv));
process.exitCode = code;
// Let reporters and sockets finish their last writes, then leave even if a handle lingers.
setTimeout(() => process.exit(code), 200).unref();
