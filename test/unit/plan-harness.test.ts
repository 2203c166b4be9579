import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { playsReceivedAudio } from '../../src/agent/playout.js';
import { setAudioPtime } from '../../src/sdp/sdp.js';
import type { CallResult, HarnessSample, RunEvent } from '../../src/results.js';
import { PeriodicStatsReporter } from '../../src/report/statsCsv.js';
import { parseMachineCpu, parseMemInfo, parsePssBytes, parseProcStat, parseRssBytes, processTree, type ProcStat } from '../../src/watchdog/processStats.js';
import { judgeSample } from '../../src/watchdog/watchdog.js';
import { readCsv } from '../integration/support.js';

const sample = (over: Partial<HarnessSample> = {}): HarnessSample => ({
  atMs: 0,
  intervalSeconds: 1,
  nodeCpuCores: 0.05,
  chromiumCpuCores: 0.5,
  machineBusyCores: 0.6,
  cores: 2,
  eventLoopLagP99Ms: 11,
  eventLoopLagMaxMs: 12,
  nodeRssBytes: 1e8,
  chromiumRssBytes: 1e9,
  chromiumProcesses: 6,
  memoryUsedFraction: 0.3,
  ...over,
});
const thresholds = { cpu: 0.95, eventLoopLagMs: 250, memory: 0.95 };

describe('the watchdog judges a sample', () => {
  it('CPU near the cores counts only two samples in a row; lag and memory count at once', () => {
    expect(judgeSample(sample(), thresholds, 0)).toEqual({ reasons: [], cpuOverInARow: 0 });
    const busy = sample({ machineBusyCores: 1.95 });
    expect(judgeSample(busy, thresholds, 0)).toEqual({ reasons: [], cpuOverInARow: 1 });
    expect(judgeSample(busy, thresholds, 1)).toEqual({ reasons: ['cpu'], cpuOverInARow: 2 });
    expect(judgeSample(sample(), thresholds, 5).cpuOverInARow).toBe(0);
    expect(judgeSample(sample({ eventLoopLagP99Ms: 300 }), thresholds, 0).reasons).toEqual(['event_loop_lag']);
    expect(judgeSample(sample({ memoryUsedFraction: 0.97 }), thresholds, 0).reasons).toEqual(['memory']);
    // A tiny threshold makes any machine "saturated": how a test forces it.
    expect(judgeSample(sample(), { ...thresholds, cpu: 0.01 }, 1).reasons).toEqual(['cpu']);
  });
});

describe('/proc parsing', () => {
  it('reads a stat line whose command name has spaces and parentheses', () => {
    const line = '4242 (chrome (renderer) x) S 4200 4100 4100 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 12 0 5000 1000000 3000 18446744073709551615';
    expect(parseProcStat(line)).toEqual({ pid: 4242, ppid: 4200, pgrp: 4100, state: 'S', cpuTicks: 325 });
    expect(parseProcStat('garbage')).toBeUndefined();
  });

  it('takes the browsers, their process groups (zygote-forked renderers) and all descendants', () => {
    const p = (pid: number, ppid: number, pgrp: number): ProcStat => ({ pid, ppid, pgrp, state: 'S', cpuTicks: 0 });
    const all = [p(1, 0, 1), p(100, 1, 100), p(101, 100, 100), p(102, 101, 100), p(103, 101, 103), p(104, 103, 103), p(200, 1, 200), p(105, 999, 100)];
    expect(processTree([100], all).map((x) => x.pid).sort((a, b) => a - b)).toEqual([100, 101, 102, 103, 104, 105]);
    expect(processTree([], all)).toEqual([]);
  });

  it('reads memory and machine CPU', () => {
    expect(parseRssBytes('Name:\tchrome\nVmRSS:\t  204800 kB\n')).toBe(204800 * 1024);
    expect(parsePssBytes('Rss: 10 kB\nPss:  5120 kB\n')).toBe(5120 * 1024);
    expect(parseMachineCpu('cpu  100 5 50 800 20 3 2 0 0 0\ncpu0 1 2 3 4\n')).toEqual({ busyTicks: 160, totalTicks: 980 });
    expect(parseMemInfo('MemTotal: 1000 kB\nMemFree: 10 kB\nMemAvailable: 250 kB\n')).toEqual({ totalBytes: 1024000, availableBytes: 256000 });
  });
});

