import type { Argv } from 'yargs';
import { compareRuns, comparisonObject, formatComparisonTable, keyFigures, parseTolerance } from '../../report/compareRuns.js';
import { readRunFiles } from '../../report/runFiles.js';
import { summaryStyleFor } from '../../report/summaryTable.js';
import { COMPARE_EXIT } from '../../verdict/exitCodes.js';
import type { CallwrightCommand } from '../command.js';

export interface CompareArgs {
  baseline: string;
  current: string;
  tolerance: string;
  json: boolean;
}

/**
 * Key figures of two runs side by side. Exit 0: no regression beyond the
 * tolerance; 1: at least one (a different meaning from run's 1); 2: a folder
 * is not a readable run (InputError, printed by bin.ts).
 */
export const compareCommand: CallwrightCommand<CompareArgs> = {
  command: 'compare <baseline> <current>',
  describe: 'Compare the key figures of two runs and fail (exit 1) on a regression beyond the tolerance',
  builder: (yargs: Argv) =>
    yargs
      .positional('baseline', { type: 'string', demandOption: true, describe: 'the --out folder of the reference run' })
      .positional('current', { type: 'string', demandOption: true, describe: 'the --out folder of the run to check' })
      .option('tolerance', { type: 'string', default: '10%', describe: 'how much worse a figure may get, relative to the baseline (each figure also has an absolute floor)' })
      .option('json', { type: 'boolean', default: false, describe: 'print the comparison as one JSON object on stdout' }) as unknown as Argv<CompareArgs>,
  run: async (args) => {
    const tolerance = parseTolerance(args.tolerance);
    const [baseline, current] = await Promise.all([readRunFiles(args.baseline), readRunFiles(args.current)]);
    const comparison = compareRuns(keyFigures(baseline.summary, baseline.calls), keyFigures(current.summary, current.calls), tolerance);
    const names = { baseline: args.baseline, current: args.current };
    if (args.json) process.stdout.write(`${JSON.stringify(comparisonObject(comparison, names), null, 2)}\n`);
    else process.stdout.write(formatComparisonTable(comparison, names, summaryStyleFor(process.stdout)));
    return comparison.regressions.length > 0 ? COMPARE_EXIT.regression : COMPARE_EXIT.noRegression;
  },
};
