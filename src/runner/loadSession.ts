/**
 * The load side of a run, kept out of run.ts: the plan, the scheduler, paced
 * registration, page recycling, the watchdog and stats.csv. run.ts creates
 * one and calls it at the few points where load matters.
 */
import type { Logger } from '../log.js';
import { holdSecondsFor } from '../plan/holdTime.js';
import { planLoad, targetRate, type LoadPlan } from '../plan/loadPlan.js';
import { globalIteration } from '../plan/shards.js';
import type { CallResult, HarnessSummary, LoadSummary, RunEvent } from '../results.js';
import type { Reporter } from '../report/reporter.js';
import type { Scenario } from '../scenario/types.js';
import type { AgentDirectory } from './agentDirectory.js';
import { PageRecycler, type RetiringPool } from './pageRecycler.js';
import { PeriodicStatsReporter } from '../report/statsCsv.js';
import type { RunState } from './runState.js';
import { runSchedule, type IterationStart, type ScheduleOutcome, type SchedulePlan } from './scheduler.js';
import { preRegister } from './warmup.js';
import { CPU_SAMPLES_IN_A_ROW, HarnessWatchdog } from '../watchdog/watchdog.js';

interface PendingCall {
  call: CallResult;
  endMs: number;
  /** Watchdog samples taken since the call ended. */
  samplesAfter: number;
  report: (call: CallResult) => void;
}

/** Registrations up front may take this long in all before calls start anyway. */
const WARM_UP_TIMEOUT_MS = 30_000;

export class LoadSession {
  readonly plan: LoadPlan;
  readonly stats: PeriodicStatsReporter;
  private watchdog: HarnessWatchdog | undefined;
  private recycler: PageRecycler | undefined;
  private outcome: ScheduleOutcome | undefined;
  private pendingCalls: PendingCall[] = [];

  constructor(
    private readonly scenario: Scenario,
    outDir: string,
    private readonly logger: Logger,
  ) {
    this.plan = planLoad(scenario);
    for (const warning of this.plan.warnings) logger.warn(warning);
    this.stats = new PeriodicStatsReporter({
      outDir,
      periodSeconds: scenario.load.statsPeriodSeconds,
      targetRate: (seconds) => targetRate(scenario.load, seconds),
    });
  }

  /** Reporters the run adds to its own. */
  get reporters(): Reporter[] {
    return [this.stats];
  }

  /** Starts sampling the harness (Node, the browsers under these PIDs, the machine). */
  startWatchdog(browserPids: () => readonly number[], emit: (event: RunEvent) => void): void {
    this.watchdog = new HarnessWatchdog(this.scenario.options.watchdog, browserPids, {
      onSample: (sample, saturated, reasons) => {
        emit({ type: 'harness', atMs: sample.atMs, scenario: this.scenario.name, sample, saturated, reasons });
        this.onWatchdogSample(sample.atMs);
      },
    });
    this.watchdog.start();
  }

  pageRecycler(pool: RetiringPool): PageRecycler {
    this.recycler = new PageRecycler(pool, this.scenario.options.pageRecycleAfter, (message) => this.logger.debug(message));
    return this.recycler;
  }

  /** Registers every slot's accounts up front when the plan says so. */
  async warmUp(agents: AgentDirectory, state: RunState, signal: AbortSignal): Promise<void> {
    const { plan } = this;
    if (!plan.preRegister || plan.registerRoles.length === 0) return;
    const result = await preRegister({ roles: plan.registerRoles, slots: plan.slots, rate: this.scenario.load.registerRate, agents, state, signal, timeoutMs: WARM_UP_TIMEOUT_MS });
    const line = `registered ${result.registered}/${result.agents} user agents up front in ${result.seconds.toFixed(1)} s`;
    if (result.failed > 0) this.logger.warn(`${line}; ${result.failed} failed (their register steps try again)`);
    else this.logger.info(line);
  }

  /** Runs the iterations as the load model says; late and dropped starts go out as events. */
  async schedule(signal: AbortSignal, emit: (event: RunEvent) => void, runOne: (start: IterationStart) => Promise<void>): Promise<ScheduleOutcome> {
    const load = this.scenario.load;
    const plan: SchedulePlan =
      load.model === 'closed'
        ? { model: 'closed', concurrency: load.concurrency, iterations: load.iterations, durationSeconds: load.durationSeconds, gracefulStopSeconds: load.gracefulStopSeconds }
        : {
            model: 'open',
            arrivalsSeconds: this.plan.arrivalsSeconds ?? [],
            maxConcurrent: load.concurrency,
            gracefulStopSeconds: load.gracefulStopSeconds,
            lateAfterSeconds: load.lateAfterSeconds,
            dropAfterSeconds: load.dropAfterSeconds,
          };
    this.watchdog?.arm();
    this.stats.startClock();
    const scenario = this.scenario.name;
    // A shard numbers its iterations as the whole run does (src/plan/shards.ts): call ids stay unique across shards.
    const global = (iteration: number) => globalIteration(iteration, load.shard);
    this.outcome = await runSchedule(plan, {
      signal,
      hooks: {
        onStarted: (start) => emit({ type: 'iterationStarted', atMs: Date.now(), scenario, iteration: global(start.iteration), plannedAtMs: start.plannedAtMs, delaySeconds: start.delaySeconds, late: start.late }),
        onDropped: (drop) => emit({ type: 'iterationDropped', atMs: Date.now(), scenario, plannedAtMs: drop.plannedAtMs, reason: drop.reason }),
      },
    }, (start) => runOne({ ...start, iteration: global(start.iteration) }));
    if (this.outcome.late > 0 || this.outcome.dropped > 0) {
      const dropped = Object.entries(this.outcome.droppedByReason).filter(([, n]) => n > 0).map(([reason, n]) => `${n} ${reason}`).join(', ');
      this.logger.warn(`starts: ${this.outcome.late} late, ${this.outcome.dropped} dropped${dropped ? ` (${dropped})` : ''}`);
    }
    if (this.outcome.gracefulStopExpired) this.logger.warn(`iterations still running ${load.gracefulStopSeconds} s after the last start were stopped (load.gracefulStop)`);
    return this.outcome;
  }

