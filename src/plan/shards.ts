/**
 * One scenario as N shards (`run --shard I/N`): each shard process runs a
 * part, and the parts together are the scenario's load, so `callwright merge`
 * can join their outputs into the run one big machine would have made.
 *
 * - Account slots: slot s goes to shard (s mod N) + 1. A slot is the s-th
 *   account of every role, so a caller and its callee stay in one shard and
 *   no account is used by two shards.
 * - Iterations: global iteration g (1-based) goes to shard ((g - 1) mod N) + 1,
 *   in both models; in the open model that is every N-th planned arrival, so
 *   the shards' arrivals interleave into exactly the single-process schedule.
 * - Shard-local iteration k is global iteration (k - 1) * N + I: call ids,
 *   hold-time draws and every output use the global number.
 * - Registration pace is divided by N, so the shards together register at
 *   load.registerRate.
 *
 * Pure: the CLI applies it to the loaded scenario before anything starts.
 */
import { InputError } from '../errors.js';
import type { ShardInfo } from '../results.js';
import type { Scenario } from '../scenario/types.js';

/** More shards than this is a typo, not a cluster. */
export const MAX_SHARDS = 10_000;

const SHARD_HINT = 'give the shard as I/N, e.g. --shard 2/10 for the second of ten shards (I from 1 to N)';

/** "I/N" -> { index: I, count: N }; `source` names where it came from (--shard, CALLWRIGHT_SHARD). */
export function parseShard(text: string, source: string): ShardInfo {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!match) throw new InputError(`${source}: "${text}" is not a shard I/N`, SHARD_HINT);
  return checkedShard(Number(match[1]), Number(match[2]), source);
}

function checkedShard(index: number, count: number, source: string): ShardInfo {
  if (count < 1 || count > MAX_SHARDS) throw new InputError(`${source}: ${count} shards; expected 1 to ${MAX_SHARDS}`, SHARD_HINT);
  if (index < 1 || index > count) throw new InputError(`${source}: shard ${index} of ${count} does not exist (shards are numbered 1 to ${count})`, SHARD_HINT);
  return { index, count };
}

/**
 * The shard from the environment, so a Kubernetes Indexed Job needs no wrapper
 * script: CALLWRIGHT_SHARD=I/N, or CALLWRIGHT_SHARDS=N with the Job's
 * JOB_COMPLETION_INDEX (0-based: shard = index + 1). Undefined when neither is set.
 */
export function shardFromEnvironment(env: Readonly<Record<string, string | undefined>>): ShardInfo | undefined {
  const shard = env.CALLWRIGHT_SHARD?.trim();
  if (shard) return parseShard(shard, 'CALLWRIGHT_SHARD');
  const shards = env.CALLWRIGHT_SHARDS?.trim();
  if (!shards) return undefined;
  if (!/^\d+$/.test(shards)) throw new InputError(`CALLWRIGHT_SHARDS: "${shards}" is not a number of shards`, 'set it to the Job\'s completions, e.g. CALLWRIGHT_SHARDS=10');
  const completionIndex = env.JOB_COMPLETION_INDEX?.trim();
  if (completionIndex === undefined || completionIndex === '') {
    throw new InputError(
      'CALLWRIGHT_SHARDS is set but JOB_COMPLETION_INDEX is not',
      'run it as a Kubernetes Job with completionMode: Indexed (which sets JOB_COMPLETION_INDEX), or set CALLWRIGHT_SHARD=I/N',
    );
  }
  if (!/^\d+$/.test(completionIndex)) throw new InputError(`JOB_COMPLETION_INDEX: "${completionIndex}" is not an index`, 'Kubernetes sets it to 0, 1, ... in an Indexed Job');
  return checkedShard(Number(completionIndex) + 1, Number(shards), 'CALLWRIGHT_SHARDS and JOB_COMPLETION_INDEX');
}

/** How many of the items 0..total-1 fall to this shard (item i goes to shard (i mod N) + 1). */
export function shardShare(total: number, shard: ShardInfo): number {
  return total < shard.index ? 0 : Math.floor((total - shard.index) / shard.count) + 1;
}

/** The global number (1-based) of this shard's k-th iteration (1-based). */
export function globalIteration(local: number, shard: ShardInfo | undefined): number {
  return shard ? (local - 1) * shard.count + shard.index : local;
}

/** The global slot (0-based) of this shard's j-th slot (0-based). */
export function globalSlot(local: number, shard: ShardInfo | undefined): number {
  return shard ? local * shard.count + shard.index - 1 : local;
}

/** Whether the item with this 0-based global index belongs to the shard. */
export function inShard(globalIndex: number, shard: ShardInfo | undefined): boolean {
  return !shard || globalIndex % shard.count === shard.index - 1;
}

/**
 * The shard's part of a scenario whose overrides are applied (its concurrency
 * is the run's number of slots). Roles keep only the shard's slots' accounts,
 * in slot order, so shard-local slot j uses global slot j * N + I - 1.
 * load.shard tells the plan to keep every N-th arrival.
 */
export function shardScenario(scenario: Scenario, shard: ShardInfo): Scenario {
  const load = scenario.load;
  const slots = shardShare(load.concurrency, shard);
  const roles = Object.fromEntries(
    Object.entries(scenario.roles).map(([name, role]) => [
      name,
      { ...role, accounts: Array.from({ length: slots }, (_, local) => role.accounts[globalSlot(local, shard)]!) },
    ]),
  );
  return {
    ...scenario,
    roles,
    load: {
      ...load,
      concurrency: slots,
      // Closed model: the shard's share of the global iterations. Open model: iterations stays the global
      // limit on arrivals, and the plan keeps this shard's share of them (load.shard).
      ...(load.model === 'closed' && load.iterations !== undefined ? { iterations: shardShare(load.iterations, shard) } : {}),
      registerRate: load.registerRate / shard.count,
      shard,
    },
  };
}
