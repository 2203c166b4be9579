import { describe, expect, it } from 'vitest';
import { syntheticRun } from '../../test/unit/syntheticRun.js';
import { InputError } from '../errors.js';
import { compareFigure, compareRuns, COMPARED_FIGURES, formatComparisonTable, keyFigures, parseTolerance } from './compareRuns.js';
import { PLAIN_STYLE } from './summaryTable.js';

const figuresOf = (options: Parameters<typeof syntheticRun>[0]) => {
  const run = syntheticRun(options);
  return keyFigures(run.summary, run.calls);
};
const rule = (key: string) => COMPARED_FIGURES.find((figure) => figure.key === key)!;

describe('compareRuns', () => {
  it('passes two comparable runs', () => {
    const comparison = compareRuns(figuresOf({}), figuresOf({ slowdown: 1.05 }), 0.1);
    expect(comparison.regressions).toEqual([]);
    expect(comparison.figures.find((figure) => figure.rule.key === 'setupP95Seconds')!.verdict).toBe('same');
  });

  it('flags a slower server: setup and first audio up beyond the tolerance', () => {
    const comparison = compareRuns(figuresOf({}), figuresOf({ slowdown: 1.5 }), 0.1);
    expect(comparison.regressions.map((figure) => figure.rule.key)).toEqual(['setupP50Seconds', 'setupP95Seconds']);
    // first audio 50 -> 75 ms is +50%, but within its 50 ms floor: noise-sized, not flagged.
    expect(comparison.figures.find((figure) => figure.rule.key === 'firstAudioP95Seconds')!.verdict).toBe('same');
  });

  it('flags added packet loss and more failed calls', () => {
    const comparison = compareRuns(figuresOf({}), figuresOf({ lossRatio: 0.03, failed: ['timeout', 'timeout', 'no_media'] }), 0.1);
    expect(comparison.regressions.map((figure) => figure.rule.key)).toEqual(['callSuccessRate', 'packetLossAvg']);
  });

  it('reads the direction: higher MOS is better, lower setup is better', () => {
    expect(compareFigure(rule('mosAvg'), 4.2, 3.9, 0.05).verdict).toBe('regression');
    expect(compareFigure(rule('mosAvg'), 3.9, 4.2, 0.05).verdict).toBe('improvement');
    expect(compareFigure(rule('setupP95Seconds'), 0.5, 1, 0.1).verdict).toBe('regression');
    expect(compareFigure(rule('setupP95Seconds'), 1, 0.5, 0.1).verdict).toBe('improvement');
  });

  it('ignores noise near zero through the absolute floors', () => {
    expect(compareFigure(rule('jitterAvgSeconds'), 0.001, 0.0015, 0.1).verdict).toBe('same'); // +50%, 0.5 ms
    expect(compareFigure(rule('jitterAvgSeconds'), 0.001, 0.004, 0.1).verdict).toBe('regression'); // 3 ms > 2 ms floor
    expect(compareFigure(rule('packetLossAvg'), 0, 0.001, 0.1).verdict).toBe('same');
    expect(compareFigure(rule('callSuccessRate'), 1, 0.995, 0.1).verdict).toBe('same'); // 0.5 pp, floor 1 pp
  });

  it('applies the tolerance to the failure rate for call success', () => {
    // 90% -> 88%: failures 10% -> 12%, +20% of the failure rate, beyond 10% and beyond the 1 pp floor.
    expect(compareFigure(rule('callSuccessRate'), 0.9, 0.88, 0.1).verdict).toBe('regression');
    expect(compareFigure(rule('callSuccessRate'), 0.9, 0.895, 0.1).verdict).toBe('same');
  });

  it('does not compare what one run lacks, and says so', () => {
    const baseline = figuresOf({});
    const comparison = compareRuns(baseline, { ...baseline, mosAvg: null, scenario: 'other', calls: 3 }, 0.1);
    expect(comparison.regressions).toEqual([]);
    expect(comparison.warnings).toEqual([
      'the runs are of different scenarios: smoke and other',
      'the current run has only 3 calls: its figures are noisy',
      'MOS avg: the baseline has it, the current run does not',
    ]);
  });

  it('prints a table of differences', () => {
    const comparison = compareRuns(figuresOf({}), figuresOf({ slowdown: 1.5 }), 0.1);
    const table = formatComparisonTable(comparison, { baseline: 'nightly/1', current: 'nightly/2' }, PLAIN_STYLE);
    expect(table).toContain('figure           baseline  current  change');
    expect(table).toMatch(/setup p95 +950\.5ms +1\.426s +\+475\.3ms \(\+50%\) +\+95\.05ms +REGRESSION/);
    expect(table).toMatch(/call success +100% +100% +±0pp +-1pp +same/);
    expect(table.trimEnd().split('\n').at(-1)).toBe('2 regressions: setup p50, setup p95');
  });
});

describe('parseTolerance', () => {
  it.each([
    ['10%', 0.1],
    ['2.5%', 0.025],
    ['0.1', 0.1],
    ['0', 0],
  ])('%s -> %s', (text, tolerance) => expect(parseTolerance(text)).toBeCloseTo(tolerance, 12));

  it.each(['10', '-5%', 'ten', ''])('refuses %j', (text) => expect(() => parseTolerance(text)).toThrow(InputError));
});
