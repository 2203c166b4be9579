import { describe, expect, it } from 'vitest';
import { syntheticRun } from '../../test/unit/syntheticRun.js';
import { evaluateThresholds } from './evaluate.js';
import { exitCodeMeaning, outcomeExitCode, verdictExitCode } from './exitCodes.js';
import { parseThresholds } from './parseThresholds.js';

const clean = syntheticRun();
const withFailures = syntheticRun({ failed: ['timeout'] });

const results = (run: ReturnType<typeof syntheticRun>, spec: Record<string, string[]>) =>
  evaluateThresholds(parseThresholds(spec, 'test'), { calls: run.calls, steps: run.steps, summary: run.summary });

describe('verdictExitCode', () => {
  it('is 0 for a clean run, with or without thresholds that hold', () => {
    expect(verdictExitCode(clean.summary, [])).toBe(0);
    expect(verdictExitCode(clean.summary, results(clean, { setup_time: ['p(95)<2s'] }))).toBe(0);
  });

  it('is 1 for failed calls when no threshold judges failures', () => {
    expect(withFailures.summary.exitCode).toBe(1);
    expect(verdictExitCode(withFailures.summary, [])).toBe(1);
    expect(verdictExitCode(withFailures.summary, results(withFailures, { setup_time: ['p(95)<2s'] }))).toBe(1);
  });

  it('is 99 when a threshold fails, over 1', () => {
    expect(verdictExitCode(clean.summary, results(clean, { setup_time: ['p(95)<100ms'] }))).toBe(99);
    expect(verdictExitCode(withFailures.summary, results(withFailures, { setup_time: ['p(95)<100ms'] }))).toBe(99);
    expect(verdictExitCode(withFailures.summary, results(withFailures, { call_success: ['rate==1'] }))).toBe(99);
  });

  it('lets an outcome threshold that holds accept the failures it allows', () => {
    expect(verdictExitCode(withFailures.summary, results(withFailures, { call_success: ['rate>=0.99'] }))).toBe(0);
  });

  it('keeps bad input, infrastructure and internal-error codes over any threshold', () => {
    const failing = results(clean, { setup_time: ['p(95)<100ms'] });
    expect(verdictExitCode({ exitCode: 2, interrupted: false }, failing)).toBe(2);
    expect(verdictExitCode({ exitCode: 3, interrupted: false }, failing)).toBe(3);
    expect(verdictExitCode({ exitCode: 70, interrupted: true }, failing)).toBe(70);
  });
});

describe('an interrupted run (Ctrl-C, SIGTERM)', () => {
  const interrupted = { ...withFailures.summary, interrupted: true };

  it('is 130 from its own outcome, failed calls or not', () => {
    expect(outcomeExitCode(interrupted)).toBe(130);
    expect(outcomeExitCode({ ...clean.summary, interrupted: true })).toBe(130);
  });

  it('exits 130, never 1 like failed calls, nor 0 when an outcome threshold holds', () => {
    expect(verdictExitCode({ ...clean.summary, interrupted: true }, [])).toBe(130);
    expect(verdictExitCode(interrupted, [])).toBe(130);
    expect(verdictExitCode(interrupted, results(withFailures, { call_success: ['rate>=0.99'] }))).toBe(130);
  });

  it('outranks failed thresholds: they were judged on partial figures', () => {
    expect(verdictExitCode(interrupted, results(withFailures, { call_success: ['rate==1'], setup_time: ['p(95)<100ms'] }))).toBe(130);
  });

  it('still gives way to bad input and infrastructure', () => {
    expect(verdictExitCode({ exitCode: 3, interrupted: true }, [])).toBe(3);
  });
});

describe('exitCodeMeaning', () => {
  it('names every code callwright exits with', () => {
    expect([0, 1, 2, 3, 70, 99, 130].map(exitCodeMeaning)).toEqual([
      'pass',
      'calls or steps failed',
      'bad input',
      'infrastructure failure',
      'internal error (a bug)',
      'thresholds failed',
      'interrupted',
    ]);
  });
});
