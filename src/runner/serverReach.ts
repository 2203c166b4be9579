import { InfraError } from '../errors.js';
import { withoutUrlCredentials } from '../common/redact.js';
import type { AgentInfo, RunState } from './runState.js';
import { TLS_HINT } from '../preflight/targetCheck.js';

/** SIP.js gives up a WebSocket connect after 5 s; this leaves room for a loaded machine. */
const CONNECT_TIMEOUT_MS = 12_000;

/**
 * The first agent opens its SIP WebSocket before any step runs. If the
 * browser cannot (refused, or a wss:// certificate it does not trust), no
 * registration could ever succeed: that is broken infrastructure (exit 3),
 * said once and clearly, not a calls.csv full of registration failures.
 */
export async function checkBrowserReachesServer(agent: AgentInfo, state: RunState, wsUrl: string, untrustedReason: string | undefined): Promise<void> {
  const shown = withoutUrlCredentials(wsUrl);
  if (!agent.created) throw new InfraError(`browser agent ${agent.agentId} failed to start: ${agent.registrationError ?? 'unknown error'}`);
  agent.transportError = undefined;
  const sent = await agent.page.dispatch({ type: 'connect', agentId: agent.agentId });
  if (!sent.ok) throw new InfraError(`browser agent ${agent.agentId} could not be told to connect: ${sent.error}`);
  await state.waitFor(() => agent.transportUp || agent.transportError !== undefined || agent.page.lost, CONNECT_TIMEOUT_MS);
  if (agent.transportUp) return;
  const why = agent.transportError ?? (agent.page.lost ? 'its page was lost' : `no connection within ${CONNECT_TIMEOUT_MS / 1000} s`);
  const secure = wsUrl.startsWith('wss:');
  if (secure && untrustedReason !== undefined) {
    throw new InfraError(
      `registration cannot start: the browser could not open ${shown} (${why}); the server's TLS certificate is not trusted (${untrustedReason})`,
      TLS_HINT,
    );
  }
  throw new InfraError(
    `registration cannot start: the browser could not open the SIP WebSocket ${shown} (${why})`,
    secure ? `check that the server answers wss:// there; if its certificate is self-signed, ${TLS_HINT}` : 'check that the SIP server answers WebSocket (subprotocol sip) at that URL',
  );
}
