/**
 * The reports made from a finished run: junit.xml, report.html and
 * thresholds.json. During a run they are one more reporter (RunReportsReporter,
 * whose onEnd runs after the CSV files are closed: report.html reads
 * samples.csv); `callwright report` and `merge` call writeRunReports with the
 * same data read back from the files.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MediaTimeline } from './html/timeSeries.js';
import { writeHtmlReport } from './htmlReport.js';
import { writeJunitXml } from './junitXml.js';
import { readSamplesCsv } from './runFiles.js';
import { SAMPLES_CSV } from './samplesCsv.js';
import { writeThresholdsJson } from './thresholdsJson.js';
import type { Reporter, RunEnd } from './reporter.js';

/** What the reports are made from: the run's end (reporter.ts). */
export type RunReportsInput = RunEnd;

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

/** junit.xml, report.html and thresholds.json of a run, written at its end; a failure is contained like any reporter's. */
export class RunReportsReporter implements Reporter {
  readonly name = 'junit.xml, report.html, thresholds.json';
  readonly readsRunFiles = true;

  constructor(private readonly outDir: string) {}

  async onEnd(end: RunEnd): Promise<void> {
    await writeRunReports(this.outDir, end);
  }
}
