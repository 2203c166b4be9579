import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputError } from '../errors.js';
import type { CallResult, RunInfo, RunSummary } from '../results.js';
import type { Reporter } from './reporter.js';
import { createReporters } from './index.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'callwright-reporters-'));
});
afterEach(() => {
  chmodSync(root, 0o700);
  rmSync(root, { recursive: true, force: true });
});

const info: RunInfo = {
  runId: 'run-1',
  scenario: 'smoke',
  scenarioFile: 'scenarios/smoke.yaml',
  startedAtMs: Date.parse('2025-03-01T10:00:00Z'),
  target: { url: 'ws://127.0.0.1:5080', domain: 'lab.test', embedded: true },
  outDir: '',
  plannedIterations: 1,
  concurrency: 1,
};

const call: CallResult = {
  callId: '0.main',
  scenario: 'smoke',
  iteration: 0,
  name: 'main',
  callerRole: 'alice',
  calleeRole: 'bob',
  from: 'sip:alice@lab.test',
  to: 'sip:bob@lab.test',
  sipCallId: 'abc123@lab',
  startedAtMs: info.startedAtMs,
  setupSeconds: 0.2,
  result: 'success',
  failureExpected: false,
  codecOut: 'opus',
  codecIn: 'opus',
  oneWayAudio: false,
};

const summary: RunSummary = {
  info,
  endedAtMs: info.startedAtMs + 5000,
  durationSeconds: 5,
  interrupted: false,
  iterations: { planned: 1, started: 1, passed: 1, failed: 0, dropped: 0 },
  calls: { total: 1, succeeded: 1, failed: 0, failedExpected: 0, byReason: {} },
  steps: { total: 0, passed: 0, failed: 0 },
  registrations: { attempted: 2, succeeded: 2 },
  exitCode: 0,
};

describe('createReporters', () => {
  it('writes every output of a run, serves live metrics, and cleans up on close', async () => {
    const outDir = join(root, 'out', 'nested');
    const warnings: string[] = [];
    const seenByExtra: string[] = [];
    const extra: Reporter = { name: 'extra', onCallEnd: (ended) => void seenByExtra.push(ended.callId) };
    const reporters = await createReporters(outDir, { metricsPort: 0, warn: (message) => warnings.push(message), extra: [extra] });
    try {
      const { reporter } = reporters;
      await reporter.onBegin(info);
      reporter.onEvent({ type: 'callStarted', atMs: info.startedAtMs, scenario: 'smoke', callId: '0.main', callerRole: 'alice' });
      reporter.onEvent({ type: 'callEstablished', atMs: info.startedAtMs + 200, scenario: 'smoke', callId: '0.main', setupSeconds: 0.2 });
      reporter.onCallEnd(call);

      // Finished calls are on disk before the end, and metrics are live during the run.
      expect(readFileSync(join(outDir, 'calls.csv'), 'utf8').split('\n')[1]).toMatch(/^0\.main,smoke,0,main,/);
      expect(reporters.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const live = await (await fetch(reporters.metricsUrl!)).text();
      expect(live).toContain('callwright_calls_ended_total{scenario="smoke",result="success",reason="none"} 1');

      // Every file of the run comes out of the reporters, junit.xml, report.html and thresholds.json included.
      await reporter.onEnd({ summary, calls: [call], steps: [], thresholds: [] });
      expect(readdirSync(outDir).sort()).toEqual(['calls.csv', 'junit.xml', 'legs.csv', 'metrics.prom', 'report.html', 'samples.csv', 'steps.csv', 'summary.json', 'thresholds.json']);
      expect(JSON.parse(readFileSync(join(outDir, 'summary.json'), 'utf8')).aggregates.calls.callSetupSeconds.p50).toBe(0.2);
      expect(readFileSync(join(outDir, 'metrics.prom'), 'utf8')).toContain('callwright_call_setup_seconds_count{scenario="smoke"} 1');
      expect(seenByExtra).toEqual(['0.main']);
      expect(warnings).toEqual([]);
      expect(reporter.failures).toEqual([]);
    } finally {
      await reporters.close();
      await reporters.close(); // the runner closes in a finally block, maybe after a failed close
    }
    await expect(fetch(reporters.metricsUrl!)).rejects.toThrow();
  });

  it('starts no metrics server unless asked', async () => {
    const reporters = await createReporters(join(root, 'out'), { warn: () => undefined });
    expect(reporters.metricsUrl).toBeUndefined();
    await reporters.close();
  });

  it('rejects an output folder that cannot be created with an InputError', async () => {
    const aFile = join(root, 'a-file');
    writeFileSync(aFile, '');
    const attempt = createReporters(join(aFile, 'out'), { warn: () => undefined });
    await expect(attempt).rejects.toBeInstanceOf(InputError);
    await expect(attempt).rejects.toMatchObject({ message: expect.stringMatching(/^cannot create the output folder .*a-file\/out: ENOTDIR$/), hint: expect.stringContaining('--out') });
  });

  it.skipIf(process.getuid?.() === 0)('rejects an output folder it cannot write in with an InputError, before the run', async () => {
    const readOnly = join(root, 'read-only');
    mkdirSync(readOnly);
    chmodSync(readOnly, 0o500);
    await expect(createReporters(readOnly, { warn: () => undefined })).rejects.toMatchObject({
      constructor: InputError,
      message: expect.stringMatching(/^cannot write in the output folder .*: EACCES$/),
    });
  });

  // Root writes through chmod; sysfs refuses new files even to root, so this case runs everywhere on Linux.
  it.runIf(process.platform === 'linux')('rejects an existing folder that refuses new files (sysfs) with an InputError', async () => {
    await expect(createReporters('/sys', { warn: () => undefined })).rejects.toMatchObject({
      constructor: InputError,
      message: expect.stringMatching(/^cannot write in the output folder \/sys: E[A-Z]+$/),
    });
  });

  it('rejects a Pushgateway URL that is not http(s) with an InputError, without showing its password', async () => {
    const attempt = createReporters(join(root, 'out'), { pushgateway: { url: 'ftp://user:pw@gw:9091', grouping: {} }, warn: () => undefined });
    await expect(attempt).rejects.toBeInstanceOf(InputError);
    await expect(attempt).rejects.toMatchObject({ message: '--pushgateway ftp://gw:9091/ must be an http:// or https:// URL' });
  });

  it('leaves no probe file behind', async () => {
    const outDir = join(root, 'out');
    const reporters = await createReporters(outDir, { warn: () => undefined });
    expect(readdirSync(outDir)).toEqual([]);
    await reporters.close();
  });
});
