/**
 * What `run` and `validate` both do before anything starts: read --secrets,
 * load the scenario (its thresholds checked with it, each problem at its line
 * and column), apply the command-line overrides, take this shard's part, and
 * parse the thresholds. One function for both commands, so `validate` passes
 * exactly when `run --dry-run` would, with the same messages.
 */
import type { Argv } from 'yargs';
import { InputError } from '../errors.js';
import { parseDurationSeconds } from '../scenario/durations.js';
import { loadScenario } from '../scenario/index.js';
import { readSecretsFile } from '../scenario/secrets.js';
import type { Scenario } from '../scenario/types.js';
import { parseShard, shardFromEnvironment, shardScenario } from '../plan/shards.js';
import type { ShardInfo } from '../results.js';
import { optionThresholdProblems, parseRunThresholds, thresholdProblems, THRESHOLDS_HINT, type ParsedThreshold } from '../verdict/parseThresholds.js';

/** The options that decide what runs: `validate` takes them too, so a CI job validates exactly what it will run. */
export interface ScenarioArgs {
  scenario: string;
  target?: string;
  domain?: string;
  'insecure-tls'?: boolean;
  iterations?: number;
  concurrency?: number;
  threshold?: string[];
  secrets?: string;
  shard?: string;
  'run-id'?: string;
  /** `run` only (validate has no such option): checked when present. */
  'metrics-port'?: number;
}

/** Adds the options of ScenarioArgs (not the positional scenario), worded once for both commands. */
export function scenarioOptions<T>(yargs: Argv<T>) {
  return yargs
    .option('target', { type: 'string', describe: 'ws:// or wss:// URL of your SIP server (default: the scenario target, else the embedded server)' })
    .option('domain', { type: 'string', describe: 'SIP domain of the accounts on --target' })
    .option('insecure-tls', { type: 'boolean', default: false, describe: 'accept any TLS certificate from a wss:// target (insecure; prefer target.caFile)' })
    .option('threshold', {
      type: 'string',
      array: true,
      describe: 'add a threshold, k6 style: metric:expression, e.g. call_success:rate>=0.99 or setup_time:p(95)<2s (times need a unit: 200ms, 1.5s, 1m30s; repeatable)',
    })
    .option('iterations', { type: 'number', describe: 'override load.iterations' })
    .option('concurrency', { type: 'number', describe: 'override load.concurrency' })
    .option('secrets', { type: 'string', describe: 'file of NAME=value lines that passwordEnv names are looked up in first (keep it chmod 600)' })
    .option('shard', {
      type: 'string',
      describe: 'run shard I of N (1-based, e.g. 2/10) of the scenario; outputs go to <out>/shard-I. Also CALLWRIGHT_SHARD=I/N, or CALLWRIGHT_SHARDS=N with a Kubernetes Indexed Job\'s JOB_COMPLETION_INDEX',
    })
    .option('run-id', { type: 'string', describe: 'id of the run in summary.json and the Pushgateway grouping (default: random); required with --shard, the same for every shard. Also CALLWRIGHT_RUN_ID' });
}

export interface Sharding {
  shard: ShardInfo;
  runId: string;
}

export interface PreparedScenario {
  /** The scenario with the overrides applied, before sharding. */
  whole: Scenario;
  /** What this process runs: the whole, or this shard's part of it. */
  scenario: Scenario;
  /** The scenario's thresholds, then the --threshold ones. */
  thresholds: ParsedThreshold[];
}

export interface PrepareContext {
  env: NodeJS.ProcessEnv;
  warn: (message: string) => void;
  /** From shardingOf(); undefined for a whole run. */
  sharding?: Sharding;
  /** The command, for the hint: `see callwright <command> --help`. */
  command: 'run' | 'validate';
}

/** Everything that can be checked without starting anything; throws InputError (exit 2) naming each problem and where it is. */
export async function prepareScenario(args: ScenarioArgs, { env, warn, sharding, command }: PrepareContext): Promise<PreparedScenario> {
  const secrets = args.secrets === undefined ? undefined : readSecretsFile(args.secrets, warn);
  const loaded = await loadScenario(args.scenario, {
    ...(secrets ? { env: { ...env, ...secrets } } : { env }),
    thresholds: { problems: thresholdProblems, hint: THRESHOLDS_HINT },
  });
  const whole = applyOverrides(loaded, args, command);
  const scenario = sharding ? shardScenario(whole, sharding.shard) : whole;
  // Both halves were checked above (the file's by the loader, the options' with the overrides): this only puts them together.
  const thresholds = parseRunThresholds(scenario.thresholds, scenario.file, args.threshold ?? []);
  return { whole, scenario, thresholds };
}

function applyOverrides(scenario: Scenario, args: ScenarioArgs, command: PrepareContext['command']): Scenario {
  const problems: string[] = [];
  if (args.target !== undefined && !/^wss?:\/\//.test(args.target)) problems.push(`--target: "${args.target}" is not a ws:// or wss:// URL`);
  if (args.target !== undefined && !args.domain && !scenario.target) problems.push('--target needs --domain (the SIP domain of the accounts)');
  for (const name of ['iterations', 'concurrency'] as const) {
    const value = args[name];
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) problems.push(`--${name}: must be a whole number of at least 1, got ${shownNumber(value)}`);
  }
  const port = args['metrics-port'];
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) problems.push(`--metrics-port: must be a port from 0 (any free one) to 65535, got ${shownNumber(port)}`);
  const url = args.target ?? scenario.target?.url;
  if (args['insecure-tls'] && !url?.startsWith('wss://')) problems.push('--insecure-tls: only applies to a wss:// target (--target or target.url)');
  if (args['insecure-tls'] && scenario.target?.caFile) problems.push('--insecure-tls: conflicts with target.caFile in the scenario: trust the server through its CA file, or accept any certificate, not both');
  const thresholdProblems = optionThresholdProblems(args.threshold ?? []);
  problems.push(...thresholdProblems);
  if (problems.length) {
    const hint = thresholdProblems.length === problems.length ? THRESHOLDS_HINT : `see \`callwright ${command} --help\``;
    throw new InputError(problems.length === 1 ? problems[0]! : `${problems.length} problems with the options`, hint, problems);
  }
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

export function runIdOf(args: Pick<ScenarioArgs, 'run-id'>, env: NodeJS.ProcessEnv): string | undefined {
  const [value, source] = args['run-id'] !== undefined ? [args['run-id'], '--run-id'] : [env.CALLWRIGHT_RUN_ID, 'CALLWRIGHT_RUN_ID'];
  if (value === undefined || value === '') return undefined;
  if (!RUN_ID.test(value)) throw new InputError(`${source}: "${value}" is not a run id`, RUN_ID_HINT);
  return value;
}

/** --shard or the environment; a sharded run needs a run id that all its shards share. */
export function shardingOf(args: Pick<ScenarioArgs, 'shard' | 'run-id'>, env: NodeJS.ProcessEnv): Sharding | undefined {
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

export function pushIntervalOf(args: { 'push-interval': string }): number {
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
