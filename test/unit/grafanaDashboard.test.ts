/**
 * The Grafana dashboard stays true to the metrics: every metric a query names
 * exists (histograms through _bucket/_sum/_count), with the labels the query
 * groups and filters by. Renaming a metric or a label fails here, not on a
 * dashboard that silently shows "No data". And it reads sharded runs: every
 * selector filters by the run and shard variables, and the per-shard panels
 * are there.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMetricsRegistry } from '../../src/metrics/definitions.js';
import { pushGrouping } from '../../src/runner/run.js';

const dashboard = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../grafana/callwright-dashboard.json'), 'utf8'));
const panels: { id: number; type: string; title: string; gridPos: { x: number; w: number }; targets?: { expr: string }[] }[] = dashboard.panels;

/** Labels a pushed run adds to every series: the Pushgateway grouping key (run_id, shard), kept by honor_labels. */
const groupingLabels = Object.keys(pushGrouping('run', { index: 1, count: 2 }));

const queries = panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })));

/** Each metric a query names, with its selector (`{...}`, empty when it has none). */
function selectors(expr: string): { metric: string; selector: string }[] {
  return [...expr.matchAll(/\b(callwright_[a-z0-9_]+)(\{[^}]*\})?/g)].map((match) => ({ metric: match[1]!, selector: match[2] ?? '' }));
}

/** Metric names as queries see them -> their label names (with the grouping labels a push adds). */
async function exposedSeries(): Promise<Map<string, Set<string>>> {
  const { registry } = createMetricsRegistry();
  const series = new Map<string, Set<string>>();
  for (const metric of registry.getMetricsAsArray()) {
    // prom-client's types omit what every metric object has: get() and its labelNames.
    const typed = metric as unknown as { get(): Promise<{ name: string; type: string }>; labelNames: string[] };
    const { name, type } = await typed.get();
    const labels = new Set<string>([...typed.labelNames, ...groupingLabels]);
    if (type === 'histogram') {
      series.set(`${name}_bucket`, new Set([...labels, 'le']));
      series.set(`${name}_sum`, labels);
      series.set(`${name}_count`, labels);
    } else {
      series.set(name, labels);
    }
  }
  return series;
}

describe('grafana/callwright-dashboard.json', () => {
  it('queries only metrics and labels that callwright exposes', async () => {
    const series = await exposedSeries();
    const problems: string[] = [];
    expect(queries.length).toBeGreaterThan(20);
    for (const { panel, expr } of queries) {
      const metrics = [...expr.matchAll(/\b(callwright_[a-z0-9_]+)/g)].map((match) => match[1]!);
      expect(metrics.length, `${panel}: ${expr}`).toBeGreaterThan(0);
      const labelsUsed = new Set([
        ...[...expr.matchAll(/by \(([^)]*)\)/g)].flatMap((match) => match[1]!.split(',').map((label) => label.trim())),
        ...[...expr.matchAll(/[{,]\s*([a-z_]+)\s*(?:=~|!=|=)/g)].map((match) => match[1]!),
      ]);
      for (const metric of metrics) {
        const labels = series.get(metric);
        if (!labels) {
          problems.push(`${panel}: unknown metric ${metric}`);
          continue;
        }
        for (const label of labelsUsed) if (!labels.has(label)) problems.push(`${panel}: ${metric} has no label ${label}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('is a well-formed dashboard: unique panel ids, panels within the 24-column grid, scenario, run and shard variables', () => {
    const ids = panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of panels) expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
    expect(dashboard.templating.list.map((variable: { name: string }) => variable.name)).toEqual(['datasource', 'scenario', ...groupingLabels]);
    for (const name of ['scenario', ...groupingLabels]) {
      const variable = dashboard.templating.list.find((candidate: { name: string }) => candidate.name === name);
      // All as ".*" also matches series without the label: a live /metrics scrape, a run that was not sharded.
      expect(variable, name).toMatchObject({ type: 'query', multi: true, includeAll: true, allValue: '.*' });
      expect(variable.query.query, name).toMatch(new RegExp(`^label_values\\(callwright_\\w+(\\{[^}]*\\})?, ${name}\\)$`));
    }
    expect(dashboard.uid).toBe('callwright-overview');
  });

  it('filters every metric of every query by scenario, run and shard, so a run sums across its shards and only its own', () => {
    const unfiltered: string[] = [];
    for (const { panel, expr } of queries) {
      for (const { metric, selector } of selectors(expr)) {
        for (const name of ['scenario', ...groupingLabels]) {
          if (!selector.includes(`${name}=~"$${name}"`)) unfiltered.push(`${panel}: ${metric}${selector} lacks ${name}=~"$${name}"`);
        }
      }
    }
    expect(queries.length).toBeGreaterThan(20);
    expect(unfiltered).toEqual([]);
  });

  it('shows harness saturation and late and dropped starts per shard', () => {
    const panelsGrouping = (metric: string) =>
      panels.filter((panel) => (panel.targets ?? []).some(({ expr }) => expr.includes(`${metric}{`) && /by \([^)]*\bshard\b[^)]*\)/.test(expr))).map((panel) => panel.title);
    expect(panelsGrouping('callwright_harness_saturated')).toEqual(['Harness saturation per shard']);
    expect(panelsGrouping('callwright_iterations_late_total')).toEqual(['Late and dropped starts per shard']);
    expect(panelsGrouping('callwright_iterations_dropped_total')).toEqual(['Late and dropped starts per shard']);
  });
});
