import type { Browser, Page } from 'puppeteer';
import type { AgentCommand, DispatchResult, PageConfig } from '../protocol/commands.js';
import { EMIT_FUNCTION, PAGE_GLOBAL, type AgentEvent } from '../protocol/events.js';
import { InfraError } from '../errors.js';
import type { AgentHome } from '../protocol/agentHome.js';

export interface AgentPageHooks {
  onEvents(pageId: string, events: AgentEvent[]): void;
  /** The page crashed, closed under us or hung: its legs are lost. */
  onLost(pageId: string, reason: string): void;
}

/**
 * How long a dispatch may take before the page counts as hung. Dispatch only
 * starts work in the page and returns at once, so even a loaded machine
 * answers in milliseconds: 15 s of silence is a page that will not recover.
 */
export const DISPATCH_TIMEOUT_MS = 15_000;

/** A hung renderer may not close politely; after this the pool stops waiting for it. */
const CLOSE_TIMEOUT_MS = 5_000;

/**
 * Node's handle on one agent page: the one dispatch function going in, the
 * batched events coming out, and the page's death (crash, close, hang) noticed.
 */
export class AgentPage implements AgentHome {
  readonly kind = 'browser';
  agentCount = 0;
  lost = false;
  private hooks: AgentPageHooks | undefined;

  private constructor(
    readonly pageId: string,
    readonly page: Page,
    private readonly dispatchTimeoutMs: number,
  ) {}

  static async open(browser: Browser, url: string, config: PageConfig, hooks: AgentPageHooks, dispatchTimeoutMs = DISPATCH_TIMEOUT_MS): Promise<AgentPage> {
    const page = await browser.newPage();
    const agentPage = new AgentPage(config.pageId, page, dispatchTimeoutMs);
    agentPage.hooks = hooks;
    page.on('error', (error) => agentPage.markLost(`page crashed: ${error.message}`));
    page.on('close', () => agentPage.markLost('page closed'));
    await page.exposeFunction(EMIT_FUNCTION, (events: AgentEvent[]) => {
      // A page declared hung that wakes up later is no longer ours to listen to.
      if (!agentPage.lost) hooks.onEvents(config.pageId, events);
    });
    await page.goto(url, { waitUntil: 'load' });
    const result = await page.evaluate(
      (global: string, pageConfig: PageConfig) =>
        (globalThis as unknown as Record<string, { init(c: PageConfig): DispatchResult }>)[global]!.init(pageConfig),
      PAGE_GLOBAL,
      config,
    );
    if (!result.ok) throw new InfraError(`agent page ${config.pageId} did not start: ${result.error}`);
    return agentPage;
  }

  async dispatch(command: AgentCommand): Promise<DispatchResult> {
    if (this.lost) return { ok: false, error: `page ${this.pageId} is gone` };
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<DispatchResult>((resolve) => {
      timer = setTimeout(() => {
        const reason = `page ${this.pageId} hung: no answer to a ${command.type} command within ${this.dispatchTimeoutMs} ms`;
        void this.recycle(reason);
        resolve({ ok: false, error: reason });
      }, this.dispatchTimeoutMs);
    });
    const call = this.page
      .evaluate(
        (global: string, cmd: AgentCommand) =>
          (globalThis as unknown as Record<string, { dispatch(c: AgentCommand): DispatchResult }>)[global]!.dispatch(cmd),
        PAGE_GLOBAL,
        command,
      )
      .catch((error: unknown): DispatchResult => ({ ok: false, error: error instanceof Error ? error.message : String(error) }));
    try {
      return await Promise.race([call, hung]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** A hung page: counted as lost (its legs fail, its agents move to a new page on next use), then closed. */
  async recycle(reason: string): Promise<void> {
    this.markLost(reason);
    await this.close();
  }

  async close(): Promise<void> {
    this.lost = true;
    const closing = this.page.close({ runBeforeUnload: false }).catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_TIMEOUT_MS)));
    await Promise.race([closing, gaveUp]);
    clearTimeout(timer);
  }

  /** Tell the pool once, whatever noticed first (crash, close, hang, browser exit). */
  markLost(reason: string): void {
    if (this.lost) return;
    this.lost = true;
    this.hooks?.onLost(this.pageId, reason);
  }
}
