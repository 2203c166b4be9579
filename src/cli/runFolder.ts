/**
 * `run`'s --out folder never holds an older run's verdict: the command
 * clears the files a run owns once its input is checked (before the run
 * starts), and when it ends in an error (exit 2, 3 or 70) or a forced stop
 * (130) it leaves junit.xml, and summary.json unless it is a shard, carrying
 * that error (src/report/errorVerdict.ts).
 *
 * Only into a folder that exists: a run refused before it made its folder
 * leaves none (there is nothing older in it to misread), and --dry-run
 * writes nothing anywhere.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import type { Logger } from '../log.js';
import type { RunInfo, ShardInfo } from '../results.js';
import type { Scenario } from '../scenario/types.js';
import { writeErrorVerdict, type RunError } from '../report/errorVerdict.js';
import { clearRunOwnedFiles, clearVerdictFiles, RUN_OWNED_FILES } from '../report/runOwnedFiles.js';

/** What the command knows of its run so far: an error verdict says as much of it as was learnt. */
export interface RunSoFar {
  scenarioFile: string;
  startedAtMs: number;
  runId: string;
  /** Where the run's files go: unknown until --shard is read, and never set for --dry-run. */
  outDir?: string;
  shard?: ShardInfo;
  /** Once loaded (this shard's part of it, for a shard). */
  scenario?: Scenario;
  /** The files an earlier run left in outDir are gone: what is there now is this run's. */
  cleared: boolean;
}

/** Removes an earlier run's files from the folder; a folder that cannot be written in is left to prepareOutDir to report. */
export function clearEarlierRun(run: RunSoFar): void {
  if (run.outDir === undefined) return;
  try {
    clearRunOwnedFiles(run.outDir);
    run.cleared = true;
  } catch {
    // The run's own check of the folder (prepareOutDir) comes next and names the problem.
  }
}

/**
 * Leaves `error` as the run's verdict in its folder, replacing whatever an
 * earlier run left and any verdict file this run wrote before the error
 * (this run's partial CSV files and SIP logs stay). Never throws:
 * the error itself is what the user must see; when its verdict cannot be
 * written and an older run's files remain, a warning says so.
 */
export function leaveErrorVerdict(run: RunSoFar, error: RunError, logger: Logger, options: { summaryJson?: boolean } = {}): void {
  const { outDir } = run;
  if (outDir === undefined || !isFolder(outDir)) return;
  try {
    if (run.cleared) clearVerdictFiles(outDir);
    else clearRunOwnedFiles(outDir);
    run.cleared = true;
    writeErrorVerdict(outDir, { info: infoOf(run, outDir), error, secrets: passwordsOf(run.scenario) }, { summaryJson: options.summaryJson ?? run.shard === undefined });
  } catch (writeError) {
    const left = RUN_OWNED_FILES.filter((file) => existsSync(resolve(outDir, file)));
    const code = (writeError as NodeJS.ErrnoException).code ?? (writeError instanceof Error ? writeError.message : String(writeError));
    if (left.length > 0) logger.warn(`${outDir} still holds ${left.join(', ')} of an earlier run (not this run's verdict): they could not be replaced (${code})`);
  }
}

function infoOf(run: RunSoFar, outDir: string): RunInfo {
  const { scenario } = run;
  return {
    runId: run.runId,
    scenario: scenario?.name ?? basename(run.scenarioFile, extname(run.scenarioFile)),
    scenarioFile: scenario?.file ?? resolve(run.scenarioFile),
    startedAtMs: run.startedAtMs,
    target: scenario
      ? { url: scenario.target?.url ?? 'embedded (not started)', domain: scenario.target?.domain ?? '', embedded: !scenario.target }
      : { url: 'unknown (the scenario did not load)', domain: '', embedded: false },
    outDir: resolve(outDir),
    plannedIterations: scenario?.load.iterations ?? 0,
    concurrency: scenario?.load.concurrency ?? 0,
    ...(run.shard ? { shard: run.shard } : {}),
  };
}

function passwordsOf(scenario: Scenario | undefined): string[] {
  if (!scenario) return [];
  return Object.values(scenario.roles).flatMap((role) => role.accounts.flatMap((account) => (account.password ? [account.password] : [])));
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
