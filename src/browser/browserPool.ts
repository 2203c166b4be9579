import puppeteer, { type Browser } from 'puppeteer';
import { InfraError } from '../errors.js';
import type { PageConfig } from '../protocol/commands.js';
import { AgentPage, type AgentPageHooks } from './agentPage.js';
import { chromiumArgs, resolveChromium, type FakeMedia, type TlsTrust } from './chromium.js';
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
  /** How wss:// servers are trusted (launch flags, for every browser of the pool). */
  tls?: TlsTrust;
  /** How long a page may take to accept a command before it counts as hung (default 15 s). */
  dispatchTimeoutMs?: number;
}

interface BrowserSlot {
  browser: Browser;
  pid: number | undefined;
  pages: AgentPage[];
  /** The process died (crash, SIGKILL) and its process group was cleared: nothing of it to kill later. */
  exited: boolean;
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
    // A retired page closes once its last agent has moved out (runner/pageRecycler.ts).
    if (page.agentCount === 0 && this.retired.has(page) && !page.lost) void page.close();
  }

  /** Pages that take no new agents (near Chromium's 500 RTCPeerConnections per page); closed once empty. */
  private readonly retired = new Set<AgentPage>();

  retire(page: AgentPage): void {
    this.retired.add(page);
  }

  isRetired(page: AgentPage): boolean {
    return this.retired.has(page);
  }

  /** PIDs of the browsers still running (a dead one's number may belong to someone else by now). */
  pids(): number[] {
    return this.browsers.flatMap((slot) => (slot.pid === undefined || slot.exited ? [] : [slot.pid]));
  }

  pages(): AgentPage[] {
    return this.browsers.flatMap((slot) => slot.pages);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(
      this.browsers.map(async (slot) => {
        if (slot.exited) return;
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

  /** Pages report losses through here: after close() they are the orderly stop, not news. */
  private readonly hooks: AgentPageHooks = {
    onEvents: (pageId, events) => this.options.hooks.onEvents(pageId, events),
    onLost: (pageId, reason) => {
      if (!this.closed) this.options.hooks.onLost(pageId, reason);
    },
  };

  private async findOrOpenPage(): Promise<AgentPage> {
    if (this.closed) throw new InfraError('the browser pool is closed');
    for (const slot of this.browsers) {
      const page = slot.pages.find((p) => !p.lost && !this.retired.has(p) && p.agentCount < this.options.agentsPerPage);
      if (page) return page;
    }
    let slot = this.browsers.find((s) => s.browser.connected && s.pages.filter((p) => !p.lost).length < this.options.pagesPerBrowser);
    slot ??= await this.launchBrowser();
    const pageId = `p${++this.pageCounter}`;
    const page = await AgentPage.open(slot.browser, this.server.url, { ...this.options.pageConfig, pageId }, this.hooks, this.options.dispatchTimeoutMs);
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
        args: chromiumArgs(this.options.media, this.options.tls),
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
    const slot: BrowserSlot = { browser, pid: browser.process()?.pid, pages: [], exited: false };
    this.options.onBrowserStarted?.(slot.pid);
    browser.on('disconnected', () => {
      if (this.closed) return;
      // Crashed or killed: its helpers may linger a moment; clear the group now, while its number is still ours.
      killIfAlive(slot.pid);
      slot.exited = true;
      const reason = `browser process ${slot.pid ?? '?'} exited`;
      for (const page of slot.pages) page.markLost(reason);
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
