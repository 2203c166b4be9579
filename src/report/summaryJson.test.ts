import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CallResult, RunInfo, RunSummary, StepResult } from '../results.js';
import { SummaryJsonReporter, type SummaryDocument } from './summaryJson.js';

const info: RunInfo = {
  runId: 'run-1',
  scenario: 'smoke',
  scenarioFile: 'scenarios/smoke.yaml',
  startedAtMs: 1_740_823_200_000,
  target: { url: 'wss://alice:secret@pbx.lab.test:8089/ws', domain: 'lab.test', embedded: false },
  outDir: '/tmp/out',
  plannedIterations: 5,
  concurrency: 2,
};

const summary: RunSummary = {
  info,
  endedAtMs: 1_740_823_210_000,
  durationSeconds: 10,
  interrupted: false,
  iterations: { planned: 5, started: 5, passed: 4, failed: 1, dropped: 0 },
  calls: { total: 5, succeeded: 4, failed: 1, failedExpected: 0, byReason: { timeout: 1 } },
  steps: { total: 3, passed: 2, failed: 1 },
  registrations: { attempted: 2, succeeded: 2 },
  exitCode: 1,
};

const call = (index: number, overrides: Partial<CallResult>): CallResult => ({
  callId: `${index}.main`,
  scenario: 'smoke',
  iteration: index,
  name: 'main',
  callerRole: 'alice',
  from: 'sip:alice@lab.test',
  to: 'sip:bob@lab.test',
  startedAtMs: info.startedAtMs,
  result: 'success',
  failureExpected: false,
  oneWayAudio: false,
  codecOut: 'opus',
  codecIn: 'opus',
  ...overrides,
});

const calls = [
  call(0, { setupSeconds: 0.1, timeTo180Seconds: 0.05, timeToFirstAudioSeconds: 0.2, mos: 4.4, jitterSeconds: 0.001, packetLossRatio: 0, rttSeconds: 0.01 }),
  call(1, { setupSeconds: 0.2, timeTo180Seconds: 0.06, timeToFirstAudioSeconds: 0.3, mos: 4.2, jitterSeconds: 0.003, packetLossRatio: 0.01, rttSeconds: 0.02 }),
  call(2, { setupSeconds: 0.3, timeTo180Seconds: 0.07, timeToFirstAudioSeconds: 0.4, mos: 4.0, jitterSeconds: 0.005, packetLossRatio: 0.02, rttSeconds: 0.03 }),
  call(3, { setupSeconds: 0.4, timeTo180Seconds: 0.08, timeToFirstAudioSeconds: 0.5, mos: 3.8, jitterSeconds: 0.007, packetLossRatio: 0.03, rttSeconds: 0.04, codecIn: 'PCMU' }),
  call(4, { result: 'failed', failureReason: 'timeout', codecOut: undefined, codecIn: undefined }),
];

const step = (name: string, ok: boolean): StepResult => ({
  scenario: 'smoke',
  iteration: 0,
  index: 0,
  name,
  kind: 'call',
  ok,
  ...(ok ? {} : { failureReason: 'timeout' as const }),
  startedAtMs: info.startedAtMs,
  durationSeconds: 1,
});

let outDir: string;
beforeEach(() => {
  outDir = mkdtempSync(join(tmpdir(), 'callwright-summary-'));
});
afterEach(() => rmSync(outDir, { recursive: true, force: true }));

async function writeSummary(): Promise<SummaryDocument> {
  const reporter = new SummaryJsonReporter(outDir);
  reporter.onBegin();
  for (const [name, ok] of [['call bob', true], ['call bob', false], ['hang up', true]] as const) {
    reporter.onEvent({ type: 'stepEnd', step: step(name, ok) });
  }
  await reporter.onEnd({ summary, calls, steps: [], thresholds: [] });
  return JSON.parse(readFileSync(join(outDir, 'summary.json'), 'utf8')) as SummaryDocument;
}

describe('summary.json', () => {
  it('holds the run summary as given', async () => {
    const document = await writeSummary();
    expect(document).toMatchObject({ ...summary, info: { ...info, target: { ...info.target, url: expect.any(String) } } });
  });

  it('never holds a password, not even one inside the target URL', async () => {
    const document = await writeSummary();
    expect(document.info.target.url).toBe('wss://pbx.lab.test:8089/ws');
    expect(readFileSync(join(outDir, 'summary.json'), 'utf8')).not.toContain('secret');
  });

  it('adds setup percentiles (linear interpolation) and media aggregates over the calls that have them', async () => {
    const { calls: aggregates } = (await writeSummary()).aggregates;
    // setup times 0.1 0.2 0.3 0.4: rank (n-1)p/100 -> p50 0.25, p90 0.37, p95 0.385, p99 0.397
    expect(aggregates.callSetupSeconds).toEqual({ count: 4, min: 0.1, avg: 0.25, p50: 0.25, p90: 0.37, p95: 0.385, p99: 0.397, max: 0.4 });
    expect(aggregates.timeTo180Seconds).toMatchObject({ p50: 0.065, p95: 0.0785 });
    expect(aggregates.timeToFirstAudioSeconds).toMatchObject({ p50: 0.35, p95: 0.485 });
    expect(aggregates.mos).toMatchObject({ avg: 4.1, min: 3.8 });
    expect(aggregates.jitterSeconds).toMatchObject({ avg: 0.004, p95: 0.0067 });
    expect(aggregates.packetLossRatio).toMatchObject({ avg: 0.015, max: 0.03 });
    expect(aggregates.rttSeconds).toMatchObject({ avg: 0.025, p95: 0.0385 });
    expect(aggregates.codecs).toEqual({ out: { opus: 4 }, in: { opus: 3, PCMU: 1 } });
    expect(aggregates.failuresByReason).toEqual({ timeout: 1 });
  });

  it('adds per-step-name pass/fail counts', async () => {
    const { steps } = (await writeSummary()).aggregates;
    expect(steps).toEqual({
      byName: { 'call bob': { passed: 1, failed: 1 }, 'hang up': { passed: 1, failed: 0 } },
      failuresByReason: { timeout: 1 },
    });
  });

  it('is written atomically: no temporary file is left beside it', async () => {
    await writeSummary();
    expect(readdirSync(outDir)).toEqual(['summary.json']);
  });
});
