import { describe, expect, it } from 'vitest';
import type { CallResult, RunEvent, RunInfo, RunSummary } from '../results.js';
import type { Reporter } from './reporter.js';
import { ReporterMultiplexer } from './multiplexer.js';

const info = { runId: 'r', scenario: 's' } as RunInfo;
const summary = { info } as RunSummary;
const call = { callId: '0.main', scenario: 's' } as CallResult;
const log: RunEvent = { type: 'log', atMs: 0, level: 'info', message: 'hello' };

/** Records what it was given, so tests can see the run went on past a broken reporter. */
function recordingReporter(name = 'recording') {
  const seen: string[] = [];
  const reporter: Reporter = {
    name,
    onBegin: () => void seen.push('begin'),
    onEvent: (event) => void seen.push(`event:${event.type}`),
    onCallEnd: (ended) => void seen.push(`call:${ended.callId}`),
    onEnd: async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      seen.push('end');
    },
  };
  return { reporter, seen };
}

describe('ReporterMultiplexer', () => {
  it('gives every hook to every reporter', async () => {
    const first = recordingReporter('first');
    const second = recordingReporter('second');
    const multiplexer = new ReporterMultiplexer([first.reporter, second.reporter], () => undefined);
    await multiplexer.onBegin(info);
    multiplexer.onEvent(log);
    multiplexer.onCallEnd(call);
    await multiplexer.onEnd({ summary, calls: [call], steps: [], thresholds: [] });
    for (const { seen } of [first, second]) expect(seen).toEqual(['begin', 'event:log', 'call:0.main', 'end']);
  });

  it('survives a reporter that throws, warns once per reporter and hook, and counts the rest', async () => {
    const warnings: string[] = [];
    const healthy = recordingReporter();
    const broken: Reporter = {
      name: 'broken',
      onBegin: () => Promise.reject(new Error('disk full at begin')),
      onEvent: () => {
        throw new Error('disk full');
      },
      onCallEnd: () => {
        throw 'not even an Error';
      },
      onEnd: async () => {
        throw new Error('disk full at end');
      },
    };
    const multiplexer = new ReporterMultiplexer([broken, healthy.reporter], (message) => warnings.push(message));

    await expect(multiplexer.onBegin(info)).resolves.toBeUndefined();
    for (let index = 0; index < 3; index++) multiplexer.onEvent(log);
    multiplexer.onCallEnd(call);
    await expect(multiplexer.onEnd({ summary, calls: [call], steps: [], thresholds: [] })).resolves.toBeUndefined();

    expect(healthy.seen).toEqual(['begin', 'event:log', 'event:log', 'event:log', 'call:0.main', 'end']);
    expect(warnings).toEqual([
      expect.stringMatching(/^reporter "broken" failed in onBegin: disk full at begin/),
      expect.stringMatching(/^reporter "broken" failed in onEvent: disk full/),
      expect.stringMatching(/^reporter "broken" failed in onCallEnd: not even an Error/),
      expect.stringMatching(/^reporter "broken" failed in onEnd: disk full at end/),
      'reporter "broken" failed 3 times in onEvent during the run',
    ]);
    expect(multiplexer.failures.map(({ reporter, hook, count }) => ({ reporter, hook, count }))).toEqual([
      { reporter: 'broken', hook: 'onBegin', count: 1 },
      { reporter: 'broken', hook: 'onEvent', count: 3 },
      { reporter: 'broken', hook: 'onCallEnd', count: 1 },
      { reporter: 'broken', hook: 'onEnd', count: 1 },
    ]);
  });

  it('catches an async onEvent that rejects (it still fits the void-returning type)', async () => {
    const warnings: string[] = [];
    const asyncBroken: Reporter = {
      name: 'async-broken',
      onEvent: async () => {
        throw new Error('later');
      },
    };
    const multiplexer = new ReporterMultiplexer([asyncBroken], (message) => warnings.push(message));
    multiplexer.onEvent(log);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(warnings).toEqual([expect.stringMatching(/^reporter "async-broken" failed in onEvent: later/)]);
  });

  it('runs the onEnd hooks in parallel and waits for all of them', async () => {
    const order: string[] = [];
    const slow = (name: string, ms: number): Reporter => ({
      name,
      onEnd: async () => {
        order.push(`${name} start`);
        await new Promise((resolve) => setTimeout(resolve, ms));
        order.push(`${name} done`);
      },
    });
    await new ReporterMultiplexer([slow('a', 30), slow('b', 5)], () => undefined).onEnd({ summary, calls: [], steps: [], thresholds: [] });
    expect(order).toEqual(['a start', 'b start', 'b done', 'a done']);
  });

  it('ends a reporter that reads the run files (report.html reads samples.csv) after the others have closed theirs', async () => {
    const order: string[] = [];
    const writer = (name: string, ms: number): Reporter => ({
      name,
      onEnd: async () => {
        await new Promise((resolve) => setTimeout(resolve, ms));
        order.push(`${name} closed`);
      },
    });
    const reader: Reporter = { name: 'report.html', readsRunFiles: true, onEnd: () => void order.push('report.html read') };
    await new ReporterMultiplexer([reader, writer('samples.csv', 30), writer('calls.csv', 5)], () => undefined).onEnd({ summary, calls: [], steps: [], thresholds: [] });
    expect(order).toEqual(['calls.csv closed', 'samples.csv closed', 'report.html read']);
  });

  it('is not broken by a warn callback that throws', async () => {
    const broken: Reporter = {
      name: 'broken',
      onEvent: () => {
        throw new Error('x');
      },
    };
    const multiplexer = new ReporterMultiplexer([broken], () => {
      throw new Error('logger gone');
    });
    expect(() => multiplexer.onEvent(log)).not.toThrow();
  });
});
