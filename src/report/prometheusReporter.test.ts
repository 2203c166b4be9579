import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DROP_REASONS, FAILURE_REASONS, type CallResult, type LegSample, type RunEvent, type RunInfo, type StepResult } from '../results.js';
import { parseScenario } from '../scenario/loader.js';
import { createMetricsRegistry } from '../metrics/definitions.js';
import { PrometheusReporter } from './prometheusReporter.js';

const info = { runId: 'rid-1', scenario: 'smoke', shard: { index: 2, count: 3 } } as RunInfo;

const sample = (callId: string, legId: string, counters: Partial<LegSample>): LegSample => ({
  atMs: 0,
  scenario: 'smoke',
  callId,
  legId,
  role: legId.startsWith('caller') ? 'alice' : 'bob',
  direction: legId.startsWith('caller') ? 'outgoing' : 'incoming',
  packetsReceived: 0,
  packetsSent: 0,
  bytesReceived: 0,
  bytesSent: 0,
  packetsLost: 0,
  inPacketRate: 50,
  outPacketRate: 50,
  ...counters,
});

const endedCall = (callId: string, overrides: Partial<CallResult> = {}): CallResult => ({
  callId,
  scenario: 'smoke',
  iteration: 0,
  name: 'main',
  callerRole: 'alice',
  calleeRole: 'bob',
  from: 'sip:alice-1001@lab.test',
  to: 'sip:bob-2002@lab.test',
  sipCallId: `sip-call-id-${callId}`,
  startedAtMs: 0,
  result: 'success',
  failureExpected: false,
  oneWayAudio: false,
  ...overrides,
});

let outDir: string;
let warnings: string[];
beforeEach(() => {
  outDir = mkdtempSync(join(tmpdir(), 'callwright-metrics-'));
  warnings = [];
});
afterEach(() => rmSync(outDir, { recursive: true, force: true }));

function newReporter(steps?: readonly { kind: string }[]) {
  const { registry, metrics } = createMetricsRegistry();
  const reporter = new PrometheusReporter({ registry, metrics, outDir, warn: (message) => warnings.push(message), ...(steps ? { steps } : {}) });
  return { registry, reporter };
}

/** Every label value of an exposition. */
const labelValues = (exposition: string) => [...exposition.matchAll(/="([^"]*)"/g)].map((match) => match[1]!);

