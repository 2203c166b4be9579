/**
 * The folders `callwright merge` is given, found and checked: each is a
 * shard's --out folder, or a parent whose `shard-*` folders are the shards
 * (`run --shard I/N --out DIR` writes DIR/shard-I; the Kubernetes layout is
 * /results/<run id>/shard-1..N). Every shard must be of one run (same run id
 * and scenario) and shard count, no index twice. A shard index with no
 * folder, or a folder without summary.json (the shard crashed, was killed or
 * is still running), makes the run incomplete: it is listed, not refused.
 */
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { InfraError, InputError } from '../errors.js';
import type { MissingShard, RunSummary } from '../results.js';
import { CALLS_CSV } from './callsCsv.js';
import { parseCsv } from './csvRead.js';
import { readSummaryJson } from './runFiles.js';
import { STEPS_CSV } from './stepsCsv.js';
import { SUMMARY_JSON } from './summaryJson.js';

const SHARD_FOLDER = /^shard-(\d+)$/;
const FOLDER_HINT = 'give the --out folders of the shards of one run, or the folder that holds their shard-1..N folders';

/** A shard that finished: its summary.json is there. */
export interface FinishedShard {
  index: number;
  folder: string;
  summary: RunSummary;
}

export interface ShardSet {
  runId: string;
  scenario: string;
  /** How many shards the run has; 1 for a run that was not sharded. */
  count: number;
  /** False when the one input is a whole run (no info.shard): its merge is a copy of it. */
  sharded: boolean;
  /** Ascending index. */
  finished: FinishedShard[];
  /** Shards not joined: no folder, or no summary.json; ascending index. */
  missing: MissingShard[];
}

/** Finds and checks the shards; refuses an --out folder that is, holds or sits inside an input. */
export function readShardSet(dirs: readonly string[], outDir: string): ShardSet {
  const given = unique(dirs.map(checkedFolder));
  const folders = unique(given.flatMap(shardFoldersOf));
  refuseOutAmongInputs(outDir, given, folders);
  const { finished, crashed } = readFolders(folders);
  const whole = finished.find((shard) => shard.summary.info.shard === undefined);
  if (whole) {
    if (folders.length > 1) throw new InputError(`${whole.folder} is ${describe(whole.summary)}: a whole run can only be merged alone`, FOLDER_HINT);
    const { runId, scenario } = whole.summary.info;
    return { runId, scenario, count: 1, sharded: false, finished: [{ ...whole, index: 1 }], missing: [] };
  }
  const shards = finished.map((shard) => ({ ...shard, index: shard.summary.info.shard!.index }));
  const { runId, scenario, count } = oneRun(shards);
  return { runId, scenario, count, sharded: true, finished: shards.sort((a, b) => a.index - b.index), missing: placeShards(runId, count, shards, crashed) };
}

interface CrashedFolder {
  folder: string;
  /** From its shard-I name; undefined when the name does not say. */
  index: number | undefined;
}

function readFolders(folders: readonly string[]): { finished: { folder: string; summary: RunSummary }[]; crashed: CrashedFolder[] } {
  const finished: { folder: string; summary: RunSummary }[] = [];
  const crashed: CrashedFolder[] = [];
  for (const folder of folders) {
    const summaryPath = join(folder, SUMMARY_JSON);
    if (existsSync(summaryPath)) finished.push({ folder, summary: readSummaryJson(summaryPath) });
    else crashed.push({ folder, index: nameIndex(folder) });
  }
  if (finished.length === 0) {
    throw new InfraError(
      `nothing finished: ${folders.join(', ')} ${folders.length === 1 ? 'has' : 'have'} no ${SUMMARY_JSON} (crashed, killed or still running)`,
      'wait for the shards to finish, or run them again: there is nothing to merge yet',
    );
  }
  return { finished, crashed };
}

/** The run every finished shard belongs to; refuses shards of different runs, scenarios or shard counts. */
function oneRun(shards: readonly FinishedShard[]): { runId: string; scenario: string; count: number } {
  const [first] = shards;
  const { runId, scenario, shard } = first!.summary.info;
  for (const other of shards) {
    const { info } = other.summary;
    if (info.runId !== runId || info.scenario !== scenario || info.shard!.count !== shard!.count) {
      throw new InputError(
        `${first!.folder} is ${describe(first!.summary)}, ${other.folder} is ${describe(other.summary)}: not shards of one run`,
        'merge the shards of one run only: they share its --run-id, its scenario and its shard count N',
      );
    }
  }
  return { runId, scenario, count: shard!.count };
}

