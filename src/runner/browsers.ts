/**
 * The run's browsers: a pool placed as the load plan says, each page set up
 * from the scenario's options, page events fed into the run's state, and a
 * lost page (crash, hang) ending its legs as browser_crashed.
 */
import { BrowserPool } from '../browser/browserPool.js';
import type { Logger } from '../log.js';
import type { FakeMedia } from '../browser/chromium.js';
import type { RunEvent } from '../results.js';
import { browserIceServers } from '../scenario/iceServers.js';
import type { Scenario } from '../scenario/types.js';
import type { LoadSession } from './loadSession.js';
import type { PageRecycler } from './pageRecycler.js';
import type { RunState } from './runState.js';
import type { OpenEndpoint } from './sipEndpoint.js';

export interface BrowserSettings {
  chromium?: string;
  headless?: boolean;
  media: FakeMedia;
  /** How long a page may take to accept a command before it counts as hung and is recycled. */
  dispatchTimeoutMs?: number;
  /** Chromium launchers by placement group: a role with a network of its own (runner/roleNetworkSetup.ts). */
  launchers?: Record<string, string>;
}

export interface RunBrowsers {
  pool: BrowserPool;
  recycler: PageRecycler;
}

export async function startBrowsers(
  scenario: Scenario,
  settings: BrowserSettings,
  context: { load: LoadSession; state: RunState; endpoint: OpenEndpoint; logger: Logger; emit: (event: RunEvent) => void; stopping: () => boolean },
): Promise<RunBrowsers> {
  const { load, state, logger, emit } = context;
  const options = scenario.options;
  // The pool's event hook runs from the first page on; the recycler needs the pool, so it comes right after.
  // eslint-disable-next-line prefer-const -- assigned once the pool exists; the pool's event hook (set up before) reads it
  let recycler: PageRecycler | undefined;
  const pool = await BrowserPool.start({
    executablePath: settings.chromium,
    headless: settings.headless ?? true,
    media: settings.media,
    agentsPerPage: load.plan.placement.agentsPerPage,
    pagesPerBrowser: load.plan.placement.pagesPerBrowser,
    ...(options.liteAgentsPerProcess ? { liteAgentsPerProcess: options.liteAgentsPerProcess } : {}),
    pageConfig: {
      statsIntervalMs: options.statsIntervalSeconds * 1000,
      flushIntervalMs: 200,
      iceGatheringMode: options.iceGathering,
      iceGatheringTimeoutMs: options.iceGatheringTimeoutMs,
      // TURN REST API credentials are made here, once per run, valid for their ttl from now.
      iceServers: browserIceServers(scenario.target, Date.now()),
      ...(scenario.target?.iceTransportPolicy ? { iceTransportPolicy: scenario.target.iceTransportPolicy } : {}),
      playReceivedAudio: options.playReceivedAudio,
      receivedAudioSample: options.receivedAudioSample,
      ...(options.opusPtimeMs === undefined ? {} : { opusPtimeMs: options.opusPtimeMs }),
      logLevel: logger.level,
    },
    onBrowserStarted: (pid) => logger.debug(`chromium started, pid ${pid}`),
    onLiteStarted: (pid) => logger.debug(`lite agent process started, pid ${pid}`),
    ...(context.endpoint.target.tls ? { tls: context.endpoint.target.tls } : {}),
    ...(settings.dispatchTimeoutMs ? { dispatchTimeoutMs: settings.dispatchTimeoutMs } : {}),
    ...(settings.launchers ? { launchers: settings.launchers } : {}),
    hooks: {
      onEvents: (pageId, events) => {
        recycler?.noteEvents(pageId, events);
        state.apply(events, pageId);
      },
      onLost: (pageId, reason) => {
        if (!context.stopping()) {
          // A fault is news for every output, not only the console: its legs fail as browser_crashed.
          logger.warn(`page ${pageId}: ${reason}; its legs end as browser_crashed, its agents move to a new page on next use`);
          emit({ type: 'log', atMs: Date.now(), level: 'warn', message: `page ${pageId}: ${reason}` });
        }
        state.pageLost(pageId, reason);
      },
    },
  });
  recycler = load.pageRecycler(pool);
  return { pool, recycler };
}
