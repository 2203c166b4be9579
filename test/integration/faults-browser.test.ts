import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer from 'puppeteer';
import { afterAll, describe, expect, it } from 'vitest';
import { runScenario } from '../../src/runner/run.js';
import type { RunEvent } from '../../src/results.js';
import { parseScenario } from '../../src/scenario/index.js';
import { ALICE_AND_BOB, captureEvents, captureLogger, stepPassed } from './faultsSupport.js';
import { processesInGroups, readCsv, readJson, tempDir } from './support.js';

// Faults of Chromium itself, injected from outside as they happen in the field:
// a process SIGKILLed (the OOM killer, a user), and a page whose JavaScript never
// returns. The run must mark what was lost, get capacity back and carry on.
const out = tempDir('callwright-faults-browser-');
const allBrowserPids: number[] = [];
afterAll(() => expect(processesInGroups(allBrowserPids)).toEqual([]));

const scenarioText = (name: string, iterations: number) => `
name: ${name}
load: { iterations: ${iterations}, concurrency: 1 }
${ALICE_AND_BOB}
steps:
  - register: [alice, bob]
  - call: { from: alice, to: bob }
  - answer: bob
  - expect: { state: established }
  - wait: 1s
  - hangup: alice
`;

/** Chromium renderer processes (one per page, and maybe a spare) of a browser's process group. */
function renderersOf(browserPid: number): number[] {
  return processesInGroups([browserPid]).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--type=renderer');
    } catch {
      return false;
    }
  });
}

describe('a Chromium process killed mid-call', () => {
  it('marks its legs browser_crashed, relaunches a browser (or a page) and carries on; reports stay consistent', async () => {
    const iterations = 6;
    const scenario = parseScenario(scenarioText('chromium-killed', iterations), join(out, 'chromium-killed.yaml'));
    const log = captureLogger();
    const kills: string[] = [];
    const { reporter, events } = captureEvents((event) => {
      if (stepPassed(event, 2, 'expect established')) {
        // The browser process itself: every page of it goes.
        const [pid] = log.browserPids();
        process.kill(pid!, 'SIGKILL');
        kills.push(`browser ${pid}`);
      } else if (stepPassed(event, 4, 'expect established')) {
        // Only the renderers: the browser lives on, the page crashes.
        const pid = log.browserPids().at(-1)!;
        const renderers = renderersOf(pid);
        for (const renderer of renderers) process.kill(renderer, 'SIGKILL');
        kills.push(`renderers ${renderers.join(',')}`);
      }
    });
    const dir = join(out, 'chromium-killed');
    const outcome = await runScenario({ scenario, outDir: dir, logger: log.logger, reporters: [reporter] });
    allBrowserPids.push(...log.browserPids());
    expect(kills, log.lines.join('\n')).toHaveLength(2);
    expect(kills[1]).toMatch(/^renderers \d+/);

    const rows = readCsv(join(dir, 'calls.csv'));
    expect(rows.map((row) => row.call_id).sort()).toEqual(Array.from({ length: iterations }, (_, i) => `${i + 1}.main`));
    const byId = new Map(rows.map((row) => [row.call_id!, row]));
    expect(byId.get('2.main')).toMatchObject({ result: 'failed', failure_reason: 'browser_crashed' });
    expect(byId.get('2.main')!.failure_detail).toMatch(/browser process \d+ exited/);
    expect(byId.get('4.main')).toMatchObject({ result: 'failed', failure_reason: 'browser_crashed' });
    expect(byId.get('4.main')!.failure_detail).toMatch(/page crashed/);
    for (const id of ['1.main', '3.main', '5.main', '6.main']) expect(byId.get(id), `${id}\n${log.lines.join('\n')}`).toMatchObject({ result: 'success' });

    // Capacity came back: a second browser after the SIGKILL; agents recreated and registered again.
    expect(log.browserPids()).toHaveLength(2);
    const registrations = events.filter((e) => e.type === 'registration' && e.ok);
    expect(registrations.length).toBe(6); // alice and bob: at the start, after the browser, after the renderer

    // Reports agree with each other and with what happened.
    const summary = readJson(join(dir, 'summary.json'));
    expect(summary.calls).toMatchObject({ total: iterations, succeeded: 4, failed: 2, byReason: { browser_crashed: 2 } });
    expect(outcome.summary.calls.byReason).toEqual({ browser_crashed: 2 });
    expect(outcome.summary.exitCode).toBe(1);
    expect(processesInGroups(log.browserPids())).toEqual([]);
  });
});

