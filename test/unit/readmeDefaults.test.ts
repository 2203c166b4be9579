/**
 * The README's scenario reference shows every option with its default. This
 * reads that block and loads it through the real loader, beside a scenario
 * that sets no option: a default changed in src/scenario/settings.ts (or
 * src/plan/placement.ts) and not in the README fails here. An option with no
 * fixed default (computed, or the browser's own) says so in its comment with
 * `default:`, and its shown value is checked against what is computed.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PLACEMENT_DEFAULTS, planPlacement } from '../../src/plan/placement.js';
import { parseScenario } from '../../src/scenario/loader.js';
import { LOW_COST_PROFILE } from '../../src/scenario/settings.js';

const README = resolve(import.meta.dirname, '../../README.md');

interface ShownOption {
  value: unknown;
  /** The line's comment, '' when it has none. */
  comment: string;
}

/** The `options:` block and the `load:` line of the README's scenario reference, as YAML text. */
function referenceBlock(readme: string): { options: string; load: string } {
  const section = readme.slice(readme.indexOf('## Scenario reference'));
  const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
  if (yaml === undefined) throw new Error('README.md: no ```yaml block under "## Scenario reference"');
  const lines = yaml.split('\n');
  const start = lines.findIndex((line) => line.startsWith('options:'));
  const end = lines.findIndex((line, index) => index > start && /^\S/.test(line) && !line.startsWith('#'));
  const load = lines.find((line) => line.startsWith('load:'));
  if (start < 0 || end < 0 || load === undefined) throw new Error('README.md: the scenario reference has no options: block or load: line');
  return { options: lines.slice(start, end).join('\n'), load };
}

/** Each option the block shows, with its value and its line's comment. */
function shownOptions(block: string): Map<string, ShownOption> {
  const values = (parse(block) as { options: Record<string, unknown> }).options;
  const shown = new Map<string, ShownOption>();
  for (const line of block.split('\n')) {
    const key = /^ {2}([A-Za-z]+):/.exec(line)?.[1];
    if (key === undefined) continue;
    // Values here hold no '#': the first one starts the comment.
    shown.set(key, { value: values[key], comment: line.includes('#') ? line.slice(line.indexOf('#') + 1).trim() : '' });
  }
  return shown;
}

/** A scenario around the README's options and load, or around none. */
function load(settings = ''): ReturnType<typeof parseScenario> {
  const scenario = ['name: defaults', settings, 'roles:', '  alice: { accounts: [{ user: alice, password: secret }] }', 'steps:', '  - register: alice'].join('\n');
  return parseScenario(scenario, 'README.md (scenario reference)');
}

/** The README key a loaded field comes from: the longest key it starts with (statsInterval -> statsIntervalSeconds). */
function keyOf(field: string, keys: Iterable<string>): string | undefined {
  return [...keys].filter((key) => field.startsWith(key)).sort((a, b) => b.length - a.length)[0];
}

describe("README.md's scenario reference", () => {
  const block = referenceBlock(readFileSync(README, 'utf8'));
  const shown = shownOptions(block.options);
  const defaults = load();
  // Throws an InputError listing the problems if the README shows an option the loader refuses.
  const asShown = load(`${block.options}\n${block.load}`);
  const fieldsShown = asShown.options as unknown as Record<string, unknown>;
  const fieldsByDefault = defaults.options as unknown as Record<string, unknown>;

  it('shows each option at its default, or says in its comment that the default is not a fixed value', () => {
    expect(shown.size).toBeGreaterThan(10);
    const problems: string[] = [];
    for (const [field, value] of Object.entries(fieldsShown)) {
      const key = keyOf(field, shown.keys());
      if (key === undefined) {
        problems.push(`${field}: not shown`);
      } else if (fieldsByDefault[field] === undefined) {
        if (!/\bdefault:/.test(shown.get(key)!.comment)) problems.push(`${key}: ${JSON.stringify(shown.get(key)!.value)} is not a default (none is fixed): say "default: ..." in its comment`);
      } else if (JSON.stringify(value) !== JSON.stringify(fieldsByDefault[field])) {
        problems.push(`${key}: shows ${JSON.stringify(value)}, the default is ${JSON.stringify(fieldsByDefault[field])}`);
      }
    }
    expect(asShown.steps[0]!.timeoutSeconds, 'stepTimeout').toBe(defaults.steps[0]!.timeoutSeconds);
    expect(problems).toEqual([]);
  });

  it('shows every option that has a default, each field of watchdog and evidence too', () => {
    const missing: string[] = [];
    for (const [field, value] of Object.entries(fieldsByDefault)) {
      const key = keyOf(field, shown.keys());
      if (key === undefined) {
        missing.push(field);
        continue;
      }
      if (value === null || typeof value !== 'object') continue;
      const subKeys = Object.keys((shown.get(key)!.value ?? {}) as object);
      for (const subField of Object.keys(value)) if (keyOf(subField, subKeys) === undefined) missing.push(`${field}.${subField}`);
    }
    expect(missing).toEqual([]);
  });

  it('shows the computed defaults as they are computed: agents per page, pages per browser, the low-cost profile', () => {
    expect(shown.get('agentsPerPage')?.value).toBe(PLACEMENT_DEFAULTS.agentsPerPage);
    // With the default agents per page, the most pages a browser gets (a run far bigger than one browser).
    expect(shown.get('pagesPerBrowser')?.value).toBe(planPlacement({ agents: 100_000 }).pagesPerBrowser);
    expect(shown.get('pagesPerBrowser')?.comment).toMatch(/default: computed/);
    const lowCost = shown.get('mediaProfile')!.comment;
    expect(lowCost).toContain(`${LOW_COST_PROFILE.opusPtimeMs} ms`);
    expect(lowCost).toContain(`${LOW_COST_PROFILE.receivedAudioSample * 100}%`);
  });

  it('shows the load model a scenario without load: gets', () => {
    expect(asShown.load).toEqual(defaults.load);
  });
});
