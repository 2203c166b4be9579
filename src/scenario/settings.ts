/**
 * The scenario's settings outside roles and steps: target, options, load and
 * thresholds. Defaults live here, in one table each, so the README and the
 * code cannot drift apart silently.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import type { HoldTime, Load, RatePhase, Role, ScenarioOptions, ScenarioThreshold, Step, Target } from './types.js';
import { duration, flag, integer, matching, oneOf, strictFields, text } from './fields.js';
import { describeValue, joinPath, type Problems } from './problems.js';
import { caFileProblem } from './caFile.js';
import type { Env } from './accounts.js';
import { checkIceTransportPolicy, iceServerListFields, iceTransportPolicyField, readIceServers } from './iceServers.js';

export const SCENARIO_NAME = /^[A-Za-z0-9_.-]+$/;
export const scenarioName = matching(SCENARIO_NAME, 'a name of letters, digits, _, . or -');

// A host name or an IP address, no scheme, no port: it becomes the host part of sip:user@domain.
const DOMAIN = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)$/;

const targetFields = strictFields({
  url: text('a ws:// or wss:// URL'),
  domain: matching(DOMAIN, 'a SIP domain: a host name or IP address, without scheme or port'),
  caFile: text('a path to a PEM file').optional(),
  insecureTls: flag().optional(),
  iceServers: iceServerListFields.optional(),
  iceTransportPolicy: iceTransportPolicyField.optional(),
});

// The servers are read one by one (iceServers.ts), so one entry's shape problem does not hide the others' problems.
const targetReadFields = targetFields.extend({ iceServers: z.unknown().optional() });

/**
 * Absent target: the embedded server. `baseDir` is the scenario file's folder, for caFile;
 * `env` is where credentialEnv and secretEnv of target.iceServers are looked up (iceServers.ts).
 */
export function readTarget(value: unknown, baseDir: string, problems: Problems, env: Env = {}): Target | undefined {
  if (value === undefined || value === null) return undefined;
  const fields = problems.parse(targetReadFields, value, 'target');
  if (!fields) return undefined;
  const target: Target = { url: fields.url, domain: fields.domain };
  const secure = checkUrl(fields.url, problems);
  if (fields.caFile !== undefined) {
    target.caFile = resolve(baseDir, fields.caFile);
    if (secure === false) problems.add('target.caFile', 'a CA file is only used with wss:// URLs');
    const notAFile = fileProblem(target.caFile);
    if (notAFile) problems.add('target.caFile', `${notAFile}: ${target.caFile} (relative paths start at the scenario file's folder)`);
    else {
      const problem = caFileProblem(target.caFile);
      if (problem) problems.add('target.caFile', problem);
    }
  }
  if (fields.insecureTls !== undefined) {
    target.insecureTls = fields.insecureTls;
    if (fields.insecureTls && secure === false) problems.add('target.insecureTls', 'only applies to wss:// URLs');
    if (fields.insecureTls && fields.caFile !== undefined) {
      problems.add('target.insecureTls', 'conflicts with target.caFile: trust the server through its CA file, or accept any certificate, not both');
    }
  }
  if (fields.iceServers !== undefined) {
    const servers = readIceServers(fields.iceServers, env, problems);
    if (servers && servers.length > 0) target.iceServers = servers;
    if (fields.iceTransportPolicy !== undefined) checkIceTransportPolicy(fields.iceTransportPolicy, servers, problems);
  } else if (fields.iceTransportPolicy === 'relay') {
    checkIceTransportPolicy('relay', [], problems);
  }
  if (fields.iceTransportPolicy !== undefined) target.iceTransportPolicy = fields.iceTransportPolicy;
  return target;
}

/** true for wss://, false for ws://, undefined when the URL is not usable (a problem is recorded). */
function checkUrl(url: string, problems: Problems): boolean | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    problems.add('target.url', `expected a ws:// or wss:// URL such as wss://pbx.example.com:8089/ws, got ${describeValue(url)}`);
    return undefined;
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    problems.add('target.url', `SIP over WebSocket needs a ws:// or wss:// URL, got ${parsed.protocol}//`);
    return undefined;
  }
  if (parsed.hostname === '') {
    problems.add('target.url', 'the URL has no host');
    return undefined;
  }
  return parsed.protocol === 'wss:';
}

