import { join } from 'node:path';
import type { Registry } from 'prom-client';
import { DROP_REASONS, FAILURE_REASONS, type CallResult, type LegSample, type RunEvent, type RunInfo, type StepResult } from '../results.js';
import type { Reporter } from './reporter.js';
import { writeFileAtomically } from '../common/atomicWrite.js';
import { stepLabels, type CallwrightMetrics, type ResultLabel } from '../metrics/definitions.js';
import { LegCounterDeltas } from '../metrics/legCounterDeltas.js';
import { PeriodicPush, type PeriodicPushOptions } from '../metrics/periodicPush.js';

export const METRICS_PROM = 'metrics.prom';

export interface PrometheusReporterOptions {
  registry: Registry;
  metrics: CallwrightMetrics;
  outDir: string;
  /**
   * Pushed from the run's begin on every `intervalSeconds`, and once more at the end after
   * metrics.prom is written, under `job` and `grouping` (run_id, shard: one group per shard).
   */
  pushgateway?: Omit<PeriodicPushOptions, 'warn'>;
  /** The scenario's steps in order (their kinds): each one's failure series start at 0 on the run's begin. */
  steps?: readonly { kind: string }[];
  warn: (message: string) => void;
}

/**
 * Metrics are one more reporter: the run's events update prom-client metrics
 * as they happen (for a live /metrics scrape and the periodic push), and the
 * end writes the final exposition to metrics.prom and pushes it a last time.
 */
export class PrometheusReporter implements Reporter {
  readonly name = 'prometheus';
  private readonly metrics: CallwrightMetrics;
  private readonly legDeltas = new LegCounterDeltas();
  /** Calls counted in calls_active; a call that never started (dropped) must not decrement it. */
  private readonly activeCalls = new Set<string>();
  /** Calls whose setup time was observed when they got established, so the end does not observe it twice. */
  private readonly setupObserved = new Set<string>();
  /** Latest main-thread lag per page (ms): the gauge shows the worst page. */
  private readonly pageLag = new Map<string, number>();
  private readonly pusher: PeriodicPush | undefined;

  constructor(private readonly options: PrometheusReporterOptions) {
    this.metrics = options.metrics;
    if (options.pushgateway) this.pusher = new PeriodicPush(options.registry, { ...options.pushgateway, warn: options.warn });
  }

  onBegin(info: RunInfo): void {
    this.initialiseSeries(info.scenario);
    this.pusher?.start();
  }

