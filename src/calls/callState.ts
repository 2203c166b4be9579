/**
 * The state of a call as the runner sees it, from its caller leg.
 *
 *   created --INVITE sent--> calling --18x--> ringing --200 OK--> established
 *      |                        |                |                     |
 *      |                        +----------------+--final error--> failed
 *      |                                                               |
 *      +------------------- command failed / page lost ----------> failed
 *                                                        BYE (either side)
 *                                       established ---------------> ended
 *
 * `failed` is a call that never got established; `ended` one that did and
 * then hung up. Both are final.
 */
export const CallState = {
  created: 'created',
  calling: 'calling',
  ringing: 'ringing',
  established: 'established',
  failed: 'failed',
  ended: 'ended',
} as const;
export type CallState = (typeof CallState)[keyof typeof CallState];

import type { LegRecord } from './legRecord.js';

export function callStateOf(leg: LegRecord): CallState {
  if (leg.ended) return leg.established ? CallState.ended : CallState.failed;
  if (leg.established) return CallState.established;
  if (leg.firstProgressAtMs !== undefined) return CallState.ringing;
  if (leg.inviteSentAtMs !== undefined) return CallState.calling;
  return CallState.created;
}
