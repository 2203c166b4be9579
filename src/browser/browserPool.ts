import puppeteer, { type Browser } from 'puppeteer';
import { InfraError } from '../errors.js';
import type { PageConfig } from '../protocol/commands.js';
import { AgentPage, type AgentPageHooks } from './agentPage.js';
import { chromiumArgs, resolveChromium, type FakeMedia } from './chromium.js';
import { PageServer } from './pageServer.js';

export interface BrowserPoolOptions {
  executablePath?: string;
  headless: boolean;
  media: FakeMedia;
  agentsPerPage: number;
  pagesPerBrowser: number;
  pageConfig: Omit<PageConfig, 'pageId'>;
  hooks: AgentPageHooks;
  /** Told each browser's PID (its process group holds every Chromium helper process). */
  onBrowserStarted?(pid: number | undefined): void;
}

interface BrowserSlot {
  browser: Browser;
  pid: number | undefined;
  pages: AgentPage[];
}

/**
 * Places user agents into pages and pages into browsers: fill a page up to
 * agentsPerPage, a browser up to pagesPerBrowser, then open the next. Keeps
 * every browser's PID so nothing outlives the run, even if close() hangs.
 */
export class BrowserPool {
  private readonly browsers: BrowserSlot[] = [];
  private pageCounter = 0;
  private placing: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly options: BrowserPoolOptions,
    private readonly server: PageServer,
  ) {}

  static async start(options: BrowserPoolOptions): Promise<BrowserPool> {
    return new BrowserPool(options, await PageServer.start());
  }

  /** A page with room for one more agent; opens pages and browsers as needed. */
  placeAgent(): Promise<AgentPage> {
    const next = this.placing.then(() => this.findOrOpenPage());
    this.placing = next.catch(() => undefined);
    return next.then((page) => {
      page.agentCount++;
      return page;
    });
  }

  release(page: AgentPage): void {
    page.agentCount = Math.max(0, page.agentCount - 1);
  }

  pids(): number[] {
    return this.browsers.flatMap((slot) => (slot.pid === undefined ? [] : [slot.pid]));
  }

  pages(): AgentPage[] {
    return this.browsers.flatMap((slot) => slot.pages);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(
      this.browsers.map(async (slot) => {
        const closing = slot.browser.close().catch(() => undefined);
        const gaveUp = new Promise((resolve) => setTimeout(resolve, 5_000).unref());
        await Promise.race([closing, gaveUp]);
        killIfAlive(slot.pid);
      }),
    );
    await this.server.stop();
  }

  /** Last resort on abrupt exit: no Chromium may outlive callwright. */
  killAll(): void {
    for (const pid of this.pids()) killIfAlive(pid);
  }

  private async findOrOpenPage(): Promise<AgentPage> {
    if (this.closed) throw new InfraError('the browser pool is closed');
    for (const slot of this.browsers) {
      const page = slot.pages.find((p) => !p.lost && p.agentCount < this.options.agentsPerPage);
      if (page) return page;
    }
    let slot = this.browsers.find((s) => s.browser.connected && s.pages.filter((p) => !p.lost).length < this.options.pagesPerBrowser);
    slot ??= await this.launchBrowser();
    const pageId = `p${++this.pageCounter}`;
    const page = await AgentPage.open(slot.browser, this.server.url, { ...this.options.pageConfig, pageId }, this.options.hooks);
    slot.pages.push(page);
    return page;
  }

  private async launchBrowser(): Promise<BrowserSlot> {
    const executablePath = resolveChromium(this.options.executablePath);
    let browser: Browser;
    try {
      browser = await puppeteer.launch({
        executablePath,
        headless: this.options.headless,
        args: chromiumArgs(this.options.media),
        // Our own signal handling stops browsers; puppeteer's would race it.
        handleSIGINT: false,
        handleSIGTERM: false,
        handleSIGHUP: false,
        protocolTimeout: 60_000,
      });
    } catch (error) {
      throw new InfraError(
        `cannot start Chromium${executablePath ? ` (${executablePath})` : ''}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
        'install it (Debian: apt-get install chromium) or pass --chromium PATH / set CALLWRIGHT_CHROMIUM',
      );
    }
    const slot: BrowserSlot = { browser, pid: browser.process()?.pid, pages: [] };
    this.options.onBrowserStarted?.(slot.pid);
    browser.on('disconnected', () => {
      for (const page of slot.pages) {
        if (!page.lost) {
          page.lost = true;
          this.options.hooks.onLost(page.pageId, 'browser process exited');
        }
      }
    });
    this.browsers.push(slot);
    return slot;
  }
}

function killIfAlive(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    // Chromium's helpers share its process group when launched by puppeteer (detached).
    process.kill(-pid, 'SIGKILL');
  } catch {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
