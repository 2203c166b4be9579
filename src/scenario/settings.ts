/**
 * The scenario's settings outside roles and steps: target, options, load and
 * thresholds. Defaults live here, in one table each, so the README and the
 * code cannot drift apart silently.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import type { Load, ScenarioOptions, Target } from './types.js';
import { duration, flag, integer, matching, strictFields, text } from './fields.js';
import { describeValue, joinPath, type Problems } from './problems.js';

export const SCENARIO_NAME = /^[A-Za-z0-9_.-]+$/;
export const scenarioName = matching(SCENARIO_NAME, 'a name of letters, digits, _, . or -');

// A host name or an IP address, no scheme, no port: it becomes the host part of sip:user@domain.
const DOMAIN = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)$/;

const targetFields = strictFields({
  url: text('a ws:// or wss:// URL'),
  domain: matching(DOMAIN, 'a SIP domain: a host name or IP address, without scheme or port'),
  caFile: text('a path to a PEM file').optional(),
  insecureTls: flag().optional(),
});

/** Absent target: the embedded server. `baseDir` is the scenario file's folder, for caFile. */
export function readTarget(value: unknown, baseDir: string, problems: Problems): Target | undefined {
  if (value === undefined || value === null) return undefined;
  const fields = problems.parse(targetFields, value, 'target');
  if (!fields) return undefined;
  const target: Target = { url: fields.url, domain: fields.domain };
  const secure = checkUrl(fields.url, problems);
  if (fields.caFile !== undefined) {
    target.caFile = resolve(baseDir, fields.caFile);
    if (secure === false) problems.add('target.caFile', 'a CA file is only used with wss:// URLs');
    if (!isFile(target.caFile)) problems.add('target.caFile', `file not found: ${target.caFile} (relative paths start at the scenario file's folder)`);
  }
  if (fields.insecureTls !== undefined) {
    target.insecureTls = fields.insecureTls;
    if (fields.insecureTls && secure === false) problems.add('target.insecureTls', 'only applies to wss:// URLs');
  }
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

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Defaults of every option, and of stepTimeout (which only steps read). */
export const OPTION_DEFAULTS = {
  statsIntervalSeconds: 1,
  iceGatheringTimeoutMs: 50,
  registerExpiresSeconds: 600,
  agentsPerPage: 16,
  pagesPerBrowser: 4,
  playReceivedAudio: true,
  stepTimeoutSeconds: 10,
} as const;

const optionFields = strictFields({
  statsInterval: duration(0.2, 60).optional(),
  iceGatheringTimeout: duration(0, 10).optional(),
  registerExpires: integer(10, 86_400).optional(),
  agentsPerPage: integer(1, 200).optional(),
  pagesPerBrowser: integer(1, 50).optional(),
  playReceivedAudio: flag().optional(),
  stepTimeout: duration(0.1, 3600).optional(),
});

/** The options, and the default step timeout; defaults stand in for fields with problems so steps can still be checked. */
export function readOptions(value: unknown, problems: Problems): { options: ScenarioOptions; stepTimeoutSeconds: number } {
  const fields = value === undefined || value === null ? {} : (problems.parse(optionFields, value, 'options') ?? {});
  const d = OPTION_DEFAULTS;
  return {
    options: {
      statsIntervalSeconds: fields.statsInterval ?? d.statsIntervalSeconds,
      // Rounded to whole ms: the page passes it to setTimeout.
      iceGatheringTimeoutMs: fields.iceGatheringTimeout === undefined ? d.iceGatheringTimeoutMs : Math.round(fields.iceGatheringTimeout * 1000),
      registerExpiresSeconds: fields.registerExpires ?? d.registerExpiresSeconds,
      agentsPerPage: fields.agentsPerPage ?? d.agentsPerPage,
      pagesPerBrowser: fields.pagesPerBrowser ?? d.pagesPerBrowser,
      playReceivedAudio: fields.playReceivedAudio ?? d.playReceivedAudio,
    },
    stepTimeoutSeconds: fields.stepTimeout ?? d.stepTimeoutSeconds,
  };
}

const loadFields = strictFields({
  iterations: integer(1, 1_000_000).optional(),
  concurrency: integer(1, 10_000).optional(),
});

export function readLoad(value: unknown, problems: Problems): Load {
  const fields = value === undefined || value === null ? {} : (problems.parse(loadFields, value, 'load') ?? {});
  const load: Load = { iterations: fields.iterations ?? 1, concurrency: fields.concurrency ?? 1 };
  if (load.concurrency > load.iterations) {
    problems.add('load.concurrency', `must not be above iterations (${load.iterations}), got ${load.concurrency}`);
  }
  return load;
}

const expressions = z.preprocess(
  // A single expression is accepted as a one-item list.
  (value) => (typeof value === 'string' ? [value] : value),
  z.array(text('an expression such as rate>=0.99').min(1, 'must not be empty'), {
    error: (issue) => `expected a list of expressions such as ['rate>=0.99'], got ${describeValue(issue.input)}`,
  }).min(1, 'needs at least one expression'),
);

/** Only the shape: the verdict module parses the expressions themselves. */
export function readThresholds(value: unknown, problems: Problems): Record<string, string[]> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    problems.add('thresholds', `expected a mapping of metric name to expressions, got ${describeValue(value)}`);
    return {};
  }
  const thresholds: [string, string[]][] = [];
  for (const [metric, list] of Object.entries(value)) {
    const path = joinPath('thresholds', metric);
    if (metric.trim() === '') problems.add(path, 'a metric name must not be empty');
    const parsed = problems.parse(expressions, list, path);
    if (parsed) thresholds.push([metric, parsed]);
  }
  // fromEntries defines own properties, so even a metric called "__proto__" stays data.
  return Object.fromEntries(thresholds);
}
