/**
 * A finished run read back from its folder: calls.csv, steps.csv and
 * samples.csv parsed into the types they were written from, and summary.json.
 * What `callwright report` and `callwright compare` stand on. Columns are
 * found by header name, so files with columns appended later still read.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { InputError } from '../errors.js';
import { DROP_REASONS, FAILURE_REASONS, SATURATION_REASONS, type CallResult, type CallRow, type FailureReason, type LegSample, type RunSummary, type StepResult } from '../results.js';
import { CALL_HEADERS, CALLS_CSV } from './callsCsv.js';
import type { FieldHeaders } from './csvFile.js';
import { readCsvRecords, type CsvRecord } from './csvRead.js';
import { SAMPLE_HEADERS, SAMPLES_CSV } from './samplesCsv.js';
import { STEP_HEADERS, STEPS_CSV } from './stepsCsv.js';
import { SUMMARY_JSON } from './summaryJson.js';

const FILE_HINT = 'give the --out folder of a finished callwright run (it holds calls.csv, steps.csv, samples.csv and summary.json)';

/** Decodes one cell; `undefined` means the cell was empty. Throws a message on a bad value. */
type Decoder<Value> = { required: boolean; decode: (cell: string) => Value };

const text: Decoder<string> = { required: true, decode: (cell) => cell };
const optionalText: Decoder<string | undefined> = { required: false, decode: (cell) => (cell === '' ? undefined : cell) };
const number: Decoder<number> = { required: true, decode: toNumber };
const optionalNumber: Decoder<number | undefined> = { required: false, decode: (cell) => (cell === '' ? undefined : toNumber(cell)) };
const boolean: Decoder<boolean> = {
  required: true,
  decode: (cell) => {
    if (cell === 'true') return true;
    if (cell === 'false') return false;
    throw new Error(`"${cell}" is not true or false`);
  },
};
const time: Decoder<number> = {
  required: true,
  decode: (cell) => {
    const ms = Date.parse(cell);
    if (!Number.isFinite(ms)) throw new Error(`"${cell}" is not an ISO 8601 time`);
    return ms;
  },
};
function oneOf<Value extends string>(values: readonly Value[]): Decoder<Value> {
  return {
    required: true,
    decode: (cell) => {
      if (!(values as readonly string[]).includes(cell)) throw new Error(`"${cell}" is not one of ${values.join(', ')}`);
      return cell as Value;
    },
  };
}
function optional<Value>(decoder: Decoder<Value>): Decoder<Value | undefined> {
  return { required: false, decode: (cell) => (cell === '' ? undefined : decoder.decode(cell)) };
}
const failureReason = optional(oneOf<FailureReason>(FAILURE_REASONS));

function toNumber(cell: string): number {
  const value = Number(cell);
  if (cell.trim() === '' || !Number.isFinite(value)) throw new Error(`"${cell}" is not a number`);
  return value;
}

/** Every field of Row with its column and decoder: adding a field to Row fails to compile until it is read back too. */
type Fields<Row> = { readonly [Field in keyof Required<Row>]: readonly [column: string, decoder: Decoder<Row[Field]>] };

/** The column names are the writers' own (one list per file), so reading and writing cannot drift apart. */
function withHeaders<Row>(headers: FieldHeaders<Row>, decoders: { readonly [Field in keyof Required<Row>]: Decoder<Row[Field]> }): Fields<Row> {
  const fields: Record<string, readonly [string, Decoder<unknown>]> = {};
  for (const field of Object.keys(decoders) as (keyof Row & string)[]) fields[field] = [headers[field], decoders[field] as Decoder<unknown>];
  return fields as unknown as Fields<Row>;
}

