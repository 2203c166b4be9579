import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { BrowserPool } from '../browser/browserPool.js';
import { ExitCode, InfraError } from '../errors.js';
import type { Logger } from '../log.js';
import { createReporters } from '../report/index.js';
import type { CallResult, Reporter, RunEvent, RunInfo, RunSummary, ShardInfo, StepResult } from '../results.js';
import type { Scenario } from '../scenario/types.js';
import { startEmbeddedServer, type EmbeddedSipServer } from '../server/index.js';
import { AgentDirectory, type SipEndpoint } from './agentDirectory.js';
import { buildCallResult } from '../calls/callResult.js';
import { IterationRunner } from './iteration.js';
import { toLegSample } from '../calls/legSample.js';
import type { CallRecord } from '../calls/callRecord.js';
import { RunState } from './runState.js';
import { LoadSession } from './loadSession.js';
import type { PageRecycler } from './pageRecycler.js';
import { fixturePaths } from '../preflight/fixtures.js';
import { unreachedCalls } from './plannedCalls.js';
import { checkBrowserReachesServer } from './serverReach.js';
import { checkTarget } from '../preflight/targetCheck.js';
import { writeRunReports } from '../report/runReports.js';
import { abortingThresholds, evaluateThresholds, outcomeExitCode, shouldAbort, verdictExitCode, type ParsedThreshold, type ThresholdResult } from '../verdict/index.js';

