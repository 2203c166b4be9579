/**
 * The files a run writes in its --out folder, in one list. A run clears them
 * when it starts, so that an older run's verdict (a PASS junit.xml,
 * summary.json or report.html) is never read as this run's, whatever way
 * this run ends. Anything else in the folder is left alone: a shard's
 * shard-N folders (runs of their own, beside which `merge` may write), a
 * capacity search's files, the user's own.
 */
import { existsSync, readdirSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { METRICS_PROM } from './prometheusReporter.js';
import { CALLS_CSV } from './callsCsv.js';
import { REPORT_HTML } from './htmlReport.js';
import { JUNIT_XML } from './junitXml.js';
import { LEGS_CSV } from './legsCsv.js';
import { SAMPLES_CSV } from './samplesCsv.js';
import { SIP_EVIDENCE_DIR } from './sipEvidence.js';
import { STATS_CSV } from './statsCsv.js';
import { STEPS_CSV } from './stepsCsv.js';
import { SUMMARY_JSON } from './summaryJson.js';
import { THRESHOLDS_JSON } from './thresholdsJson.js';

/** Written by the reporters (src/report/index.ts, statsCsv.ts, prometheusReporter.ts, runReports.ts). */
export const RUN_OWNED_FILES: readonly string[] = [
  CALLS_CSV,
  STEPS_CSV,
  LEGS_CSV,
  SAMPLES_CSV,
  STATS_CSV,
  SUMMARY_JSON,
  THRESHOLDS_JSON,
  JUNIT_XML,
  REPORT_HTML,
  METRICS_PROM,
];

/** The files that state a verdict: a run that ends in an error has none but its error's (errorVerdict.ts). */
export const VERDICT_FILES: readonly string[] = [SUMMARY_JSON, THRESHOLDS_JSON, JUNIT_XML, REPORT_HTML];

/** SIP logs of calls (sip/<call>.log, src/report/sipEvidence.ts): only the .log files are the run's. */
export const RUN_OWNED_LOG_FOLDER = SIP_EVIDENCE_DIR;

/**
 * Removes what an earlier run left in outDir: the files above, the .log
 * files in sip/ (and sip/ itself once empty). A folder that does not exist
 * has nothing to clear. Throws what the file system throws (a folder that
 * cannot be written in): callers that check the folder say so themselves.
 * Returns the names removed, for tests and logs.
 */
export function clearRunOwnedFiles(outDir: string): string[] {
  if (!existsSync(outDir)) return [];
  const removed: string[] = [];
  for (const file of RUN_OWNED_FILES) {
    const path = join(outDir, file);
    if (!existsSync(path)) continue;
    rmSync(path, { force: true });
    removed.push(file);
  }
  const logs = join(outDir, RUN_OWNED_LOG_FOLDER);
  if (!existsSync(logs) || !statSync(logs).isDirectory()) return removed;
  const names = readdirSync(logs);
  for (const name of names.filter((name) => name.endsWith('.log'))) {
    rmSync(join(logs, name), { force: true });
    removed.push(`${RUN_OWNED_LOG_FOLDER}/${name}`);
  }
  if (names.every((name) => name.endsWith('.log'))) rmdirSync(logs);
  return removed;
}

/** Removes the verdict files only: a run that ended in an error keeps its partial CSV files and SIP logs, for a look at what happened. */
export function clearVerdictFiles(outDir: string): void {
  for (const file of VERDICT_FILES) rmSync(join(outDir, file), { force: true });
}