describe('stats.csv', () => {
  afterEach(() => vi.useRealTimers());

  it('writes one row per period with per-period and cumulative counts, then a last row at the end', () => {
    vi.useFakeTimers({ now: Date.UTC(2025, 0, 1) });
    const outDir = mkdtempSync(join(tmpdir(), 'callwright-stats-'));
    const stats = new PeriodicStatsReporter({ outDir, periodSeconds: 5, targetRate: (s) => 1 + s / 10 });
    const event = (e: Record<string, unknown>) => stats.onEvent({ atMs: Date.now(), scenario: 's', ...e } as RunEvent);
    const end = (result: 'success' | 'failed', failureReason?: CallResult['failureReason']) =>
      stats.onCallEnd({ callId: 'x', result, failureReason } as CallResult);
    stats.onBegin({} as never);
    stats.startClock();
    for (let i = 0; i < 4; i++) event({ type: 'callStarted', callId: String(i), callerRole: 'a' });
    event({ type: 'callEstablished', callId: '0', setupSeconds: 0.1 });
    event({ type: 'callEstablished', callId: '1', setupSeconds: 0.3 });
    end('success');
    end('failed', 'sip_status');
    event({ type: 'iterationStarted', iteration: 5, delaySeconds: 0.4, late: true });
    event({ type: 'iterationDropped', reason: 'capacity' });
    vi.advanceTimersByTime(5000);
    event({ type: 'callStarted', callId: '5', callerRole: 'a' });
    event({ type: 'callEstablished', callId: '5', setupSeconds: 0.5 });
    event({ type: 'harness', sample: sample({ machineBusyCores: 1.9 }), saturated: true, reasons: ['cpu'] });
    end('failed', 'timeout');
    vi.advanceTimersByTime(5000);
    vi.advanceTimersByTime(1000);
    stats.close();
    const rows = readCsv(join(outDir, 'stats.csv'));
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatchObject({
      elapsed_s: '5', period_s: '5', target_rate_cps: '1.5', call_rate_p: '0.8', created_p: '4', created_c: '4', current: '2',
      successful_p: '1', failed_p: '1', failed_sip_status_p: '1', late_p: '1', dropped_p: '1', dropped_capacity_p: '1',
      setup_p50_s_p: '0.2', setup_p95_s_p: '0.29', harness_saturated: 'false',
    });
    expect(rows[1]).toMatchObject({
      elapsed_s: '10', created_p: '1', created_c: '5', current: '2', failed_p: '1', failed_c: '2', failed_timeout_p: '1', failed_sip_status_p: '0', failed_sip_status_c: '1',
      setup_p50_s_p: '0.5', setup_p50_s_c: '0.3', harness_saturated: 'true', machine_cpu_cores: '1.9', dropped_c: '1',
    });
    expect(rows[2]).toMatchObject({ elapsed_s: '11', period_s: '1', created_p: '0', call_rate_p: '0', created_c: '5' });
    expect(readFileSync(join(outDir, 'stats.csv'), 'utf8').split('\n')[0]).toMatch(/^time,elapsed_s,period_s,target_rate_cps,call_rate_p,call_rate_c,created_p,created_c,current,/);
  });
});

describe('cheaper media', () => {
  const offer = ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'm=audio 9 UDP/TLS/RTP/SAVPF 111 0', 'c=IN IP4 0.0.0.0', 'a=rtpmap:111 opus/48000/2', 'a=ptime:20', 'a=rtpmap:0 PCMU/8000', 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'c=IN IP4 0.0.0.0', 'a=rtpmap:96 VP8/90000', ''].join('\r\n');

  it('sets ptime and maxptime on audio sections only, replacing what was there', () => {
    const out = setAudioPtime(offer, 60);
    const audio = out.slice(out.indexOf('m=audio'), out.indexOf('m=video'));
    expect(audio.match(/a=(max)?ptime:\d+/g)).toEqual(['a=ptime:60', 'a=maxptime:60']);
    expect(out).toContain('\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n'); // (without it the next line would look at the last character)
    expect(out.slice(out.indexOf('m=video'))).not.toContain('ptime');
    expect(out.endsWith('\r\n')).toBe(true);
    expect(setAudioPtime(out, 60)).toBe(out);
    expect(() => setAudioPtime(offer, 0)).toThrow(/whole number/);
  });

  it('plays received audio on about the sampled fraction of legs, the same legs every time', () => {
    const legs = Array.from({ length: 2000 }, (_, i) => `${i + 1}.main.caller`);
    const played = legs.filter((leg) => playsReceivedAudio({ playReceivedAudio: true, receivedAudioSample: 0.1 }, leg));
    expect(played.length).toBeGreaterThan(150);
    expect(played.length).toBeLessThan(250);
    expect(legs.filter((leg) => playsReceivedAudio({ playReceivedAudio: true, receivedAudioSample: 0.1 }, leg))).toEqual(played);
    expect(legs.every((leg) => playsReceivedAudio({ playReceivedAudio: true }, leg))).toBe(true);
    expect(legs.some((leg) => playsReceivedAudio({ playReceivedAudio: false, receivedAudioSample: 1 }, leg))).toBe(false);
  });
});
