/**
 * A made-up run with known figures, for tests of verdicts and reports: no
 * browser, no SIP, numbers chosen so percentiles are easy to check by hand.
 */
import type { CallResult, FailureReason, LegSample, RunSummary, StepResult } from '../../src/results.js';

export const RUN_START_MS = Date.parse('2025-03-01T10:00:00.000Z');

export function call(overrides: Partial<CallResult> & { iteration: number }): CallResult {
  const { iteration } = overrides;
  return {
    callId: `${iteration}.main`,
    scenario: 'smoke',
    name: 'main',
    callerRole: 'alice',
    calleeRole: 'bob',
    from: 'sip:alice@lab.test',
    to: 'sip:bob@lab.test',
    startedAtMs: RUN_START_MS + iteration * 1000,
    result: 'success',
    failureExpected: false,
    oneWayAudio: false,
    ...overrides,
  };
}

export function step(overrides: Partial<StepResult> & { iteration: number; index: number; name: string }): StepResult {
  return {
    scenario: 'smoke',
    kind: overrides.name.split(' ')[0]!,
    ok: true,
    startedAtMs: RUN_START_MS + overrides.iteration * 1000 + overrides.index * 100,
    durationSeconds: 0.1,
    ...overrides,
  };
}

export interface SyntheticRun {
  summary: RunSummary;
  calls: CallResult[];
  steps: StepResult[];
  samples: LegSample[];
}

/**
 * `count` calls (default 100): call i (1-based) has setup i*10 ms, so setup
 * p(95) is 950.5 ms by linear interpolation, avg 505 ms, min 10 ms, max 1 s.
 * MOS 4.4 except every 10th call at 3.0 (avg 4.26, min 3.0). `failed` of the
 * last calls fail with the given reasons (they have no setup time then).
 */
export function syntheticRun(options: { count?: number; failed?: FailureReason[]; slowdown?: number; lossRatio?: number } = {}): SyntheticRun {
  const count = options.count ?? 100;
  const failedReasons = options.failed ?? [];
  const slowdown = options.slowdown ?? 1;
  const lossRatio = options.lossRatio ?? 0.002;
  const calls: CallResult[] = [];
  const steps: StepResult[] = [];
  const samples: LegSample[] = [];
  for (let iteration = 1; iteration <= count; iteration++) {
    const failureIndex = iteration - (count - failedReasons.length) - 1;
    const failureReason = failureIndex >= 0 ? failedReasons[failureIndex] : undefined;
    const startedAtMs = RUN_START_MS + iteration * 500;
    if (failureReason) {
      calls.push(
        call({
          iteration,
          startedAtMs,
          result: 'failed',
          failureReason,
          sipStatus: failureReason === 'sip_status' ? 486 : undefined,
          failureDetail: failureReason === 'sip_status' ? 'expected 200, got 486 "Busy Here"' : `call failed: ${failureReason}`,
          oneWayAudio: failureReason === 'no_media',
        }),
      );
    } else {
      calls.push(
        call({
          iteration,
          startedAtMs,
          timeTo180Seconds: (iteration * 5 * slowdown) / 1000,
          setupSeconds: (iteration * 10 * slowdown) / 1000,
          timeToFirstAudioSeconds: 0.05 * slowdown,
          durationSeconds: 3,
          codecIn: 'opus',
          codecOut: 'opus',
          mos: iteration % 10 === 0 ? 3.0 : 4.4,
          jitterSeconds: 0.002 + (iteration % 5) / 1000,
          packetLossRatio: lossRatio,
          packetsLost: Math.round(lossRatio * 150),
          rttSeconds: 0.02,
          farEndLossRatio: lossRatio / 2,
          farEndJitterSeconds: 0.003,
        }),
      );
    }
    const callStepFailed = failureReason !== undefined;
    steps.push(step({ iteration, index: 0, name: 'register alice, bob', kind: 'register', startedAtMs, durationSeconds: 0.05 }));
    steps.push(
      step({
        iteration,
        index: 1,
        name: 'call alice->bob',
        kind: 'call',
        call: 'main',
        startedAtMs: startedAtMs + 50,
        durationSeconds: callStepFailed ? 0.2 : (iteration * 10) / 1000,
        ok: !callStepFailed,
        ...(callStepFailed
          ? { failureReason, sipStatus: failureReason === 'sip_status' ? 486 : undefined, detail: failureReason === 'sip_status' ? 'expected 200, got 486 "Busy Here" <&>' : `${failureReason}` }
          : {}),
      }),
    );
    if (!callStepFailed) {
      steps.push(step({ iteration, index: 2, name: 'dtmf 123# from alice (rfc4733)', kind: 'dtmf', call: 'main', startedAtMs: startedAtMs + 500, durationSeconds: 0.6 }));
      steps.push(step({ iteration, index: 3, name: 'hangup alice', kind: 'hangup', call: 'main', startedAtMs: startedAtMs + 3000, durationSeconds: 0.02 }));
      for (let second = 0; second < 3; second++) {
        samples.push({
          atMs: startedAtMs + 1000 + second * 1000,
          scenario: 'smoke',
          callId: `${iteration}.main`,
          legId: `leg-${iteration}-a`,
          role: 'alice',
          direction: 'outgoing',
          codecIn: 'opus',
          codecOut: 'opus',
          packetsReceived: 50 * (second + 1),
          packetsSent: 50 * (second + 1),
          bytesReceived: 8000 * (second + 1),
          bytesSent: 8000 * (second + 1),
          packetsLost: Math.round(lossRatio * 50 * (second + 1)) + (iteration % 7 === 0 ? second : 0),
          inPacketRate: 50,
          outPacketRate: 50,
          jitterSeconds: 0.002 + (iteration % 5) / 1000 + second / 1000,
          rttSeconds: 0.02 + (iteration % 3) / 1000,
          audioLevel: 0.1,
          audioEnergyRate: 0.01,
          concealedRatio: 0,
          lossRatio: lossRatio,
          remotePacketsLost: second,
          remoteLossRatio: second / (50 * (second + 1)),
          remoteFractionLost: second === 0 ? 0 : 0.0078125,
          remoteJitterSeconds: 0.003,
          ...(iteration % 2 === 0 ? { networkProfile: 'lossy, "3g"' } : {}),
        });
      }
    }
  }
  const endedAtMs = RUN_START_MS + count * 500 + 4000;
  const info: RunSummary['info'] = {
    runId: 'run-1',
    scenario: 'smoke',
    scenarioFile: 'scenarios/smoke.yaml',
    startedAtMs: RUN_START_MS,
    target: { url: 'ws://127.0.0.1:5066', domain: 'lab.test', embedded: true },
    outDir: '/tmp/out',
    plannedIterations: count,
    concurrency: 5,
  };
  return { summary: summaryOf(info, endedAtMs, calls, steps), calls, steps, samples };
}

