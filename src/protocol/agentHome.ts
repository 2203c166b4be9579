import type { AgentCommand, DispatchResult } from './commands.js';

/**
 * Where user agents live and take commands: a browser page (browser/agentPage.ts)
 * or a lite agent process (lite/liteProcess.ts). The runner sees only this.
 */
export interface AgentHome {
  readonly pageId: string;
  /** Agents placed here (the pool fills a home up to its limit). */
  agentCount: number;
  /** Crashed, closed or hung: its legs are lost. */
  readonly lost: boolean;
  readonly kind: 'browser' | 'lite';
  dispatch(command: AgentCommand): Promise<DispatchResult>;
  /** Counted as lost, then closed (hung). */
  recycle(reason: string): Promise<void>;
  close(): Promise<void>;
  markLost(reason: string): void;
}
