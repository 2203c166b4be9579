/**
 * Capacity search: run the scenario at rising load levels (calls at once, or
 * calls per second) until a criterion fails, then report the last good level,
 * the first bad one and why, with the figures of every step (SIPp's stepped
 * -rate_increase, done as separate bounded runs). An optional refinement
 * bisects between the two. A step where the harness itself was saturated is
 * bad for that reason alone: past it, the figures measure this machine, not
 * the server.
 */
import { join } from 'node:path';
import { percentile } from '../common/statistics.js';
import type { CallResult, RunSummary } from '../results.js';
import type { Scenario } from '../scenario/types.js';

export type CapacityMode = 'concurrency' | 'rate';

export interface CapacityCriteria {
  /** Successful calls over calls planned (dropped starts count as failures). */
  minSuccessRate: number;
  maxSetupP95Seconds?: number;
  /** The 5th percentile of the calls' MOS must reach this. */
  minMosP5?: number;
  /** Count a step with the harness saturated as good if its figures are (tests on a busy machine). */
  allowSaturation: boolean;
}

export interface CapacityStep {
  level: number;
  outDir: string;
  planned: number;
  calls: number;
  succeeded: number;
  dropped: number;
  successRate: number;
  failuresByReason: Partial<Record<string, number>>;
  sipStatuses: Partial<Record<string, number>>;
  setupP50Seconds?: number;
  setupP95Seconds?: number;
  mosP5?: number;
  harnessSaturated: boolean;
  peakMachineCpuCores?: number;
  peakChromiumCpuCores?: number;
  ok: boolean;
  /** Why the step is bad, one line per criterion that failed. */
  why: string[];
  interrupted: boolean;
}

export interface CapacityReport {
  scenario: string;
  mode: CapacityMode;
  criteria: CapacityCriteria;
  stepSeconds: number;
  steps: CapacityStep[];
  lastGood?: CapacityStep;
  firstBad?: CapacityStep;
  /** Every level tried was good: the knee is above the highest. */
  reachedMax: boolean;
  interrupted: boolean;
}

export interface StepRun {
  summary: RunSummary;
  calls: CallResult[];
}

/** The scenario at one level: a closed model of `level` calls at once, or an open one of `level` calls/s, for stepSeconds. */
export function scenarioAtLevel(scenario: Scenario, mode: CapacityMode, level: number, stepSeconds: number): Scenario {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- iterations is dropped: a step runs for a duration
  const { iterations, ...load } = scenario.load;
  if (mode === 'concurrency') {
    return { ...scenario, load: { ...load, model: 'closed', concurrency: level, phases: [], durationSeconds: stepSeconds, preRegister: true } };
  }
  return {
    ...scenario,
    load: { ...load, model: 'open', phases: [{ durationSeconds: stepSeconds, rate: level, endRate: level }], durationSeconds: stepSeconds, preRegister: true },
  };
}

/** Pure: a step's figures from its run, judged against the criteria. */
export function judgeStep(level: number, outDir: string, run: StepRun, criteria: CapacityCriteria): CapacityStep {
  const { summary, calls } = run;
  const succeeded = calls.filter((c) => c.result === 'success').length;
  const droppedStarts = summary.load ? summary.load.droppedByReason.capacity + summary.load.droppedByReason.late : 0;
  const planned = calls.length + droppedStarts;
  const successRate = planned === 0 ? 0 : succeeded / planned;
  const setup = calls.flatMap((c) => (c.setupSeconds === undefined ? [] : [c.setupSeconds]));
  const mos = calls.flatMap((c) => (c.mos === undefined ? [] : [c.mos]));
  const failuresByReason: Partial<Record<string, number>> = {};
  const sipStatuses: Partial<Record<string, number>> = {};
  for (const call of calls) {
    if (call.result !== 'failed') continue;
    const reason = call.failureReason ?? 'unknown';
    failuresByReason[reason] = (failuresByReason[reason] ?? 0) + 1;
    if (call.sipStatus !== undefined && call.sipStatus >= 300) sipStatuses[String(call.sipStatus)] = (sipStatuses[String(call.sipStatus)] ?? 0) + 1;
  }
  if (droppedStarts > 0) failuresByReason.dropped = (failuresByReason.dropped ?? 0) + droppedStarts;
  const step: CapacityStep = {
    level,
    outDir,
    planned,
    calls: calls.length,
    succeeded,
    dropped: droppedStarts,
    successRate,
    failuresByReason,
    sipStatuses,
    setupP50Seconds: percentile(setup, 50),
    setupP95Seconds: percentile(setup, 95),
    mosP5: percentile(mos, 5),
    harnessSaturated: summary.harness?.saturated ?? false,
    peakMachineCpuCores: summary.harness?.peak?.machineBusyCores,
    peakChromiumCpuCores: summary.harness?.peak?.chromiumCpuCores,
    ok: true,
    why: [],
    interrupted: summary.interrupted,
  };
  const why = step.why;
  if (planned === 0) why.push('no calls were made');
  else if (successRate < criteria.minSuccessRate) {
    const reasons = Object.entries(failuresByReason).map(([reason, n]) => `${n} ${reason}`).join(', ');
    const statuses = Object.entries(sipStatuses).map(([status, n]) => `${n}x ${status}`).join(', ');
    why.push(`success rate ${(successRate * 100).toFixed(1)}% < ${(criteria.minSuccessRate * 100).toFixed(1)}% (${reasons}${statuses ? `; SIP ${statuses}` : ''})`);
  }
  if (criteria.maxSetupP95Seconds !== undefined && step.setupP95Seconds !== undefined && step.setupP95Seconds > criteria.maxSetupP95Seconds) {
    why.push(`setup p95 ${step.setupP95Seconds.toFixed(3)} s > ${criteria.maxSetupP95Seconds} s`);
  }
  if (criteria.minMosP5 !== undefined && (step.mosP5 === undefined || step.mosP5 < criteria.minMosP5)) {
    why.push(step.mosP5 === undefined ? 'no MOS measured' : `MOS p5 ${step.mosP5.toFixed(2)} < ${criteria.minMosP5}`);
  }
  if (step.harnessSaturated && !criteria.allowSaturation) {
    const reasons = [...new Set(summary.harness!.windows.flatMap((w) => w.reasons))].join(', ');
    why.push(`harness saturated (${reasons}; peak machine CPU ${summary.harness!.peak?.machineBusyCores.toFixed(2)} of ${summary.harness!.cores} cores): this machine, not the server, is the limit`);
  }
  step.ok = why.length === 0;
  return step;
}