/** Every index 1..count has at most one folder; the ones without a finished shard are missing. */
function placeShards(runId: string, count: number, finished: readonly FinishedShard[], crashed: readonly CrashedFolder[]): MissingShard[] {
  const byIndex = new Map<number, string>();
  const claim = (index: number, folder: string, what: string) => {
    const other = byIndex.get(index);
    if (other !== undefined) throw new InputError(`shard ${index}/${count} of run ${runId} is in both ${other} and ${folder}`, 'give each shard once: keep the folder of the run you mean');
    if (index > count) throw new InputError(`${folder} (${what}) is beyond the ${count} shards of run ${runId}`, FOLDER_HINT);
    byIndex.set(index, folder);
  };
  for (const shard of finished) claim(shard.index, shard.folder, describe(shard.summary));
  const missing: MissingShard[] = [];
  for (const { folder, index } of crashed) {
    if (index === undefined) {
      throw new InputError(
        `${folder} has no ${SUMMARY_JSON} (the shard crashed, was killed or is still running), and its name does not say which shard it was`,
        'give the folder its shard-I name (as run --shard writes it), or leave it out: its shard is then counted missing',
      );
    }
    claim(index, folder, `shard ${index}, no ${SUMMARY_JSON}`);
    const unjoinedCalls = dataRows(join(folder, CALLS_CSV));
    missing.push({ index, reason: 'no_summary', folder, ...(unjoinedCalls === undefined ? {} : { unjoinedCalls }) });
  }
  for (let index = 1; index <= count; index++) if (!byIndex.has(index)) missing.push({ index, reason: 'no_folder' });
  return missing.sort((a, b) => a.index - b.index);
}

/** `shard 2/3 of run A (scenario smoke)`, or `run A (scenario smoke, not sharded)`. */
function describe(summary: RunSummary): string {
  const { shard, runId, scenario } = summary.info;
  return shard ? `shard ${shard.index}/${shard.count} of run ${runId} (scenario ${scenario})` : `run ${runId} (scenario ${scenario}, not sharded)`;
}

function checkedFolder(dir: string): string {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputError(`${dir} is not a folder`, FOLDER_HINT);
  return realpathSync(dir);
}

/** A run folder stands for itself; a folder of shard-* folders for them. */
function shardFoldersOf(dir: string): string[] {
  if ([SUMMARY_JSON, CALLS_CSV, STEPS_CSV].some((file) => existsSync(join(dir, file)))) return [dir];
  const shards = readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && SHARD_FOLDER.test(entry.name))
    .map((entry) => join(dir, entry.name))
    .sort((a, b) => nameIndex(a)! - nameIndex(b)!);
  if (shards.length > 0) return shards;
  // A shard's folder made before the shard wrote anything (it died at once, or has not begun).
  if (nameIndex(dir) !== undefined) return [dir];
  throw new InputError(`${dir} is neither a run folder (no ${SUMMARY_JSON}, ${CALLS_CSV}) nor a folder of shard-* folders`, FOLDER_HINT);
}

function nameIndex(folder: string): number | undefined {
  const match = SHARD_FOLDER.exec(basename(folder));
  return match ? Number(match[1]) : undefined;
}

/**
 * The merged run needs a folder of its own: not an input or a shard, not
 * inside one (its files would be read as the shard's), and not the folder
 * that holds shard-* folders (it would then read as a run, not as their parent).
 */
function refuseOutAmongInputs(outDir: string, given: readonly string[], shards: readonly string[]): void {
  const out = realPath(outDir);
  const hint = 'choose another folder for --out, e.g. a "merged" folder beside the shard folders';
  for (const folder of unique([...given, ...shards])) {
    if (out === folder) throw new InputError(`--out ${outDir} is one of the folders to merge`, hint);
    // A folder given for its shard-N folders may hold the merged run beside them (/results/<run>/merged).
    const holdsShardsOnly = !shards.includes(folder);
    if (!holdsShardsOnly && out.startsWith(`${folder}${sep}`)) throw new InputError(`--out ${outDir} is inside ${folder}, one of the folders to merge`, hint);
  }
  for (const shard of shards) {
    if (dirname(shard) === out && nameIndex(shard) !== undefined) throw new InputError(`--out ${outDir} holds the shard folder ${shard}: the merged run would be mixed with its shards`, hint);
  }
}

/** The path with symbolic links resolved, as far as it exists (--out may not yet). */
function realPath(path: string): string {
  const absolute = resolve(path);
  if (existsSync(absolute)) return realpathSync(absolute);
  const parent = dirname(absolute);
  return parent === absolute ? absolute : join(realPath(parent), basename(absolute));
}

/** Data rows of a partial CSV file; undefined when it cannot be read (a half-written last row is not counted). */
function dataRows(path: string): number | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const text = readFileSync(path, 'utf8');
    const complete = text.slice(0, text.lastIndexOf('\n') + 1);
    return Math.max(0, parseCsv(complete).filter((row) => !(row.length === 1 && row[0] === '')).length - 1);
  } catch {
    return undefined;
  }
}

function unique(folders: readonly string[]): string[] {
  return [...new Set(folders)];
}
