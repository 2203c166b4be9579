import { describe, expect, it } from 'vitest';
import { syntheticRun } from '../../test/unit/syntheticRun.js';
import { evaluateThresholds } from '../verdict/evaluate.js';
import { parseThresholds } from '../verdict/parseThresholds.js';
import { formatSummaryTable, summaryObject, summaryStyleFor } from './summaryTable.js';

const run = syntheticRun({ count: 100, failed: ['sip_status', 'timeout'] });
const thresholds = evaluateThresholds(parseThresholds({ call_success: ['rate>=0.99'], setup_time: ['p(95)<2s'] }, 'test'), {
  calls: run.calls,
  steps: run.steps,
  summary: run.summary,
});

describe('formatSummaryTable', () => {
  it('shows the key figures, thresholds with marks and observed values, and failures by reason (plain ASCII)', () => {
    const table = formatSummaryTable(run.summary, run.calls, run.steps, thresholds);
    expect(table).toMatch(/^smoke: FAIL \(exit 99: thresholds failed\), 54\.0s\n/);
    expect(table).toContain('calls           : 100 total, 98 ok, 2 failed');
    expect(table).toContain('call success    : 98%');
    // 98 established calls with setup 10..980 ms.
    expect(table).toContain('setup time      : p50=495ms p95=931.5ms p99=970.3ms');
    expect(table).toContain('MOS             : avg=4.27 min=3.00');
    expect(table).toContain('[FAIL] call_success  rate>=0.99  observed 98%  (rate=98%, limit >=99%: under by 1%)');
    expect(table).toContain('[ok]   setup_time    p(95)<2s    observed 931.5ms');
    expect(table).toContain('sip_status  1 call, 1 step');
    expect(table).toContain('- #99 call alice->bob: sip_status (SIP 486): expected 200, got 486 "Busy Here" <&>');
    expect(table).not.toMatch(/[\u001b✓✗]/);
  });

  it('uses colour and marks on a terminal, and not with NO_COLOR or off one', () => {
    const tty = summaryStyleFor({ isTTY: true }, {});
    expect(tty).toEqual({ color: true, unicode: true });
    const table = formatSummaryTable(run.summary, run.calls, run.steps, thresholds, tty);
    expect(table).toContain('\u001b[31m✗\u001b[0m call_success');
    expect(table).toContain('\u001b[32m✓\u001b[0m setup_time');
    expect(summaryStyleFor({ isTTY: true }, { NO_COLOR: '1' })).toEqual({ color: false, unicode: false });
    expect(summaryStyleFor({ isTTY: false }, {})).toEqual({ color: false, unicode: false });
    expect(summaryStyleFor({ isTTY: true }, { TERM: 'dumb' })).toEqual({ color: false, unicode: false });
  });

  it('counts transcoded calls by pair, and shows the row only when some were', () => {
    const clean = syntheticRun({ count: 4 });
    expect(formatSummaryTable(clean.summary, clean.calls, clean.steps)).not.toContain('transcoded');
    const values = ['audio opus->PCMU; audio PCMU->opus', 'audio opus->PCMU', '', 'unknown'];
    const calls = clean.calls.map((call, index) => ({ ...call, transcoded: values[index] }));
    expect(formatSummaryTable(clean.summary, calls, clean.steps)).toContain('transcoded      : 2 calls (audio opus->PCMU: 2, audio PCMU->opus: 1)');
    expect(summaryObject(clean.summary, calls, clean.steps).transcoded).toEqual({ calls: 2, byPair: { 'audio opus->PCMU': 2, 'audio PCMU->opus': 1 }, unknown: 1 });
  });

  it('says PASS with exit 0 when all holds', () => {
    const clean = syntheticRun({ count: 10 });
    expect(formatSummaryTable(clean.summary, clean.calls, clean.steps)).toMatch(/^smoke: PASS \(exit 0: pass\)/);
  });
});

describe('summaryObject (--json)', () => {
  it('carries the same figures as plain data', () => {
    const object = JSON.parse(JSON.stringify(summaryObject(run.summary, run.calls, run.steps, thresholds)));
    expect(object).toMatchObject({
      scenario: 'smoke',
      verdict: 'fail',
      exitCode: 99,
      calls: { total: 100, failed: 2, successRate: 0.98 },
      failuresByReason: { calls: { sip_status: 1, timeout: 1 }, steps: { sip_status: 1, timeout: 1 } },
      thresholds: [
        { metric: 'call_success', expression: 'rate>=0.99', passed: false, observed: 0.98 },
        { metric: 'setup_time', expression: 'p(95)<2s', passed: true },
      ],
    });
    expect(object.setupSeconds.p95).toBeCloseTo(0.9315, 10);
  });
});
