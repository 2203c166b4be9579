/**
 * The CSV files of a merged run: each shard's file joined under one header,
 * in time order, its rows copied as they are (mergeRecords.ts). calls.csv,
 * steps.csv and legs.csv are written as calls and steps end, not in start
 * order, so they are sorted in memory (they are the small files; the report
 * holds calls and steps in memory anyway). samples.csv and stats.csv are
 * written in time order by each shard, so a k-way merge streams them; the
 * result is as ordered as each shard's file is.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { CALLS_CSV } from './callsCsv.js';
import { LEGS_CSV } from './legsCsv.js';
import { mergeByKey } from './mergeOrder.js';
import { cellAt, csvRecordBatches, recordCells, writeRecords } from './mergeRecords.js';
import { SAMPLES_CSV } from './samplesCsv.js';
import { STEPS_CSV } from './stepsCsv.js';

/** Written by src/report/statsCsv.ts. */
export const STATS_CSV = 'stats.csv';

/** The column appended to a sharded run's stats.csv: its rows are per shard, and would not read apart otherwise. */
export const SHARD_COLUMN = 'shard';

const HINT = 'merge the folders of one run, written by the same callwright version';

interface MergedFileSpec {
  file: string;
  /** The column rows are ordered by, and how to read it. */
  timeColumn: string;
  time: 'iso' | 'ms';
  /** sort: the whole file in memory; stream: a k-way merge of files already in time order. */
  order: 'sort' | 'stream';
  /** Every finished shard has it (summary.json's companions). */
  required?: boolean;
}

const MERGED_FILES: readonly MergedFileSpec[] = [
  { file: CALLS_CSV, timeColumn: 'started_at', time: 'iso', order: 'sort', required: true },
  { file: STEPS_CSV, timeColumn: 'started_at', time: 'iso', order: 'sort', required: true },
  // A leg that never got created has no created_at: its call's start stands in.
  { file: LEGS_CSV, timeColumn: 'created_at', time: 'iso', order: 'sort' },
  { file: SAMPLES_CSV, timeColumn: 'at_ms', time: 'ms', order: 'stream' },
  { file: STATS_CSV, timeColumn: 'time', time: 'iso', order: 'stream' },
];

export interface ShardFolderRef {
  index: number;
  folder: string;
}

export interface MergedCsvFile {
  file: string;
  rows: number;
  /** Shards that had the file. */
  shards: number;
}

interface ShardFile {
  shard: ShardFolderRef;
  path: string;
  /** The header record as written, and its column names. */
  headerRecord: string;
  header: readonly string[];
}

/** Which shards have each file, their headers checked: everything that can refuse the merge, before a file is written. */
export interface CsvMergePlan {
  files: { spec: MergedFileSpec; sources: ShardFile[] }[];
  /** Files no shard has: not written. */
  absent: string[];
}

export async function planCsvMerge(shards: readonly ShardFolderRef[]): Promise<CsvMergePlan> {
  const plan: CsvMergePlan = { files: [], absent: [] };
  for (const spec of MERGED_FILES) {
    const sources = await shardFiles(shards, spec);
    if (sources.length === 0) plan.absent.push(spec.file);
    else plan.files.push({ spec, sources });
  }
  return plan;
}

/**
 * Writes the merged CSV files into outDir (an old copy of an absent one is
 * removed). `shardColumn` appends the shard index to stats.csv rows.
 */
export async function writeMergedCsv(plan: CsvMergePlan, outDir: string, options: { shardColumn: boolean }): Promise<MergedCsvFile[]> {
  for (const file of plan.absent) rmSync(join(outDir, file), { force: true });
  const merged: MergedCsvFile[] = [];
  let callStarts = new Map<string, number>();
  for (const { spec, sources } of plan.files) {
    const [reference] = sources;
    const at = timeReader(spec, reference!.header, callStarts);
    // stats.csv rows are each shard's own periods: say whose.
    const addShard = options.shardColumn && spec.file === STATS_CSV;
    const header = addShard ? `${reference!.headerRecord},${SHARD_COLUMN}` : reference!.headerRecord;
    const withShard = (source: ShardFile, record: string) => (addShard ? `${record},${source.shard.index}` : record);
    const path = join(outDir, spec.file);
    let rows: number;
    if (spec.order === 'sort') {
      const sorted = await sortedRows(sources, at);
      if (spec.file === CALLS_CSV) callStarts = startsById(sorted, reference!.header);
      rows = await writeRecords(path, header, [sorted.map((row) => withShard(row.source, row.record))]);
    } else {
      const keyed = sources.map((source) => keyedRecords(source, at, (record) => withShard(source, record)));
      rows = await writeRecords(path, header, recordsOf(mergeByKey(keyed, (row) => row.key)));
    }
    merged.push({ file: spec.file, rows, shards: sources.length });
  }
  return merged;
}

