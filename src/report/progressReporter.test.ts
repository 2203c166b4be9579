import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { call, RUN_START_MS, step, syntheticRun } from '../../test/unit/syntheticRun.js';
import type { RunInfo } from '../results.js';
import { ProgressReporter } from './progressReporter.js';

const info: RunInfo = syntheticRun({ count: 10 }).summary.info;

function capture(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, columns: 200, write: (text: string) => writes.push(text) } };
}

describe('ProgressReporter', () => {
  let stdoutWrite: ReturnType<typeof vi.spyOn>;
  beforeEach(() => {
    vi.useFakeTimers({ now: RUN_START_MS });
    stdoutWrite = vi.spyOn(process.stdout, 'write');
  });
  afterEach(() => {
    expect(stdoutWrite).not.toHaveBeenCalled();
    stdoutWrite.mockRestore();
    vi.useRealTimers();
  });

  function feed(reporter: ProgressReporter) {
    reporter.onBegin(info);
    for (let iteration = 1; iteration <= 4; iteration++) {
      reporter.onEvent({ type: 'callStarted', atMs: Date.now(), scenario: 'smoke', callId: `${iteration}.main`, callerRole: 'alice' });
      reporter.onEvent({ type: 'stepEnd', step: step({ iteration, index: 0, name: 'register alice' }) });
    }
    reporter.onCallEnd(call({ iteration: 1 }));
    reporter.onCallEnd(call({ iteration: 2, result: 'failed', failureReason: 'timeout' }));
    reporter.onCallEnd(call({ iteration: 3, result: 'failed', failureReason: 'sip_status', failureExpected: true }));
  }

  it('redraws one status line in place on a terminal and clears it at the end', () => {
    const { writes, stream } = capture(true);
    const reporter = new ProgressReporter({ stream });
    feed(reporter);
    vi.advanceTimersByTime(2000);
    expect(writes.length).toBe(8);
    const last = writes.at(-1)!;
    expect(last.startsWith('\r\u001b[2K')).toBe(true);
    expect(last).not.toContain('\n');
    expect(last).toContain('[00:02]  iterations 4/10  calls 4 started, 1 active  2.0 calls/s  success 66.67%  failed: timeout 1');
    reporter.onEnd();
    expect(writes.at(-1)).toBe('\r\u001b[2K');
    vi.advanceTimersByTime(5000);
    expect(writes.length).toBe(9); // stopped: no more redraws
  });

  it('writes one plain line every 5 s off a terminal, and a last one at the end', () => {
    const { writes, stream } = capture(false);
    const reporter = new ProgressReporter({ stream });
    feed(reporter);
    vi.advanceTimersByTime(4999);
    expect(writes).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(writes).toEqual(['progress [00:05]  iterations 4/10  calls 4 started, 1 active  0.8 calls/s  success 66.67%  failed: timeout 1\n']);
    vi.advanceTimersByTime(10_000);
    expect(writes).toHaveLength(3);
    reporter.onEnd();
    expect(writes.at(-1)).toMatch(/^progress \[00:15\].*\(done\)\n$/);
    expect(writes.every((line) => !line.includes('\u001b'))).toBe(true);
  });

  it('measures calls/s over the recent window, not the whole run', () => {
    const { stream } = capture(false);
    const reporter = new ProgressReporter({ stream, intervalMs: 1000 });
    reporter.onBegin(info);
    for (let second = 0; second < 30; second++) {
      const perSecond = second < 15 ? 10 : 2;
      for (let n = 0; n < perSecond; n++) reporter.onEvent({ type: 'callStarted', atMs: Date.now(), scenario: 'smoke', callId: `${second * 10 + n}.main`, callerRole: 'a' });
      vi.advanceTimersByTime(1000);
    }
    expect(reporter.figures().callsPerSecond).toBeCloseTo(2, 5);
    reporter.onEnd();
  });

  it('clears its line for a log message on a terminal', () => {
    const { writes, stream } = capture(true);
    const reporter = new ProgressReporter({ stream });
    feed(reporter);
    vi.advanceTimersByTime(250);
    reporter.clearLine();
    expect(writes.at(-1)).toBe('\r\u001b[2K');
    reporter.onEnd();
  });
});
