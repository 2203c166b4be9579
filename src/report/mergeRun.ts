/**
 * `callwright merge`: the shards of one run joined into one run folder, then
 * judged as `callwright report` judges a run. The merged folder holds
 * calls/steps/legs/samples/stats CSV files in time order, the shards' SIP
 * evidence, summary.json (counts summed, a `shards` record, every aggregate
 * recomputed from the merged rows), thresholds.json, junit.xml and
 * report.html. No metrics.prom: the shards' counters would add up, but
 * their gauges (active calls, the harness's CPU) do not, and the live
 * metrics of a sharded run are in Prometheus already, by run_id and shard.
 *
 * A shard without summary.json is left out whole, even when it left a
 * partial calls.csv: its rows would be counted by nobody's summary and its
 * last calls may be half-written. The merged run says which shards are
 * missing and how many rows were left out; it is incomplete and exits 3
 * (mergeSummary.ts).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { METRICS_PROM } from './prometheusReporter.js';
import type { CallResult, RunSummary, StepResult } from '../results.js';
import { evaluateThresholds, type ThresholdResult } from '../verdict/evaluate.js';
import { outcomeExitCode, verdictExitCode } from '../verdict/exitCodes.js';
import type { ParsedThreshold, ThresholdSpec } from '../verdict/parseThresholds.js';
import { StepTally } from './aggregate.js';
import { CALLS_CSV } from './callsCsv.js';
import { planCsvMerge, writeMergedCsv, type MergedCsvFile } from './mergeCsv.js';
import { copySipEvidence, planSipEvidence } from './mergeEvidence.js';
import type { ShardSet } from './mergeInputs.js';
import { mergeSummaries } from './mergeSummary.js';
import { prepareOutDir } from './outDir.js';
import { readCallsCsv, readStepsCsv } from './runFiles.js';
import { writeRunReports, type RunReportPaths } from './runReports.js';
import { STEPS_CSV } from './stepsCsv.js';
import { writeSummaryJson } from './summaryJson.js';
import { readThresholdSpecs, THRESHOLDS_JSON } from './thresholdsJson.js';

export interface MergedRun {
  summary: RunSummary;
  calls: CallResult[];
  steps: StepResult[];
  thresholds: ThresholdResult[];
  /** The verdict: 0, 1 or 99 for a complete run; 3 for an incomplete one. */
  exitCode: number;
  paths: RunReportPaths & { summary: string };
  files: MergedCsvFile[];
  sipFiles: number;
  /** What people should know about the merge (missing shards, rows left out), one line each. */
  notes: string[];
}

export async function mergeRun(set: ShardSet, outDir: string, thresholds: readonly ParsedThreshold[]): Promise<MergedRun> {
  // Everything that can refuse the merge comes before the first write.
  const shards = set.finished.map(({ index, folder }) => ({ index, folder }));
  const csvPlan = await planCsvMerge(shards);
  const evidence = planSipEvidence(shards.map((shard) => shard.folder));
  prepareOutDir(outDir);
  rmSync(join(outDir, METRICS_PROM), { force: true }); // an older run's would not be this run's
  const files = await writeMergedCsv(csvPlan, outDir, { shardColumn: set.sharded });
  copySipEvidence(evidence, outDir);

  // Judged on the rows as written, the way `callwright report` reads a run back.
  const [calls, steps] = await Promise.all([readCallsCsv(join(outDir, CALLS_CSV)), readStepsCsv(join(outDir, STEPS_CSV))]);
  const summary = mergeSummaries(set, outDir);
  const results = evaluateThresholds(thresholds, { calls, steps, summary, harnessSaturatedCount: summary.harness?.windows.length ?? 0 });
  summary.exitCode = verdictExitCode(summary, results);
  if (summary.shards && summary.shards.missing.length > 0) {
    summary.shards.partialExitCode = verdictExitCode({ exitCode: outcomeExitCode(summary), interrupted: summary.interrupted }, results);
  }
  const summaryPath = await writeSummaryJson(outDir, summary, calls, StepTally.of(steps));
  const paths = await writeRunReports(outDir, { summary, calls, steps, thresholds: results });
  return {
    summary,
    calls,
    steps,
    thresholds: results,
    exitCode: summary.exitCode,
    paths: { ...paths, summary: summaryPath },
    files,
    sipFiles: evidence.size,
    notes: mergeNotes(set, summary, calls.length),
  };
}

/**
 * The thresholds the shards were judged by (their thresholds.json), for a
 * merge given none: every shard must have the same, or the merged run has
 * no single set to be judged by.
 */
export function shardThresholdSpecs(set: ShardSet): { spec: Record<string, ThresholdSpec[]>; source: string } {
  const [first, ...others] = set.finished.map((shard) => ({ folder: shard.folder, spec: readThresholdSpecs(shard.folder) ?? {} }));
  for (const other of others) {
    if (JSON.stringify(other.spec) !== JSON.stringify(first!.spec)) {
      throw new InputError(
        `${join(other.folder, THRESHOLDS_JSON)} and ${join(first!.folder, THRESHOLDS_JSON)} differ: the shards were judged by different thresholds`,
        'judge the merged run by one set: give --threshold or --scenario',
      );
    }
  }
  return { spec: first!.spec, source: join(first!.folder, THRESHOLDS_JSON) };
}

function mergeNotes(set: ShardSet, summary: RunSummary, callRows: number): string[] {
  const notes = set.missing.map((shard) =>
    shard.reason === 'no_folder'
      ? `shard ${shard.index}/${set.count}: no folder; the run is incomplete`
      : `shard ${shard.index}/${set.count}: ${shard.folder} has no summary.json (crashed, killed or still running); the run is incomplete${shard.unjoinedCalls ? `, and the ${shard.unjoinedCalls} calls its calls.csv holds are left out` : ''}`,
  );
  if (callRows !== summary.calls.total) notes.push(`the merged calls.csv holds ${callRows} calls, but the shards' summaries count ${summary.calls.total}`);
  return notes;
}