export interface RunOptions {
  scenario: Scenario;
  outDir: string;
  logger: Logger;
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
  /** Parsed thresholds: evaluated at the end (exit 99 when one fails); abortOnFail ones also during the run. */
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

export interface RunOutcome {
  summary: RunSummary;
  calls: CallResult[];
  steps: StepResult[];
  thresholds: ThresholdResult[];
}

/**
 * One run: SIP endpoint (embedded or target), reporters, browsers, the
 * iterations, then an orderly stop. Failures of calls are data; only broken
 * infrastructure throws.
 */
export async function runScenario(options: RunOptions): Promise<RunOutcome> {
  const { scenario, logger } = options;
  // Stopped by the user (options.signal) or by a failing abortOnFail threshold.
  const stopController = new AbortController();
  const signal = stopController.signal;
  if (options.signal?.aborted) stopController.abort();
  options.signal?.addEventListener('abort', () => stopController.abort(), { once: true });
  const thresholds = options.thresholds ?? [];
  const outDir = resolve(options.outDir);
  const calls: CallResult[] = [];
  const steps: StepResult[] = [];
  const startedAtMs = Date.now();
  const runId = options.runId ?? randomUUID();
  // Bad input is found before anything starts or any file is written.
  const media = fixturePaths(options.mediaDir);
  // Plan, scheduler, watchdog and stats.csv: the load side of the run.
  const load = new LoadSession(scenario, outDir, logger);

  const reporters = await createReporters(outDir, {
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
  });
  const reporter = reporters.reporter;
  let server: EmbeddedSipServer | undefined;
  let pool: BrowserPool | undefined;
  const emit = (event: RunEvent) => reporter.onEvent?.(event);
  let stopping = false;
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

  try {
    if (idleShard(scenario, load.plan.plannedIterations)) {
      // Nothing falls to this shard: an empty run, written like any other so `merge` finds the shard complete.
      logger.info(`shard ${options.shard?.index}/${options.shard?.count} has nothing to do: ${idleReason(scenario)}`);
      const info = runInfo({ url: scenario.target?.url ?? 'embedded (not started)', domain: scenario.target?.domain ?? '', embedded: !scenario.target });
      await reporter.onBegin?.(info);
      const summary = summarize(info, { interrupted: false, iterations: { planned: 0, started: 0, passed: 0, failed: 0, dropped: 0 }, calls, steps, registrations: { attempted: 0, succeeded: 0 } });
      const thresholdResults = evaluateThresholds(thresholds, { calls, steps, summary, harnessSaturatedCount: 0 });
      await reporter.onEnd?.(summary, calls);
      await writeRunReports(outDir, { summary, calls, steps, thresholds: thresholdResults });
      return { summary, calls, steps, thresholds: thresholdResults };
    }
    let endpoint: SipEndpoint;
    let target: Awaited<ReturnType<typeof checkTarget>> = {};
    if (scenario.target) {
      // Reachable, and trusted if wss://, before any browser starts.
      target = await checkTarget(scenario.target, (message) => logger.warn(message));
      endpoint = { wsUrl: scenario.target.url, domain: scenario.target.domain };
    } else {
      server = await startEmbeddedServer({ auth: embeddedAuth(scenario), ...options.embeddedServer });
      endpoint = { wsUrl: server.wsUrl, domain: server.domain };
      logger.debug(`embedded SIP server on ${server.wsUrl}`);
    }
    const info = runInfo({ url: endpoint.wsUrl, domain: endpoint.domain, embedded: !scenario.target });
    await reporter.onBegin?.(info);

    const finishCall = (call: CallRecord) => {
      if (call.reported) return;
      call.reported = true;
      // Reported once the watchdog has judged the call's time (harness saturation is known a sample or two late).
      const built = buildCallResult(scenario.name, call, state.legs.get(call.callerLegId), call.calleeLegId ? state.legs.get(call.calleeLegId) : undefined, judge);
      load.settleCall(built, (settled) => {
        const evidence = reporters.evidenceFor(settled);
        const result = evidence ? { ...settled, evidence } : settled;
        calls.push(result);
        reporter.onCallEnd?.(result);
      });
    };
    const registrations = { attempted: 0, succeeded: 0 };
    // A call failing while a page of its legs lagged past the watchdog's bound is the harness's.
    const judge = { pageLagMs: (pageId: string | undefined, fromMs: number, toMs: number) => state.pageHealth.worstLagMs(pageId, fromMs, toMs), stalledLagMs: scenario.options.watchdog.eventLoopLagMs };
    const state: RunState = new RunState({
      onLegStats: (leg) => {
        const sample = toLegSample(scenario.name, leg);
        if (sample) emit({ type: 'sample', sample });
      },
      onLegEstablished: (leg) => {
        const call = leg.callKey ? state.calls.get(leg.callKey) : undefined;
        if (call && call.callerLegId === leg.legId && leg.establishedAtMs !== undefined) {
          // Setup as the wire saw it: first INVITE sent -> 200 OK received (harness time before the INVITE is not the server's).
          const invitedAtMs = leg.wire?.inviteSentAtMs ?? leg.inviteSentAtMs ?? leg.establishedAtMs;
          const answeredAtMs = leg.wire?.finalReceivedAtMs ?? leg.establishedAtMs;
          emit({ type: 'callEstablished', atMs: leg.establishedAtMs, scenario: scenario.name, callId: call.key, setupSeconds: Math.max(0, answeredAtMs - invitedAtMs) / 1000 });
        }
      },
      onRegistration: (agent, ok, atMs, status) => {
        registrations.attempted++;
        if (ok) registrations.succeeded++;
        const began = agent.registerSentAtMs;
        emit({ type: 'registration', atMs, scenario: scenario.name, role: agent.role, ok, status, seconds: began ? (atMs - began) / 1000 : undefined });
      },
      onDtmf: (leg, sent, mode, tone, atMs) => emit({ type: 'dtmf', atMs, scenario: scenario.name, callId: leg.callKey ?? '', sent, mode, tone }),
      onDtmfBurst: (leg, burst) =>
        emit({
          type: 'dtmfBurst',
          atMs: burst.atMs,
          scenario: scenario.name,
          callId: leg.callKey ?? '',
          packetsSent: burst.packetsSent,
          payloadBytesSent: burst.payloadBytesSent,
          seconds: burst.seconds,
        }),
      onLog: (level, message, atMs) => {
        // Sockets and pages closing during the orderly stop are expected, not news.
        if (stopping && level !== 'error') return;
        logger[level](message);
        emit({ type: 'log', atMs, level, message });
      },
      onSip: (event) => emit({ type: 'sipMessage', atMs: event.atMs, scenario: scenario.name, agentId: event.agentId, sipCallId: event.sipCallId, sent: event.sent, raw: event.raw }),
      onPageHealth: (pageId, event) => emit({ type: 'pageHealth', atMs: event.atMs, scenario: scenario.name, pageId, lagMaxMs: event.lagMaxMs }),
      onIncomingLeg: (leg, agent) => {
        const autoAnswer = scenario.roles[agent.role]?.autoAnswer;
        if (!autoAnswer) return;
        // The page answers by itself (createAgent's autoAnswerAfterMs); the call notes the configured delay.
        const call = leg.callKey ? state.calls.get(leg.callKey) : undefined;
        if (call) call.answerDelaySeconds = autoAnswer.afterSeconds;
      },
    });

    // Assigned once the pool exists; the pool's event callback (set up before) reads it.
    // eslint-disable-next-line prefer-const
    let recycler: PageRecycler | undefined;
    pool = await BrowserPool.start({
      executablePath: options.chromium,
      headless: options.headless ?? true,
      media,
      agentsPerPage: load.plan.placement.agentsPerPage,
      pagesPerBrowser: load.plan.placement.pagesPerBrowser,
      pageConfig: {
        statsIntervalMs: scenario.options.statsIntervalSeconds * 1000,
        flushIntervalMs: 200,
        iceGatheringMode: scenario.options.iceGathering,
        iceGatheringTimeoutMs: scenario.options.iceGatheringTimeoutMs,
        iceServers: [],
        playReceivedAudio: scenario.options.playReceivedAudio,
        receivedAudioSample: scenario.options.receivedAudioSample,
        ...(scenario.options.opusPtimeMs === undefined ? {} : { opusPtimeMs: scenario.options.opusPtimeMs }),
        logLevel: logger.level,
      },
      onBrowserStarted: (pid) => logger.debug(`chromium started, pid ${pid}`),
      ...(target.tls ? { tls: target.tls } : {}),
      ...(options.dispatchTimeoutMs ? { dispatchTimeoutMs: options.dispatchTimeoutMs } : {}),
      hooks: {
        onEvents: (pageId, events) => {
          recycler?.noteEvents(pageId, events);
          state.apply(events, pageId);
        },
        onLost: (pageId, reason) => {
          if (!stopping) {
            // A fault is news for every output, not only the console: its legs fail as browser_crashed.
            logger.warn(`page ${pageId}: ${reason}; its legs end as browser_crashed, its agents move to a new page on next use`);
            emit({ type: 'log', atMs: Date.now(), level: 'warn', message: `page ${pageId}: ${reason}` });
          }
          state.pageLost(pageId, reason);
        },
      },
    });
    const activePool = pool;
    options.onReady?.({ metricsUrl: reporters.metricsUrl, sipUrl: endpoint.wsUrl, browserPids: () => activePool.pids() });

    load.startWatchdog(() => activePool.pids(), emit);
    recycler = load.pageRecycler(pool);
    const agents = new AgentDirectory(scenario, endpoint, pool, state, recycler);
    // The first page proves the browser works before any call is planned on it.
    const firstAgent = await agents.ensure(Object.keys(scenario.roles)[0]!, 0).catch((error: unknown) => {
      throw error instanceof InfraError ? error : new InfraError(`browser agent failed to start: ${error instanceof Error ? error.message : String(error)}`);
    });
    // ...and that the browser, not just Node, reaches the SIP server (TLS trust differs between the two).
    await checkBrowserReachesServer(firstAgent, state, endpoint.wsUrl, target.untrustedReason);

    let passed = 0;
    let failed = 0;
    const abortWatch = abortingThresholds(thresholds).length
      ? setInterval(() => {
          const decision = shouldAbort(thresholds, { calls, steps, summary: { registrations }, harnessSaturatedCount: load.saturatedWindows() }, (Date.now() - startedAtMs) / 1000);
          if (decision.abort && !signal.aborted) {
            logger.warn(`stopping the run: ${decision.reason}`);
            stopController.abort();
          }
        }, 2_000)
      : undefined;
    await load.warmUp(agents, state, signal);
    const progress = await load.schedule(signal, emit, async ({ iteration, slot, signal: iterationSignal }) => {
      const runner = new IterationRunner({
        scenario,
        iteration,
        slot,
        state,
        agents,
        // Aborts with the run, or when load.gracefulStop runs out after the last start.
        signal: iterationSignal,
        holdSeconds: load.holdSeconds(iteration),
        onStepEnd: (step) => {
          steps.push(step);
          emit({ type: 'stepEnd', step });
          const line = `${step.ok ? 'ok  ' : 'FAIL'} #${iteration} ${step.name}${step.detail ? `: ${step.detail}` : ''}`;
          if (step.ok) logger.debug(line);
          else logger.warn(line);
        },
        onCallStarted: (call) => emit({ type: 'callStarted', atMs: call.startedAtMs, scenario: scenario.name, callId: call.key, callerRole: call.callerRole }),
      });
      const ok = await runner.run();
      await runner.cleanup();
      // A leg ends as its BYE leaves; the BYE's answer (the disconnect delay) comes a moment later.
      const byesPending = () =>
        [...runner.calls.values()].flatMap((call) => state.legsOf(call)).some((leg) => leg.wire?.byeSentAtMs !== undefined && leg.wire.byeAnsweredAtMs === undefined);
      await state.waitFor(() => !byesPending(), BYE_ANSWER_WAIT_MS);
      for (const call of runner.calls.values()) {
        if (iterationSignal.aborted && !call.failure && !state.legs.get(call.callerLegId)?.established) {
          call.failure = { reason: 'interrupted', detail: 'run stopped before the call was established' };
        }
        finishCall(call);
      }
      const made = new Set(runner.calls.keys());
      const stoppedBy = steps.findLast((step) => step.iteration === iteration && !step.ok);
      for (const call of unreachedCalls({ scenario, iteration, slot, made, agents, stoppedBy, interrupted: iterationSignal.aborted })) finishCall(call);
      for (const call of runner.calls.values()) state.forget(call);
      if (ok) passed++;
      else failed++;
    });

    clearInterval(abortWatch);
    stopping = true;
    await agents.shutdownAll();
    load.flushCalls();
    const summary = summarize(info, {
      interrupted: signal.aborted,
      iterations: { planned: progress.planned, started: progress.started, passed, failed, dropped: progress.dropped },
      calls,
      steps,
      registrations,
    });
    load.stop();
    const loadSummary = load.loadSummary();
    const harnessSummary = load.harnessSummary(calls);
    if (loadSummary) summary.load = loadSummary;
    if (harnessSummary) summary.harness = harnessSummary;
    const thresholdResults = evaluateThresholds(thresholds, { calls, steps, summary, harnessSaturatedCount: harnessSummary?.windows.length ?? 0 });
    summary.exitCode = verdictExitCode(summary, thresholdResults);
    await reporter.onEnd?.(summary, calls);
    await writeRunReports(outDir, { summary, calls, steps, thresholds: thresholdResults });
    return { summary, calls, steps, thresholds: thresholdResults };
  } finally {
    load.stop();
    load.stats.close();
    await pool?.close();
    await server?.stop();
    await reporters.close();
  }
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

/** How long a finished iteration waits for the answers to its BYEs before its calls are reported. */
const BYE_ANSWER_WAIT_MS = 2_000;

function embeddedAuth(scenario: Scenario): { users: Record<string, string> } | undefined {
  const accounts = Object.values(scenario.roles).flatMap((role) => role.accounts);
  if (accounts.length === 0 || accounts.some((account) => account.password === undefined)) return undefined;
  return { users: Object.fromEntries(accounts.map((account) => [account.authUser ?? account.user, account.password!])) };
}

function summarize(
  info: RunInfo,
  facts: { interrupted: boolean; iterations: RunSummary['iterations']; calls: CallResult[]; steps: StepResult[]; registrations: RunSummary['registrations'] },
): RunSummary {
  const byReason: RunSummary['calls']['byReason'] = {};
  for (const call of facts.calls) if (call.failureReason) byReason[call.failureReason] = (byReason[call.failureReason] ?? 0) + 1;
  const failedCalls = facts.calls.filter((c) => c.result === 'failed');
  const unexpectedFailures = failedCalls.filter((c) => !c.failureExpected).length;
  const failedSteps = facts.steps.filter((s) => !s.ok).length;
  const endedAtMs = Date.now();
  const summary: RunSummary = {
    info,
    endedAtMs,
    durationSeconds: (endedAtMs - info.startedAtMs) / 1000,
    interrupted: facts.interrupted,
    iterations: facts.iterations,
    calls: {
      total: facts.calls.length,
      succeeded: facts.calls.length - failedCalls.length,
      failed: failedCalls.length,
      failedExpected: failedCalls.length - unexpectedFailures,
      byReason,
    },
    steps: { total: facts.steps.length, passed: facts.steps.length - failedSteps, failed: failedSteps },
    registrations: facts.registrations,
    exitCode: ExitCode.pass,
  };
  summary.exitCode = outcomeExitCode(summary);
  return summary;
}
