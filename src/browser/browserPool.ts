import puppeteer, { type Browser } from 'puppeteer';
import { InfraError } from '../errors.js';
import type { PageConfig } from '../protocol/commands.js';
import { AgentPage, type AgentPageHooks } from './agentPage.js';
import { chromiumArgs, resolveChromium, type FakeMedia, type TlsTrust } from './chromium.js';
import { PageServer } from './pageServer.js';
import { killProcessGroup, waitForProcessGroupGone } from '../processGroup.js';
import type { AgentHome } from '../protocol/agentHome.js';
import { LiteProcess } from '../lite/liteProcess.js';

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
  /** Told each lite agent process's PID (a process group of its own). */
  onLiteStarted?(pid: number | undefined): void;
  /** How wss:// servers are trusted (launch flags, for every browser of the pool). */
  tls?: TlsTrust;
  /** How long a page may take to accept a command before it counts as hung (default 15 s). */
  dispatchTimeoutMs?: number;
  /**
   * Browsers of a placement group start through its launcher instead of Chromium itself (a role
   * with a network of its own: the launcher runs Chromium in the role's network namespace).
   */
  launchers?: Readonly<Record<string, string>>;
  /** Agents per lite agent process (roles with agent: lite). */
  liteAgentsPerProcess?: number;
}

/** Agents per lite process by default: the bench's 500 lite legs ran as two processes of 250 agents, unsaturated (bench/results.md). */
export const LITE_AGENTS_PER_PROCESS = 250;

interface BrowserSlot {
  browser: Browser;
  /** Its placement group: only agents of that group are placed in it ('' for the default). */
  group: string;
  pid: number | undefined;
  pages: AgentPage[];
  /** The process died (crash, SIGKILL) and its process group was cleared: nothing of it to kill later. */
  exited: boolean;
  /** Its last page was recycled and it is being closed: it takes no pages, and its disconnect is no crash. */
  retiring: boolean;
}

/**
 * Places user agents into pages and pages into browsers: fill a page up to
 * agentsPerPage, a browser up to pagesPerBrowser, then open the next. Keeps
 * every browser's PID so nothing outlives the run, even if close() hangs.
 */
