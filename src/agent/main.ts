/**
 * Entry of the page bundle. Node calls `window.callwrightAgent.init(config)`
 * once, then `dispatch(command)` for each command; events go back through the
 * function Node exposed as `window.callwrightEmit`.
 */
import type { AgentCommand, DispatchResult, PageConfig } from '../protocol/commands.js';
import { EMIT_FUNCTION, PAGE_GLOBAL, type AgentEvent } from '../protocol/events.js';
import { browserMediaBackend } from './browserLegMedia.js';
import { SharedCapture } from './mediaCapture.js';
import { PageAgent } from './pageAgent.js';
import { useWorkerWebSockets } from './workerWebSocket.js';

// SIP's sockets in a worker: messages are timestamped on arrival, not when the busy main thread gets to them.
useWorkerWebSockets();

let agent: PageAgent | undefined;

const api = {
  init(config: PageConfig): DispatchResult {
    if (agent) return { ok: false, error: 'page already initialised' };
    const emit = (window as unknown as Record<string, (events: AgentEvent[]) => Promise<void>>)[EMIT_FUNCTION];
    if (typeof emit !== 'function') return { ok: false, error: `${EMIT_FUNCTION} is not exposed to the page` };
    agent = new PageAgent(config, (events) => emit(events), browserMediaBackend(config, new SharedCapture()));
    return { ok: true };
  },
  dispatch(command: AgentCommand): DispatchResult {
    if (!agent) return { ok: false, error: 'page not initialised' };
    return agent.dispatch(command);
  },
};

(window as unknown as Record<string, unknown>)[PAGE_GLOBAL] = api;
