/**
 * Where the run's user agents register: the scenario's SIP server, checked
 * to be reachable (and trusted, for wss://) before any browser starts, or
 * callwright's embedded server, started here on 127.0.0.1.
 */
import type { Logger } from '../log.js';
import { checkTarget, type TargetCheck } from '../preflight/targetCheck.js';
import type { Scenario } from '../scenario/types.js';
import { startEmbeddedServer, type EmbeddedSipServer } from '../server/index.js';
import type { SipEndpoint } from './agentDirectory.js';

export interface OpenEndpoint extends SipEndpoint {
  /** TLS settings and why the target's certificate is not trusted, from the pre-flight check (wss:// targets). */
  target: TargetCheck;
  embedded: boolean;
  /** Stops the embedded server; nothing to do for a target. */
  stop(): Promise<void>;
}

export async function openSipEndpoint(scenario: Scenario, logger: Logger, embeddedServer?: { maxConcurrentCalls?: number }): Promise<OpenEndpoint> {
  if (scenario.target) {
    const target = await checkTarget(scenario.target, (message) => logger.warn(message));
    return { wsUrl: scenario.target.url, domain: scenario.target.domain, target, embedded: false, stop: async () => undefined };
  }
  const server: EmbeddedSipServer = await startEmbeddedServer({ auth: embeddedAuth(scenario), ...embeddedServer });
  logger.debug(`embedded SIP server on ${server.wsUrl}`);
  return { wsUrl: server.wsUrl, domain: server.domain, target: {}, embedded: true, stop: () => server.stop() };
}

/** Digest auth on the embedded server when every account has a password, as a real PBX would ask. */
function embeddedAuth(scenario: Scenario): { users: Record<string, string> } | undefined {
  const accounts = Object.values(scenario.roles).flatMap((role) => role.accounts);
  if (accounts.length === 0 || accounts.some((account) => account.password === undefined)) return undefined;
  return { users: Object.fromEntries(accounts.map((account) => [account.authUser ?? account.user, account.password!])) };
}
