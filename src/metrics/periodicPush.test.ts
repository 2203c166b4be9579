import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetricsRegistry } from './definitions.js';
import { PeriodicPush } from './periodicPush.js';

/** A stand-in Pushgateway whose answer (status, delay) the test changes as it goes. */
interface Gateway {
  url: string;
  status: number;
  delayMs: number;
  /** Exposition bodies in the order they arrived. */
  bodies: string[];
  /** Most requests open at once. */
  maxInFlight: number;
}

let server: Server | undefined;
let pusher: PeriodicPush | undefined;
afterEach(async () => {
  pusher?.stop();
  pusher = undefined;
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

async function fakeGateway(): Promise<Gateway> {
  let inFlight = 0;
  const gateway: Gateway = { url: '', status: 200, delayMs: 0, bodies: [], maxInFlight: 0 };
  server = createServer((request, response) => {
    inFlight++;
    gateway.maxInFlight = Math.max(gateway.maxInFlight, inFlight);
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      gateway.bodies.push(body);
      setTimeout(() => {
        inFlight--;
        response.writeHead(gateway.status).end(gateway.status >= 400 ? 'no' : '');
      }, gateway.delayMs);
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  gateway.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return gateway;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Timers that keep the process alive right now. */
const liveTimeouts = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;

describe('PeriodicPush', () => {
  it('pushes at start, every interval with the values of the moment, and once more at finish; then never again', async () => {
    const gateway = await fakeGateway();
    const { registry, metrics } = createMetricsRegistry();
    const warnings: string[] = [];
    pusher = new PeriodicPush(registry, { url: gateway.url, job: 'callwright', intervalSeconds: 0.05, warn: (m) => warnings.push(m) });
    pusher.start();
    await sleep(30);
    metrics.callsStarted.inc({ scenario: 's' }, 3);
    await sleep(150);
    const duringRun = gateway.bodies.length;
    expect(duringRun).toBeGreaterThanOrEqual(3);
    expect(gateway.bodies[0]).not.toContain('callwright_calls_started_total{scenario="s"}');
    expect(gateway.bodies.at(-1)).toContain('callwright_calls_started_total{scenario="s"} 3');
    metrics.callsStarted.inc({ scenario: 's' }, 1);
    expect(await pusher.finish()).toEqual({ ok: true });
    expect(gateway.bodies.at(-1)).toContain('callwright_calls_started_total{scenario="s"} 4');
    const atFinish = gateway.bodies.length;
    await sleep(150);
    expect(gateway.bodies.length).toBe(atFinish);
    expect(warnings).toEqual([]);
  });

  it('skips a tick while a push is in flight, so pushes never overlap, and finish waits for it', async () => {
    const gateway = await fakeGateway();
    gateway.delayMs = 120;
    const { registry } = createMetricsRegistry();
    pusher = new PeriodicPush(registry, { url: gateway.url, job: 'callwright', intervalSeconds: 0.02, warn: () => undefined });
    pusher.start();
    await sleep(300);
    expect(pusher.skippedTicks).toBeGreaterThan(3);
    expect(await pusher.finish()).toEqual({ ok: true });
    expect(gateway.maxInFlight).toBe(1);
  });

  it('warns once per kind of failure, not at every tick, and never throws', async () => {
    const gateway = await fakeGateway();
    gateway.status = 500;
    const { registry } = createMetricsRegistry();
    const warnings: string[] = [];
    pusher = new PeriodicPush(registry, { url: gateway.url, job: 'callwright', intervalSeconds: 0.02, warn: (m) => warnings.push(m) });
    pusher.start();
    await sleep(150);
    expect(gateway.bodies.length).toBeGreaterThan(3);
    expect(warnings).toEqual([`Pushgateway ${gateway.url} answered 500: no (pushing again every 0.02 s; said once)`]);
    gateway.status = 400;
    await sleep(100);
    gateway.status = 500;
    await sleep(100);
    expect(warnings).toHaveLength(2);
    expect(warnings[1]).toContain('answered 400');
    // The final push's failure comes back to the caller, who says what it means for the run.
    expect(await pusher.finish()).toMatchObject({ ok: false, kind: 'status 500' });
    expect(warnings).toHaveLength(2);
  });

  it('survives a warn that throws', async () => {
    const gateway = await fakeGateway();
    gateway.status = 500;
    const { registry } = createMetricsRegistry();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      pusher = new PeriodicPush(registry, { url: gateway.url, job: 'callwright', intervalSeconds: 0.02, warn: () => { throw new Error('log closed'); } });
      pusher.start();
      await sleep(100);
      expect(await pusher.finish()).toMatchObject({ ok: false });
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('does not keep the process alive: its timer is unref\'d', async () => {
    const gateway = await fakeGateway();
    const { registry } = createMetricsRegistry();
    const before = liveTimeouts();
    pusher = new PeriodicPush(registry, { url: gateway.url, job: 'callwright', intervalSeconds: 60, warn: () => undefined });
    pusher.start();
    expect(liveTimeouts()).toBe(before);
    // The check can tell: a plain interval does keep it alive.
    const plain = setInterval(() => undefined, 60_000);
    expect(liveTimeouts()).toBe(before + 1);
    clearInterval(plain);
  });

  it('stop() ends the pushes and abandons one in flight without a warning', async () => {
    const gateway = await fakeGateway();
    gateway.delayMs = 5_000;
    const { registry } = createMetricsRegistry();
    const warnings: string[] = [];
    pusher = new PeriodicPush(registry, { url: gateway.url, job: 'callwright', intervalSeconds: 0.02, warn: (m) => warnings.push(m) });
    pusher.start();
    await sleep(50);
    pusher.stop();
    const atStop = gateway.bodies.length;
    await sleep(100);
    expect(atStop).toBe(1);
    expect(gateway.bodies.length).toBe(atStop);
    expect(warnings).toEqual([]);
  });
});
