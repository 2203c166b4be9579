/**
 * The plan of a run, before anything starts: which model, how many account
 * slots, when each iteration arrives (open model), who is paired with whom,
 * and where user agents go. Pure, so `callwright run --dry-run` prints it and
 * tests check it without a browser.
 */
import type { Load, Scenario } from '../scenario/types.js';
import { arrivalTimes, expectedArrivals, rateAt } from './arrivals.js';
import { describeHoldTime, meanHoldSeconds } from './holdTime.js';
import { planPlacement, type Placement } from './placement.js';
import { globalSlot, inShard } from './shards.js';
import { pairSlots } from './slots.js';

export interface LoadPlan {
  model: Load['model'];
  /** Account slots: iterations that can run at once. */
  slots: number;
  /** Open model: every arrival, seconds from the start. Closed: undefined. */
  arrivalsSeconds?: number[];
  /** Iterations planned; undefined when only the duration bounds a closed run. */
  plannedIterations?: number;
  durationSeconds?: number;
  /** Roles registered by the scenario's register steps: registered up front when preRegister is on. */
  registerRoles: string[];
  preRegister: boolean;
  /** SIP user agents the run may create: one per role and slot. */
  agents: number;
  placement: Placement;
  /** Open model, with a hold time: calls expected at once at the peak rate (Little's law), to compare with the cap. */
  expectedPeakConcurrent?: number;
  warnings: string[];
}

/** Setup and teardown around the held part of a call, for estimates only. */
const CALL_OVERHEAD_SECONDS = 1;

export function planLoad(scenario: Scenario): LoadPlan {
  const load = scenario.load;
  const roles = Object.keys(scenario.roles);
  const registerRoles = [...new Set(scenario.steps.flatMap((step) => (step.kind === 'register' ? step.roles : [])))];
  const slots = load.concurrency;
  const agents = slots * roles.length;
  const placement = planPlacement({ agents, agentsPerPage: scenario.options.agentsPerPage, pagesPerBrowser: scenario.options.pagesPerBrowser });
  const warnings = [...placement.warnings];
  const plan: LoadPlan = { model: load.model, slots, registerRoles, preRegister: load.preRegister, agents, placement, warnings };
  if (load.durationSeconds !== undefined) plan.durationSeconds = load.durationSeconds;
  if (load.model === 'closed') {
    if (load.iterations !== undefined) plan.plannedIterations = load.iterations;
    return plan;
  }
  // A shard keeps every N-th arrival of the whole run's plan: the shards' arrivals interleave into it exactly.
  const arrivals = arrivalTimes(load.phases, { arrivals: load.arrivals, seed: load.seed, limit: load.iterations }).filter((_, index) => inShard(index, load.shard));
  plan.arrivalsSeconds = arrivals;
  plan.plannedIterations = arrivals.length;
  if (load.holdTime) {
    const peakRate = Math.max(...load.phases.flatMap((phase) => [phase.rate, phase.endRate])) / (load.shard?.count ?? 1);
    plan.expectedPeakConcurrent = peakRate * (meanHoldSeconds(load.holdTime) + CALL_OVERHEAD_SECONDS);
    if (plan.expectedPeakConcurrent > slots) {
      warnings.push(
        `at ${peakRate} calls/s with ${describeHoldTime(load.holdTime)} holds about ${Math.ceil(plan.expectedPeakConcurrent)} calls run at once, above load.maxConcurrent ${slots}: arrivals will be dropped`,
      );
    }
  }
  return plan;
}

/** Target arrival rate at `seconds` into the run (0 for a closed model); a shard's share of it. */
export function targetRate(load: Load, seconds: number): number {
  return load.model === 'open' ? rateAt(load.phases, seconds) / (load.shard?.count ?? 1) : 0;
}