describe('a page that hangs', () => {
  it('is detected by the dispatch timeout, closed and replaced; its call is reported, the run goes on', async () => {
    const iterations = 6;
    const scenario = parseScenario(scenarioText('page-hangs', iterations), join(out, 'page-hangs.yaml'));
    const log = captureLogger();
    let hung: Promise<HungPage> | undefined;
    let openWhenHung: boolean | undefined;
    let hungPageClosedAtMs: number | undefined;
    let duringLastCall: { connected: boolean; hungPageOpen: boolean; agentPages: number } | undefined;
    const { reporter, events } = captureEvents((event) => {
      if (!hung && stepPassed(event, 2, 'expect established')) {
        hung = hangAgentPage(log.browserPids()[0]!).then((page) => {
          openWhenHung = page.isOpen();
          // Watched only while the run goes on: when the browser closes at the end, every page goes.
          const watch = setInterval(() => {
            if (duringLastCall) return clearInterval(watch);
            if (!page.isOpen()) {
              hungPageClosedAtMs = Date.now();
              clearInterval(watch);
            }
          }, 50);
          return page;
        });
      } else if (stepPassed(event, iterations, 'expect established')) {
        void hung?.then((page) => (duringLastCall = { connected: page.connected(), hungPageOpen: page.isOpen(), agentPages: page.agentPages() }));
      }
    });
    const dir = join(out, 'page-hangs');
    const dispatchTimeoutMs = 3_000;
    const started = Date.now();
    const outcome = await runScenario({ scenario, outDir: dir, logger: log.logger, reporters: [reporter], dispatchTimeoutMs });
    allBrowserPids.push(...log.browserPids());
    expect(hung).toBeDefined();
    await (await hung!).disconnect();

    const rows = readCsv(join(dir, 'calls.csv'));
    const ids = Array.from({ length: iterations }, (_, i) => `${i + 1}.main`);
    expect(rows.map((row) => row.call_id).sort()).toEqual(ids);
    const hungCall = rows.find((row) => row.call_id === '2.main')!;
    expect(hungCall).toMatchObject({ result: 'failed', failure_reason: 'browser_crashed' });
    expect(hungCall.failure_detail).toMatch(/page p1 hung: no answer to a \w+ command within 3000 ms/);
    for (const id of ids.filter((id) => id !== '2.main')) expect(rows.find((row) => row.call_id === id), `${id}\n${log.lines.join('\n')}`).toMatchObject({ result: 'success' });
    // Reported as it happened, and the step that ran into it says why.
    const warning = events.find((e): e is Extract<RunEvent, { type: 'log' }> => e.type === 'log' && e.level === 'warn' && /page p1: page p1 hung/.test(e.message));
    expect(warning).toBeDefined();
    expect(outcome.steps.find((s) => s.iteration === 2 && !s.ok)?.detail).toMatch(/hung/);
    // Recycled: seen from a second DevTools client while the browser lived, the hung page was open when it
    // hung (so the look can see an open page), then gone within the pool's close timeout (5 s) of the
    // warning, with the new agent page in its place; still so during the last call.
    expect(openWhenHung).toBe(true);
    expect(hungPageClosedAtMs, 'the hung page was still open at the last call').toBeDefined();
    expect(hungPageClosedAtMs! - warning!.atMs).toBeLessThan(5_000);
    expect(duringLastCall).toEqual({ connected: true, hungPageOpen: false, agentPages: 1 });
    expect(log.browserPids()).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(processesInGroups(log.browserPids())).toEqual([]);
  });
});

describe('pages recycled during a long run (Chromium allows 500 peer connections per page)', () => {
  it('moves the agents to a new page, and closes the browser whose last page was recycled: no idle browsers pile up', async () => {
    const iterations = 6;
    // Every 2 calls (4 legs) the page retires; one page per browser, so each new page needs a new browser.
    const scenario = parseScenario(
      scenarioText('pages-recycled', iterations).replace('steps:', 'options: { pageRecycleAfter: 4, pagesPerBrowser: 1 }\nsteps:'),
      join(out, 'pages-recycled.yaml'),
    );
    const log = captureLogger();
    const aliveDuringLastCall: number[] = [];
    const { reporter } = captureEvents((event) => {
      if (stepPassed(event, iterations, 'expect established')) aliveDuringLastCall.push(...log.browserPids().filter((pid) => processesInGroups([pid]).length > 0));
    });
    const dir = join(out, 'pages-recycled');
    const outcome = await runScenario({ scenario, outDir: dir, logger: log.logger, reporters: [reporter] });
    allBrowserPids.push(...log.browserPids());

    expect(outcome.calls.filter((call) => call.result !== 'success'), log.lines.join('\n')).toEqual([]);
    // Recycled twice (before calls 3 and 5), a browser each time; each old one closed once its page was empty.
    expect(log.browserPids()).toHaveLength(3);
    expect(aliveDuringLastCall).toEqual([log.browserPids()[2]]);
    expect(outcome.summary.calls.byReason).toEqual({});
    expect(processesInGroups(log.browserPids())).toEqual([]);
  });
});

/** The hung page, seen from a second DevTools client: whether it is still open, and how many agent pages the browser has. */
interface HungPage {
  connected(): boolean;
  isOpen(): boolean;
  agentPages(): number;
  disconnect(): Promise<void>;
}

/**
 * Hangs the agent page from outside, as a runaway script would: a second
 * DevTools client (found through the browser's DevToolsActivePort file)
 * evaluates `while (true) {}` in it.
 */
async function hangAgentPage(browserPid: number): Promise<HungPage> {
  const cmdline = readFileSync(`/proc/${browserPid}/cmdline`, 'utf8').split('\0');
  const profile = cmdline.find((arg) => arg.startsWith('--user-data-dir='))!.slice('--user-data-dir='.length);
  const [port, path] = readFileSync(join(profile, 'DevToolsActivePort'), 'utf8').trim().split('\n');
  const browser = await puppeteer.connect({ browserWSEndpoint: `ws://127.0.0.1:${port}${path}`, protocolTimeout: 120_000 });
  const agentPageTargets = () => browser.targets().filter((t) => t.type() === 'page' && t.url().startsWith('http://127.0.0.1:'));
  const targetIdOf = (target: unknown) => (target as { _targetId: string })._targetId;
  const [page] = (await browser.pages()).filter((p) => p.url().startsWith('http://127.0.0.1:'));
  const targetId = targetIdOf(page!.target());
  void page!.evaluate('while (true) {}').catch(() => undefined);
  return {
    connected: () => browser.connected,
    isOpen: () => browser.connected && browser.targets().some((t) => targetIdOf(t) === targetId),
    agentPages: () => agentPageTargets().length,
    disconnect: () => browser.disconnect().catch(() => undefined),
  };
}
