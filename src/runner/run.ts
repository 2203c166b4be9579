import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { InfraError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import { fixturePaths } from '../preflight/fixtures.js';
import { createReporters, type Reporters } from '../report/index.js';
import type { CallResult, RunEvent, RunInfo, ShardInfo, StepResult } from '../results.js';
import type { Reporter } from '../report/reporter.js';
import type { Scenario } from '../scenario/types.js';
import { abortingThresholds, parseThresholds, shouldAbort, type ParsedThreshold } from '../verdict/index.js';
import { AgentDirectory } from './agentDirectory.js';
import { startBrowsers, type RunBrowsers } from './browsers.js';
import { runIteration } from './iterationCalls.js';
import { LoadSession } from './loadSession.js';
import { runEventHooks, type RegistrationCount } from './runEvents.js';
import { assertImpairmentPossible, RunNetworks } from './roleNetworkSetup.js';
import { RunState } from './runState.js';
import { finishRun, summarize, type RunOutcome } from './runSummary.js';
import { checkBrowserReachesServer } from './serverReach.js';
import { openSipEndpoint, type OpenEndpoint } from './sipEndpoint.js';

export type { RunOutcome } from './runSummary.js';

export interface RunOptions {
  scenario: Scenario;
  outDir: string;
  /** Where progress and warnings go; default: warnings and errors on stderr. */
  logger?: Logger;
  headless?: boolean;
  chromium?: string;
  metricsPort?: number;
  metricsHost?: string;
  pushgatewayUrl?: string;
  /** Seconds between pushes to the Pushgateway while the run goes (a last push at the end). */
  pushIntervalSeconds?: number;
  /** The run's id in every output and the Pushgateway grouping; shards of one run share it. Default: a random UUID. */
  runId?: string;
  /** This run is shard `index` of `count` (the scenario given is already this shard's part). */
  shard?: ShardInfo;
  /** Aborting it stops the run gracefully: calls hung up, reports flushed. */
  signal?: AbortSignal;
  /**
   * Parsed thresholds: evaluated at the end (exit 99 when one fails); abortOnFail ones also during the run.
   * Default: the scenario's own `thresholds:`.
   */
  thresholds?: readonly ParsedThreshold[];
  /** Extra reporters (tests, progress display). */
  reporters?: Reporter[];
  /** Called once the run is set up, with what a user may want to look at. */
  onReady?(info: { metricsUrl?: string; sipUrl: string; browserPids: () => number[] }): void;
  /** Folder with audio.wav and video.y4m for the fake devices (default: the shipped fixtures/). */
  mediaDir?: string;
  /** How long a page may take to accept a command before it counts as hung and is recycled (default 15 s). */
  dispatchTimeoutMs?: number;
  /** Settings of the embedded SIP server (capacity tests give it a known limit). */
  embeddedServer?: { maxConcurrentCalls?: number };
}

/**
 * One run, top to bottom: the SIP endpoint (embedded or the scenario's
 * target), the reporters, the browsers, the iterations as the load model
 * says, then an orderly stop and one verdict. Failures of calls are data;
 * only bad input and broken infrastructure throw.
 */
export async function runScenario(runOptions: RunOptions): Promise<RunOutcome> {
  const options = { ...runOptions, logger: runOptions.logger ?? createLogger('warn') };
  const { scenario, logger } = options;
  const thresholds = options.thresholds ?? parseThresholds(scenario.thresholds, scenario.file);
  const stop = stopSwitch(options.signal);
  const outDir = resolve(options.outDir);
  const startedAtMs = Date.now();
  const runId = options.runId ?? randomUUID();
  // Bad input is found before anything starts or any file is written.
  const media = fixturePaths(options.mediaDir);
  assertImpairmentPossible(scenario);
  // Plan, scheduler, watchdog and stats.csv: the load side of the run.
  const load = new LoadSession(scenario, outDir, logger);
  const reporters = await startReporters(options, runId, outDir, load);
  const emit = (event: RunEvent) => reporters.reporter.onEvent(event);
  const facts = { calls: [] as CallResult[], steps: [] as StepResult[], registrations: { attempted: 0, succeeded: 0 } as RegistrationCount };
  const runInfo = (target: RunInfo['target']): RunInfo => ({
    runId,
    scenario: scenario.name,
    scenarioFile: scenario.file,
    startedAtMs,
    target,
    outDir,
    plannedIterations: load.plan.plannedIterations ?? 0,
    concurrency: scenario.load.concurrency,
    ...(options.shard ? { shard: options.shard } : {}),
  });
  let endpoint: OpenEndpoint | undefined;
  let browsers: RunBrowsers | undefined;
  let networks: RunNetworks | undefined;
  let stopping = false;

  try {
    if (idleShard(scenario, load.plan.plannedIterations)) {
      // Nothing falls to this shard: an empty run, written like any other so `merge` finds the shard complete.
      logger.info(`shard ${options.shard?.index}/${options.shard?.count} has nothing to do: ${idleReason(scenario)}`);
      const info = runInfo({ url: scenario.target?.url ?? 'embedded (not started)', domain: scenario.target?.domain ?? '', embedded: !scenario.target });
      await reporters.reporter.onBegin(info);
      const idle = { ...facts, interrupted: false, iterations: { planned: 0, started: 0, passed: 0, failed: 0, dropped: 0 } };
      return await finishRun(summarize(info, idle), idle, thresholds, { reporter: reporters.reporter, harnessSaturatedCount: 0 });
    }

    // Reachable, and trusted if wss://, before any browser starts.
    endpoint = await openSipEndpoint(scenario, logger, options.embeddedServer);
    const info = runInfo({ url: endpoint.wsUrl, domain: endpoint.domain, embedded: endpoint.embedded });
    await reporters.reporter.onBegin(info);

    // Page events become run events; the state keeps every agent, leg and call of the run.
    const sink = { emit, logger, stopping: () => stopping };
    // Roles with a network of their own: namespaces and impairers before their browsers.
    // An impairer that dies stops the run: what follows would not be the profile's, nor the PBX's doing.
    networks = await RunNetworks.start(scenario, options.chromium, logger, emit, () => stop.abort());
    const roleNetworks = networks;
    const state: RunState = new RunState(runEventHooks(scenario, sink, facts.registrations, () => state, (role, atMs) => roleNetworks.profileAt(role, atMs)));
    browsers = await startBrowsers(
      scenario,
      { chromium: options.chromium, headless: options.headless, media, dispatchTimeoutMs: options.dispatchTimeoutMs, launchers: networks.launchers() },
      { load, state, endpoint, logger, emit, stopping: sink.stopping },
    );
    const pool = browsers.pool;
    options.onReady?.({ metricsUrl: reporters.metricsUrl, sipUrl: endpoint.wsUrl, browserPids: () => pool.pids() });
    load.startWatchdog(() => pool.pids(), emit);
    const agents = new AgentDirectory(scenario, endpoint, pool, state, browsers.recycler);
    await proveBrowserWorks(scenario, agents, state, endpoint);

    // The load: registrations up front if asked, then the iterations as the load model says.
    const abortWatch = watchAbortingThresholds(thresholds, () => ({ ...facts, summary: { registrations: facts.registrations }, harnessSaturatedCount: load.saturatedWindows() }), startedAtMs, stop, logger);
    await load.warmUp(agents, state, stop.signal);
    let passed = 0;
    const reportCall = (result: CallResult) => {
      const settled = roleNetworks.blame(result);
      const evidence = reporters.evidenceFor(settled);
      const call = evidence ? { ...settled, evidence } : settled;
      facts.calls.push(call);
      reporters.reporter.onCallEnd(call);
    };
    const context = { scenario, state, agents, load, logger, emit, steps: facts.steps, reportCall, networks };
    const progress = await load.schedule(stop.signal, emit, async (start) => {
      if (await runIteration(start, context)) passed++;
    });
    clearInterval(abortWatch);

    // An orderly stop: calls hung up and users unregistered, every call reported, then one verdict.
    stopping = true;
    await agents.shutdownAll();
    load.flushCalls();
    const networkSummary = await networks.stop();
    const ran = { ...facts, interrupted: options.signal?.aborted === true, iterations: { planned: progress.planned, started: progress.started, passed, failed: progress.started - passed, dropped: progress.dropped } };
    const summary = summarize(info, ran);
    load.stop();
    const loadSummary = load.loadSummary();
    const harnessSummary = load.harnessSummary(facts.calls);
    if (loadSummary) summary.load = loadSummary;
    if (harnessSummary) summary.harness = harnessSummary;
    if (networkSummary) summary.network = networkSummary;
    if (networks.failure) summary.harnessFault = networks.failure;
    return await finishRun(summary, ran, thresholds, { reporter: reporters.reporter, harnessSaturatedCount: harnessSummary?.windows.length ?? 0 });
  } finally {
    load.stop();
    load.stats.close();
    await browsers?.pool.close();
    await networks?.stop();
    await endpoint?.stop();
    await reporters.close();
  }
}

/** Stopped by the user (the caller's signal) or by a failing abortOnFail threshold. */
function stopSwitch(userSignal: AbortSignal | undefined): AbortController {
  const controller = new AbortController();
  if (userSignal?.aborted) controller.abort();
  userSignal?.addEventListener('abort', () => controller.abort(), { once: true });
  return controller;
}

async function startReporters(options: RunOptions & { logger: Logger }, runId: string, outDir: string, load: LoadSession): Promise<Reporters> {
  const { scenario, logger } = options;
  return createReporters(outDir, {
    metricsPort: options.metricsPort,
    metricsHost: options.metricsHost,
    pushgateway:
      options.pushgatewayUrl === undefined
        ? undefined
        : { url: options.pushgatewayUrl, grouping: pushGrouping(runId, options.shard), intervalSeconds: options.pushIntervalSeconds },
    warn: (message) => logger.warn(message),
    evidence: {
      ...scenario.options.evidence,
      // Scrubbed should one ever appear in a SIP message (they never should: digest sends none).
      secrets: Object.values(scenario.roles).flatMap((role) => role.accounts.flatMap((account) => (account.password ? [account.password] : []))),
    },
    extra: [...(options.reporters ?? []), ...load.reporters],
    steps: scenario.steps,
  });
}

/** The first page proves the browser works, and reaches the SIP server (TLS trust differs between Node and the browser), before any call is planned. */
async function proveBrowserWorks(scenario: Scenario, agents: AgentDirectory, state: RunState, endpoint: OpenEndpoint): Promise<void> {
  const firstAgent = await agents.ensure(Object.keys(scenario.roles)[0]!, 0).catch((error: unknown) => {
    throw error instanceof InfraError ? error : new InfraError(`browser agent failed to start: ${error instanceof Error ? error.message : String(error)}`);
  });
  await checkBrowserReachesServer(firstAgent, state, endpoint.wsUrl, endpoint.target.untrustedReason);
}

/** abortOnFail thresholds, checked every 2 s while the run goes: a failing one stops the run gracefully. */
function watchAbortingThresholds(
  thresholds: readonly ParsedThreshold[],
  sofar: () => Parameters<typeof shouldAbort>[1],
  startedAtMs: number,
  stop: AbortController,
  logger: Logger,
): NodeJS.Timeout | undefined {
  if (abortingThresholds(thresholds).length === 0) return undefined;
  return setInterval(() => {
    const decision = shouldAbort(thresholds, sofar(), (Date.now() - startedAtMs) / 1000);
    if (decision.abort && !stop.signal.aborted) {
      logger.warn(`stopping the run: ${decision.reason}`);
      stop.abort();
    }
  }, 2_000);
}

/** Pushgateway grouping labels: shards of one run, and runs, never replace each other's metrics. */
export function pushGrouping(runId: string, shard: ShardInfo | undefined): Record<string, string> {
  return { run_id: runId, ...(shard ? { shard: String(shard.index) } : {}) };
}

/** A shard that got no account slot, or no iteration (fewer of them than shards). */
function idleShard(scenario: Scenario, plannedIterations: number | undefined): boolean {
  return scenario.load.shard !== undefined && (scenario.load.concurrency === 0 || plannedIterations === 0);
}

function idleReason(scenario: Scenario): string {
  const shard = scenario.load.shard!;
  return scenario.load.concurrency === 0
    ? `the scenario has fewer account slots (load.concurrency) than the ${shard.count} shards, and slot s goes to shard (s mod ${shard.count}) + 1`
    : `the scenario plans fewer iterations than the ${shard.count} shards, and iteration g goes to shard ((g - 1) mod ${shard.count}) + 1`;
}

