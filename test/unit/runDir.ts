import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CallsCsvReporter } from '../../src/report/callsCsv.js';
import { CsvFile } from '../../src/report/csvFile.js';
import { LegsCsvReporter } from '../../src/report/legsCsv.js';
import { SamplesCsvReporter } from '../../src/report/samplesCsv.js';
import { StepsCsvReporter } from '../../src/report/stepsCsv.js';
import { SummaryJsonReporter } from '../../src/report/summaryJson.js';
import type { Reporter } from '../../src/report/reporter.js';
import { DROP_REASONS, FAILURE_REASONS } from '../../src/results.js';
import { STATS_COLUMNS, STATS_CSV, type StatsRow } from '../../src/report/statsCsv.js';
import type { SyntheticRun } from './syntheticRun.js';

/** What a run folder may hold beyond calls/steps/samples CSV and summary.json. */
export interface RunDirExtras {
  /** legs.csv, from each call's `legs`. */
  legs?: boolean;
  /** stats.csv with a row at each of these times (epoch ms), counts all 0, as the periodic stats reporter writes them. */
  statsAtMs?: readonly number[];
  /** Files in sip/: name -> content. */
  sipLogs?: Readonly<Record<string, string>>;
  /** Leave summary.json out: a run that crashed, was killed or is still running. */
  withoutSummary?: boolean;
}

/** Writes a run's folder with the run's own reporters (calls/steps/samples CSV, summary.json), as a real run would. */
export async function writeRunDir(outDir: string, run: SyntheticRun, extras: RunDirExtras = {}): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  const reporters: Reporter[] = [
    new CallsCsvReporter(outDir),
    new StepsCsvReporter(outDir),
    new SamplesCsvReporter(outDir),
    ...(extras.legs ? [new LegsCsvReporter(outDir)] : []),
    ...(extras.withoutSummary ? [] : [new SummaryJsonReporter(outDir)]),
  ];
  for (const reporter of reporters) await reporter.onBegin?.(run.summary.info);
  for (const step of run.steps) for (const reporter of reporters) reporter.onEvent?.({ type: 'stepEnd', step });
  for (const sample of run.samples) for (const reporter of reporters) reporter.onEvent?.({ type: 'sample', sample });
  for (const call of run.calls) for (const reporter of reporters) reporter.onCallEnd?.(call);
  for (const reporter of reporters) await reporter.onEnd?.({ summary: run.summary, calls: run.calls, steps: run.steps ?? [], thresholds: [] });
  if (extras.statsAtMs) writeStatsCsv(outDir, run.summary.info.startedAtMs, extras.statsAtMs);
  if (extras.sipLogs) {
    mkdirSync(join(outDir, 'sip'), { recursive: true });
    for (const [name, content] of Object.entries(extras.sipLogs)) writeFileSync(join(outDir, 'sip', name), content);
  }
}

function writeStatsCsv(outDir: string, startedAtMs: number, times: readonly number[]): void {
  const counts = () => ({
    created: 0,
    established: 0,
    successful: 0,
    failed: 0,
    failedBy: Object.fromEntries(FAILURE_REASONS.map((reason) => [reason, 0])) as StatsRow['period']['failedBy'],
    late: 0,
    dropped: 0,
    droppedBy: Object.fromEntries(DROP_REASONS.map((reason) => [reason, 0])) as StatsRow['period']['droppedBy'],
    setupSeconds: [],
  });
  const file = new CsvFile<StatsRow>(join(outDir, STATS_CSV), STATS_COLUMNS);
  let lastMs = startedAtMs;
  for (const atMs of times) {
    file.write(file.line({ atMs, elapsedSeconds: (atMs - startedAtMs) / 1000, periodSeconds: (atMs - lastMs) / 1000, targetRate: 0, period: counts(), cumulative: counts(), current: 0, saturated: false }));
    lastMs = atMs;
  }
  file.close();
}
