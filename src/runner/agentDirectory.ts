import type { BrowserPool } from '../browser/browserPool.js';
import type { AgentCommand, DispatchResult } from '../protocol/commands.js';
import { globalSlot } from '../plan/shards.js';
import type { Scenario } from '../scenario/types.js';
import type { PageRecycler } from './pageRecycler.js';
import type { AgentInfo, RunState } from './runState.js';

export interface SipEndpoint {
  wsUrl: string;
  domain: string;
}

/**
 * Which SIP.js user agent plays a role in an iteration slot, and where it
 * lives. Agents are created on first use and kept for the run: an account
 * registers once, however many iterations use it.
 */
export class AgentDirectory {
  constructor(
    private readonly scenario: Scenario,
    private readonly endpoint: SipEndpoint,
    private readonly pool: BrowserPool,
    private readonly state: RunState,
    private readonly recycler?: PageRecycler,
  ) {}

  /** `role#slot`, with the slot numbered as in the whole run when this is a shard: ids stay unique across shards. */
  agentIdFor(role: string, slot: number): string {
    const accounts = this.scenario.roles[role]!.accounts;
    return `${role}#${globalSlot(slot % accounts.length, this.scenario.load.shard)}`;
  }

  addressOf(role: string, slot: number): string {
    const accounts = this.scenario.roles[role]!.accounts;
    return `sip:${accounts[slot % accounts.length]!.user}@${this.endpoint.domain}`;
  }

  /** Expand {domain} in a URI from the scenario. */
  resolveUri(uri: string): string {
    return uri.replaceAll('{domain}', this.endpoint.domain);
  }

  get(agentId: string): AgentInfo | undefined {
    return this.state.agents.get(agentId);
  }

  agentsOfRole(role: string): AgentInfo[] {
    return [...this.state.agents.values()].filter((agent) => agent.role === role);
  }

  /** The agent for role+slot, created in a page if it does not exist yet. */
  async ensure(role: string, slot: number): Promise<AgentInfo> {
    const agentId = this.agentIdFor(role, slot);
    const existing = this.state.agents.get(agentId);
    if (existing && !existing.page.lost) {
      if (!this.recycler?.shouldMove(existing.page)) return existing;
      // Its page is retired (peer connection limit): the agent is idle between its slot's iterations, so it moves now.
      await existing.page.dispatch({ type: 'destroyAgent', agentId });
      this.pool.release(existing.page);
    }
    const accounts = this.scenario.roles[role]!.accounts;
    const account = accounts[slot % accounts.length]!;
    // Answered in the page itself: a round trip through Node would add harness time to every setup.
    const autoAnswer = this.scenario.roles[role]!.autoAnswer;
    // A role with a network of its own lives in browsers of its own, in its namespace; lite roles in lite processes.
    const roleSpec = this.scenario.roles[role]!;
    const page = await this.pool.placeAgent(roleSpec.network !== undefined ? role : '', roleSpec.agent ?? 'browser');
    const agent: AgentInfo = {
      agentId,
      role,
      account,
      page,
      created: false,
      registered: false,
      registerSentAtMs: undefined,
      registrationError: undefined,
      transportUp: false,
      messagesReceived: [],
      messageResults: new Map(),
    };
    this.state.agents.set(agentId, agent);
    const result = await page.dispatch({
      type: 'createAgent',
      agentId,
      user: account.user,
      domain: this.endpoint.domain,
      authUser: account.authUser,
      password: account.password,
      displayName: account.displayName,
      wsUrl: this.endpoint.wsUrl,
      registerExpiresSeconds: this.scenario.options.registerExpiresSeconds,
      acceptTransfers: true,
      ...(autoAnswer ? { autoAnswerAfterMs: Math.round(autoAnswer.afterSeconds * 1000), ...(autoAnswer.receiveOnly ? { autoAnswerReceiveOnly: true } : {}) } : {}),
    });
    if (!result.ok) {
      agent.registrationError = result.error;
      return agent;
    }
    agent.created = true;
    return agent;
  }

  dispatch(agent: AgentInfo, command: AgentCommand): Promise<DispatchResult> {
    return agent.page.dispatch(command);
  }

  /** Every agent: hang up, unregister, close its user agent. */
  async shutdownAll(): Promise<void> {
    await Promise.all(this.pool.pages().filter((p) => !p.lost).map((page) => page.dispatch({ type: 'shutdown' })));
  }
}
