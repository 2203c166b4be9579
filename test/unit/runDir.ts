import { mkdirSync } from 'node:fs';
import { CallsCsvReporter } from '../../src/report/callsCsv.js';
import { SamplesCsvReporter } from '../../src/report/samplesCsv.js';
import { StepsCsvReporter } from '../../src/report/stepsCsv.js';
import { SummaryJsonReporter } from '../../src/report/summaryJson.js';
import type { Reporter } from '../../src/results.js';
import type { SyntheticRun } from './syntheticRun.js';

/** Writes a run's folder with the run's own reporters (calls/steps/samples CSV, summary.json), as a real run would. */
export async function writeRunDir(outDir: string, run: SyntheticRun): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  const reporters: Reporter[] = [new CallsCsvReporter(outDir), new StepsCsvReporter(outDir), new SamplesCsvReporter(outDir), new SummaryJsonReporter(outDir)];
  for (const reporter of reporters) await reporter.onBegin?.(run.summary.info);
  for (const step of run.steps) for (const reporter of reporters) reporter.onEvent?.({ type: 'stepEnd', step });
  for (const sample of run.samples) for (const reporter of reporters) reporter.onEvent?.({ type: 'sample', sample });
  for (const call of run.calls) for (const reporter of reporters) reporter.onCallEnd?.(call);
  for (const reporter of reporters) await reporter.onEnd?.(run.summary, run.calls);
}
