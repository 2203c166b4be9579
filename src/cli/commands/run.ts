import { join } from 'node:path';
import type { Argv } from 'yargs';
import { InputError } from '../../errors.js';
import { createLogger, type LogLevel } from '../../log.js';
import { loadScenario } from '../../scenario/index.js';
import { readSecretsFile } from '../../scenario/secrets.js';
import type { Scenario } from '../../scenario/types.js';
import { parseDurationSeconds } from '../../scenario/durations.js';
import { parseShard, shardFromEnvironment, shardScenario } from '../../plan/shards.js';
import type { ShardInfo } from '../../results.js';
import type { CallwrightCommand } from '../command.js';
import { formatSummaryTable, summaryObject, summaryStyleFor } from '../../report/summaryTable.js';
import { ProgressReporter } from '../../report/progressReporter.js';
import { mergeThresholdSpecs, parseThresholds, thresholdsFromOptions } from '../../verdict/index.js';
import { installStopHandlers } from '../stopSignals.js';

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
    yargs
      .positional('scenario', { type: 'string', demandOption: true, describe: 'scenario YAML file' })
      .option('out', { type: 'string', default: 'reports/latest', describe: 'output directory for the reports' })
      .option('target', { type: 'string', describe: 'ws:// or wss:// URL of your SIP server (default: the scenario target, else the embedded server)' })
      .option('domain', { type: 'string', describe: 'SIP domain of the accounts on --target' })
      .option('headful', { type: 'boolean', default: false, describe: 'show the browser windows (needs a display)' })
      .option('chromium', { type: 'string', describe: 'Chromium/Chrome binary (default: system Chromium, else puppeteer\'s)' })
      .option('metrics-port', { type: 'number', default: 0, describe: 'port of the live Prometheus /metrics endpoint (0: any free port)' })
      .option('metrics-host', { type: 'string', default: '127.0.0.1', describe: 'address the /metrics endpoint binds' })
      .option('pushgateway', { type: 'string', describe: 'Pushgateway URL: metrics pushed every --push-interval and at the end, grouped by run_id (and shard)' })
      .option('push-interval', { type: 'string', default: '10s', describe: 'time between pushes to the Pushgateway while the run goes' })
      .option('shard', {
        type: 'string',
        describe: 'run shard I of N (1-based, e.g. 2/10) of the scenario; outputs go to <out>/shard-I. Also CALLWRIGHT_SHARD=I/N, or CALLWRIGHT_SHARDS=N with a Kubernetes Indexed Job\'s JOB_COMPLETION_INDEX',
      })
      .option('run-id', { type: 'string', describe: 'id of the run in summary.json and the Pushgateway grouping (default: random); required with --shard, the same for every shard. Also CALLWRIGHT_RUN_ID' })
      .option('threshold', { type: 'string', array: true, describe: 'add a threshold, k6 style: metric:expression, e.g. call_success:rate>=0.99 or setup_time:p(95)<2s (repeatable)' })
      .option('json', { type: 'boolean', default: false, describe: 'print the end-of-run summary as JSON on stdout (no progress)' })
      .option('quiet', { type: 'boolean', default: false, describe: 'no progress line; only the verdict line at the end' })
      .option('iterations', { type: 'number', describe: 'override load.iterations' })
      .option('concurrency', { type: 'number', describe: 'override load.concurrency' })
      .option('log-level', { choices: ['error', 'warn', 'info', 'debug'] as const, default: 'info' as LogLevel })
      .option('secrets', { type: 'string', describe: 'file of NAME=value lines that passwordEnv names are looked up in first (keep it chmod 600)' })
      .option('insecure-tls', { type: 'boolean', default: false, describe: 'accept any TLS certificate from a wss:// target (insecure; prefer target.caFile)' })
      .option('media-dir', { type: 'string', describe: 'folder with audio.wav (16-bit PCM) and video.y4m (4:2:0) for the fake microphone and camera' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'print the load plan (arrivals, slots and pairing, placement) and exit without starting anything' }) as unknown as Argv<RunArgs>,
  run: async (args) => {
    const logger = createLogger(args['log-level']);
    const secrets = args.secrets === undefined ? undefined : readSecretsFile(args.secrets, (message) => logger.warn(message));
    const sharding = shardingOf(args, process.env);
    const pushIntervalSeconds = pushIntervalOf(args);
    const whole = applyOverrides(await loadScenario(args.scenario, secrets ? { env: { ...process.env, ...secrets } } : {}), args);
    const scenario = sharding ? shardScenario(whole, sharding.shard) : whole;
    // Bad thresholds are bad input: refused before anything starts.
    const thresholds = parseThresholds(mergeThresholdSpecs(scenario.thresholds, thresholdsFromOptions(args.threshold ?? [])), scenario.file);
    if (args['dry-run']) {
      const { describePlan, planLoad } = await import('../../plan/loadPlan.js');
      if (sharding) process.stdout.write(`shard ${sharding.shard.index}/${sharding.shard.count} of run ${sharding.runId}: ${scenario.load.concurrency} of ${whole.load.concurrency} account slots\n`);
      for (const line of describePlan(scenario, planLoad(scenario))) process.stdout.write(line + '\n');
      return 0;
    }
    // Loaded lazily: `validate` and `--help` need no browser machinery.
    const { runScenario } = await import('../../runner/run.js');
    const stop = installStopHandlers(logger);
    try {
      const outcome = await runScenario({
        scenario,
        outDir: sharding ? join(args.out, `shard-${sharding.shard.index}`) : args.out,
        ...(sharding ? { shard: sharding.shard, runId: sharding.runId } : args['run-id'] !== undefined || process.env.CALLWRIGHT_RUN_ID ? { runId: runIdOf(args, process.env)! } : {}),
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
      else if (args.quiet) process.stdout.write(verdictLine(summary.exitCode, summary.info.scenario, summary.info.outDir) + '\n');
      else process.stdout.write(formatSummaryTable(summary, calls, steps, outcome.thresholds, summaryStyleFor(process.stdout)));
      return summary.exitCode;
    } finally {
      stop.dispose();
    }
  },
};

function applyOverrides(scenario: Scenario, args: RunArgs): Scenario {
  const problems: string[] = [];
  if (args.target !== undefined && !/^wss?:\/\//.test(args.target)) problems.push(`--target: "${args.target}" is not a ws:// or wss:// URL`);
  if (args.target !== undefined && !args.domain && !scenario.target) problems.push('--target needs --domain (the SIP domain of the accounts)');
  for (const name of ['iterations', 'concurrency'] as const) {
    const value = args[name];
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) problems.push(`--${name}: must be a whole number of at least 1, got ${shownNumber(value)}`);
  }
  const port = args['metrics-port'];
  if (!Number.isInteger(port) || port < 0 || port > 65_535) problems.push(`--metrics-port: must be a port from 0 (any free one) to 65535, got ${shownNumber(port)}`);
  const url = args.target ?? scenario.target?.url;
  if (args['insecure-tls'] && !url?.startsWith('wss://')) problems.push('--insecure-tls: only applies to a wss:// target (--target or target.url)');
  if (args['insecure-tls'] && scenario.target?.caFile) problems.push('--insecure-tls: conflicts with target.caFile in the scenario: trust the server through its CA file, or accept any certificate, not both');
  if (problems.length) throw new InputError(problems.length === 1 ? problems[0]! : `${problems.length} problems with the options`, 'see `callwright run --help`', problems);
  let target = args.target ? { ...scenario.target, url: args.target, domain: args.domain ?? scenario.target!.domain } : scenario.target;
  if (target && args['insecure-tls']) target = { ...target, insecureTls: true };
  const iterations = args.iterations ?? scenario.load.iterations;
  const concurrency = Math.min(args.concurrency ?? scenario.load.concurrency, scenario.load.model === 'closed' ? (iterations ?? Infinity) : Infinity);
  // More slots than accounts would put two calls on one account at once.
  const accounts = Math.min(...Object.values(scenario.roles).map((role) => role.accounts.length));
  if (concurrency > accounts) {
    throw new InputError(`--concurrency ${concurrency}: the scenario's roles have accounts for ${accounts} calls at once`, 'add accounts to every role, or lower --concurrency');
  }
  return { ...scenario, target, load: { ...scenario.load, ...(iterations === undefined ? {} : { iterations }), concurrency } };
}

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const RUN_ID_HINT = 'a run id is 1-128 letters, digits, _, . or - (in Kubernetes, the Job name)';

function runIdOf(args: RunArgs, env: NodeJS.ProcessEnv): string | undefined {
  const [value, source] = args['run-id'] !== undefined ? [args['run-id'], '--run-id'] : [env.CALLWRIGHT_RUN_ID, 'CALLWRIGHT_RUN_ID'];
  if (value === undefined || value === '') return undefined;
  if (!RUN_ID.test(value)) throw new InputError(`${source}: "${value}" is not a run id`, RUN_ID_HINT);
  return value;
}

/** --shard or the environment; a sharded run needs a run id that all its shards share. */
function shardingOf(args: RunArgs, env: NodeJS.ProcessEnv): { shard: ShardInfo; runId: string } | undefined {
  const shard = args.shard !== undefined ? parseShard(args.shard, '--shard') : shardFromEnvironment(env);
  if (!shard) return undefined;
  const runId = runIdOf(args, env);
  if (runId === undefined) {
    throw new InputError(
      `shard ${shard.index}/${shard.count} needs a run id shared by every shard of the run`,
      'give --run-id NAME (or CALLWRIGHT_RUN_ID) with the same NAME to every shard; in Kubernetes use the Job name (deploy/kubernetes)',
    );
  }
  return { shard, runId };
}

function pushIntervalOf(args: RunArgs): number {
  const seconds = parseDurationSeconds(args['push-interval']);
  if (seconds === undefined || seconds < 1 || seconds > 3600) {
    throw new InputError(`--push-interval: "${args['push-interval']}" is not a duration from 1s to 1h`, 'give it with a unit, e.g. --push-interval 10s');
  }
  return seconds;
}

/** yargs turns a word given for a number option into NaN: say so instead of "NaN". */
function shownNumber(value: number): string {
  return Number.isNaN(value) ? 'something that is not a number' : String(value);
}

function verdictLine(exitCode: number, scenario: string, outDir: string): string {
  return `${exitCode === 0 ? 'PASS' : 'FAIL'} ${scenario} (exit ${exitCode}); reports: ${outDir}`;
}
