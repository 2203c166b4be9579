import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InfraError } from '../errors.js';
import { killProcessGroup, waitForProcessGroupGone } from '../processGroup.js';
import type { AgentHome } from '../protocol/agentHome.js';
import type { AgentCommand, DispatchResult, PageConfig } from '../protocol/commands.js';
import type { AgentEvent } from '../protocol/events.js';
import type { LiteChildMessage, LiteParentMessage } from './liteProtocol.js';

export interface LiteHooks {
  onEvents(pageId: string, events: AgentEvent[]): void;
  onLost(pageId: string, reason: string): void;
}

export interface LiteProcessOptions {
  pageId: string;
  config: PageConfig;
  hooks: LiteHooks;
  tls?: { spkiSha256Base64: string[]; insecure: boolean };
  portRange?: { begin: number; end: number };
  /** Silence after which a command counts the process as hung (as a page's). */
  dispatchTimeoutMs: number;
  /** Runs the process through this launcher (a role's network namespace), as browsers. */
  launcher?: string;
}

/** How long a new process may take to load SIP.js, node-datachannel and the frames. */
const START_TIMEOUT_MS = 15_000;
/** The last stderr kept to say why a process died. */
const STDERR_TAIL = 2_000;

/**
 * Node's handle on one lite agent process: the same dispatch and events as a
 * browser page, over an IPC channel. The process is a group of its own, so
 * nothing of it outlives callwright; a crash (node-datachannel is native code)
 * takes only its own legs, which end as browser_crashed like a page's.
 */
export class LiteProcess implements AgentHome {
  readonly kind = 'lite';
  agentCount = 0;
  lost = false;
  private nextId = 1;
  private readonly pending = new Map<number, (result: DispatchResult) => void>();
  private stderr = '';
  private exited: Promise<void>;

  private constructor(
    readonly pageId: string,
    private readonly child: ChildProcess,
    private readonly options: LiteProcessOptions,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.stderr?.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-STDERR_TAIL)));
    child.on('message', (message: LiteChildMessage) => {
      if (message.kind === 'events') {
        if (!this.lost) options.hooks.onEvents(pageId, message.events);
      } else if (message.kind === 'result') {
        this.pending.get(message.id)?.(message.result);
        this.pending.delete(message.id);
      }
    });
    child.once('exit', (code, signal) => {
      const why = signal ? `signal ${signal}` : `exit code ${code}`;
      const tail = this.stderr.trim().split('\n').slice(-3).join(' | ');
      this.markLost(`lite agent process ${child.pid ?? '?'} ended (${why})${tail ? `: ${tail}` : ''}`);
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  static async start(options: LiteProcessOptions): Promise<LiteProcess> {
    const { bundle, framesDir } = liteAgentFiles();
    const child = fork(bundle, [], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      // A group of its own: killProcessGroup clears it whatever state it is in.
      detached: true,
      ...(options.launcher ? { execPath: options.launcher, execArgv: [process.execPath] } : {}),
    });
    const home = new LiteProcess(options.pageId, child, options);
    const started = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
      child.on('message', (message: LiteChildMessage) => {
        if (message.kind === 'ready') resolve();
        else if (message.kind === 'initFailed') reject(new Error(message.error));
        else return;
        clearTimeout(timer);
      });
      child.once('exit', () => {
        clearTimeout(timer);
        reject(new Error(home.stderr.trim().split('\n').slice(-3).join(' | ') || 'the process exited'));
      });
      child.once('error', (error) => reject(error));
    });
    const init: LiteParentMessage = {
      kind: 'init',
      config: options.config,
      framesDir,
      ...(options.tls ? { tls: options.tls } : {}),
      ...(options.portRange ? { portRange: options.portRange } : {}),
    };
    child.send(init);
    try {
      await started;
    } catch (error) {
      await home.close();
      throw new InfraError(`lite agent process did not start: ${error instanceof Error ? error.message : String(error)}`, 'run `npm run build` (dist/lite-agent.mjs) and `npm ci` (node-datachannel)');
    }
    return home;
  }

  dispatch(command: AgentCommand): Promise<DispatchResult> {
    if (this.lost || !this.child.connected) return Promise.resolve({ ok: false, error: `lite process ${this.pageId} is gone` });
    const id = this.nextId++;
    return new Promise<DispatchResult>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        const reason = `lite process ${this.pageId} hung: no answer to a ${command.type} command within ${this.options.dispatchTimeoutMs} ms`;
        void this.recycle(reason);
        resolve({ ok: false, error: reason });
      }, this.options.dispatchTimeoutMs);
      this.pending.set(id, (result) => {
        clearTimeout(timer);
        resolve(result);
      });
      const message: LiteParentMessage = { kind: 'dispatch', id, command };
      this.child.send(message, (error) => {
        if (!error) return;
        clearTimeout(timer);
        this.pending.delete(id);
        resolve({ ok: false, error: `lite process ${this.pageId}: ${error.message}` });
      });
    });
  }

  async recycle(reason: string): Promise<void> {
    this.markLost(reason);
    await this.close();
  }

  /** Stops the process and waits until nothing of its group is left. */
  async close(): Promise<void> {
    this.lost = true;
    for (const resolve of this.pending.values()) resolve({ ok: false, error: `lite process ${this.pageId} closed` });
    this.pending.clear();
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const gaveUp = new Promise((resolve) => setTimeout(resolve, 3_000).unref());
      await Promise.race([this.exited, gaveUp]);
    }
    killProcessGroup(this.child.pid);
    await waitForProcessGroupGone(this.child.pid);
  }

  markLost(reason: string): void {
    if (this.lost) return;
    this.lost = true;
    this.options.hooks.onLost(this.pageId, reason);
  }
}

/** The bundle and the frames, found from the package root (this file runs from dist/ or, in tests, from src/). */
export function liteAgentFiles(): { bundle: string; framesDir: string } {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return { bundle: join(dir, 'dist', 'lite-agent.mjs'), framesDir: join(dir, 'fixtures', 'audio-frames') };
}