export interface SearchOptions {
  scenario: Scenario;
  mode: CapacityMode;
  /** Levels to try in order, stopping at the first bad one. */
  levels: number[];
  stepSeconds: number;
  criteria: CapacityCriteria;
  /** Bisection steps between the last good and the first bad level (whole levels for concurrency). */
  refine: number;
  outDir: string;
  signal?: AbortSignal;
  /** Runs one step (runScenario in practice). */
  runStep(scenario: Scenario, outDir: string): Promise<StepRun>;
  onStep?(step: CapacityStep): void;
}

export async function searchCapacity(options: SearchOptions): Promise<CapacityReport> {
  const steps: CapacityStep[] = [];
  let stepNumber = 0;
  const tryLevel = async (level: number): Promise<CapacityStep> => {
    const outDir = join(options.outDir, `step-${String(++stepNumber).padStart(2, '0')}-${options.mode === 'concurrency' ? 'c' : 'r'}${level}`);
    const run = await options.runStep(scenarioAtLevel(options.scenario, options.mode, level, options.stepSeconds), outDir);
    const step = judgeStep(level, outDir, run, options.criteria);
    steps.push(step);
    options.onStep?.(step);
    return step;
  };
  let lastGood: CapacityStep | undefined;
  let firstBad: CapacityStep | undefined;
  for (const level of options.levels) {
    if (options.signal?.aborted) break;
    const step = await tryLevel(level);
    if (step.interrupted) break;
    if (step.ok) lastGood = step;
    else {
      firstBad = step;
      break;
    }
  }
  for (let i = 0; i < options.refine && firstBad && !options.signal?.aborted; i++) {
    const low = lastGood?.level ?? 0;
    const gap = firstBad.level - low;
    const middle = options.mode === 'concurrency' ? Math.floor((low + firstBad.level) / 2) : Number(((low + firstBad.level) / 2).toFixed(3));
    if ((options.mode === 'concurrency' && gap <= 1) || middle <= low || middle >= firstBad.level) break;
    const step = await tryLevel(middle);
    if (step.interrupted) break;
    if (step.ok) lastGood = step;
    else firstBad = step;
  }
  return {
    scenario: options.scenario.name,
    mode: options.mode,
    criteria: options.criteria,
    stepSeconds: options.stepSeconds,
    steps,
    ...(lastGood ? { lastGood } : {}),
    ...(firstBad ? { firstBad } : {}),
    reachedMax: firstBad === undefined && !options.signal?.aborted && steps.length > 0 && steps.every((s) => s.ok && !s.interrupted),
    interrupted: options.signal?.aborted ?? false,
  };
}

/** The report as lines for people. */
export function describeCapacity(report: CapacityReport): string[] {
  const unit = report.mode === 'concurrency' ? 'calls at once' : 'calls/s';
  const ms = (s: number | undefined) => (s === undefined ? '-' : `${Math.round(s * 1000)} ms`);
  const lines = [`capacity of ${report.scenario}: ${report.mode}, ${report.stepSeconds} s per step`];
  lines.push('  level  calls   ok      success  setup p50  setup p95  MOS p5  harness   verdict');
  for (const step of [...report.steps].sort((a, b) => a.level - b.level)) {
    lines.push(
      `  ${String(step.level).padStart(5)}  ${String(step.planned).padStart(5)}  ${String(step.succeeded).padStart(5)}  ${`${(step.successRate * 100).toFixed(1)}%`.padStart(7)}  ${ms(step.setupP50Seconds).padStart(9)}  ${ms(step.setupP95Seconds).padStart(9)}  ${(step.mosP5?.toFixed(2) ?? '-').padStart(6)}  ${(step.harnessSaturated ? 'SATURATED' : 'ok').padEnd(9)} ${step.ok ? 'good' : `BAD: ${step.why.join('; ')}`}`,
    );
  }
  if (report.lastGood) lines.push(`last good: ${report.lastGood.level} ${unit}`);
  else if (report.steps.length) lines.push(`last good: none (the first level already failed)`);
  if (report.firstBad) lines.push(`first bad: ${report.firstBad.level} ${unit}: ${report.firstBad.why.join('; ')}`);
  if (report.reachedMax) lines.push(`every level passed: the limit is above ${report.lastGood?.level} ${unit} (raise --max)`);
  if (report.interrupted) lines.push('interrupted');
  return lines;
}