const CALL_FIELDS = withHeaders<CallRow>(CALL_HEADERS, {
  callId: text,
  scenario: text,
  iteration: number,
  name: text,
  callerRole: text,
  calleeRole: optionalText,
  from: text,
  to: text,
  sipCallId: optionalText,
  startedAtMs: time,
  timeTo180Seconds: optionalNumber,
  setupSeconds: optionalNumber,
  timeToFirstAudioSeconds: optionalNumber,
  durationSeconds: optionalNumber,
  result: oneOf(['success', 'failed'] as const),
  failureExpected: boolean,
  sipStatus: optionalNumber,
  failureReason,
  failureDetail: optionalText,
  inviteBytes: optionalNumber,
  codecOut: optionalText,
  codecIn: optionalText,
  packetsLost: optionalNumber,
  packetLossRatio: optionalNumber,
  jitterSeconds: optionalNumber,
  rttSeconds: optionalNumber,
  mos: optionalNumber,
  concealedRatio: optionalNumber,
  oneWayAudio: boolean,
  harnessSaturated: optional(boolean),
  harnessPrepSeconds: optionalNumber,
  answerDelaySeconds: optionalNumber,
  calleeAnswerSeconds: optionalNumber,
  disconnectSeconds: optionalNumber,
  inviteSentAtMs: optional(time),
  iceGatheringMs: optionalNumber,
  iceConnectedMs: optionalNumber,
  candidatePair: optionalText,
  audioInterruptedAtSeconds: optionalNumber,
  evidence: optionalText,
  farEndLossRatio: optionalNumber,
  farEndJitterSeconds: optionalNumber,
  videoFpsIn: optionalNumber,
  videoResolutionIn: optionalText,
  videoKbpsIn: optionalNumber,
  videoFreezes: optionalNumber,
  videoFreezeSeconds: optionalNumber,
  videoFirstFreezeAtSeconds: optionalNumber,
  videoCodecOut: optionalText,
  videoCodecIn: optionalText,
  transcoded: optionalText,
  callerAgent: optional(oneOf(['browser', 'lite'] as const)),
  calleeAgent: optional(oneOf(['browser', 'lite'] as const)),
  knownFramesRatio: optionalNumber,
});

const STEP_FIELDS = withHeaders<StepResult>(STEP_HEADERS, {
  scenario: text,
  iteration: number,
  index: number,
  name: text,
  kind: text,
  role: optionalText,
  call: optionalText,
  ok: boolean,
  failureReason,
  detail: optionalText,
  sipStatus: optionalNumber,
  startedAtMs: time,
  durationSeconds: number,
});

const SAMPLE_FIELDS = withHeaders<LegSample>(SAMPLE_HEADERS, {
  atMs: number,
  scenario: text,
  callId: text,
  legId: text,
  role: text,
  direction: oneOf(['outgoing', 'incoming'] as const),
  codecIn: optionalText,
  codecOut: optionalText,
  packetsReceived: number,
  packetsSent: number,
  bytesReceived: number,
  bytesSent: number,
  packetsLost: number,
  inPacketRate: number,
  outPacketRate: number,
  jitterSeconds: optionalNumber,
  rttSeconds: optionalNumber,
  audioLevel: optionalNumber,
  audioEnergyRate: optionalNumber,
  concealedRatio: optionalNumber,
  videoFramesDecoded: optionalNumber,
  videoFramesEncoded: optionalNumber,
  lossRatio: optionalNumber,
  remotePacketsLost: optionalNumber,
  remoteLossRatio: optionalNumber,
  remoteFractionLost: optionalNumber,
  remoteJitterSeconds: optionalNumber,
  networkProfile: optionalText,
  videoWidthIn: optionalNumber,
  videoHeightIn: optionalNumber,
  videoFpsIn: optionalNumber,
  videoKbpsIn: optionalNumber,
  videoFreezes: optionalNumber,
  videoFreezeSeconds: optionalNumber,
  videoKeyframesIn: optionalNumber,
  videoPliSent: optionalNumber,
  videoNackSent: optionalNumber,
  videoWidthOut: optionalNumber,
  videoHeightOut: optionalNumber,
  videoFpsOut: optionalNumber,
  videoKbpsOut: optionalNumber,
  videoPliReceived: optionalNumber,
  videoQualityLimitation: optionalText,
});