export class BrowserPool {
  private readonly browsers: BrowserSlot[] = [];
  private readonly liteProcesses: LiteProcess[] = [];
  private pageCounter = 0;
  private liteCounter = 0;
  private placing: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly options: BrowserPoolOptions,
    private readonly server: PageServer,
  ) {}

  static async start(options: BrowserPoolOptions): Promise<BrowserPool> {
    return new BrowserPool(options, await PageServer.start());
  }

  /** A page with room for one more agent, in a browser of its group (or a lite process); opens them as needed. */
  placeAgent(group = '', kind: 'browser' | 'lite' = 'browser'): Promise<AgentHome> {
    const next = this.placing.then((): Promise<AgentHome> => (kind === 'lite' ? this.findOrStartLite() : this.findOrOpenPage(group)));
    this.placing = next.catch(() => undefined);
    return next.then((page) => {
      page.agentCount++;
      return page;
    });
  }

  release(page: AgentHome): void {
    page.agentCount = Math.max(0, page.agentCount - 1);
    // A retired page closes once its last agent has moved out (runner/pageRecycler.ts); in line
    // with placement, so no agent is placed into a page or browser while it closes.
    if (page.agentCount === 0 && this.retired.has(page) && !page.lost) this.placing = this.placing.then(() => this.closeRetiredPage(page)).catch(() => undefined);
  }

  /** Pages that take no new agents (near Chromium's 500 RTCPeerConnections per page); closed once empty. */
  private readonly retired = new Set<AgentHome>();

  retire(page: AgentHome): void {
    this.retired.add(page);
  }

  isRetired(page: AgentHome): boolean {
    return this.retired.has(page);
  }

  /** PIDs of the browsers still running (a dead one's number may belong to someone else by now). */
  pids(): number[] {
    const lite = this.liteProcesses.flatMap((home) => (home.pid === undefined ? [] : [home.pid]));
    return [...this.browsers.flatMap((slot) => (slot.pid === undefined || slot.exited ? [] : [slot.pid])), ...lite];
  }

  pages(): AgentHome[] {
    return [...this.browsers.flatMap((slot) => slot.pages), ...this.liteProcesses];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.browsers.map((slot) => closeBrowser(slot)), ...this.liteProcesses.map((home) => home.close())]);
    await this.server.stop();
  }

  /** Last resort on abrupt exit: no Chromium may outlive callwright. */
  killAll(): void {
    for (const pid of this.pids()) killProcessGroup(pid);
  }

  /** Pages report losses through here: after close() they are the orderly stop, not news. */
  private readonly hooks: AgentPageHooks = {
    onEvents: (pageId, events) => this.options.hooks.onEvents(pageId, events),
    onLost: (pageId, reason) => {
      if (!this.closed) this.options.hooks.onLost(pageId, reason);
    },
  };

  private async findOrOpenPage(group: string): Promise<AgentPage> {
    if (this.closed) throw new InfraError('the browser pool is closed');
    const ofGroup = this.browsers.filter((s) => s.group === group);
    for (const slot of ofGroup) {
      const page = slot.pages.find((p) => !p.lost && !this.retired.has(p) && p.agentCount < this.options.agentsPerPage);
      if (page) return page;
    }
    let slot = ofGroup.find((s) => s.browser.connected && !s.retiring && s.pages.filter((p) => !p.lost).length < this.options.pagesPerBrowser);
    slot ??= await this.launchBrowser(group);
    const pageId = `p${++this.pageCounter}`;
    const page = await AgentPage.open(slot.browser, this.server.url, { ...this.options.pageConfig, pageId }, this.hooks, this.options.dispatchTimeoutMs);
    slot.pages.push(page);
    return page;
  }

  /**
   * Closes a recycled page, and its browser when that was the browser's last
   * page: placement had to open the next page in a new browser while this one
   * was full, and left alone it would idle to the end of the run (a dozen
   * processes and a few hundred MB each time pages are recycled). Runs in the
   * placement queue, so no page is being opened in that browser meanwhile, and
   * awaits nothing, so placement does not wait for Chromium to close.
   */
  private closeRetiredPage(page: AgentHome): void {
    if (page.agentCount > 0 || page.lost || this.closed) return;
    if (page instanceof LiteProcess) {
      void page.close();
      return;
    }
    const pageClosed = page.close(); // marks the page lost at once
    const slot = this.browsers.find((s) => s.pages.some((p) => p === page));
    if (!slot || slot.exited || slot.pages.some((p) => !p.lost)) return;
    // retiring keeps new pages out; pids() lists the browser until it is gone.
    slot.retiring = true;
    void pageClosed
      .then(() => closeBrowser(slot))
      .then(() => {
        const index = this.browsers.indexOf(slot);
        if (index >= 0) this.browsers.splice(index, 1);
      });
  }

  /** A lite process with room for one more agent, or a new one. */
  private async findOrStartLite(): Promise<LiteProcess> {
    if (this.closed) throw new InfraError('the agent pool is closed');
    const limit = this.options.liteAgentsPerProcess ?? LITE_AGENTS_PER_PROCESS;
    const found = this.liteProcesses.find((home) => !home.lost && !this.retired.has(home) && home.agentCount < limit);
    if (found) return found;
    const home = await LiteProcess.start({
      pageId: `l${++this.liteCounter}`,
      config: { ...this.options.pageConfig, pageId: `l${this.liteCounter}` },
      hooks: this.hooks,
      dispatchTimeoutMs: this.options.dispatchTimeoutMs ?? 15_000,
      ...(this.options.tls ? { tls: this.options.tls } : {}),
    });
    this.options.onLiteStarted?.(home.pid);
    this.liteProcesses.push(home);
    return home;
  }

  private async launchBrowser(group: string): Promise<BrowserSlot> {
    const launcher = group ? this.options.launchers?.[group] : undefined;
    const executablePath = launcher ?? resolveChromium(this.options.executablePath);
    let browser: Browser;
    try {
      browser = await puppeteer.launch({
        executablePath,
        // In a namespace of its own its DevTools port would be out of reach: talk over a pipe.
        ...(launcher ? { pipe: true } : {}),
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
    const slot: BrowserSlot = { browser, group, pid: browser.process()?.pid, pages: [], exited: false, retiring: false };
    this.options.onBrowserStarted?.(slot.pid);
    browser.on('disconnected', () => {
      if (this.closed || slot.retiring) return;
      // Crashed or killed: its helpers may linger a moment; clear the group now, while its number is still ours.
      killProcessGroup(slot.pid);
      slot.exited = true;
      const reason = `browser process ${slot.pid ?? '?'} exited`;
      for (const page of slot.pages) page.markLost(reason);
    });
    this.browsers.push(slot);
    return slot;
  }
}

/**
 * Closes a browser, giving it 5 s, then clears its process group whatever
 * happened, and returns once no process of the group is left (a crashed
 * browser's group was killed when it went; its helpers may still be going).
 */
async function closeBrowser(slot: BrowserSlot): Promise<void> {
  if (!slot.exited) {
    const closing = slot.browser.close().catch(() => undefined);
    const gaveUp = new Promise((resolve) => setTimeout(resolve, 5_000).unref());
    await Promise.race([closing, gaveUp]);
    killProcessGroup(slot.pid);
    slot.exited = true;
  }
  await waitForProcessGroupGone(slot.pid);
}
