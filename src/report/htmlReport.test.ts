/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// (page.evaluate runs in the browser: DOM types for that callback.)
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer from 'puppeteer';
import { afterAll, describe, expect, it } from 'vitest';
import { syntheticRun } from '../../test/unit/syntheticRun.js';
import { evaluateThresholds } from '../verdict/evaluate.js';
import { parseThresholds } from '../verdict/parseThresholds.js';
import { MediaTimeline } from './html/timeSeries.js';
import { renderHtmlReport, writeHtmlReport } from './htmlReport.js';

const CHROMIUM = '/usr/lib/chromium/chromium';
const TEST_OUTPUT = resolve(import.meta.dirname, '../../test-output');
const CHARTS = ['active-calls', 'call-rate', 'setup-time', 'mos', 'jitter-rtt', 'packet-loss', 'failures'];

const folder = mkdtempSync(join(tmpdir(), 'callwright-html-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

function reportData() {
  const run = syntheticRun({ count: 60, failed: ['sip_status', 'timeout', 'no_media'] });
  const thresholds = evaluateThresholds(
    parseThresholds({ call_success: ['rate>=0.99'], setup_time: ['p(95)<2s'], mos: ['avg>4.0'], packet_loss: ['max<0.05'] }, 'test'),
    { calls: run.calls, steps: run.steps, summary: run.summary },
  );
  return { ...run, thresholds, media: MediaTimeline.of(run.summary.info.startedAtMs, run.samples), generatedAtMs: run.summary.endedAtMs };
}

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

describe('report.html in headless Chromium', () => {
  it('renders its charts with no network, and leaves a screenshot', { timeout: 60_000 }, async (context) => {
    if (!existsSync(CHROMIUM)) return context.skip(`no system Chromium at ${CHROMIUM} (Debian package chromium)`);
    const path = await writeHtmlReport(folder, reportData());
    const browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    try {
      const page = await browser.newPage();
      await page.setViewport({ width: 1280, height: 900 });
      const fileUrl = pathToFileURL(path).href;
      const otherRequests: string[] = [];
      const problems: string[] = [];
      page.on('request', (request) => {
        if (request.url() !== fileUrl) otherRequests.push(request.url());
      });
      page.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warn') problems.push(message.text());
      });
      page.on('pageerror', (error) => problems.push(String(error)));
      await page.goto(fileUrl, { waitUntil: 'load' });

      const charts = await page.evaluate((ids: string[]) => {
        return ids.map((id) => {
          const svg = document.querySelector(`svg[data-chart="${id}"]`) as SVGSVGElement | null;
          if (!svg) return { id, found: false, empty: true, width: 0, paths: 0, rects: 0 };
          const box = svg.getBoundingClientRect();
          const paths = [...svg.querySelectorAll('path.line')].filter((path) => {
            const length = (path as SVGPathElement).getTotalLength();
            return (path.getAttribute('d') ?? '').length > 0 && length > 0;
          }).length;
          const rects = [...svg.querySelectorAll('rect.bar')].filter((rect) => {
            const bounds = (rect as SVGRectElement).getBBox();
            return bounds.width > 0 && bounds.height > 0;
          }).length;
          return { id, found: true, empty: svg.dataset.empty === 'true', width: box.width, paths, rects };
        });
      }, CHARTS);

      for (const chart of charts) {
        expect(chart.found, chart.id).toBe(true);
        expect(chart.empty, chart.id).toBe(false);
        expect(chart.width, chart.id).toBeGreaterThan(300);
        expect(chart.paths + chart.rects, `${chart.id} draws nothing`).toBeGreaterThan(0);
      }
      expect(otherRequests).toEqual([]);
      expect(problems).toEqual([]);

      mkdirSync(TEST_OUTPUT, { recursive: true });
      // test-output/ is for artifacts only; keep it out of git without touching the repository's .gitignore.
      writeFileSync(join(TEST_OUTPUT, '.gitignore'), '*\n');
      const screenshot = join(TEST_OUTPUT, 'report.png');
      await page.screenshot({ path: screenshot, fullPage: true });
      expect(statSync(screenshot).size).toBeGreaterThan(20_000);
      expect(readFileSync(screenshot).subarray(1, 4).toString()).toBe('PNG');
    } finally {
      await browser.close();
    }
  });
});