/** Why `path` is not a readable file, or undefined when it is one. */
function fileProblem(path: string): string | undefined {
  try {
    if (statSync(path).isDirectory()) return 'is a folder, not a file';
    accessSync(path, constants.R_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'file not found' : `cannot read it (${code ?? String(error)})`;
  }
}

/** Defaults of every option, and of stepTimeout (which only steps read). */
export const OPTION_DEFAULTS = {
  statsIntervalSeconds: 1,
  iceGathering: 'usable',
  iceGatheringTimeoutMs: 5000,
  registerExpiresSeconds: 600,
  playReceivedAudio: true,
  receivedAudioSample: 1,
  mediaProfile: 'standard',
  pageRecycleAfter: 400,
  watchdog: { cpu: 0.95, eventLoopLagMs: 250, memory: 0.95, intervalSeconds: 1 },
  stepTimeoutSeconds: 10,
  evidence: { sampleSuccessful: 0, maxFiles: 1000 },
} as const;

/** What the low-cost media profile changes (docs/load.md): fewer packets, and only a sample of legs decoded. */
export const LOW_COST_PROFILE = { opusPtimeMs: 60, receivedAudioSample: 0.1 } as const;

function fraction(what: string) {
  const error = (issue: { input?: unknown }) => `expected ${what}, got ${describeValue(issue.input)}`;
  return z.number({ error }).gt(0, { error }).max(1, { error });
}

const watchdogFields = strictFields({
  cpu: fraction("a fraction of the machine's cores above 0 and at most 1, e.g. 0.95").optional(),
  eventLoopLag: duration(0.001, 60).optional(),
  memory: fraction("a fraction of the machine's memory above 0 and at most 1, e.g. 0.95").optional(),
  interval: duration(0.2, 60).optional(),
});

const optionFields = strictFields({
  statsInterval: duration(0.2, 60).optional(),
  iceGathering: oneOf(['usable', 'complete']).optional(),
  iceGatheringTimeout: duration(0.001, 30).optional(),
  registerExpires: integer(10, 86_400).optional(),
  agentsPerPage: integer(1, 200).optional(),
  pagesPerBrowser: integer(1, 50).optional(),
  playReceivedAudio: flag().optional(),
  receivedAudioSample: fraction('a fraction of legs above 0 and at most 1, e.g. 0.1').optional(),
  opusPtime: duration(0.01, 0.12)
    .refine((seconds) => [10, 20, 40, 60, 120].includes(Math.round(seconds * 1000)), { message: 'expected 10ms, 20ms, 40ms, 60ms or 120ms (Opus frame sizes)' })
    .optional(),
  mediaProfile: oneOf(['standard', 'low-cost']).optional(),
  pageRecycleAfter: integer(1, 500).optional(),
  liteAgentsPerProcess: integer(1, 2000).optional(),
  watchdog: watchdogFields.optional(),
  stepTimeout: duration(0.1, 3600).optional(),
  evidence: strictFields({
    sampleSuccessful: z
      .number({ error: (issue) => `expected a fraction of calls from 0 to 1, e.g. 0.01, got ${describeValue(issue.input)}` })
      .min(0, { error: (issue) => `expected a fraction of calls from 0 to 1, e.g. 0.01, got ${describeValue(issue.input)}` })
      .max(1, { error: (issue) => `expected a fraction of calls from 0 to 1, e.g. 0.01, got ${describeValue(issue.input)}` })
      .optional(),
    maxFiles: integer(0, 1_000_000).optional(),
  }).optional(),
});

/** The options, and the default step timeout; defaults stand in for fields with problems so steps can still be checked. */
export function readOptions(value: unknown, problems: Problems): { options: ScenarioOptions; stepTimeoutSeconds: number } {
  const fields = value === undefined || value === null ? {} : (problems.parse(optionFields, value, 'options') ?? {});
  const d = OPTION_DEFAULTS;
  const mediaProfile = fields.mediaProfile ?? d.mediaProfile;
  const profile = mediaProfile === 'low-cost' ? LOW_COST_PROFILE : undefined;
  const opusPtimeMs = fields.opusPtime === undefined ? profile?.opusPtimeMs : Math.round(fields.opusPtime * 1000);
  const watchdog = fields.watchdog ?? {};
  const options: ScenarioOptions = {
    statsIntervalSeconds: fields.statsInterval ?? d.statsIntervalSeconds,
    iceGathering: fields.iceGathering ?? d.iceGathering,
    // Rounded to whole ms: the page passes it to setTimeout.
    iceGatheringTimeoutMs: fields.iceGatheringTimeout === undefined ? d.iceGatheringTimeoutMs : Math.round(fields.iceGatheringTimeout * 1000),
    registerExpiresSeconds: fields.registerExpires ?? d.registerExpiresSeconds,
    playReceivedAudio: fields.playReceivedAudio ?? d.playReceivedAudio,
    receivedAudioSample: fields.receivedAudioSample ?? profile?.receivedAudioSample ?? d.receivedAudioSample,
    mediaProfile,
    pageRecycleAfter: fields.pageRecycleAfter ?? d.pageRecycleAfter,
    watchdog: {
      cpu: watchdog.cpu ?? d.watchdog.cpu,
      eventLoopLagMs: watchdog.eventLoopLag === undefined ? d.watchdog.eventLoopLagMs : Math.round(watchdog.eventLoopLag * 1000),
      memory: watchdog.memory ?? d.watchdog.memory,
      intervalSeconds: watchdog.interval ?? d.watchdog.intervalSeconds,
    },
    evidence: {
      sampleSuccessful: fields.evidence?.sampleSuccessful ?? d.evidence.sampleSuccessful,
      maxFiles: fields.evidence?.maxFiles ?? d.evidence.maxFiles,
    },
  };
  if (fields.agentsPerPage !== undefined) options.agentsPerPage = fields.agentsPerPage;
  if (fields.pagesPerBrowser !== undefined) options.pagesPerBrowser = fields.pagesPerBrowser;
  if (fields.liteAgentsPerProcess !== undefined) options.liteAgentsPerProcess = fields.liteAgentsPerProcess;
  if (opusPtimeMs !== undefined) options.opusPtimeMs = opusPtimeMs;
  return { options, stepTimeoutSeconds: fields.stepTimeout ?? d.stepTimeoutSeconds };
}

/** Load defaults (docs/load.md). */
export const LOAD_DEFAULTS = {
  arrivals: 'uniform',
  lateAfterSeconds: 0.1,
  dropAfterSeconds: 2,
  gracefulStopSeconds: 30,
  registerRate: 50,
  seed: 1,
  statsPeriodSeconds: 5,
} as const;
/** Open models plan every arrival up front; this bounds the plan's size. */
export const MAX_PLANNED_ARRIVALS = 1_000_000;
const MAX_RATE = 1000;
const MAX_RUN_SECONDS = 7 * 86_400;

function rate() {
  const error = (issue: { input?: unknown }) => `expected calls per second from 0 to ${MAX_RATE}, got ${describeValue(issue.input)}`;
  return z.number({ error }).min(0, { error }).max(MAX_RATE, { error });
}

const phaseFields = strictFields(
  { duration: duration(0.001, MAX_RUN_SECONDS), rate: rate(), rampTo: rate().optional() },
  'a phase: { duration, rate, rampTo }',
);

const holdTimeFields = z.union([
  strictFields({ uniform: strictFields({ min: duration(0, 86_400), max: duration(0, 86_400) }) }),
  strictFields({ exponential: strictFields({ mean: duration(0.001, 86_400), max: duration(0, 86_400).optional() }) }),
  strictFields({
    normal: strictFields({ mean: duration(0, 86_400), stddev: duration(0, 86_400), min: duration(0, 86_400).optional(), max: duration(0, 86_400).optional() }),
  }),
]);

const loadFields = strictFields({
  iterations: integer(1, 1_000_000).optional(),
  concurrency: integer(1, 10_000).optional(),
  maxConcurrent: integer(1, 10_000).optional(),
  duration: duration(0.001, MAX_RUN_SECONDS).optional(),
  rate: rate().optional(),
  phases: z.array(phaseFields, { error: (issue) => `expected a list of phases such as [{ duration: 10s, rate: 1, rampTo: 5 }], got ${describeValue(issue.input)}` }).min(1, 'needs at least one phase').optional(),
  arrivals: oneOf(['uniform', 'poisson']).optional(),
  holdTime: z.unknown().optional(),
  lateAfter: duration(0.001, 3600).optional(),
  dropAfter: duration(0.001, 3600).optional(),
  gracefulStop: duration(0, 3600).optional(),
  preRegister: flag().optional(),
  registerRate: z.number({ error: (issue) => `expected registrations per second above 0, got ${describeValue(issue.input)}` }).gt(0, 'expected registrations per second above 0').max(10_000, 'at most 10000 per second').optional(),
  seed: integer(0, 2 ** 32 - 1).optional(),
  statsPeriod: duration(0.2, 3600).optional(),
});

/** Load, checked on its own; see checkLoadAgainst for what needs the roles and steps too. */
export function readLoad(value: unknown, problems: Problems): Load {
  const fields = value === undefined || value === null ? {} : (problems.parse(loadFields, value, 'load') ?? {});
  const d = LOAD_DEFAULTS;
  const open = fields.rate !== undefined || fields.phases !== undefined;
  const common = {
    arrivals: fields.arrivals ?? d.arrivals,
    lateAfterSeconds: fields.lateAfter ?? d.lateAfterSeconds,
    dropAfterSeconds: fields.dropAfter ?? d.dropAfterSeconds,
    gracefulStopSeconds: fields.gracefulStop ?? d.gracefulStopSeconds,
    registerRate: fields.registerRate ?? d.registerRate,
    seed: fields.seed ?? d.seed,
    statsPeriodSeconds: fields.statsPeriod ?? d.statsPeriodSeconds,
  };
  const holdTime = fields.holdTime === undefined ? undefined : readHoldTime(fields.holdTime, problems);
  if (common.dropAfterSeconds < common.lateAfterSeconds) problems.add('load.dropAfter', `must not be below lateAfter (${common.lateAfterSeconds} s)`);
  if (fields.arrivals !== undefined && !open) problems.add('load.arrivals', 'only applies to an open model (load.rate or load.phases)');

  if (!open) {
    if (fields.maxConcurrent !== undefined) problems.add('load.maxConcurrent', 'caps an open model (load.rate or load.phases); a closed model runs exactly load.concurrency at once');
    const concurrency = fields.concurrency ?? 1;
    const iterations = fields.iterations ?? (fields.duration === undefined ? 1 : undefined);
    if (iterations !== undefined && concurrency > iterations) {
      problems.add('load.concurrency', `must not be above iterations (${iterations}), got ${concurrency}`);
    }
    const load: Load = { model: 'closed', concurrency, phases: [], ...common, preRegister: fields.preRegister ?? concurrency > 1 };
    if (iterations !== undefined) load.iterations = iterations;
    if (fields.duration !== undefined) load.durationSeconds = fields.duration;
    if (holdTime) load.holdTime = holdTime;
    return load;
  }

  let phases: RatePhase[] = [];
  if (fields.rate !== undefined && fields.phases !== undefined) {
    problems.add('load.rate', 'give either rate (with duration) or phases, not both');
  } else if (fields.phases !== undefined) {
    if (fields.duration !== undefined) problems.add('load.duration', 'the phases set the duration; leave it out');
    phases = fields.phases.map((phase) => ({ durationSeconds: phase.duration, rate: phase.rate, endRate: phase.rampTo ?? phase.rate }));
  } else if (fields.rate !== undefined) {
    const seconds = fields.duration ?? (fields.iterations !== undefined && fields.rate > 0 ? fields.iterations / fields.rate : undefined);
    if (seconds === undefined) problems.add('load.rate', 'needs a duration (or iterations) to know when to stop');
    else phases = [{ durationSeconds: seconds, rate: fields.rate, endRate: fields.rate }];
  }
  if (fields.concurrency !== undefined) {
    problems.add('load.concurrency', 'is the closed model; with rate or phases, cap the calls at once with maxConcurrent');
  }
  if (fields.maxConcurrent === undefined) {
    problems.add('load.maxConcurrent', 'required with rate or phases: the most calls at once (each needs its own accounts; arrivals beyond it are dropped and counted)');
  }
  const durationSeconds = phases.reduce((sum, phase) => sum + phase.durationSeconds, 0);
  const expected = phases.reduce((sum, phase) => sum + ((phase.rate + phase.endRate) / 2) * phase.durationSeconds, 0);
  if (phases.length > 0 && expected < 0.5 && fields.iterations === undefined) problems.add(fields.phases ? 'load.phases' : 'load.rate', 'plans no calls: raise the rate or the duration');
  if (expected > MAX_PLANNED_ARRIVALS) problems.add(fields.phases ? 'load.phases' : 'load.rate', `plans about ${Math.round(expected)} calls; at most ${MAX_PLANNED_ARRIVALS} per run`);
  const load: Load = {
    model: 'open',
    concurrency: fields.maxConcurrent ?? 1,
    phases,
    ...common,
    preRegister: fields.preRegister ?? true,
    durationSeconds,
  };
  if (fields.iterations !== undefined) load.iterations = fields.iterations;
  if (holdTime) load.holdTime = holdTime;
  return load;
}

const fixedHoldTime = duration(0, 86_400);

function readHoldTime(value: unknown, problems: Problems): HoldTime | undefined {
  const path = 'load.holdTime';
  if (typeof value === 'string' || typeof value === 'number') {
    const seconds = problems.parse(fixedHoldTime, value, path);
    return seconds === undefined ? undefined : { kind: 'fixed', seconds };
  }
  const before = problems.count;
  const fields = problems.parse(holdTimeFields, value, path);
  if (!fields) {
    // A union's issues say little; one line with every allowed form says more.
    problems.list.splice(before);
    problems.add(path, `expected a duration (30s) or one of { uniform: { min, max } }, { exponential: { mean, max } }, { normal: { mean, stddev, min, max } }, got ${describeValue(value)}`);
    return undefined;
  }
  if ('uniform' in fields) {
    const { min, max } = fields.uniform;
    if (min > max) problems.add(`${path}.uniform.min`, 'must not be above max');
    return { kind: 'uniform', minSeconds: min, maxSeconds: max };
  }
  if ('exponential' in fields) {
    const { mean, max } = fields.exponential;
    // Unbounded draws would let one call hold for hours; ten means covers all but 0.005 % of them.
    return { kind: 'exponential', meanSeconds: mean, maxSeconds: max ?? mean * 10 };
  }
  const { mean, stddev, min, max } = fields.normal;
  const bounds = { minSeconds: min ?? 0, maxSeconds: max ?? mean + 4 * stddev };
  if (bounds.minSeconds > bounds.maxSeconds) problems.add(`${path}.normal.min`, 'must not be above max');
  return { kind: 'normal', meanSeconds: mean, stddevSeconds: stddev, ...bounds };
}

/**
 * What load needs from the rest of the scenario: an account per role for each
 * slot (so two calls at once never share an account), and `wait: holdTime`
 * steps exactly when load.holdTime is set.
 */
export function checkLoadAgainst(load: Load, roles: Record<string, Role>, steps: readonly Step[], problems: Problems): void {
  const slots = Math.min(load.concurrency, load.iterations ?? Number.POSITIVE_INFINITY);
  for (const role of Object.values(roles)) {
    if (role.accounts.length < slots) {
      const knob = load.model === 'open' ? 'load.maxConcurrent' : 'load.concurrency';
      problems.add(
        `roles.${role.name}.accounts`,
        `has ${role.accounts.length} account${role.accounts.length === 1 ? '' : 's'} for up to ${slots} calls at once (${knob}); each call at once needs its own accounts: add accounts (e.g. a range with count: ${slots}) or lower ${knob}`,
      );
    }
  }
  const holdWaits = steps.some((step) => step.kind === 'wait' && step.holdTime);
  if (holdWaits && !load.holdTime) problems.add('load.holdTime', 'required by the `wait: holdTime` steps (e.g. holdTime: 30s)');
  if (!holdWaits && load.holdTime) problems.add('load.holdTime', 'no step uses it: add `- wait: holdTime` where the call is held');
}

const expression = text('an expression such as rate>=0.99').min(1, 'must not be empty');
const thresholdObject = strictFields(
  { threshold: expression, abortOnFail: flag().optional(), delayAbortEval: duration(0, MAX_RUN_SECONDS).optional() },
  "an expression such as 'rate>=0.99' or { threshold, abortOnFail, delayAbortEval }",
);

/** The zod shapes of the settings sections, for the JSON Schema (jsonSchema.ts); holdTime and thresholds are read by hand, so their forms are listed apart. */
export const SETTINGS_SHAPES = { target: targetFields, options: optionFields, load: loadFields, holdTime: holdTimeFields, fixedHoldTime, thresholdObject } as const;

/** Only the shape: the verdict module parses the expressions themselves (the loader's thresholds check). */
export function readThresholds(value: unknown, problems: Problems): Record<string, ScenarioThreshold[]> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    problems.add('thresholds', `expected a mapping of metric name to expressions, got ${describeValue(value)}`);
    return {};
  }
  const thresholds: [string, ScenarioThreshold[]][] = [];
  for (const [metric, listOrOne] of Object.entries(value)) {
    const path = joinPath('thresholds', metric);
    if (metric.trim() === '') problems.add(path, 'a metric name must not be empty');
    // A single expression (or object) is accepted as a one-item list.
    const list: unknown = typeof listOrOne === 'string' || isThresholdObject(listOrOne) ? [listOrOne] : listOrOne;
    if (!Array.isArray(list)) {
      problems.add(path, `expected a list of expressions such as ['rate>=0.99'], got ${describeValue(listOrOne)}`);
      continue;
    }
    if (list.length === 0) problems.add(path, 'needs at least one expression');
    const before = problems.count;
    const items = list.map((item, index) => problems.parse(isThresholdObject(item) ? thresholdObject : expression, item, joinPath(path, index)));
    if (problems.count === before && items.length > 0) thresholds.push([metric, items as ScenarioThreshold[]]);
  }
  // fromEntries defines own properties, so even a metric called "__proto__" stays data.
  return Object.fromEntries(thresholds);
}

function isThresholdObject(value: unknown): boolean {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