/** Rows of one of the run's CSV files, typed; a bad cell is an InputError naming file, line and column. */
export async function* readRows<Row>(path: string, fields: Fields<Row>): AsyncGenerator<Row> {
  const file = path.split(/[\\/]/).at(-1) ?? path;
  const entries = Object.entries(fields) as [keyof Row & string, readonly [string, Decoder<unknown>]][];
  const checkHeader = (header: readonly string[]) => {
    const missing = entries.filter(([, [column, decoder]]) => decoder.required && !header.includes(column)).map(([, [column]]) => column);
    if (missing.length > 0) throw new InputError(`${path}: missing column${missing.length === 1 ? '' : 's'} ${missing.join(', ')}`, FILE_HINT);
  };
  for await (const record of readCsvRecords(path, checkHeader)) yield decodeRecord<Row>(file, record, entries);
}

function decodeRecord<Row>(file: string, record: CsvRecord, entries: readonly [string, readonly [string, Decoder<unknown>]][]): Row {
  const row: Record<string, unknown> = {};
  for (const [field, [column, decoder]] of entries) {
    const cell = record.cells.get(column) ?? '';
    if (cell === '' && decoder.required) throw new InputError(`${file} line ${record.line}: ${column} is empty`, FILE_HINT);
    let value: unknown;
    try {
      value = decoder.decode(cell);
    } catch (error) {
      throw new InputError(`${file} line ${record.line}: ${column}: ${error instanceof Error ? error.message : String(error)}`, FILE_HINT);
    }
    if (value !== undefined) row[field] = value;
  }
  return row as Row;
}

async function readAll<Row>(path: string, fields: Fields<Row>): Promise<Row[]> {
  const rows: Row[] = [];
  for await (const row of readRows(path, fields)) rows.push(row);
  return rows;
}

export const readCallsCsv = (path: string): Promise<CallResult[]> => readAll(path, CALL_FIELDS);
export const readStepsCsv = (path: string): Promise<StepResult[]> => readAll(path, STEP_FIELDS);
/** Samples one by one: a long run has millions of them. */
export const readSamplesCsv = (path: string): AsyncGenerator<LegSample> => readRows(path, SAMPLE_FIELDS);

const count = z.number().int().nonnegative();
/**
 * The RunSummary part of summary.json (the aggregates are recomputed from the
 * CSV files, not trusted). load, harness and shards are read too: `merge`
 * joins them, and a report of a merged run shows its shards.
 */