/** The shards' copies of one file, headers checked to be the same. */
async function shardFiles(shards: readonly ShardFolderRef[], spec: MergedFileSpec): Promise<ShardFile[]> {
  const files: ShardFile[] = [];
  for (const shard of shards) {
    const path = join(shard.folder, spec.file);
    if (!existsSync(path)) {
      if (spec.required) throw new InputError(`${shard.folder} has a summary.json but no ${spec.file}`, HINT);
      continue;
    }
    const headerRecord = await firstRecord(path);
    // An empty file: nothing was ever written to it.
    if (headerRecord !== undefined) files.push({ shard, path, headerRecord, header: recordCells(headerRecord) });
  }
  const [reference] = files;
  for (const file of files) {
    if (sameColumns(file.header, reference!.header)) continue;
    throw new InputError(`${spec.file}: ${file.shard.folder} and ${reference!.shard.folder} have different columns (${columnDifference(reference!, file)})`, HINT);
  }
  if (reference && !reference.header.includes(spec.timeColumn)) throw new InputError(`${reference.path} has no ${spec.timeColumn} column to order its rows by`, HINT);
  return files;
}

async function firstRecord(path: string): Promise<string | undefined> {
  for await (const batch of readBatches(path)) return batch[0]; // returning early closes the file
  return undefined;
}

/** A file's data records (after the header) in batches, with the record number of each batch's first (the header is 1). */
async function* dataRecords(source: ShardFile): AsyncGenerator<{ records: readonly string[]; firstLine: number }> {
  let line = 1;
  let header = true;
  for await (const batch of readBatches(source.path)) {
    const records = header ? batch.slice(1) : batch;
    yield { records, firstLine: line + 1 };
    line += records.length;
    header = false;
  }
}

async function* readBatches(path: string): AsyncGenerator<string[]> {
  try {
    yield* csvRecordBatches(path);
  } catch (error) {
    throw new InputError(`${path}: ${error instanceof Error ? error.message : String(error)}`, HINT);
  }
}

/** A file's rows with their time, batch by batch, as the k-way merge takes them. */
async function* keyedRecords(source: ShardFile, at: TimeReader, written: (record: string) => string): AsyncGenerator<{ key: number; record: string }[]> {
  for await (const { records, firstLine } of dataRecords(source)) {
    yield records.map((record, offset) => ({ key: at(record, firstLine + offset, source), record: written(record) }));
  }
}

async function* recordsOf(batches: AsyncIterable<readonly { record: string }[]>): AsyncGenerator<string[]> {
  for await (const batch of batches) yield batch.map((row) => row.record);
}

interface SortedRow {
  key: number;
  source: ShardFile;
  record: string;
}

async function sortedRows(sources: readonly ShardFile[], at: TimeReader): Promise<SortedRow[]> {
  const rows: SortedRow[] = [];
  for (const source of sources) {
    for await (const { records, firstLine } of dataRecords(source)) {
      for (const [offset, record] of records.entries()) rows.push({ key: at(record, firstLine + offset, source), source, record });
    }
  }
  // Stable: rows at the same moment keep the shards' order and each file's.
  return rows.sort((a, b) => (a.key === b.key ? 0 : a.key < b.key ? -1 : 1));
}

type TimeReader = (record: string, line: number, source: ShardFile) => number;

/** Reads a row's time (epoch ms); a bad cell is an InputError naming file, record and column. */
function timeReader(spec: MergedFileSpec, header: readonly string[], callStarts: ReadonlyMap<string, number>): TimeReader {
  const column = header.indexOf(spec.timeColumn);
  const callId = header.indexOf('call_id');
  return (record, line, source) => {
    const cell = cellAt(record, column);
    if (cell === '' && spec.file === LEGS_CSV) return callStarts.get(cellAt(record, callId)) ?? Number.POSITIVE_INFINITY;
    const ms = spec.time === 'ms' ? (cell.trim() === '' ? NaN : Number(cell)) : Date.parse(cell);
    if (Number.isFinite(ms)) return ms;
    throw new InputError(`${source.path} line ${line}: ${spec.timeColumn}: "${cell}" is not ${spec.time === 'ms' ? 'a number' : 'an ISO 8601 time'}`, HINT);
  };
}

function startsById(rows: readonly SortedRow[], header: readonly string[]): Map<string, number> {
  const callId = header.indexOf('call_id');
  return new Map(rows.map((row) => [cellAt(row.record, callId), row.key]));
}

function sameColumns(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((column, index) => column === b[index]);
}

function columnDifference(a: ShardFile, b: ShardFile): string {
  const onlyIn = (x: ShardFile, y: ShardFile) => x.header.filter((column) => !y.header.includes(column));
  const parts = [
    ...(onlyIn(a, b).length ? [`only in ${a.shard.folder}: ${onlyIn(a, b).join(', ')}`] : []),
    ...(onlyIn(b, a).length ? [`only in ${b.shard.folder}: ${onlyIn(b, a).join(', ')}`] : []),
  ];
  return parts.length > 0 ? parts.join('; ') : 'the same columns in another order';
}