/** One exposition line's value, found by metric name and exact label set. */
function valueOf(exposition: string, series: string): number | undefined {
  const line = exposition.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** A run with two calls: one success with media, one rejected 486. */
async function runTwoCalls(): Promise<string> {
  const { reporter } = newReporter();
  const events: RunEvent[] = [
    { type: 'registration', atMs: 0, scenario: 'smoke', role: 'alice', ok: true, seconds: 0.04 },
    { type: 'registration', atMs: 0, scenario: 'smoke', role: 'bob', ok: false, status: 403 },
    { type: 'callStarted', atMs: 0, scenario: 'smoke', callId: '0.main', callerRole: 'alice' },
    { type: 'callStarted', atMs: 0, scenario: 'smoke', callId: '1.main', callerRole: 'alice' },
    { type: 'callEstablished', atMs: 250, scenario: 'smoke', callId: '0.main', setupSeconds: 0.25 },
    { type: 'sample', sample: sample('0.main', 'caller-leg-a1', { packetsReceived: 50, packetsSent: 50, bytesReceived: 4000, bytesSent: 4100, packetsLost: 1, jitterSeconds: 0.004, rttSeconds: 0.02 }) },
    { type: 'sample', sample: sample('0.main', 'caller-leg-a1', { packetsReceived: 100, packetsSent: 100, bytesReceived: 8000, bytesSent: 8200, packetsLost: 3, jitterSeconds: 0.006, rttSeconds: 0.03 }) },
    { type: 'sample', sample: sample('0.main', 'callee-leg-b1', { packetsReceived: 98, packetsSent: 100, bytesReceived: 7800, bytesSent: 8000 }) },
    { type: 'dtmf', atMs: 0, scenario: 'smoke', callId: '0.main', sent: true, mode: 'rfc4733', tone: '1' },
    { type: 'dtmf', atMs: 0, scenario: 'smoke', callId: '0.main', sent: true, mode: 'rfc4733', tone: '2' },
    { type: 'stepEnd', step: { scenario: 'smoke', iteration: 0, index: 0, name: 'call bob', kind: 'call', ok: true, startedAtMs: 0, durationSeconds: 0.3 } },
    { type: 'stepEnd', step: { scenario: 'smoke', iteration: 1, index: 0, name: 'call bob', kind: 'call', ok: false, failureReason: 'sip_status', startedAtMs: 0, durationSeconds: 0.1 } },
  ];
  for (const event of events) reporter.onEvent(event);
  reporter.onCallEnd(
    endedCall('0.main', { setupSeconds: 0.25, timeTo180Seconds: 0.05, timeToFirstAudioSeconds: 0.1, durationSeconds: 5, mos: 4.3, codecOut: 'opus', codecIn: 'opus' }),
  );
  reporter.onCallEnd(endedCall('1.main', { result: 'failed', failureReason: 'sip_status', sipStatus: 486, oneWayAudio: true }));
  await reporter.onEnd();
  return readFileSync(join(outDir, 'metrics.prom'), 'utf8');
}

describe('PrometheusReporter', () => {
  it('counts calls by result and reason, and brings calls_active back to 0', async () => {
    const text = await runTwoCalls();
    expect(valueOf(text, 'callwright_calls_started_total{scenario="smoke"}')).toBe(2);
    expect(valueOf(text, 'callwright_calls_ended_total{scenario="smoke",result="success",reason="none"}')).toBe(1);
    expect(valueOf(text, 'callwright_calls_ended_total{scenario="smoke",result="failed",reason="sip_status"}')).toBe(1);
    expect(valueOf(text, 'callwright_calls_active{scenario="smoke"}')).toBe(0);
    expect(valueOf(text, 'callwright_one_way_audio_calls_total{scenario="smoke"}')).toBe(1);
  });

  it('observes setup once (at established, not again at call end) into the call-setup buckets', async () => {
    const text = await runTwoCalls();
    expect(valueOf(text, 'callwright_call_setup_seconds_count{scenario="smoke"}')).toBe(1);
    expect(valueOf(text, 'callwright_call_setup_seconds_sum{scenario="smoke"}')).toBe(0.25);
    expect(valueOf(text, 'callwright_call_setup_seconds_bucket{le="0.2",scenario="smoke"}')).toBe(0);
    expect(valueOf(text, 'callwright_call_setup_seconds_bucket{le="0.3",scenario="smoke"}')).toBe(1);
    expect(text).toContain('callwright_call_setup_seconds_bucket{le="13",scenario="smoke"}');
    expect(valueOf(text, 'callwright_time_to_180_seconds_count{scenario="smoke"}')).toBe(1);
    expect(valueOf(text, 'callwright_time_to_first_audio_seconds_sum{scenario="smoke"}')).toBe(0.1);
    expect(valueOf(text, 'callwright_call_duration_seconds_sum{scenario="smoke"}')).toBe(5);
    expect(valueOf(text, 'callwright_call_mos_bucket{le="4.25",scenario="smoke"}')).toBe(0);
    expect(valueOf(text, 'callwright_call_mos_bucket{le="4.5",scenario="smoke"}')).toBe(1);
  });

  it('adds media counter deltas, not the cumulative values of each sample', async () => {
    const text = await runTwoCalls();
    // caller samples: 50 then 100 received -> 100 in total, not 150
    expect(valueOf(text, 'callwright_media_packets_received_total{scenario="smoke",role="alice"}')).toBe(100);
    expect(valueOf(text, 'callwright_media_bytes_received_total{scenario="smoke",role="alice"}')).toBe(8000);
    expect(valueOf(text, 'callwright_media_bytes_sent_total{scenario="smoke",role="alice"}')).toBe(8200);
    expect(valueOf(text, 'callwright_media_packets_lost_total{scenario="smoke",role="alice"}')).toBe(3);
    expect(valueOf(text, 'callwright_media_packets_received_total{scenario="smoke",role="bob"}')).toBe(98);
    expect(valueOf(text, 'callwright_media_packets_sent_total{scenario="smoke",role="bob"}')).toBe(100);
    expect(valueOf(text, 'callwright_media_jitter_seconds_count{scenario="smoke",role="alice"}')).toBe(2);
    expect(valueOf(text, 'callwright_media_jitter_seconds_sum{scenario="smoke",role="alice"}')).toBe(0.01);
    expect(valueOf(text, 'callwright_media_rtt_seconds_bucket{le="0.02",scenario="smoke",role="alice"}')).toBe(1);
  });

  it('video: a frame-rate observation per sample with received video, freezes and frozen seconds as increments; no video series for audio-only legs', async () => {
    const { reporter } = newReporter();
    const video = (legId: string, fps: number, freezes: number, freezeSeconds: number) =>
      sample('0.main', legId, { videoFpsIn: fps, videoFreezes: freezes, videoFreezeSeconds: freezeSeconds });
    for (const one of [video('callee-leg-b1', 15, 0, 0), video('callee-leg-b1', 4, 0, 0), video('callee-leg-b1', 15, 1, 2.25), video('callee-leg-b1', 15, 1, 2.25)]) {
      reporter.onEvent({ type: 'sample', sample: one });
    }
    reporter.onEvent({ type: 'sample', sample: sample('0.main', 'caller-leg-a1', { packetsReceived: 50 }) });
    await reporter.onEnd();
    const text = readFileSync(join(outDir, 'metrics.prom'), 'utf8');
    expect(valueOf(text, 'callwright_video_fps_in_count{scenario="smoke",role="bob"}')).toBe(4);
    expect(valueOf(text, 'callwright_video_fps_in_bucket{le="5",scenario="smoke",role="bob"}')).toBe(1);
    expect(valueOf(text, 'callwright_video_freezes_total{scenario="smoke",role="bob"}')).toBe(1);
    expect(valueOf(text, 'callwright_video_freeze_seconds_total{scenario="smoke",role="bob"}')).toBe(2.25);
    expect(text).not.toMatch(/callwright_video_\w+\{[^}]*role="alice"/);
  });

  it('counts registrations, steps, DTMF and codecs with bounded labels', async () => {
    const text = await runTwoCalls();
    expect(valueOf(text, 'callwright_registrations_total{scenario="smoke",result="success"}')).toBe(1);
    expect(valueOf(text, 'callwright_registrations_total{scenario="smoke",result="failed"}')).toBe(1);
    expect(valueOf(text, 'callwright_registration_seconds_count{scenario="smoke"}')).toBe(1);
    expect(valueOf(text, 'callwright_steps_total{scenario="smoke",step="1",step_kind="call",result="passed",reason="none"}')).toBe(1);
    expect(valueOf(text, 'callwright_steps_total{scenario="smoke",step="1",step_kind="call",result="failed",reason="sip_status"}')).toBe(1);
    expect(valueOf(text, 'callwright_dtmf_total{scenario="smoke",mode="rfc4733",direction="send"}')).toBe(2);
    expect(valueOf(text, 'callwright_calls_by_codec_total{scenario="smoke",codec="opus",direction="send"}')).toBe(1);
    expect(valueOf(text, 'callwright_calls_by_codec_total{scenario="smoke",codec="opus",direction="receive"}')).toBe(1);
  });

  it('never uses a call id, SIP Call-ID, user, URI or leg id as a label value', async () => {
    const text = await runTwoCalls();
    expect(labelValues(text).length).toBeGreaterThan(0);
    for (const value of labelValues(text)) {
      expect(value).not.toMatch(/\.main|sip-call-id|sip:|alice-1001|bob-2002|leg-/);
    }
  });

  it('labels a failure a passing expect step asked for as failed_expected', async () => {
    const { registry, reporter } = newReporter();
    reporter.onCallEnd(endedCall('0.main', { result: 'failed', failureExpected: true, failureReason: 'sip_status' }));
    expect(await registry.metrics()).toContain('callwright_calls_ended_total{scenario="smoke",result="failed_expected",reason="sip_status"} 1');
  });

  it('does not take calls_active below 0 for a call that never started (dropped)', async () => {
    const { registry, reporter } = newReporter();
    reporter.onCallEnd(endedCall('0.main', { result: 'failed', failureReason: 'dropped' }));
    expect(valueOf(await registry.metrics(), 'callwright_calls_active{scenario="smoke"}') ?? 0).toBe(0);
  });

  it('observes the setup time at call end when no established event came', async () => {
    const { registry, reporter } = newReporter();
    reporter.onCallEnd(endedCall('0.main', { setupSeconds: 0.4 }));
    expect(await registry.metrics()).toContain('callwright_call_setup_seconds_sum{scenario="smoke"} 0.4');
  });

  it('writes metrics.prom atomically and warns, without throwing, when the push fails', async () => {
    const { registry, metrics } = createMetricsRegistry();
    const reporter = new PrometheusReporter({
      registry,
      metrics,
      outDir,
      warn: (message) => warnings.push(message),
      pushgateway: { url: 'http://127.0.0.1:9/', job: 'callwright', timeoutMs: 2000, intervalSeconds: 10 },
    });
    await reporter.onEnd();
    expect(readdirSync(outDir)).toEqual(['metrics.prom']);
    expect(warnings).toEqual([expect.stringMatching(/^could not push metrics to http:\/\/127\.0\.0\.1:9\/: .*results and metrics\.prom are in /)]);
  });
});

describe('PrometheusReporter: failure series from the start', () => {
  it('creates every calls-ended and dropped-iteration series of a known reason at 0 on begin, so increase() sees the first failure', async () => {
    const { registry, reporter } = newReporter();
    reporter.onBegin(info);
    const text = await registry.metrics();
    for (const result of ['failed', 'failed_expected']) {
      for (const reason of FAILURE_REASONS) expect(valueOf(text, `callwright_calls_ended_total{scenario="smoke",result="${result}",reason="${reason}"}`), `${result} ${reason}`).toBe(0);
    }
    expect(valueOf(text, 'callwright_calls_ended_total{scenario="smoke",result="success",reason="none"}')).toBe(0);
    for (const reason of DROP_REASONS) expect(valueOf(text, `callwright_iterations_dropped_total{scenario="smoke",reason="${reason}"}`), reason).toBe(0);
    for (const series of ['callwright_calls_started_total', 'callwright_calls_active', 'callwright_iterations_late_total', 'callwright_harness_saturated']) {
      expect(valueOf(text, `${series}{scenario="smoke"}`), series).toBe(0);
    }
    // Bounded: one per result and reason, nothing per call.
    expect(text.match(/^callwright_calls_ended_total\{/gm)).toHaveLength(1 + 2 * FAILURE_REASONS.length);
  });

  it('counts on from those zeros', async () => {
    const { registry, reporter } = newReporter();
    reporter.onBegin(info);
    reporter.onEvent({ type: 'iterationDropped', atMs: 0, scenario: 'smoke', reason: 'late' });
    reporter.onCallEnd(endedCall('0.main', { result: 'failed', failureReason: 'timeout' }));
    const text = await registry.metrics();
    expect(valueOf(text, 'callwright_calls_ended_total{scenario="smoke",result="failed",reason="timeout"}')).toBe(1);
    expect(valueOf(text, 'callwright_iterations_dropped_total{scenario="smoke",reason="late"}')).toBe(1);
    expect(valueOf(text, 'callwright_iterations_dropped_total{scenario="smoke",reason="capacity"}')).toBe(0);
  });
});

describe('PrometheusReporter: steps', () => {
  /** A scenario whose step names hold a SIP URI, as the loader names them ("call alice->sip:someone@example.com"). */
  const scenario = parseScenario(
    [
      'name: uri-steps',
      'roles:',
      '  alice:',
      '    accounts: [{ user: alice, password: alice-secret }]',
      'steps:',
      '  - register: alice',
      '  - call: { from: alice, to: "sip:someone@example.com" }',
      '  - expect: { state: established }',
      '  - hangup: alice',
    ].join('\n'),
    'uri-steps.yaml',
  );
  const stepEnd = (index: number, ok: boolean): StepResult => {
    const step = scenario.steps[index]!;
    return { scenario: scenario.name, iteration: 0, index, name: step.name, kind: step.kind, ok, ...(ok ? {} : { failureReason: 'sip_status' }), startedAtMs: 0, durationSeconds: 0.1 };
  };

  it('labels a step by its position and kind, never by its name: no URI in any label value', async () => {
    expect(scenario.steps[1]!.name).toContain('sip:someone@example.com');
    const { registry, reporter } = newReporter(scenario.steps);
    reporter.onBegin({ ...info, scenario: scenario.name });
    reporter.onEvent({ type: 'stepEnd', step: stepEnd(0, true) });
    reporter.onEvent({ type: 'stepEnd', step: stepEnd(1, false) });
    const text = await registry.metrics();
    expect(valueOf(text, 'callwright_steps_total{scenario="uri-steps",step="1",step_kind="register",result="passed",reason="none"}')).toBe(1);
    expect(valueOf(text, 'callwright_steps_total{scenario="uri-steps",step="2",step_kind="call",result="failed",reason="sip_status"}')).toBe(1);
    for (const value of labelValues(text)) {
      expect(value).not.toMatch(/sip:|someone|example\.com|->/);
      expect(value, 'a URI\'s scheme or port separator').not.toContain(':');
    }
  });

  it('creates every step\'s failure series at 0 on begin, one per reason, and nothing per iteration', async () => {
    const { registry, reporter } = newReporter(scenario.steps);
    reporter.onBegin({ ...info, scenario: scenario.name });
    let text = await registry.metrics();
    for (const [index, { kind }] of scenario.steps.entries()) {
      const step = `scenario="uri-steps",step="${index + 1}",step_kind="${kind}"`;
      expect(valueOf(text, `callwright_steps_total{${step},result="passed",reason="none"}`), step).toBe(0);
      for (const reason of FAILURE_REASONS) expect(valueOf(text, `callwright_steps_total{${step},result="failed",reason="${reason}"}`), `${step} ${reason}`).toBe(0);
    }
    expect(text.match(/^callwright_steps_total\{/gm)).toHaveLength(scenario.steps.length * (1 + FAILURE_REASONS.length));

    // The first failure is then an increase from 0, and more iterations add no series.
    for (let iteration = 0; iteration < 5; iteration++) reporter.onEvent({ type: 'stepEnd', step: { ...stepEnd(1, false), iteration } });
    text = await registry.metrics();
    expect(valueOf(text, 'callwright_steps_total{scenario="uri-steps",step="2",step_kind="call",result="failed",reason="sip_status"}')).toBe(5);
    expect(text.match(/^callwright_steps_total\{/gm)).toHaveLength(scenario.steps.length * (1 + FAILURE_REASONS.length));
  });
});

describe('PrometheusReporter: pushing during the run', () => {
  let gateway: Server | undefined;
  afterEach(async () => {
    gateway?.closeAllConnections();
    await new Promise((resolve) => (gateway ? gateway.close(resolve) : resolve(undefined)));
    gateway = undefined;
  });

  /** A stand-in Pushgateway noting each push's path, body, and whether metrics.prom was on disk when it came. */
  async function fakeGateway(): Promise<{ url: string; pushes: { url?: string; body: string; fileWritten: boolean }[] }> {
    const pushes: { url?: string; body: string; fileWritten: boolean }[] = [];
    gateway = createServer((request, response) => {
      const fileWritten = existsSync(join(outDir, 'metrics.prom'));
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        pushes.push({ url: request.url, body, fileWritten });
        response.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => gateway!.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`, pushes };
  }

  const reporterPushingTo = (url: string) => {
    const { registry, metrics } = createMetricsRegistry();
    return new PrometheusReporter({
      registry,
      metrics,
      outDir,
      warn: (message) => warnings.push(message),
      pushgateway: { url, job: 'callwright', grouping: { run_id: 'rid-1', shard: '2' }, intervalSeconds: 0.05 },
    });
  };

  it('pushes from the begin on, under job and the run\'s grouping, while calls go; last after metrics.prom is written', async () => {
    const { url, pushes } = await fakeGateway();
    const reporter = reporterPushingTo(url);
    reporter.onBegin(info);
    await new Promise((resolve) => setTimeout(resolve, 30));
    reporter.onEvent({ type: 'callStarted', atMs: 0, scenario: 'smoke', callId: '0.main', callerRole: 'alice' });
    await new Promise((resolve) => setTimeout(resolve, 150));
    const midRun = pushes.length;
    reporter.onCallEnd(endedCall('0.main'));
    await reporter.onEnd();
    expect(midRun).toBeGreaterThanOrEqual(2);
    expect(new Set(pushes.map((push) => push.url))).toEqual(new Set(['/metrics/job/callwright/run_id/rid-1/shard/2']));
    // The first push already has the zero series; a later one the call in progress; the last the end.
    expect(pushes[0]!.body).toContain('callwright_calls_ended_total{scenario="smoke",result="failed",reason="timeout"} 0');
    expect(pushes.slice(1, midRun).some((push) => push.body.includes('callwright_calls_active{scenario="smoke"} 1'))).toBe(true);
    expect(pushes.at(-1)).toMatchObject({ fileWritten: true, body: expect.stringContaining('callwright_calls_ended_total{scenario="smoke",result="success",reason="none"} 1') });
    const atEnd = pushes.length;
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(pushes).toHaveLength(atEnd);
    expect(warnings).toEqual([]);
  });

  it('stops pushing on close() when the run broke off before its end', async () => {
    const { url, pushes } = await fakeGateway();
    const reporter = reporterPushingTo(url);
    reporter.onBegin(info);
    await new Promise((resolve) => setTimeout(resolve, 120));
    reporter.close();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const atClose = pushes.length;
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(atClose).toBeGreaterThan(0);
    expect(pushes).toHaveLength(atClose);
  });
});
