/**
 * The reports made from a finished run, in one call: junit.xml, report.html
 * and thresholds.json. The run calls it at its end; `callwright report`
 * calls it with the same data read back from the CSV files.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CallResult, RunSummary, StepResult } from '../results.js';
import type { ThresholdResult } from '../verdict/evaluate.js';
import { MediaTimeline } from './html/timeSeries.js';
import { writeHtmlReport } from './htmlReport.js';
import { writeJunitXml } from './junitXml.js';
import { readSamplesCsv } from './runFiles.js';
import { SAMPLES_CSV } from './samplesCsv.js';
import { writeThresholdsJson } from './thresholdsJson.js';

export interface RunReportsInput {
  summary: RunSummary;
  calls: readonly CallResult[];
  steps: readonly StepResult[];
  thresholds: readonly ThresholdResult[];
}

export interface RunReportPaths {
  junit: string;
  html: string;
  /** Absent when not written (`callwright report` leaves the run's own record alone). */
  thresholds?: string;
}

/**
 * Reads <outDir>/samples.csv (streamed) for the media charts, then writes the
 * files. `thresholdsJson: false` for a rebuild: thresholds.json records what
 * the run was judged by, like summary.json it belongs to the run.
 */
export async function writeRunReports(outDir: string, input: RunReportsInput, options: { thresholdsJson?: boolean } = {}): Promise<RunReportPaths> {
  const media = await mediaTimelineFromCsv(join(outDir, SAMPLES_CSV), input.summary.info.startedAtMs);
  const [junit, html, thresholds] = await Promise.all([
    writeJunitXml(outDir, input),
    writeHtmlReport(outDir, { ...input, media }),
    options.thresholdsJson === false ? undefined : writeThresholdsJson(outDir, input.thresholds),
  ]);
  return { junit, html, ...(thresholds ? { thresholds } : {}) };
}

/** The media charts' data from samples.csv; empty when the file is missing (a run without media). */
export async function mediaTimelineFromCsv(path: string, originMs: number): Promise<MediaTimeline> {
  const timeline = new MediaTimeline(originMs);
  if (!existsSync(path)) return timeline;
  for await (const sample of readSamplesCsv(path)) timeline.add(sample);
  return timeline;
}
