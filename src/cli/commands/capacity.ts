import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Argv } from 'yargs';
import { ExitCode, InputError } from '../../errors.js';
import { createLogger, type LogLevel } from '../../log.js';
import { loadScenario } from '../../scenario/index.js';
import { parseDurationSeconds } from '../../scenario/durations.js';
import type { Scenario } from '../../scenario/types.js';
import type { CallwrightCommand } from '../command.js';
import { installStopHandlers } from '../stopSignals.js';

export interface CapacityArgs {
  scenario: string;
  out: string;
  mode?: 'concurrency' | 'rate';
  start?: number;
  step?: number;
  max?: number;
  levels?: string;
  'step-duration': string;
  'success-rate': number;
  'setup-p95'?: string;
  'min-mos'?: number;
  'allow-saturation': boolean;
  refine: number;
  require?: number;
  'server-max-calls'?: number;
  target?: string;
  domain?: string;
  chromium?: string;
  headful: boolean;
  'log-level': LogLevel;
}

/** Default levels when none are given: ten steps up to the accounts (calls at once), or 1..20 calls/s. */
const DEFAULT_RATE_MAX = 20;

export const capacityCommand: CallwrightCommand<CapacityArgs> = {
  command: 'capacity <scenario>',
  describe: 'Find the breaking point: run the scenario at rising concurrency or call rate until a criterion fails; report the last good and first bad level and why',
  builder: (yargs: Argv) =>
    yargs
      .positional('scenario', { type: 'string', demandOption: true, describe: 'scenario YAML file (its steps are one call; its load model is replaced per step)' })
      .option('out', { type: 'string', default: 'reports/capacity', describe: 'output directory: capacity.json, capacity.csv and one run folder per step' })
      .option('mode', { choices: ['concurrency', 'rate'] as const, describe: 'step calls at once (closed model) or calls per second (open model); default: the scenario\'s model' })
      .option('start', { type: 'number', describe: 'first level' })
      .option('step', { type: 'number', describe: 'added per step (default: start)' })
      .option('max', { type: 'number', describe: 'highest level (default: the accounts per role for concurrency, 20 calls/s for rate)' })
      .option('levels', { type: 'string', describe: 'explicit comma-separated levels instead of start/step/max, e.g. 10,20,40,60' })
      .option('step-duration', { type: 'string', default: '30s', describe: 'how long each level runs (then calls in progress finish)' })
      .option('success-rate', { type: 'number', default: 0.99, describe: 'lowest successful share of planned calls (dropped starts count as failures)' })
      .option('setup-p95', { type: 'string', describe: 'highest setup-time p95, e.g. 2s' })
      .option('min-mos', { type: 'number', describe: 'lowest MOS p5 (5th percentile of the calls)' })
      .option('allow-saturation', { type: 'boolean', default: false, describe: 'judge steps on their figures even when the harness was saturated' })
      .option('refine', { type: 'number', default: 0, describe: 'bisection steps between the last good and the first bad level' })
      .option('require', { type: 'number', describe: 'exit 1 unless the last good level is at least this (CI)' })
      .option('server-max-calls', { type: 'number', describe: 'embedded server only: answer 503 above this many calls at once (a known limit, to check the search)' })
      .option('target', { type: 'string', describe: 'ws:// or wss:// URL of your SIP server (default: the scenario target, else the embedded server)' })
      .option('domain', { type: 'string', describe: 'SIP domain of the accounts on --target' })
      .option('chromium', { type: 'string', describe: 'Chromium/Chrome binary' })
      .option('headful', { type: 'boolean', default: false, describe: 'show the browser windows (needs a display)' })
      .option('log-level', { choices: ['error', 'warn', 'info', 'debug'] as const, default: 'info' as LogLevel }) as unknown as Argv<CapacityArgs>,
  run: async (args) => {
    const logger = createLogger(args['log-level']);
    let scenario = await loadScenario(args.scenario);
    if (args.target !== undefined) {
      if (!/^wss?:\/\//.test(args.target)) throw new InputError(`--target: "${args.target}" is not a ws:// or wss:// URL`, 'see `callwright capacity --help`');
      const domain = args.domain ?? scenario.target?.domain;
      if (!domain) throw new InputError('--target needs --domain (the SIP domain of the accounts)', 'see `callwright capacity --help`');
      scenario = { ...scenario, target: { ...scenario.target, url: args.target, domain } };
    }
    const mode = args.mode ?? (scenario.load.model === 'open' ? 'rate' : 'concurrency');
    const levels = capacityLevels(scenario, mode, args);
    const stepSeconds = parseDurationSeconds(args['step-duration']);
    if (stepSeconds === undefined || stepSeconds <= 0) throw new InputError(`--step-duration: expected a duration such as 30s, got "${args['step-duration']}"`, 'see `callwright capacity --help`');
    const setupP95 = args['setup-p95'] === undefined ? undefined : parseDurationSeconds(args['setup-p95']);
    if (args['setup-p95'] !== undefined && setupP95 === undefined) throw new InputError(`--setup-p95: expected a duration such as 2s, got "${args['setup-p95']}"`, 'see `callwright capacity --help`');
    if (!(args['success-rate'] > 0 && args['success-rate'] <= 1)) throw new InputError(`--success-rate: expected a fraction above 0 and at most 1, got ${args['success-rate']}`, 'e.g. --success-rate 0.99');
    if (args['server-max-calls'] !== undefined && scenario.target) throw new InputError('--server-max-calls applies to the embedded server only', 'leave out --target and the scenario target, or drop --server-max-calls');

    const { runScenario } = await import('../../runner/run.js');
    const { describeCapacity, searchCapacity } = await import('../../studies/capacity.js');
    const outDir = resolve(args.out);
    mkdirSync(outDir, { recursive: true });
    const stop = installStopHandlers(logger);
    let pids: () => number[] = () => [];
    stop.onForcedStop(() => pids());
    try {
      const report = await searchCapacity({
        scenario,
        mode,
        levels,
        stepSeconds,
        criteria: {
          minSuccessRate: args['success-rate'],
          ...(setupP95 === undefined ? {} : { maxSetupP95Seconds: setupP95 }),
          ...(args['min-mos'] === undefined ? {} : { minMosP5: args['min-mos'] }),
          allowSaturation: args['allow-saturation'],
        },
        refine: Math.max(0, Math.floor(args.refine)),
        outDir,
        signal: stop.signal,
        runStep: async (stepScenario, stepDir) => {
          logger.info(`capacity: ${mode} ${mode === 'concurrency' ? stepScenario.load.concurrency : stepScenario.load.phases[0]?.rate} for ${stepSeconds} s -> ${stepDir}`);
          const outcome = await runScenario({
            scenario: stepScenario,
            outDir: stepDir,
            logger,
            headless: !args.headful,
            chromium: args.chromium,
            signal: stop.signal,
            // A step is judged by the search's criteria, not by the scenario's thresholds.
            thresholds: [],
            ...(args['server-max-calls'] === undefined ? {} : { embeddedServer: { maxConcurrentCalls: args['server-max-calls'] } }),
            onReady: (ready) => (pids = ready.browserPids),
          });
          return { summary: outcome.summary, calls: outcome.calls };
        },
        onStep: (step) => logger.info(`capacity: level ${step.level}: ${step.ok ? 'good' : `BAD: ${step.why.join('; ')}`}`),
      });
      writeFileSync(join(outDir, 'capacity.json'), JSON.stringify(report, null, 2) + '\n');
      writeFileSync(join(outDir, 'capacity.csv'), capacityCsv(report.steps));
      for (const line of describeCapacity(report)) process.stdout.write(line + '\n');
      process.stdout.write(`  reports: ${outDir}\n`);
      if (report.interrupted) return ExitCode.interrupted;
      if (args.require !== undefined && (report.lastGood?.level ?? 0) < args.require) {
        process.stderr.write(`capacity ${report.lastGood?.level ?? 0} is below --require ${args.require}\n`);
        return ExitCode.failed;
      }
      return ExitCode.pass;
    } finally {
      stop.dispose();
    }
  },
};

/** The levels to try, from --levels or --start/--step/--max (defaults from the accounts), ascending and without repeats. */
export function capacityLevels(scenario: Scenario, mode: 'concurrency' | 'rate', args: CapacityArgs): number[] {
  const accounts = Math.min(...Object.values(scenario.roles).map((role) => role.accounts.length));
  let levels: number[];
  if (args.levels !== undefined) {
    levels = args.levels.split(',').map((text) => Number(text.trim()));
    if (levels.some((level) => !Number.isFinite(level) || level <= 0)) throw new InputError(`--levels: expected positive numbers separated by commas, got "${args.levels}"`, 'e.g. --levels 10,20,40');
  } else {
    const max = args.max ?? (mode === 'concurrency' ? accounts : DEFAULT_RATE_MAX);
    const start = args.start ?? (mode === 'concurrency' ? Math.max(1, Math.ceil(max / 10)) : 1);
    const step = args.step ?? start;
    if (!(start > 0 && step > 0 && max >= start)) throw new InputError(`--start ${start}, --step ${step}, --max ${max}: need 0 < start <= max and step > 0`, 'see `callwright capacity --help`');
    levels = [];
    for (let level = start; level <= max + 1e-9 && levels.length < 1000; level += step) levels.push(Number(level.toFixed(6)));
  }
  if (mode === 'concurrency') {
    if (levels.some((level) => !Number.isInteger(level))) throw new InputError('concurrency levels must be whole numbers', 'e.g. --levels 10,20,40');
    const over = levels.filter((level) => level > accounts);
    if (over.length) throw new InputError(`level ${over[0]} needs ${over[0]} accounts per role; the scenario has ${accounts}`, 'add accounts (a larger range) or lower --max');
  } else {
    const cap = scenario.load.concurrency;
    if (cap > accounts) throw new InputError(`the scenario caps calls at once at ${cap} but has ${accounts} accounts per role`, 'lower load.maxConcurrent or add accounts');
  }
  return [...new Set(levels)].sort((a, b) => a - b);
}

function capacityCsv(steps: import('../../studies/capacity.js').CapacityStep[]): string {
  const header = 'level,planned,calls,succeeded,dropped,success_rate,setup_p50_s,setup_p95_s,mos_p5,harness_saturated,peak_machine_cpu_cores,peak_chromium_cpu_cores,ok,why,out_dir';
  const cell = (value: unknown) => {
    const text = value === undefined ? '' : typeof value === 'number' ? String(Number(value.toFixed(6))) : String(value);
    return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  const rows = steps.map((s) =>
    [s.level, s.planned, s.calls, s.succeeded, s.dropped, s.successRate, s.setupP50Seconds, s.setupP95Seconds, s.mosP5, s.harnessSaturated, s.peakMachineCpuCores, s.peakChromiumCpuCores, s.ok, s.why.join('; '), s.outDir].map(cell).join(','),
  );
  return [header, ...rows].join('\n') + '\n';
}