  onEvent(event: RunEvent): void {
    const metrics = this.metrics;
    switch (event.type) {
      case 'registration':
        metrics.registrations.inc({ scenario: event.scenario, result: event.ok ? 'success' : 'failed' });
        if (event.ok && event.seconds !== undefined) {
          observe(metrics.registrationSeconds, { scenario: event.scenario }, event.seconds);
        }
        return;
      case 'callStarted':
        metrics.callsStarted.inc({ scenario: event.scenario });
        if (!this.activeCalls.has(event.callId)) {
          this.activeCalls.add(event.callId);
          metrics.callsActive.inc({ scenario: event.scenario });
        }
        return;
      case 'callEstablished':
        // Observed now rather than at call end, so a live scrape sees setup times during long calls.
        if (observe(metrics.callSetupSeconds, { scenario: event.scenario }, event.setupSeconds)) {
          this.setupObserved.add(event.callId);
        }
        return;
      case 'sample':
        this.onSample(event.sample);
        return;
      case 'stepEnd':
        this.onStepEnd(event.step);
        return;
      case 'dtmf':
        metrics.dtmf.inc({ scenario: event.scenario, mode: event.mode, direction: event.sent ? 'send' : 'receive' });
        return;
      case 'iterationStarted':
        metrics.iterationsStarted.inc({ scenario: event.scenario });
        if (event.late) metrics.iterationsLate.inc({ scenario: event.scenario });
        if (event.plannedAtMs !== undefined) observe(metrics.iterationStartDelaySeconds, { scenario: event.scenario }, event.delaySeconds);
        return;
      case 'iterationDropped':
        metrics.iterationsDropped.inc({ scenario: event.scenario, reason: event.reason });
        return;
      case 'harness': {
        const scenario = { scenario: event.scenario };
        const sample = event.sample;
        metrics.harnessSaturated.set(scenario, event.saturated ? 1 : 0);
        if (event.saturated) metrics.harnessSaturatedSeconds.inc(scenario, sample.intervalSeconds);
        else metrics.harnessSaturatedSeconds.inc(scenario, 0);
        metrics.harnessCpuCores.set({ ...scenario, process: 'node' }, sample.nodeCpuCores);
        metrics.harnessCpuCores.set({ ...scenario, process: 'chromium' }, sample.chromiumCpuCores);
        metrics.harnessCpuCores.set({ ...scenario, process: 'chromium_busiest' }, sample.chromiumBusiestProcessCores ?? 0);
        metrics.harnessCpuCores.set({ ...scenario, process: 'machine' }, sample.machineBusyCores);
        metrics.harnessMemoryBytes.set({ ...scenario, process: 'node' }, sample.nodeRssBytes);
        metrics.harnessMemoryBytes.set({ ...scenario, process: 'chromium' }, sample.chromiumRssBytes);
        // A container's budget beside its use, only when its cgroup has a limit: two more values of
        // `process`, so a dashboard plots use against limit without a new metric. Throttling shows in
        // callwright_harness_saturated; Kubernetes' cAdvisor already counts it per container.
        if (sample.cpuLimitCores !== undefined) metrics.harnessCpuCores.set({ ...scenario, process: 'cgroup_limit' }, sample.cpuLimitCores);
        if (sample.cgroupCpuCores !== undefined) metrics.harnessCpuCores.set({ ...scenario, process: 'cgroup' }, sample.cgroupCpuCores);
        if (sample.memoryLimitBytes !== undefined) metrics.harnessMemoryBytes.set({ ...scenario, process: 'cgroup_limit' }, sample.memoryLimitBytes);
        if (sample.cgroupMemoryBytes !== undefined) metrics.harnessMemoryBytes.set({ ...scenario, process: 'cgroup' }, sample.cgroupMemoryBytes);
        metrics.harnessEventLoopLagSeconds.set(scenario, sample.eventLoopLagP99Ms / 1000);
        return;
      }
      case 'pageHealth':
        this.pageLag.set(event.pageId, event.lagMaxMs);
        metrics.harnessPageLagSeconds.set({ scenario: event.scenario }, Math.max(...this.pageLag.values()) / 1000);
        return;
      case 'dtmfBurst':
      case 'log':
      case 'sipMessage':
        return;
      default: {
        const unhandled: never = event;
        throw new Error(`unhandled event ${JSON.stringify(unhandled)}`);
      }
    }
  }

  onCallEnd(call: CallResult): void {
    const metrics = this.metrics;
    const scenario = { scenario: call.scenario };
    metrics.callsEnded.inc({ ...scenario, result: resultLabel(call), reason: call.failureReason ?? 'none' });
    if (this.activeCalls.delete(call.callId)) metrics.callsActive.dec(scenario);
    if (!this.setupObserved.delete(call.callId)) observe(metrics.callSetupSeconds, scenario, call.setupSeconds);
    observe(metrics.timeTo180Seconds, scenario, call.timeTo180Seconds);
    observe(metrics.timeToFirstAudioSeconds, scenario, call.timeToFirstAudioSeconds);
    observe(metrics.callDurationSeconds, scenario, call.durationSeconds);
    observe(metrics.callMos, scenario, call.mos);
    if (call.codecOut) metrics.callsByCodec.inc({ ...scenario, codec: call.codecOut, direction: 'send' });
    if (call.codecIn) metrics.callsByCodec.inc({ ...scenario, codec: call.codecIn, direction: 'receive' });
    if (call.oneWayAudio) metrics.oneWayAudioCalls.inc(scenario);
    if (call.harnessSaturated && call.result === 'failed') metrics.callsFailedDuringSaturation.inc(scenario);
    this.legDeltas.endCall(call.callId);
  }

  async onEnd(): Promise<void> {
    const { registry, outDir, warn } = this.options;
    try {
      await writeFileAtomically(join(outDir, METRICS_PROM), await registry.metrics());
    } finally {
      // Pushed even when the file could not be written: one output failing should not cost the other.
      const pushed = await this.pusher?.finish();
      if (pushed?.ok === false) warn(`${pushed.message} (results and ${METRICS_PROM} are in ${outDir})`);
    }
  }

