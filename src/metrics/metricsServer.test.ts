import { createServer } from 'node:net';
import { Counter, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { InfraError } from '../errors.js';
import { createMetricsRegistry } from './definitions.js';
import { startMetricsServer, type MetricsServer } from './metricsServer.js';

let server: MetricsServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

describe('startMetricsServer', () => {
  it('serves the registry at GET /metrics on 127.0.0.1, with the registry content type', async () => {
    const { registry, metrics } = createMetricsRegistry();
    metrics.callsStarted.inc({ scenario: 'smoke' }, 3);
    server = await startMetricsServer(registry, { port: 0 });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);

    const response = await fetch(server.url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(registry.contentType);
    const text = await response.text();
    expect(text).toContain('# TYPE callwright_calls_started_total counter');
    expect(text).toContain('callwright_calls_started_total{scenario="smoke"} 3');
  });

  it('answers 404 anywhere else', async () => {
    server = await startMetricsServer(new Registry(), { port: 0 });
    const base = server.url.replace(/\/metrics$/, '');
    expect((await fetch(`${base}/`)).status).toBe(404);
    expect((await fetch(`${base}/metrics/extra`)).status).toBe(404);
    expect((await fetch(server.url, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${server.url}?name[]=x`)).status).toBe(200);
  });

  it('shows live values: a scrape after an update sees it', async () => {
    const registry = new Registry();
    const counter = new Counter({ name: 'callwright_test_total', help: 'test', registers: [registry] });
    server = await startMetricsServer(registry, { port: 0 });
    counter.inc(2);
    expect(await (await fetch(server.url)).text()).toContain('callwright_test_total 2');
  });

  it('turns a port in use into an InfraError naming host:port and --metrics-port', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    try {
      const attempt = startMetricsServer(new Registry(), { port });
      await expect(attempt).rejects.toBeInstanceOf(InfraError);
      await expect(attempt).rejects.toMatchObject({
        message: `cannot serve metrics on 127.0.0.1:${port}: the port is in use`,
        hint: expect.stringContaining('--metrics-port'),
        exitCode: 3,
      });
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('stops even while a scraper holds a keep-alive connection', async () => {
    server = await startMetricsServer(new Registry(), { port: 0 });
    await fetch(server.url, { headers: { connection: 'keep-alive' } });
    const stopping = server.stop();
    server = undefined;
    await expect(stopping).resolves.toBeUndefined();
  });
});