/** The summary the runner would make of these calls and steps (one call and two registrations per iteration). */
function summaryOf(info: RunSummary['info'], endedAtMs: number, calls: readonly CallResult[], steps: readonly StepResult[]): RunSummary {
  const failedCalls = calls.filter((c) => c.result === 'failed');
  const byReason: RunSummary['calls']['byReason'] = {};
  for (const c of failedCalls) byReason[c.failureReason!] = (byReason[c.failureReason!] ?? 0) + 1;
  const failedSteps = steps.filter((s) => !s.ok).length;
  return {
    info,
    endedAtMs,
    durationSeconds: (endedAtMs - info.startedAtMs) / 1000,
    interrupted: false,
    iterations: { planned: calls.length, started: calls.length, passed: calls.length - failedCalls.length, failed: failedCalls.length, dropped: 0 },
    calls: { total: calls.length, succeeded: calls.length - failedCalls.length, failed: failedCalls.length, failedExpected: 0, byReason },
    steps: { total: steps.length, passed: steps.length - failedSteps, failed: failedSteps },
    registrations: { attempted: calls.length * 2, succeeded: calls.length * 2 },
    exitCode: failedSteps > 0 || failedCalls.length > 0 ? 1 : 0,
  };
}

/**
 * The run as `run --shard I/N` would have made it in `count` shards:
 * iteration g goes to shard ((g - 1) mod count) + 1, with its calls, steps
 * and samples (in time order, as a run writes them); each shard's summary
 * counts its own. Shard 1 starts with the
 * run and the last shard ends with it; the others start and end 10 ms apart
 * inside it, so the merged span is the run's.
 */
export function splitRun(run: SyntheticRun, count: number): SyntheticRun[] {
  const shardOf = (iteration: number) => ((iteration - 1) % count) + 1;
  const iterationOfCall = new Map(run.calls.map((c) => [c.callId, c.iteration]));
  return Array.from({ length: count }, (_, offset) => {
    const index = offset + 1;
    const calls = run.calls.filter((c) => shardOf(c.iteration) === index);
    const steps = run.steps.filter((s) => shardOf(s.iteration) === index);
    // A run writes samples as they come: in time order (syntheticRun lists them call by call).
    const samples = run.samples.filter((sample) => shardOf(iterationOfCall.get(sample.callId) ?? 0) === index).sort((a, b) => a.atMs - b.atMs);
    const info: RunSummary['info'] = {
      ...run.summary.info,
      startedAtMs: run.summary.info.startedAtMs + offset * 10,
      plannedIterations: calls.length,
      // Slot s goes to shard (s mod N) + 1.
      concurrency: run.summary.info.concurrency < index ? 0 : Math.floor((run.summary.info.concurrency - index) / count) + 1,
      shard: { index, count },
    };
    return { summary: summaryOf(info, run.summary.endedAtMs - (count - index) * 10, calls, steps), calls, steps, samples };
  });
}
