/**
 * What the runner knows of one call while it runs: who calls whom, its legs,
 * and a failure a step pinned on it. callResult.ts turns it (with its legs)
 * into the CallResult every output reports.
 */
import type { FailureReason } from '../results.js';

export interface CallRecord {
  /** callKey(): `<iteration>.<call name>`, the call id of every output. */
  key: string;
  name: string;
  iteration: number;
  callerRole: string;
  calleeRole: string | undefined;
  calleeAgentId: string | undefined;
  from: string;
  to: string;
  startedAtMs: number;
  callerLegId: string;
  calleeLegId: string | undefined;
  /** Set by a failing step that was about this call. */
  failure: { reason: FailureReason; detail: string } | undefined;
  /** A passing expect step asked for this call to fail. */
  failureExpected: boolean;
  /** The answer delay the scenario configured for this call's callee (answer step or autoAnswer). */
  answerDelaySeconds?: number;
  reported: boolean;
}

/** The call id in every output: unique in a run, and across the shards of one (iterations are numbered run-wide). */
export function callKey(iteration: number, callName: string): string {
  return `${iteration}.${callName}`;
}

/** The id of the leg a caller places; incoming legs get theirs from the page. */
export function outgoingLegId(iteration: number, callName: string, callerRole: string): string {
  return `${callKey(iteration, callName)}.${callerRole}`;
}

/** A call just placed (or never placed, with `failure`): nothing known of its callee's leg yet. */
export function newCallRecord(
  call: Pick<CallRecord, 'iteration' | 'name' | 'callerRole' | 'calleeRole' | 'calleeAgentId' | 'from' | 'to' | 'startedAtMs' | 'callerLegId'> & { failure?: CallRecord['failure'] },
): CallRecord {
  return { ...call, key: callKey(call.iteration, call.name), calleeLegId: undefined, failure: call.failure, failureExpected: false, reported: false };
}
