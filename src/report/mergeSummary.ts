/**
 * The RunSummary of a merged run, from its shards' summary.json: counts
 * summed, the run's span from the earliest start to the latest end, and a
 * `shards` record of what each shard said of itself. Nothing here is a
 * percentile: those are recomputed from the merged rows (aggregate.ts), never
 * averaged across shards.
 *
 * The merged run's own exit code, before thresholds (verdictExitCode adds
 * them, as for any run):
 *   2  a shard recorded bad input;
 *   3  the run is incomplete (a shard missing, or without summary.json), or a
 *      shard recorded an infrastructure failure. verdictExitCode lets 2 and 3
 *      outrank 99 and 1: an incomplete run never exits 0, and a partial
 *      verdict is not the run's (the missing shard's calls may be exactly the
 *      failures). What the joined shards alone would exit with is kept in
 *      shards.partialExitCode, and shown;
 *   1  a call failed that no expect step asked for, a step or an iteration
 *      failed, or a shard was interrupted (the runner's own rule);
 *   0  otherwise.
 * The shards' own exit codes (0, 1, 99) judged their part only, so they do
 * not decide the merged run's: its thresholds are judged again on all rows.
 */
import { ExitCode } from '../errors.js';
import type { HarnessCgroupSummary, HarnessSummary, LoadSummary, RunSummary, ShardFigures } from '../results.js';
import { outcomeExitCode } from '../verdict/exitCodes.js';
import type { FinishedShard, ShardSet } from './mergeInputs.js';

export function mergeSummaries(set: ShardSet, outDir: string): RunSummary {
  const summaries = set.finished.map((shard) => shard.summary);
  const [first] = summaries;
  const sum = (pick: (summary: RunSummary) => number) => summaries.reduce((total, summary) => total + pick(summary), 0);
  const startedAtMs = Math.min(...summaries.map((summary) => summary.info.startedAtMs));
  const endedAtMs = Math.max(...summaries.map((summary) => summary.endedAtMs));
  const byReason: RunSummary['calls']['byReason'] = {};
  for (const summary of summaries) {
    for (const [reason, count] of Object.entries(summary.calls.byReason) as [keyof typeof byReason, number][]) byReason[reason] = (byReason[reason] ?? 0) + count;
  }
  const info = { ...first!.info };
  delete info.shard; // the merged run is the whole run
  const load = mergeLoad(summaries.flatMap((summary) => (summary.load ? [summary.load] : [])));
  const harness = mergeHarness(summaries.flatMap((summary) => (summary.harness ? [summary.harness] : [])));
  const merged: RunSummary = {
    info: { ...info, startedAtMs, outDir, plannedIterations: sum((s) => s.info.plannedIterations), concurrency: sum((s) => s.info.concurrency) },
    endedAtMs,
    durationSeconds: (endedAtMs - startedAtMs) / 1000,
    interrupted: summaries.some((summary) => summary.interrupted),
    iterations: {
      planned: sum((s) => s.iterations.planned),
      started: sum((s) => s.iterations.started),
      passed: sum((s) => s.iterations.passed),
      failed: sum((s) => s.iterations.failed),
      dropped: sum((s) => s.iterations.dropped),
    },
    calls: {
      total: sum((s) => s.calls.total),
      succeeded: sum((s) => s.calls.succeeded),
      failed: sum((s) => s.calls.failed),
      failedExpected: sum((s) => s.calls.failedExpected),
      byReason,
    },
    steps: { total: sum((s) => s.steps.total), passed: sum((s) => s.steps.passed), failed: sum((s) => s.steps.failed) },
    registrations: { attempted: sum((s) => s.registrations.attempted), succeeded: sum((s) => s.registrations.succeeded) },
    ...(load ? { load } : {}),
    ...(harness ? { harness } : {}),
    ...(set.sharded
      ? { shards: { count: set.count, merged: set.finished.map((shard) => shard.index), missing: set.missing, byShard: set.finished.map(shardFigures) } }
      : {}),
    exitCode: ExitCode.pass,
  };
  merged.exitCode = mergedExitCode(merged, summaries);
  return merged;
}

/** Bad input or broken infrastructure in a shard, or a missing shard, outrank the merged facts' own code. */
function mergedExitCode(merged: RunSummary, shards: readonly RunSummary[]): number {
  if (shards.some((shard) => shard.exitCode === ExitCode.badInput)) return ExitCode.badInput;
  if ((merged.shards?.missing.length ?? 0) > 0 || shards.some((shard) => shard.exitCode === ExitCode.infrastructure)) return ExitCode.infrastructure;
  return outcomeExitCode(merged);
}