  /** Stops the periodic push; for a run that broke off before its end (after onEnd there is nothing left to stop). */
  close(): void {
    this.pusher?.stop();
  }

  /**
   * The failure counters exist at 0 from the start, for every reason known up
   * front (a bounded set, per scenario: calls_ended gets 1 + 2 per failure
   * reason, steps_total 1 + 1 per failure reason for each step):
   * Prometheus's increase() needs a sample before the first failure to count
   * it, and a dashboard then shows 0 timeouts rather than no data.
   */
  private initialiseSeries(scenarioName: string): void {
    const metrics = this.metrics;
    const scenario = { scenario: scenarioName };
    // inc(0) creates a series at 0 and leaves one that already counts alone.
    for (const counter of [metrics.callsStarted, metrics.oneWayAudioCalls, metrics.callsFailedDuringSaturation, metrics.iterationsStarted, metrics.iterationsLate, metrics.harnessSaturatedSeconds]) {
      counter.inc(scenario, 0);
    }
    metrics.callsActive.inc(scenario, 0);
    metrics.harnessSaturated.inc(scenario, 0);
    metrics.callsEnded.inc({ ...scenario, result: 'success', reason: 'none' }, 0);
    for (const result of ['failed', 'failed_expected'] as const) {
      for (const reason of FAILURE_REASONS) metrics.callsEnded.inc({ ...scenario, result, reason }, 0);
    }
    for (const reason of DROP_REASONS) metrics.iterationsDropped.inc({ ...scenario, reason }, 0);
    for (const result of ['success', 'failed'] as const) metrics.registrations.inc({ ...scenario, result }, 0);
    for (const [index, { kind }] of (this.options.steps ?? []).entries()) {
      const step = { ...scenario, ...stepLabels(index, kind) };
      metrics.steps.inc({ ...step, result: 'passed', reason: 'none' }, 0);
      for (const reason of FAILURE_REASONS) metrics.steps.inc({ ...step, result: 'failed', reason }, 0);
    }
  }

  private onSample(sample: LegSample): void {
    const metrics = this.metrics;
    const labels = { scenario: sample.scenario, role: sample.role };
    const added = this.legDeltas.take(sample);
    // inc(0) still creates the series, so a role that received nothing shows 0 rather than nothing.
    metrics.mediaPacketsReceived.inc(labels, added.packetsReceived);
    metrics.mediaPacketsSent.inc(labels, added.packetsSent);
    metrics.mediaBytesReceived.inc(labels, added.bytesReceived);
    metrics.mediaBytesSent.inc(labels, added.bytesSent);
    metrics.mediaPacketsLost.inc(labels, added.packetsLost);
    observe(metrics.mediaJitterSeconds, labels, sample.jitterSeconds);
    observe(metrics.mediaRttSeconds, labels, sample.rttSeconds);
    // Video series appear with the first leg that has video: an audio-only run shows none.
    if (sample.videoFpsIn === undefined && sample.videoFreezes === undefined) return;
    observe(metrics.videoFpsIn, labels, sample.videoFpsIn);
    metrics.videoFreezes.inc(labels, added.videoFreezes);
    metrics.videoFreezeSeconds.inc(labels, added.videoFreezeSeconds);
  }

  private onStepEnd(step: StepResult): void {
    this.metrics.steps.inc({
      scenario: step.scenario,
      ...stepLabels(step.index, step.kind),
      result: step.ok ? 'passed' : 'failed',
      reason: step.ok ? 'none' : (step.failureReason ?? 'unspecified'),
    });
  }
}

function resultLabel(call: CallResult): ResultLabel {
  if (call.result === 'success') return 'success';
  return call.failureExpected ? 'failed_expected' : 'failed';
}

/** Observes a measured value; leaves out missing or broken ones. Returns whether it observed. */
function observe<Labels extends Record<string, string>>(
  histogram: { observe(labels: Labels, value: number): void },
  labels: Labels,
  value: number | undefined,
): boolean {
  if (value === undefined || !Number.isFinite(value)) return false;
  histogram.observe(labels, value);
  return true;
}
