import type { Argv } from 'yargs';
import { loadScenario } from '../../scenario/index.js';
import { readRunFiles } from '../../report/runFiles.js';
import { writeRunReports } from '../../report/runReports.js';
import { formatSummaryTable, summaryObject, summaryStyleFor } from '../../report/summaryTable.js';
import { readThresholdSpecs } from '../../report/thresholdsJson.js';
import { evaluateThresholds, parseRunThresholds, parseThresholds, verdictExitCode, type ParsedThreshold } from '../../verdict/index.js';
import type { CallwrightCommand } from '../command.js';

export interface ReportArgs {
  out: string;
  threshold?: string[];
  scenario?: string;
  json?: boolean;
  quiet?: boolean;
}

/**
 * Rebuilds junit.xml and report.html of a finished run from its CSV files and
 * summary.json, prints the summary and returns the verdict exit code, judged
 * again: 0, 1 or 99. summary.json and thresholds.json belong to the run and
 * are not rewritten; thresholds come from --threshold / --scenario, else from
 * the run's thresholds.json.
 */
export const reportCommand: CallwrightCommand<ReportArgs> = {
  command: 'report <out>',
  describe: 'Rebuild junit.xml and report.html of a finished run from its CSV files, and print its summary',
  builder: (yargs: Argv) =>
    yargs
      .positional('out', { type: 'string', demandOption: true, describe: 'the --out folder of a finished run' })
      .option('threshold', {
        type: 'string',
        array: true,
        describe: "judge by this threshold, metric:expression (e.g. 'setup_time:p(95)<2s'); repeatable. Default: the run's thresholds.json",
      })
      .option('scenario', { type: 'string', describe: "judge by this scenario file's thresholds (with any --threshold)" })
      // No defaults: yargs counts a defaulted flag as given, and --json would then conflict with every run.
      .option('json', { type: 'boolean', describe: 'print the summary as one JSON object on stdout' })
      .option('quiet', { type: 'boolean', describe: 'print nothing; the exit code tells the verdict' })
      .conflicts('json', 'quiet') as unknown as Argv<ReportArgs>,
  run: async (args) => {
    const files = await readRunFiles(args.out);
    // Judged as the run judged itself: harness_saturated counts the saturated windows recorded in summary.json.
    const thresholds = evaluateThresholds(await judgedBy(args), { ...files, harnessSaturatedCount: files.summary.harness?.windows.length ?? 0 });
    const paths = await writeRunReports(args.out, { ...files, thresholds }, { thresholdsJson: false });
    if (args.json) {
      process.stdout.write(`${JSON.stringify({ ...summaryObject(files.summary, files.calls, files.steps, thresholds), reports: paths }, null, 2)}\n`);
    } else if (!args.quiet) {
      process.stdout.write(formatSummaryTable(files.summary, files.calls, files.steps, thresholds, summaryStyleFor(process.stdout)));
      process.stderr.write(`wrote ${paths.junit} and ${paths.html}\n`);
    }
    return verdictExitCode(files.summary, thresholds);
  },
};

/** --scenario's and --threshold's thresholds (a bad option named as the option), else the run' own thresholds.json. */
async function judgedBy(args: ReportArgs): Promise<ParsedThreshold[]> {
  if (args.scenario !== undefined) {
    const scenario = await loadScenario(args.scenario);
    return parseRunThresholds(scenario.thresholds, args.scenario, args.threshold ?? []);
  }
  if (args.threshold?.length) return parseRunThresholds({}, '--threshold', args.threshold);
  return parseThresholds(readThresholdSpecs(args.out) ?? {}, `${args.out}/thresholds.json`);
}