/**
 * Counts summed. Start delays cannot be joined into percentiles (the shards
 * kept no rows of them): only their max is; each shard's figures stay in its
 * own summary.json. peakConcurrent is the sum of the shards' peaks, an upper
 * bound on the iterations that ran at once.
 */
export function mergeLoad(loads: readonly LoadSummary[]): LoadSummary | undefined {
  if (loads.length <= 1) return loads[0];
  const sum = (pick: (load: LoadSummary) => number) => loads.reduce((total, load) => total + pick(load), 0);
  const maxDelays = loads.flatMap((load) => (load.startDelaySeconds.max === undefined ? [] : [load.startDelaySeconds.max]));
  return {
    model: loads[0]!.model,
    slots: sum((load) => load.slots),
    late: sum((load) => load.late),
    droppedByReason: {
      capacity: sum((load) => load.droppedByReason.capacity),
      late: sum((load) => load.droppedByReason.late),
      stopped: sum((load) => load.droppedByReason.stopped),
    },
    startDelaySeconds: maxDelays.length > 0 ? { max: Math.max(...maxDelays) } : {},
    peakConcurrent: sum((load) => load.peakConcurrent),
  };
}

/**
 * Saturated if any shard's machine was. saturatedSeconds, cores and samples
 * are summed over the shards' machines (machine-seconds, cores in all);
 * windows are every shard's, in time order. mean and peak describe one
 * machine each: they stay per shard (shards.byShard, and each summary.json).
 */
export function mergeHarness(harnesses: readonly HarnessSummary[]): HarnessSummary | undefined {
  if (harnesses.length <= 1) return harnesses[0];
  const sum = (pick: (harness: HarnessSummary) => number) => harnesses.reduce((total, harness) => total + pick(harness), 0);
  return {
    saturated: harnesses.some((harness) => harness.saturated),
    saturatedSeconds: sum((harness) => harness.saturatedSeconds),
    windows: harnesses.flatMap((harness) => harness.windows).sort((a, b) => a.fromMs - b.fromMs),
    failedCallsDuringSaturation: sum((harness) => harness.failedCallsDuringSaturation),
    thresholds: harnesses[0]!.thresholds,
    cores: sum((harness) => harness.cores),
    samples: sum((harness) => harness.samples),
    ...mergedCgroups(harnesses.flatMap((harness) => (harness.cgroup ? [harness.cgroup] : []))),
  };
}

/** The shards' container budgets added up (each shard's own stays in its summary.json); peaks are the largest shard's. */
function mergedCgroups(cgroups: readonly HarnessCgroupSummary[]): { cgroup?: HarnessCgroupSummary } {
  if (cgroups.length === 0) return {};
  const total = (pick: (cgroup: HarnessCgroupSummary) => number | undefined) => {
    const values = cgroups.flatMap((cgroup) => (pick(cgroup) === undefined ? [] : [pick(cgroup)!]));
    return values.length === 0 ? undefined : values.reduce((a, b) => a + b, 0);
  };
  const largest = (pick: (cgroup: HarnessCgroupSummary) => number | undefined) => {
    const values = cgroups.flatMap((cgroup) => (pick(cgroup) === undefined ? [] : [pick(cgroup)!]));
    return values.length === 0 ? undefined : Math.max(...values);
  };
  const merged: HarnessCgroupSummary = {
    cpuLimitCores: total((c) => c.cpuLimitCores),
    cpuThrottledSeconds: total((c) => c.cpuThrottledSeconds),
    peakCpuCores: largest((c) => c.peakCpuCores),
    memoryLimitBytes: total((c) => c.memoryLimitBytes),
    peakMemoryBytes: largest((c) => c.peakMemoryBytes),
    oomKills: total((c) => c.oomKills),
  };
  return { cgroup: Object.fromEntries(Object.entries(merged).filter(([, value]) => value !== undefined)) as HarnessCgroupSummary };
}

function shardFigures(shard: FinishedShard): ShardFigures {
  const { summary } = shard;
  return {
    index: shard.index,
    folder: shard.folder,
    exitCode: summary.exitCode,
    interrupted: summary.interrupted,
    startedAtMs: summary.info.startedAtMs,
    endedAtMs: summary.endedAtMs,
    calls: summary.calls.total,
    failedCalls: summary.calls.failed - summary.calls.failedExpected,
    failedSteps: summary.steps.failed,
    lateStarts: summary.load?.late ?? 0,
    droppedStarts: summary.iterations.dropped,
    harnessSaturated: summary.harness?.saturated ?? false,
    harnessSaturatedSeconds: summary.harness?.saturatedSeconds ?? 0,
    ...(summary.harness?.peak ? { peakMachineCpuCores: summary.harness.peak.machineBusyCores } : {}),
    ...(summary.harness ? { cores: summary.harness.cores } : {}),
  };
}
