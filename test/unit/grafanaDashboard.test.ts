/**
 * The Grafana dashboard stays true to the metrics: every metric a query names
 * exists (histograms through _bucket/_sum/_count), with the labels the query
 * groups and filters by. Renaming a metric or a label fails here, not on a
 * dashboard that silently shows "No data".
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMetricsRegistry } from '../../src/metrics/definitions.js';

const dashboard = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../grafana/callwright-dashboard.json'), 'utf8'));
const panels: { id: number; type: string; title: string; gridPos: { x: number; w: number }; targets?: { expr: string }[] }[] = dashboard.panels;

/** Metric names as queries see them -> their label names. */
async function exposedSeries(): Promise<Map<string, Set<string>>> {
  const { registry } = createMetricsRegistry();
  const series = new Map<string, Set<string>>();
  for (const metric of registry.getMetricsAsArray()) {
    // prom-client's types omit what every metric object has: get() and its labelNames.
    const typed = metric as unknown as { get(): Promise<{ name: string; type: string }>; labelNames: string[] };
    const { name, type } = await typed.get();
    const labels = new Set<string>(typed.labelNames);
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
    const queries = panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })));
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

  it('is a well-formed dashboard: unique panel ids, panels within the 24-column grid, a scenario variable', () => {
    const ids = panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of panels) expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
    expect(dashboard.templating.list.map((variable: { name: string }) => variable.name)).toEqual(['datasource', 'scenario']);
    expect(dashboard.uid).toBe('callwright-overview');
  });
});
