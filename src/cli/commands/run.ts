import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Argv } from 'yargs';
import { ExitCode } from '../../errors.js';
import { createLogger, type Logger, type LogLevel } from '../../log.js';
import type { CallwrightCommand } from '../command.js';
import { formatSummaryTable, summaryObject, summaryStyleFor, verdictLine } from '../../report/summaryTable.js';
import { ProgressReporter } from '../../report/progressReporter.js';
import { runErrorOf, type RunError } from '../../report/errorVerdict.js';
import { clearEarlierRun, leaveErrorVerdict, type RunSoFar } from '../runFolder.js';
import { installStopHandlers } from '../stopSignals.js';
import { prepareScenario, pushIntervalOf, runIdOf, scenarioOptions, shardingOf } from '../prepare.js';

export interface RunArgs {
  scenario: string;
  out: string;
  target?: string;
  domain?: string;
  headful: boolean;
  chromium?: string;
  'metrics-port': number;
  'metrics-host': string;
  pushgateway?: string;
  iterations?: number;
  concurrency?: number;
  'log-level': LogLevel;
  threshold?: string[];
  json: boolean;
  quiet: boolean;
  secrets?: string;
  'insecure-tls': boolean;
  'media-dir'?: string;
  'dry-run': boolean;
  shard?: string;
  'run-id'?: string;
  'push-interval': string;
}

export const runCommand: CallwrightCommand<RunArgs> = {
  command: 'run <scenario>',
  describe: 'Run a scenario: real SIP.js user agents in headless Chromium; writes calls.csv, samples.csv, summary.json, metrics.prom',
  builder: (yargs: Argv) =>
    // The options `validate` shares (cli/prepare.ts), then run's own.
    scenarioOptions(yargs.positional('scenario', { type: 'string', demandOption: true, describe: 'scenario YAML file' }))
      .option('out', { type: 'string', default: 'reports/latest', describe: 'output directory for the reports' })
      .option('headful', { type: 'boolean', default: false, describe: 'show the browser windows (needs a display)' })
      .option('chromium', { type: 'string', describe: 'Chromium/Chrome binary (default: system Chromium, else puppeteer\'s)' })
      .option('metrics-port', { type: 'number', default: 0, describe: 'port of the live Prometheus /metrics endpoint (0: any free port)' })
      .option('metrics-host', { type: 'string', default: '127.0.0.1', describe: 'address the /metrics endpoint binds' })
      .option('pushgateway', { type: 'string', describe: 'Pushgateway URL: metrics pushed every --push-interval and at the end, grouped by run_id (and shard)' })
      .option('push-interval', { type: 'string', default: '10s', describe: 'time between pushes to the Pushgateway while the run goes' })
      .option('json', { type: 'boolean', default: false, describe: 'print the end-of-run summary as JSON on stdout (no progress)' })
      .option('quiet', { type: 'boolean', default: false, describe: 'no progress line; only the verdict line at the end' })
      .option('log-level', { choices: ['error', 'warn', 'info', 'debug'] as const, default: 'info' as LogLevel })
      .option('media-dir', { type: 'string', describe: 'folder with audio.wav (16-bit PCM) and video.y4m (4:2:0) for the fake microphone and camera' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'print the load plan (arrivals, slots and pairing, placement) and exit without starting anything' }) as unknown as Argv<RunArgs>,
  run: async (args) => {
    const logger = createLogger(args['log-level']);
    const run: RunSoFar = { scenarioFile: args.scenario, startedAtMs: Date.now(), runId: randomUUID(), cleared: false };
    try {
      return await runCommandBody(args, logger, run);
    } catch (error) {
      // Never leave an older run's verdict behind: this one's is the error.
      leaveErrorVerdict(run, runErrorOf(error), logger);
      throw error;
    }
  },
};

/** The command; `run` learns, as it goes, what an error verdict would say of the run. */
async function runCommandBody(args: RunArgs, logger: Logger, run: RunSoFar): Promise<number> {
  const sharding = shardingOf(args, process.env);
  if (sharding) run.shard = sharding.shard;
  if (!args['dry-run']) run.outDir = sharding ? join(args.out, `shard-${sharding.shard.index}`) : args.out;
  run.runId = sharding?.runId ?? runIdOf(args, process.env) ?? run.runId;
  const pushIntervalSeconds = pushIntervalOf(args);
  // The checks `validate` makes too (cli/prepare.ts): bad input is refused before anything starts.
  const { whole, scenario, thresholds } = await prepareScenario(args, { env: process.env, warn: (message) => logger.warn(message), sharding, command: 'run' });
  run.scenario = scenario;
  if (args['dry-run']) {
    const { describePlan, planLoad } = await import('../../plan/loadPlan.js');
    if (sharding) process.stdout.write(`shard ${sharding.shard.index}/${sharding.shard.count} of run ${sharding.runId}: ${scenario.load.concurrency} of ${whole.load.concurrency} account slots\n`);
    for (const line of describePlan(scenario, planLoad(scenario))) process.stdout.write(line + '\n');
    return 0;
  }
  // The run starts here: from now on the folder holds only this run's files.
  clearEarlierRun(run);
  // Loaded lazily: `validate` and `--help` need no browser machinery.
  const { runScenario } = await import('../../runner/run.js');
  const stop = installStopHandlers(logger, {
    onForcedExit: (signalName) =>
      leaveErrorVerdict(run, forcedStop(signalName), logger, { summaryJson: false }),
  });
  try {
    const outcome = await runScenario({
      scenario,
      outDir: run.outDir!,
      runId: run.runId,
      ...(sharding ? { shard: sharding.shard } : {}),
      pushIntervalSeconds,
      logger,
      headless: !args.headful,
      chromium: args.chromium,
      metricsPort: args['metrics-port'],
      metricsHost: args['metrics-host'],
      pushgatewayUrl: args.pushgateway,
      thresholds,
      reporters: args.json || args.quiet ? [] : [new ProgressReporter()],
      mediaDir: args['media-dir'],
      signal: stop.signal,
      onReady: (ready) => {
        stop.onForcedStop(() => ready.browserPids());
        if (ready.metricsUrl) logger.info(`metrics: ${ready.metricsUrl}`);
        logger.debug(`SIP server: ${ready.sipUrl}`);
      },
    });
    const { summary, calls, steps } = outcome;
    if (args.json) process.stdout.write(JSON.stringify(summaryObject(summary, calls, steps, outcome.thresholds), null, 2) + '\n');
    else if (args.quiet) process.stdout.write(verdictLine(summary) + '\n');
    else process.stdout.write(formatSummaryTable(summary, calls, steps, outcome.thresholds, summaryStyleFor(process.stdout)));
    return summary.exitCode;
  } finally {
    stop.dispose();
  }
}

/** A second signal: no reports, so junit.xml says why (summary.json is not written: the run's counts are unknown). */
function forcedStop(signalName: NodeJS.Signals): RunError {
  return {
    exitCode: ExitCode.interrupted,
    type: 'interrupted',
    message: `stopped at once by a second ${signalName}: browsers killed, no reports written; the CSV files hold what the run wrote until then`,
  };
}

