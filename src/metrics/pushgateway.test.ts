import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetricsRegistry } from './definitions.js';
import { pushTarget, pushToGateway } from './pushgateway.js';

interface Received {
  method?: string;
  url?: string;
  contentType?: string;
  authorization?: string;
  body: string;
}

let gateway: Server | undefined;
afterEach(async () => {
  gateway?.closeAllConnections();
  await new Promise((resolve) => (gateway ? gateway.close(resolve) : resolve(undefined)));
  gateway = undefined;
});

/** A stand-in Pushgateway that records the request and answers `status` (or never, when undefined). */
async function fakeGateway(status: number | undefined): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  gateway = createServer((request: IncomingMessage, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      received.push({
        method: request.method,
        url: request.url,
        contentType: request.headers['content-type'],
        authorization: request.headers.authorization,
        body,
      });
      if (status !== undefined) response.writeHead(status).end(status >= 400 ? 'bad metric' : '');
    });
  });
  await new Promise<void>((resolve) => gateway!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`, received };
}

/** A URL on a port nothing listens on (fetch refuses well-known ports such as 9 as "bad port"). */
async function closedPortUrl(): Promise<string> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return `http://127.0.0.1:${port}/`;
}

describe('pushToGateway', () => {
  it('PUTs the exposition text to /metrics/job/<job>/<grouping>', async () => {
    const { registry, metrics } = createMetricsRegistry();
    metrics.callsStarted.inc({ scenario: 'smoke' });
    const { url, received } = await fakeGateway(200);
    expect(await pushToGateway(registry, { url, job: 'callwright', grouping: { scenario: 'smoke test' } })).toEqual({ ok: true });
    expect(received).toEqual([
      {
        method: 'PUT',
        url: '/metrics/job/callwright/scenario/smoke%20test',
        contentType: registry.contentType,
        authorization: undefined,
        body: expect.stringContaining('callwright_calls_started_total{scenario="smoke"} 1'),
      },
    ]);
  });

  it('returns the gateway\'s refusal as a message', async () => {
    const { registry } = createMetricsRegistry();
    const { url } = await fakeGateway(400);
    expect(await pushToGateway(registry, { url, job: 'callwright' })).toEqual({ ok: false, kind: 'status 400', message: `Pushgateway ${url} answered 400: bad metric` });
  });

  it('gives up after the timeout and says so', async () => {
    const { registry } = createMetricsRegistry();
    const { url } = await fakeGateway(undefined);
    expect(await pushToGateway(registry, { url, job: 'callwright', timeoutMs: 100 })).toEqual({
      ok: false,
      kind: 'timeout',
      message: `could not push metrics to ${url}: no answer within 100 ms`,
    });
  });

  it('names a refused connection by its error code', async () => {
    const { registry } = createMetricsRegistry();
    const url = await closedPortUrl();
    const result = await pushToGateway(registry, { url, job: 'callwright' });
    expect(result).toMatchObject({ ok: false, kind: 'ECONNREFUSED', message: expect.stringMatching(/^could not push metrics to http:\/\/127\.0\.0\.1:\d+\/: fetch failed \(.*ECONNREFUSED/) });
  });

  it('gives up at once, as abandoned, when its signal aborts', async () => {
    const { registry } = createMetricsRegistry();
    const { url } = await fakeGateway(undefined);
    const abandon = new AbortController();
    const started = Date.now();
    const pushing = pushToGateway(registry, { url, job: 'callwright', timeoutMs: 5000, signal: abandon.signal });
    setTimeout(() => abandon.abort(), 50);
    expect(await pushing).toMatchObject({ ok: false, kind: 'abandoned' });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('sends URL credentials as basic auth and never shows the password in a message', async () => {
    const { registry } = createMetricsRegistry();
    const { url, received } = await fakeGateway(500);
    const withCredentials = url.replace('http://', 'http://pusher:s3cret@');
    const result = await pushToGateway(registry, { url: withCredentials, job: 'callwright' });
    expect(received[0]?.authorization).toBe(`Basic ${Buffer.from('pusher:s3cret').toString('base64')}`);
    expect(result.ok).toBe(false);
    expect(JSON.stringify(result)).not.toContain('s3cret');
  });
});

describe('pushTarget', () => {
  it('puts each shard of a run in its own group: /job/<job>/run_id/<id>/shard/<i>', () => {
    expect(pushTarget({ url: 'http://gw:9091', job: 'callwright', grouping: { run_id: 'rid-7', shard: '2' } }).target).toBe(
      'http://gw:9091/metrics/job/callwright/run_id/rid-7/shard/2',
    );
  });

  it('keeps a base path and encodes awkward grouping values the Pushgateway way', () => {
    expect(pushTarget({ url: 'http://gw:9091/prefix/', job: 'callwright', grouping: { scenario: 'a/b', instance: '' } }).target).toBe(
      'http://gw:9091/prefix/metrics/job/callwright/scenario@base64/YS9i/instance@base64/=',
    );
  });
});
