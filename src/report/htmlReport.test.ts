import { describe, expect, it } from 'vitest';
import { CHARTS, reportData } from '../../test/unit/htmlReportData.js';
import { syntheticRun } from '../../test/unit/syntheticRun.js';
import { renderHtmlReport } from './htmlReport.js';

// The report as text. How it renders in a real browser (charts drawn, no network, a screenshot)
// is test/integration/html-report-chromium.test.ts: unit tests start no Chromium.

describe('renderHtmlReport', () => {
  it('draws every chart with data, and says which threshold failed by how much', () => {
    const html = renderHtmlReport(reportData());
    for (const id of CHARTS) {
      const chart = new RegExp(`<svg class="chart" data-chart="${id}"[\\s\\S]*?</svg>`).exec(html)?.[0];
      expect(chart, id).toBeDefined();
      expect(chart!, id).toMatch(/<path class="line" d="M[\d.]+ [\d.]+ [LHV]|<rect class="bar"[^>]* height="(?!0")[\d.]+"|<rect class="bar"[^>]* width="(?!0")[\d.]+"/);
    }
    expect(html).toContain('<td><code>call_success</code></td><td><code>rate&gt;=0.99</code></td><td class="num">95%</td>');
    expect(html).toContain('rate=95%, limit &gt;=99%: under by 4%');
    expect(html).toContain('<span class="badge fail">FAIL</span>');
  });

  it('shows empty charts as "no data" rather than failing on an empty run', () => {
    const run = syntheticRun({ count: 0 });
    const html = renderHtmlReport({ ...run, calls: [], steps: [] });
    for (const id of CHARTS) expect(html).toContain(`data-chart="${id}" data-empty="true"`);
  });

  it('links each failed call to its SIP log beside the report, and links nothing that leaves it', () => {
    const data = reportData();
    const failed = data.calls.filter((call) => call.result === 'failed');
    failed[0]!.evidence = 'sip/58.main.log';
    failed[1]!.evidence = 'javascript:alert(1)';
    failed[2]!.evidence = '../../etc/passwd';
    const html = renderHtmlReport(data);
    expect(html).toContain('<th>evidence</th>');
    expect(html).toContain(`<td><a href="sip/58.main.log">SIP log</a></td></tr>`);
    expect(html).toContain('<td>javascript:alert(1)</td></tr>');
    expect(html).toContain('<td>../../etc/passwd</td></tr>');
    expect(html.match(/<a href=/g)).toHaveLength(1);
  });

  it('escapes what the scenario and far ends wrote', () => {
    const data = reportData();
    data.summary.info.scenario = '<script>alert(1)</script>';
    data.calls[data.calls.length - 1]!.failureDetail = '<img src=x onerror=alert(1)>';
    const html = renderHtmlReport(data);
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });
});
