/**
 * Paced start: before the first call, every slot's accounts of the roles the
 * scenario registers are registered at `rate` per second, so the burst of a
 * cold start (browsers launching, hundreds of REGISTERs at once) neither
 * skews call timings nor looks like a server failure. Registrations that fail
 * here are counted like any other; the iteration's register step tries again.
 */
import type { AgentDirectory } from './agentDirectory.js';
import type { AgentInfo, RunState } from './runState.js';
import { systemClock, type Clock } from './scheduler.js';

export interface WarmUpResult {
  agents: number;
  registered: number;
  failed: number;
  seconds: number;
}

export async function preRegister(input: {
  roles: readonly string[];
  slots: number;
  rate: number;
  agents: AgentDirectory;
  state: RunState;
  signal: AbortSignal;
  timeoutMs: number;
  clock?: Clock;
}): Promise<WarmUpResult> {
  const clock = input.clock ?? systemClock;
  const startMs = clock.now();
  const started: AgentInfo[] = [];
  let index = 0;
  for (let slot = 0; slot < input.slots; slot++) {
    for (const role of input.roles) {
      if (input.signal.aborted) break;
      // Evenly paced from the start, so a slow placement (a page opening) is made up, not added.
      await clock.sleepUntil(startMs + (index++ * 1000) / input.rate, input.signal);
      const agent = await input.agents.ensure(role, slot);
      if (!agent.created || agent.registered) {
        started.push(agent);
        continue;
      }
      agent.registrationError = undefined;
      agent.registrationStatus = undefined;
      agent.registerSentAtMs = Date.now();
      started.push(agent);
      void agent.page.dispatch({ type: 'register', agentId: agent.agentId }).then((result) => {
        if (!result.ok) agent.registrationError = result.error;
      });
    }
  }
  await input.state.waitFor(() => started.every((a) => a.registered || a.registrationError !== undefined || !a.created), input.timeoutMs);
  const registered = started.filter((a) => a.registered).length;
  return { agents: started.length, registered, failed: started.length - registered, seconds: (clock.now() - startMs) / 1000 };
}
