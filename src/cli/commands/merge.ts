import type { Argv } from 'yargs';
import { mergeRun, shardThresholdSpecs } from '../../report/mergeRun.js';
import { readShardSet, type ShardSet } from '../../report/mergeInputs.js';
import { formatSummaryTable, summaryObject, summaryStyleFor, verdictLine } from '../../report/summaryTable.js';
import { loadScenario } from '../../scenario/index.js';
import { parseRunThresholds, parseThresholds, type ParsedThreshold } from '../../verdict/index.js';
import type { CallwrightCommand } from '../command.js';

export interface MergeArgs {
  dirs: string[];
  out: string;
  threshold?: string[];
  scenario?: string;
  json?: boolean;
  quiet?: boolean;
}

/**
 * Joins the shards of one sharded run (`run --shard I/N`) into one run
 * folder and judges it as `callwright report` judges a run: thresholds
 * evaluated on the merged rows, never on averaged shard figures. Exit codes:
 *   0 / 1 / 99  every shard was merged: the verdict of the whole run;
 *   3           incomplete: a shard index has no folder, or its folder has no
 *               summary.json (crashed, killed, still running), or nothing
 *               finished at all. Whatever the merged shards say (the summary
 *               shows what they alone would exit with): an incomplete run
 *               never exits 0, and its partial figures are not the run's;
 *   2           bad input: folders of different runs or shard counts, a shard
 *               twice, different CSV headers or thresholds.json, --out among
 *               the inputs, a bad --threshold.
 */
export const mergeCommand: CallwrightCommand<MergeArgs> = {
  command: 'merge <dirs..>',
  describe: 'Join the shard folders of a sharded run into one run folder with one verdict (summary, junit.xml, report.html)',
  builder: (yargs: Argv) =>
    yargs
      .positional('dirs', {
        type: 'string',
        array: true,
        demandOption: true,
        describe: "shard --out folders (each holds summary.json...), or a folder whose shard-1..N folders are the shards (run --shard's layout)",
      })
      .option('out', { type: 'string', demandOption: true, describe: 'folder for the merged run (not one of the inputs)' })
      .option('threshold', {
        type: 'string',
        array: true,
        describe: "judge by this threshold, metric:expression (e.g. 'setup_time:p(95)<2s'); repeatable. Default: the shards' thresholds.json (the same in every shard)",
      })
      .option('scenario', { type: 'string', describe: "judge by this scenario file's thresholds (with any --threshold)" })
      .option('json', { type: 'boolean', describe: 'print the summary as one JSON object on stdout' })
      .option('quiet', { type: 'boolean', describe: 'print only the verdict line' })
      .conflicts('json', 'quiet')
      .epilogue(
        [
          "Rows are joined in time order, and every percentile is recomputed from the joined rows. A shard with no folder, or without summary.json (crashed, killed, still running), makes the run INCOMPLETE: the shards that finished are joined (a crashed shard's partial rows are left out, and counted), the reports say what is missing, and the exit code is 3 whatever the joined shards alone would give.",
          'No metrics.prom is written: read the live metrics of a sharded run from Prometheus by its run_id label.',
          'Exit codes: 0 pass, 1 calls or steps failed, 99 thresholds failed (every shard merged); 3 incomplete run (or nothing finished); 2 bad input (shards of different runs or shard counts, a shard twice, different CSV columns or thresholds.json, --out among the inputs).',
        ].join('\n\n'),
      ) as unknown as Argv<MergeArgs>,
  run: async (args) => {
    const set = readShardSet(args.dirs, args.out);
    const merged = await mergeRun(set, args.out, await judgedBy(args, set));
    for (const note of merged.notes) process.stderr.write(`warning: ${note}\n`);
    const table = formatSummaryTable(merged.summary, merged.calls, merged.steps, merged.thresholds, summaryStyleFor(process.stdout));
    if (args.json) {
      const reports = { ...merged.paths, files: merged.files, sipFiles: merged.sipFiles };
      process.stdout.write(`${JSON.stringify({ ...summaryObject(merged.summary, merged.calls, merged.steps, merged.thresholds), reports }, null, 2)}\n`);
    } else if (args.quiet) {
      process.stdout.write(`${verdictLine(merged.summary)}\n`);
    } else {
      process.stdout.write(table);
      process.stderr.write(`wrote ${args.out}: ${merged.files.map((file) => `${file.file} (${file.rows} rows)`).join(', ')}, ${merged.sipFiles} SIP logs, summary.json, thresholds.json, junit.xml, report.html\n`);
    }
    return merged.exitCode;
  },
};

/** --scenario's and --threshold's thresholds (a bad option named as the option), else the shards' own thresholds.json. */
async function judgedBy(args: MergeArgs, set: ShardSet): Promise<ParsedThreshold[]> {
  if (args.scenario !== undefined) {
    const scenario = await loadScenario(args.scenario);
    return parseRunThresholds(scenario.thresholds, args.scenario, args.threshold ?? []);
  }
  if (args.threshold?.length) return parseRunThresholds({}, '--threshold', args.threshold);
  const { spec, source } = shardThresholdSpecs(set);
  return parseThresholds(spec, source);
}