  /** The hold time of an iteration's `wait: holdTime` steps. */
  holdSeconds(iteration: number): number | undefined {
    const { holdTime, seed } = this.scenario.load;
    return holdTime === undefined ? undefined : holdSecondsFor(holdTime, seed, iteration);
  }

  /**
   * Reports a call once the watchdog has judged the time it ran, flagged if it
   * overlapped a saturated time. Saturation is known only a sample or two
   * after it began (CPU must stay high for CPU_SAMPLES_IN_A_ROW samples), so a
   * call that failed as the harness tipped over would otherwise go unflagged;
   * reports wait at most that many watchdog intervals.
   */
  settleCall(call: CallResult, report: (call: CallResult) => void): void {
    const endMs = Math.max(Date.now(), call.startedAtMs + ((call.setupSeconds ?? 0) + (call.durationSeconds ?? 0)) * 1000);
    if (!this.watchdog?.running) {
      report(this.markSaturation(call, endMs));
      return;
    }
    this.pendingCalls.push({ call, endMs, samplesAfter: 0, report });
  }

  /** Reports every call still waiting for the watchdog (the run is ending). */
  flushCalls(): void {
    const pending = this.pendingCalls.splice(0);
    for (const entry of pending) entry.report(this.markSaturation(entry.call, entry.endMs));
  }

  private onWatchdogSample(atMs: number): void {
    const ready: PendingCall[] = [];
    this.pendingCalls = this.pendingCalls.filter((entry) => {
      if (atMs > entry.endMs) entry.samplesAfter++;
      if (entry.samplesAfter < CPU_SAMPLES_IN_A_ROW) return true;
      ready.push(entry);
      return false;
    });
    for (const entry of ready) entry.report(this.markSaturation(entry.call, entry.endMs));
  }

  /** Flags a call that overlapped a time the harness was saturated. */
  private markSaturation(call: CallResult, endMs: number): CallResult {
    if (this.watchdog?.saturatedBetween(call.startedAtMs, endMs)) call.harnessSaturated = true;
    return call;
  }

  /** Saturated windows so far: what the `harness_saturated` threshold counts. */
  saturatedWindows(): number {
    return this.watchdog?.windowCount ?? 0;
  }

  /** Stops sampling and the stats timer; the last stats row is written at the reporters' end. */
  stop(): void {
    this.watchdog?.stop();
    this.flushCalls();
  }

  loadSummary(): LoadSummary | undefined {
    const outcome = this.outcome;
    if (!outcome) return undefined;
    return {
      model: this.plan.model,
      slots: this.plan.slots,
      late: outcome.late,
      droppedByReason: outcome.droppedByReason,
      startDelaySeconds: outcome.startDelaySeconds,
      peakConcurrent: outcome.peakConcurrent,
    };
  }

  harnessSummary(calls: readonly CallResult[]): HarnessSummary | undefined {
    const failedDuring = calls.filter((call) => call.result === 'failed' && call.harnessSaturated).length;
    const summary = this.watchdog?.summary(failedDuring);
    if (summary?.saturated) {
      const reasons = [...new Set(summary.windows.flatMap((w) => w.reasons))].join(', ');
      const cgroup = summary.cgroup;
      // In a container the limit, not the node, is the budget: say what it was.
      const budget = cgroup?.cpuLimitCores === undefined ? '' : `; its cgroup allows ${cgroup.cpuLimitCores.toFixed(2)} cores, throttled ${(cgroup.cpuThrottledSeconds ?? 0).toFixed(0)} s`;
      this.logger.warn(
        `HARNESS SATURATED for ${summary.saturatedSeconds.toFixed(0)} s (${reasons}; peak machine CPU ${summary.peak?.machineBusyCores.toFixed(2)} of ${summary.cores} cores, event-loop lag p99 ${summary.peak?.eventLoopLagP99Ms.toFixed(0)} ms): ${failedDuring} failed call(s) overlap it; results then measure this machine, not the server${budget}`,
      );
    }
    return summary;
  }
}
