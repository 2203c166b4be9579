import type { Argv } from 'yargs';
import { InputError } from '../../errors.js';
import { createLogger, type LogLevel } from '../../log.js';
import { loadScenario } from '../../scenario/index.js';
import type { Scenario } from '../../scenario/types.js';
import type { CallwrightCommand } from '../command.js';
import { printRunSummary } from '../summaryText.js';
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
      .option('pushgateway', { type: 'string', describe: 'Pushgateway URL to push the final metrics to' })
      .option('iterations', { type: 'number', describe: 'override load.iterations' })
      .option('concurrency', { type: 'number', describe: 'override load.concurrency' })
      .option('log-level', { choices: ['error', 'warn', 'info', 'debug'] as const, default: 'info' as LogLevel }) as unknown as Argv<RunArgs>,
  run: async (args) => {
    const logger = createLogger(args['log-level']);
    const scenario = applyOverrides(await loadScenario(args.scenario), args);
    // Loaded lazily: `validate` and `--help` need no browser machinery.
    const { runScenario } = await import('../../runner/run.js');
    const stop = installStopHandlers(logger);
    try {
      const outcome = await runScenario({
        scenario,
        outDir: args.out,
        logger,
        headless: !args.headful,
        chromium: args.chromium,
        metricsPort: args['metrics-port'],
        metricsHost: args['metrics-host'],
        pushgatewayUrl: args.pushgateway,
        signal: stop.signal,
        onReady: (ready) => {
          stop.onForcedStop(() => ready.browserPids());
          if (ready.metricsUrl) logger.info(`metrics: ${ready.metricsUrl}`);
          logger.debug(`SIP server: ${ready.sipUrl}`);
        },
      });
      printRunSummary(outcome, (line) => process.stdout.write(line + '\n'));
      return outcome.summary.exitCode;
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
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) problems.push(`--${name}: must be a whole number of at least 1, got ${value}`);
  }
  if (problems.length) throw new InputError(problems.length === 1 ? problems[0]! : `${problems.length} problems with the options`, 'see `callwright run --help`', problems);
  const target = args.target ? { ...scenario.target, url: args.target, domain: args.domain ?? scenario.target!.domain } : scenario.target;
  const iterations = args.iterations ?? scenario.load.iterations;
  const concurrency = Math.min(args.concurrency ?? scenario.load.concurrency, iterations);
  return { ...scenario, target, load: { ...scenario.load, iterations, concurrency } };
}
