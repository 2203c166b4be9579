import type { FailureReason, StepResult } from '../results.js';
import type { Scenario, Step } from '../scenario/types.js';
import type { AgentDirectory } from './agentDirectory.js';
import { newCallRecord, outgoingLegId, type CallRecord } from '../calls/callRecord.js';

interface PlannedCall {
  name: string;
  callerRole: string;
  calleeRole: string | undefined;
  /** A role's address, or a URI outside callwright. */
  to: { role: string } | { uri: string };
}

/** The calls one pass of the steps makes: every call step, and the new call of every transfer. */
export function plannedCalls(steps: readonly Step[]): PlannedCall[] {
  const planned: PlannedCall[] = [];
  for (const step of steps) {
    if (step.kind === 'call') {
      planned.push({ name: step.call, callerRole: step.from, calleeRole: 'role' in step.to ? step.to.role : undefined, to: step.to });
    } else if (step.kind === 'answer' && step.incoming) {
      // A call from a device outside callwright, named by the step that answers it (see OUTSIDE_CALLER_ROLE in iteration.ts).
      planned.push({ name: step.call, callerRole: '(outside)', calleeRole: step.role, to: { role: step.role } });
    } else if (step.kind === 'transfer') {
      // The transferee (the other party of the transferred call) places the new call.
      const original = planned.find((call) => call.name === step.call);
      const transferee = original && (original.callerRole === step.role ? original.calleeRole : original.callerRole);
      if (transferee) planned.push({ name: step.newCall, callerRole: transferee, calleeRole: 'role' in step.to ? step.to.role : undefined, to: step.to });
    }
  }
  return planned;
}

/**
 * Every planned call of an iteration appears in calls.csv exactly once: the
 * ones its steps never got to (an earlier step failed, the run was stopped)
 * are reported failed, with the reason of the step that stopped it.
 */
export function unreachedCalls(p: {
  scenario: Scenario;
  iteration: number;
  slot: number;
  made: ReadonlySet<string>;
  agents: AgentDirectory;
  /** The step that ended the iteration early, if one failed. */
  stoppedBy: StepResult | undefined;
  interrupted: boolean;
}): CallRecord[] {
  const nowMs = Date.now();
  return plannedCalls(p.scenario.steps)
    .filter((call) => !p.made.has(call.name))
    .map((call) => {
      const failure: { reason: FailureReason; detail: string } = p.stoppedBy
        ? { reason: p.stoppedBy.failureReason ?? 'command_failed', detail: `not placed: step ${p.stoppedBy.index + 1} (${p.stoppedBy.name}) failed${p.stoppedBy.detail ? `: ${p.stoppedBy.detail}` : ''}` }
        : p.interrupted
          ? { reason: 'interrupted', detail: 'not placed: the run was stopped first' }
          : { reason: 'command_failed', detail: 'not placed' };
      return newCallRecord({
        iteration: p.iteration,
        name: call.name,
        callerRole: call.callerRole,
        calleeRole: call.calleeRole,
        calleeAgentId: call.calleeRole ? p.agents.agentIdFor(call.calleeRole, p.slot) : undefined,
        from: p.scenario.roles[call.callerRole] ? p.agents.addressOf(call.callerRole, p.slot) : '',
        to: 'role' in call.to ? p.agents.addressOf(call.to.role, p.slot) : p.agents.resolveUri(call.to.uri),
        startedAtMs: nowMs,
        callerLegId: outgoingLegId(p.iteration, call.name, call.callerRole),
        failure,
      });
    });
}