/** The plan as lines for people (`run --dry-run`). */
export function describePlan(scenario: Scenario, plan: LoadPlan, options: { arrivalsShown?: number; slotsShown?: number } = {}): string[] {
  const load = scenario.load;
  const lines: string[] = [];
  if (load.model === 'closed') {
    const bound = [load.iterations !== undefined ? `${load.iterations} iterations` : undefined, load.durationSeconds !== undefined ? `for ${load.durationSeconds} s` : undefined]
      .filter(Boolean)
      .join(', ');
    lines.push(`model: closed, ${load.concurrency} at once (${bound})`);
  } else {
    lines.push(
      `model: open, ${load.arrivals} arrivals, at most ${load.concurrency} at once; ${plan.plannedIterations} calls planned over ${plan.durationSeconds} s (expected ${(expectedArrivals(load.phases) / (load.shard?.count ?? 1)).toFixed(1)})`,
    );
    if (load.shard) lines.push(`  shard ${load.shard.index}/${load.shard.count}: every ${ordinal(load.shard.count)} arrival of the whole run's plan below, from arrival ${load.shard.index}`);
    let start = 0;
    for (const [index, phase] of load.phases.entries()) {
      const count = plan.arrivalsSeconds!.filter((t) => t >= start && t < start + phase.durationSeconds).length;
      lines.push(
        `  phase ${index + 1}: ${start}-${start + phase.durationSeconds} s, ${phase.rate}${phase.endRate !== phase.rate ? ` -> ${phase.endRate}` : ''} calls/s${load.shard ? ' in the whole run' : ''}, ${count} calls${load.shard ? ' in this shard' : ''}`,
      );
      start += phase.durationSeconds;
    }
    const shown = options.arrivalsShown ?? 10;
    const arrivals = plan.arrivalsSeconds!;
    const list = (times: number[]) => times.map((t) => t.toFixed(3)).join(', ');
    lines.push(`  arrivals (s): ${list(arrivals.slice(0, shown))}${arrivals.length > shown ? ` ... ${list(arrivals.slice(-3))}` : ''}`);
    if (plan.expectedPeakConcurrent !== undefined) lines.push(`  expected at once at the peak: ${plan.expectedPeakConcurrent.toFixed(1)}`);
  }
  if (load.holdTime) lines.push(`hold time: ${describeHoldTime(load.holdTime)}`);
  lines.push(`starts: late after ${load.lateAfterSeconds} s, dropped after ${load.dropAfterSeconds} s behind plan; graceful stop ${load.gracefulStopSeconds} s`);
  lines.push(
    `accounts: ${plan.slots} slot${plan.slots === 1 ? '' : 's'}, each its own account of every role; ${plan.agents} user agents at most${plan.preRegister && plan.registerRoles.length ? `, ${plan.registerRoles.join(', ')} registered up front at ${Number(load.registerRate.toFixed(2))}/s` : ''}`,
  );
  const pairs = pairSlots(Object.values(scenario.roles), plan.slots);
  const slotsShown = options.slotsShown ?? 3;
  for (const pair of pairs.slice(0, slotsShown)) lines.push(`  slot ${globalSlot(pair.slot, load.shard)}: ${Object.entries(pair.users).map(([role, user]) => `${role}=${user}`).join(' ')}`);
  if (pairs.length > slotsShown) lines.push(`  ... slot ${globalSlot(pairs.length - 1, load.shard)}: ${Object.entries(pairs.at(-1)!.users).map(([role, user]) => `${role}=${user}`).join(' ')}`);
  const p = plan.placement;
  lines.push(`placement: ${p.agentsPerPage} agent${p.agentsPerPage === 1 ? "" : "s"} per page, ${p.pagesPerBrowser} page${p.pagesPerBrowser === 1 ? "" : "s"} per browser: ${p.pages} page${p.pages === 1 ? '' : 's'} in ${p.browsers} browser${p.browsers === 1 ? '' : 's'} at most`);
  const o = scenario.options;
  lines.push(
    `media: ${o.mediaProfile} profile, ptime ${o.opusPtimeMs ?? 20} ms, received audio played on ${Math.round(o.receivedAudioSample * 100)}% of legs${o.playReceivedAudio ? '' : ' (playout off)'}; pages recycled after ${o.pageRecycleAfter} peer connections`,
  );
  for (const warning of plan.warnings) lines.push(`warning: ${warning}`);
  return lines;
}

function ordinal(n: number): string {
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th';
  return `${n}${suffix}`;
}
