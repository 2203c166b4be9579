import type { Browser, Page } from 'puppeteer';
import type { AgentCommand, DispatchResult, PageConfig } from '../protocol/commands.js';
import { EMIT_FUNCTION, PAGE_GLOBAL, type AgentEvent } from '../protocol/events.js';
import { InfraError } from '../errors.js';

export interface AgentPageHooks {
  onEvents(pageId: string, events: AgentEvent[]): void;
  /** The page crashed or closed under us: its legs are lost. */
  onLost(pageId: string, reason: string): void;
}

/** How long a dispatch may take before the page counts as hung. */
const DISPATCH_TIMEOUT_MS = 15_000;

/**
 * Node's handle on one agent page: the one dispatch function going in, the
 * batched events coming out, and the page's death noticed.
 */
export class AgentPage {
  agentCount = 0;
  lost = false;

  private constructor(
    readonly pageId: string,
    readonly page: Page,
  ) {}

  static async open(browser: Browser, url: string, config: PageConfig, hooks: AgentPageHooks): Promise<AgentPage> {
    const page = await browser.newPage();
    const agentPage = new AgentPage(config.pageId, page);
    const lose = (reason: string) => {
      if (agentPage.lost) return;
      agentPage.lost = true;
      hooks.onLost(config.pageId, reason);
    };
    page.on('error', (error) => lose(`page crashed: ${error.message}`));
    page.on('close', () => lose('page closed'));
    await page.exposeFunction(EMIT_FUNCTION, (events: AgentEvent[]) => hooks.onEvents(config.pageId, events));
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
      timer = setTimeout(() => resolve({ ok: false, error: `page ${this.pageId} did not answer within ${DISPATCH_TIMEOUT_MS} ms` }), DISPATCH_TIMEOUT_MS);
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

  async close(): Promise<void> {
    this.lost = true;
    await this.page.close().catch(() => undefined);
  }
}
