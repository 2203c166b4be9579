/**
 * Messages between Node and a lite agent process (IPC, structured clone).
 * The commands and events are the page's (protocol/commands.ts, events.ts).
 */
import type { AgentCommand, DispatchResult, PageConfig } from '../protocol/commands.js';
import type { AgentEvent } from '../protocol/events.js';

export type LiteParentMessage =
  | {
      kind: 'init';
      config: PageConfig;
      /** Where the pre-encoded frames are (fixtures/audio-frames). */
      framesDir: string;
      tls?: { spkiSha256Base64: string[]; insecure: boolean };
      /** UDP ports for the process's ICE candidates. */
      portRange?: { begin: number; end: number };
    }
  | { kind: 'dispatch'; id: number; command: AgentCommand };

export type LiteChildMessage =
  | { kind: 'ready'; pid: number }
  | { kind: 'initFailed'; error: string }
  | { kind: 'result'; id: number; result: DispatchResult }
  | { kind: 'events'; events: AgentEvent[] };
