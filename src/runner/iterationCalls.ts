/**
 * One iteration, start to end: its steps run, what is still up hung up, and
 * then each of its calls, placed or not, built into a CallResult and
 * reported once the watchdog has judged the time it ran.
 */
import { buildCallResult, type CallJudgement } from '../calls/callResult.js';
import type { CallRecord } from '../calls/callRecord.js';
import type { Logger } from '../log.js';
import type { CallResult, RunEvent, StepResult } from '../results.js';
import type { Scenario } from '../scenario/types.js';
import type { AgentDirectory } from './agentDirectory.js';
import { IterationRunner } from './iteration.js';
import type { LoadSession } from './loadSession.js';
import { unreachedCalls } from './plannedCalls.js';
import type { RunState } from './runState.js';
import type { IterationStart } from './scheduler.js';

/** How long a finished iteration waits for the answers to its BYEs before its calls are reported. */
const BYE_ANSWER_WAIT_MS = 2_000;

export interface IterationContext {
  scenario: Scenario;
  state: RunState;
  agents: AgentDirectory;
  load: LoadSession;
  logger: Logger;
  emit(event: RunEvent): void;
  /** Every step result of the run, in the order they ended. */
  steps: StepResult[];
  /** Reports a finished call: the run's list, its SIP log, every reporter. */
  reportCall(call: CallResult): void;
  /** Roles' impaired networks, for `network` steps. */
  networks?: { switchTo(role: string, profile: string): Promise<string> };
}

/** Runs one iteration; true when every step passed. */
export async function runIteration(start: Omit<IterationStart, 'plannedAtMs' | 'delaySeconds' | 'late'>, context: IterationContext): Promise<boolean> {
  const { scenario, state, agents, load, logger, emit, steps } = context;
  const { iteration, slot, signal } = start;
  const runner = new IterationRunner({
    scenario,
    iteration,
    slot,
    state,
    agents,
    // Aborts with the run, or when load.gracefulStop runs out after the last start.
    signal,
    holdSeconds: load.holdSeconds(iteration),
    ...(context.networks ? { networks: context.networks } : {}),
    onStepEnd: (step) => {
      steps.push(step);
      emit({ type: 'stepEnd', step });
      const line = `${step.ok ? 'ok  ' : 'FAIL'} #${iteration} ${step.name}${step.detail ? `: ${step.detail}` : ''}`;
      if (step.ok) logger.debug(line);
      else logger.warn(line);
    },
    onCallStarted: (call) => emit({ type: 'callStarted', atMs: call.startedAtMs, scenario: scenario.name, callId: call.key, callerRole: call.callerRole }),
  });
  const ok = await runner.run();
  await runner.cleanup();
  await reportIterationCalls(runner, start, context);
  return ok;
}

/** The iteration's calls, placed or not, each reported once. */
async function reportIterationCalls(runner: IterationRunner, start: { iteration: number; slot: number; signal: AbortSignal }, context: IterationContext): Promise<void> {
  const { scenario, state, agents, steps } = context;
  const placed = [...runner.calls.values()];
  // A leg ends as its BYE leaves; the BYE's answer (the disconnect delay) comes a moment later.
  const byesPending = () => placed.flatMap((call) => state.legsOf(call)).some((leg) => leg.wire?.byeSentAtMs !== undefined && leg.wire.byeAnsweredAtMs === undefined);
  await state.waitFor(() => !byesPending(), BYE_ANSWER_WAIT_MS);
  for (const call of placed) {
    if (start.signal.aborted && !call.failure && !state.legs.get(call.callerLegId)?.established) {
      call.failure = { reason: 'interrupted', detail: 'run stopped before the call was established' };
    }
  }
  const stoppedBy = steps.findLast((step) => step.iteration === start.iteration && !step.ok);
  const notPlaced = unreachedCalls({ scenario, iteration: start.iteration, slot: start.slot, made: new Set(runner.calls.keys()), agents, stoppedBy, interrupted: start.signal.aborted });
  for (const call of [...placed, ...notPlaced]) finishCall(call, context);
  for (const call of placed) state.forget(call);
}

function finishCall(call: CallRecord, context: IterationContext): void {
  if (call.reported) return;
  call.reported = true;
  const { scenario, state, load } = context;
  // A call failing while a page of its legs lagged past the watchdog's bound is the harness's.
  const judge: CallJudgement = {
    pageLagMs: (pageId, fromMs, toMs) => state.pageHealth.worstLagMs(pageId, fromMs, toMs),
    stalledLagMs: scenario.options.watchdog.eventLoopLagMs,
  };
  const built = buildCallResult(scenario.name, call, state.legs.get(call.callerLegId), call.calleeLegId ? state.legs.get(call.calleeLegId) : undefined, judge);
  // Reported once the watchdog has judged the call's time (harness saturation is known a sample or two late).
  load.settleCall(built, (settled) => context.reportCall(settled));
}
