/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// (page.evaluate runs in the browser: DOM types for that callback.)
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer from 'puppeteer';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveChromium } from '../../src/browser/chromium.js';
import { writeHtmlReport } from '../../src/report/htmlReport.js';
import { CHARTS, reportData } from '../unit/htmlReportData.js';
import { chromiumMissing, named, requirePrerequisites, skipped } from './prerequisites.js';
import { processesInGroups, ROOT } from './support.js';

// report.html opened in headless Chromium: every chart drawn, nothing fetched from the network,
// no console error, and a screenshot in test-output/ to look at. (What the HTML says is
// src/report/htmlReport.test.ts, a unit test.) Needs Chromium: outside CI a missing one skips
// with the reason in the name; in CI (env CI set) it FAILS.

const TEST_OUTPUT = join(ROOT, 'test-output');
const missing = chromiumMissing();

const folder = mkdtempSync(join(tmpdir(), 'callwright-html-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('report.html in headless Chromium', () => {
  it.skipIf(skipped(missing))(named('renders its charts with no network, and leaves a screenshot', missing), { timeout: 60_000 }, async () => {
    requirePrerequisites(missing);
    const path = await writeHtmlReport(folder, reportData());
    const browser = await puppeteer.launch({
      executablePath: resolveChromium(),
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    const browserPid = browser.process()?.pid;
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

      expect(charts.map((chart) => chart.id)).toEqual(CHARTS);
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
    // Nothing left behind (crashpad may take a moment to go).
    expect(browserPid).toBeGreaterThan(0);
    for (let i = 0; i < 50 && processesInGroups([browserPid!]).length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(processesInGroups([browserPid!])).toEqual([]);
  });
});
