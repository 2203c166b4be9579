import { describe, expect, it } from 'vitest';
import { CALL_SETUP_BUCKETS_SECONDS, MOS_BUCKETS, createMetricsRegistry } from './definitions.js';

const BOUNDED_LABELS = new Set(['scenario', 'step', 'step_kind', 'result', 'reason', 'codec', 'direction', 'role', 'mode', 'process']);

describe('metric definitions', () => {
  const { registry } = createMetricsRegistry();
  const metrics = registry.getMetricsAsArray() as unknown as { name: string; type: string; labelNames: string[] }[];

  it('follow the Prometheus naming conventions', () => {
    expect(metrics.length).toBeGreaterThan(15);
    for (const { name, type } of metrics) {
      expect(name).toMatch(/^callwright_[a-z0-9_]+$/);
      if (type === 'counter') expect(name).toMatch(/_total$/);
      else expect(name).not.toMatch(/_total$/);
      expect(type).not.toBe('summary');
      // A MOS and a frame rate have no base unit; every other histogram measures time.
      if (type === 'histogram' && !['callwright_call_mos', 'callwright_video_fps_in'].includes(name)) expect(name).toMatch(/_seconds$/);
    }
  });

  it('use only bounded labels', () => {
    for (const { labelNames } of metrics) for (const label of labelNames) expect(BOUNDED_LABELS).toContain(label);
  });

  it('live in their own registry, not prom-client\'s global one', async () => {
    const { register } = await import('prom-client');
    expect(register.getSingleMetric('callwright_calls_started_total')).toBeUndefined();
    // Two registries side by side (two runs in one process) do not clash.
    expect(() => createMetricsRegistry()).not.toThrow();
  });

  it('size the buckets for call setup and MOS', () => {
    expect(CALL_SETUP_BUCKETS_SECONDS).toEqual([0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 8, 13, 20, 30]);
    expect(MOS_BUCKETS).toEqual([1, 1.25, 1.5, 1.75, 2, 2.25, 2.5, 2.75, 3, 3.25, 3.5, 3.75, 4, 4.25, 4.5]);
  });
});