const runSummarySchema = z.object({
  info: z.object({
    runId: z.string(),
    scenario: z.string(),
    scenarioFile: z.string(),
    startedAtMs: z.number(),
    target: z.object({ url: z.string(), domain: z.string(), embedded: z.boolean() }),
    outDir: z.string(),
    plannedIterations: count,
    concurrency: count,
    shard: z.object({ index: z.number().int().positive(), count: z.number().int().positive() }).optional(),
  }),
  endedAtMs: z.number(),
  durationSeconds: z.number(),
  interrupted: z.boolean(),
  iterations: z.object({ planned: count, started: count, passed: count, failed: count, dropped: count }),
  calls: z.object({
    total: count,
    succeeded: count,
    failed: count,
    failedExpected: count,
    byReason: z.partialRecord(z.enum(FAILURE_REASONS), count),
  }),
  steps: z.object({ total: count, passed: count, failed: count }),
  registrations: z.object({ attempted: count, succeeded: count }),
  load: z
    .object({
      model: z.enum(['closed', 'open']),
      slots: count,
      late: count,
      droppedByReason: z.record(z.enum(DROP_REASONS), count),
      startDelaySeconds: z.object({ p50: z.number().optional(), p95: z.number().optional(), max: z.number().optional() }),
      peakConcurrent: count,
    })
    .optional(),
  harness: z
    .object({
      saturated: z.boolean(),
      saturatedSeconds: z.number(),
      windows: z.array(z.object({ fromMs: z.number(), toMs: z.number(), reasons: z.array(z.enum(SATURATION_REASONS)) })),
      failedCallsDuringSaturation: count,
      thresholds: z.object({ cpu: z.number(), eventLoopLagMs: z.number(), memory: z.number() }),
      cores: z.number(),
      samples: count,
      mean: z.object({ nodeCpuCores: z.number(), chromiumCpuCores: z.number(), machineBusyCores: z.number(), eventLoopLagP99Ms: z.number() }).optional(),
      peak: z
        .object({
          nodeCpuCores: z.number(),
          chromiumCpuCores: z.number(),
          chromiumBusiestProcessCores: z.number().optional(),
          machineBusyCores: z.number(),
          eventLoopLagP99Ms: z.number(),
          nodeRssBytes: z.number(),
          chromiumRssBytes: z.number(),
          chromiumPssBytes: z.number().optional(),
        })
        .optional(),
      cgroup: z
        .object({
          cpuLimitCores: z.number().optional(),
          cpuThrottledSeconds: z.number().optional(),
          peakCpuCores: z.number().optional(),
          memoryLimitBytes: z.number().optional(),
          peakMemoryBytes: z.number().optional(),
          oomKills: z.number().optional(),
        })
        .optional(),
    })
    .optional(),
  shards: z
    .object({
      count: z.number().int().positive(),
      merged: z.array(z.number().int().positive()),
      missing: z.array(
        z.object({
          index: z.number().int().positive(),
          reason: z.enum(['no_folder', 'no_summary']),
          folder: z.string().optional(),
          unjoinedCalls: count.optional(),
        }),
      ),
      byShard: z.array(
        z.object({
          index: z.number().int().positive(),
          folder: z.string(),
          exitCode: z.number().int(),
          interrupted: z.boolean(),
          startedAtMs: z.number(),
          endedAtMs: z.number(),
          calls: count,
          failedCalls: count,
          failedSteps: count,
          lateStarts: count,
          droppedStarts: count,
          harnessSaturated: z.boolean(),
          harnessSaturatedSeconds: z.number(),
          peakMachineCpuCores: z.number().optional(),
          cores: z.number().optional(),
        }),
      ),
      partialExitCode: z.number().int().optional(),
    })
    .optional(),
  exitCode: z.number().int(),
});

export function readSummaryJson(path: string): RunSummary {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new InputError(`${path}: ${error instanceof SyntaxError ? `not JSON (${error.message})` : describeFsError(error)}`, FILE_HINT);
  }
  const result = runSummarySchema.safeParse(parsed);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${path}: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
    throw new InputError(problems.length === 1 ? problems[0]! : `${path} is not a callwright run summary (${problems.length} problems)`, FILE_HINT, problems);
  }
  return result.data as RunSummary;
}

/** A finished run, read back; samples stay in their file to be streamed. */
export interface RunFiles {
  outDir: string;
  summary: RunSummary;
  calls: CallResult[];
  steps: StepResult[];
  /** samples.csv, when the run wrote one. */
  samplesPath?: string;
}

export async function readRunFiles(outDir: string): Promise<RunFiles> {
  if (!existsSync(outDir) || !statSync(outDir).isDirectory()) throw new InputError(`${outDir} is not a folder`, FILE_HINT);
  const missing = [SUMMARY_JSON, CALLS_CSV, STEPS_CSV].filter((file) => !existsSync(join(outDir, file)));
  if (missing.length > 0) throw new InputError(`${outDir} has no ${missing.join(', ')}: not the folder of a finished run`, FILE_HINT);
  const summary = readSummaryJson(join(outDir, SUMMARY_JSON));
  const [calls, steps] = await Promise.all([readCallsCsv(join(outDir, CALLS_CSV)), readStepsCsv(join(outDir, STEPS_CSV))]);
  const samplesPath = join(outDir, SAMPLES_CSV);
  return { outDir, summary, calls, steps, ...(existsSync(samplesPath) ? { samplesPath } : {}) };
}

function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : error instanceof Error ? error.message : String(error);
}
