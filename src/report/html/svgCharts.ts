/**
 * Charts as inline SVG strings, drawn in Node: the report needs no script,
 * no network, and a chart is testable as text. Each chart is an <svg> with
 * data-chart="<id>" and a <title>; hovering a point or bar shows its value.
 */
import { escapeXmlAttribute as attr, escapeXmlText as text } from '../xml.js';
import type { HistogramBin, Point } from './timeSeries.js';
import { niceStep } from './timeSeries.js';

const WIDTH = 640;
const HEIGHT = 260;
const MARGIN = { top: 28, right: 16, bottom: 36, left: 56 };
const PLOT_WIDTH = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_HEIGHT = HEIGHT - MARGIN.top - MARGIN.bottom;

export const SERIES_COLORS = ['#2f6fde', '#e07b00', '#2a9d5c', '#c23b5a', '#7a4fd0'];

export interface LineSeries {
  name: string;
  points: readonly Point[];
  color?: string;
}

export interface ChartFrame {
  id: string;
  title: string;
  /** Formats a y value for ticks and tooltips. */
  formatY: (value: number) => string;
}

/** Lines over time (x in seconds since the start); gaps where y is null. */
export function lineChart(frame: ChartFrame & { series: readonly LineSeries[]; step?: boolean }): string {
  const all = frame.series.flatMap((series) => series.points);
  const ys = all.flatMap((point) => (point.y === null ? [] : [point.y]));
  if (ys.length === 0) return emptyChart(frame);
  const xMax = Math.max(...all.map((point) => point.x), 1);
  const yScale = niceScale(Math.max(...ys));
  const toX = (x: number) => MARGIN.left + (x / xMax) * PLOT_WIDTH;
  const toY = (y: number) => MARGIN.top + PLOT_HEIGHT - (y / yScale.max) * PLOT_HEIGHT;

  const parts: string[] = [yAxis(yScale, toY, frame.formatY), timeAxis(xMax, toX)];
  frame.series.forEach((series, index) => {
    const color = series.color ?? SERIES_COLORS[index % SERIES_COLORS.length]!;
    const path = linePath(series.points, toX, toY, frame.step ?? false);
    if (path) parts.push(`<path class="line" d="${path}" fill="none" stroke="${color}" stroke-width="2" stroke-linejoin="round"/>`);
    for (const point of series.points) {
      if (point.y === null) continue;
      parts.push(
        `<circle cx="${fixed(toX(point.x))}" cy="${fixed(toY(point.y))}" r="2.5" fill="${color}"><title>${text(`${series.name} at ${formatClock(point.x)}: ${frame.formatY(point.y)}`)}</title></circle>`,
      );
    }
  });
  if (frame.series.length > 1) parts.push(legend(frame.series.map((series, index) => ({ name: series.name, color: series.color ?? SERIES_COLORS[index]! }))));
  return svg(frame, parts);
}

/** Bars over bins of a value (a distribution). */
export function histogramChart(frame: ChartFrame & { bins: readonly HistogramBin[]; formatX: (value: number) => string; color?: string }): string {
  const { bins } = frame;
  if (bins.length === 0 || bins.every((bin) => bin.count === 0)) return emptyChart(frame);
  const yScale = niceScale(Math.max(...bins.map((bin) => bin.count)), true);
  const toY = (y: number) => MARGIN.top + PLOT_HEIGHT - (y / yScale.max) * PLOT_HEIGHT;
  const barWidth = PLOT_WIDTH / bins.length;
  const parts: string[] = [yAxis(yScale, toY, (value) => String(value))];
  bins.forEach((bin, index) => {
    const x = MARGIN.left + index * barWidth;
    const y = toY(bin.count);
    parts.push(
      `<rect class="bar" x="${fixed(x + 1)}" y="${fixed(y)}" width="${fixed(Math.max(1, barWidth - 2))}" height="${fixed(MARGIN.top + PLOT_HEIGHT - y)}" fill="${frame.color ?? SERIES_COLORS[0]}"><title>${text(`${frame.formatX(bin.from)} to ${frame.formatX(bin.to)}: ${bin.count}`)}</title></rect>`,
    );
  });
  // Label every few bins so the labels do not overlap.
  const every = Math.ceil(bins.length / 8);
  bins.forEach((bin, index) => {
    if (index % every !== 0) return;
    const x = MARGIN.left + index * barWidth;
    parts.push(`<text class="tick" x="${fixed(x)}" y="${HEIGHT - MARGIN.bottom + 16}" text-anchor="middle">${text(frame.formatX(bin.from))}</text>`);
  });
  parts.push(`<line class="axis" x1="${MARGIN.left}" y1="${MARGIN.top + PLOT_HEIGHT}" x2="${WIDTH - MARGIN.right}" y2="${MARGIN.top + PLOT_HEIGHT}"/>`);
  return svg(frame, parts);
}

export interface BarGroup {
  label: string;
  values: readonly number[];
}

/** Horizontal bars, one row per label, one bar per series in it (e.g. failed calls and failed steps by reason). */
export function horizontalBarChart(frame: Omit<ChartFrame, 'formatY'> & { groups: readonly BarGroup[]; seriesNames: readonly string[] }): string {
  const { groups } = frame;
  const chartFrame = { ...frame, formatY: String };
  if (groups.length === 0 || groups.every((group) => group.values.every((value) => value === 0))) return emptyChart(chartFrame);
  const labelWidth = 150;
  const rowHeight = 12 * frame.seriesNames.length + 10;
  const height = MARGIN.top + groups.length * rowHeight + 30;
  const max = niceScale(Math.max(...groups.flatMap((group) => group.values)), true).max;
  const barSpace = WIDTH - labelWidth - MARGIN.right - 40;
  const parts: string[] = [];
  groups.forEach((group, row) => {
    const top = MARGIN.top + row * rowHeight;
    parts.push(`<text class="label" x="${labelWidth - 8}" y="${top + rowHeight / 2 + 2}" text-anchor="end">${text(group.label)}</text>`);
    group.values.forEach((value, index) => {
      const y = top + 4 + index * 12;
      const width = (value / max) * barSpace;
      const color = SERIES_COLORS[index % SERIES_COLORS.length]!;
      parts.push(
        `<rect class="bar" x="${labelWidth}" y="${y}" width="${fixed(Math.max(value > 0 ? 2 : 0, width))}" height="10" fill="${color}"><title>${text(`${group.label}: ${value} ${frame.seriesNames[index] ?? ''}`)}</title></rect>`,
        `<text class="tick" x="${fixed(labelWidth + width + 4)}" y="${y + 9}">${value}</text>`,
      );
    });
  });
  parts.push(legend(frame.seriesNames.map((name, index) => ({ name, color: SERIES_COLORS[index % SERIES_COLORS.length]! }))));
  return svg(chartFrame, parts, height);
}

function svg(frame: ChartFrame, parts: readonly string[], height = HEIGHT): string {
  return [
    `<svg class="chart" data-chart="${attr(frame.id)}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="${attr(frame.title)}" xmlns="http://www.w3.org/2000/svg">`,
    `<title>${text(frame.title)}</title>`,
    `<text class="chart-title" x="${MARGIN.left}" y="18">${text(frame.title)}</text>`,
    ...parts,
    '</svg>',
  ].join('\n');
}

function emptyChart(frame: ChartFrame): string {
  return [
    `<svg class="chart empty" data-chart="${attr(frame.id)}" data-empty="true" viewBox="0 0 ${WIDTH} 80" role="img" aria-label="${attr(frame.title)}: no data" xmlns="http://www.w3.org/2000/svg">`,
    `<title>${text(frame.title)}</title>`,
    `<text class="chart-title" x="${MARGIN.left}" y="18">${text(frame.title)}</text>`,
    `<text class="no-data" x="${WIDTH / 2}" y="55" text-anchor="middle">no data in this run</text>`,
    '</svg>',
  ].join('\n');
}

interface Scale {
  max: number;
  ticks: number[];
}

function niceScale(maxValue: number, integers = false): Scale {
  const top = maxValue > 0 ? maxValue : 1;
  let step = niceStep(top / 4);
  if (integers) step = Math.max(1, Math.ceil(step));
  const max = Math.ceil(top / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let tick = 0; tick <= max + step / 2; tick += step) ticks.push(Number(tick.toPrecision(12)));
  return { max, ticks };
}

function yAxis(scale: Scale, toY: (y: number) => number, format: (value: number) => string): string {
  return scale.ticks
    .map((tick) => {
      const y = fixed(toY(tick));
      return `<line class="grid" x1="${MARGIN.left}" y1="${y}" x2="${WIDTH - MARGIN.right}" y2="${y}"/><text class="tick" x="${MARGIN.left - 6}" y="${y}" dy="4" text-anchor="end">${text(format(tick))}</text>`;
    })
    .join('\n');
}

function timeAxis(xMax: number, toX: (x: number) => number): string {
  const step = niceTimeStep(xMax / 6);
  const parts = [`<line class="axis" x1="${MARGIN.left}" y1="${MARGIN.top + PLOT_HEIGHT}" x2="${WIDTH - MARGIN.right}" y2="${MARGIN.top + PLOT_HEIGHT}"/>`];
  for (let x = 0; x <= xMax + 1e-9; x += step) {
    parts.push(`<text class="tick" x="${fixed(toX(x))}" y="${HEIGHT - MARGIN.bottom + 16}" text-anchor="middle">${formatClock(x)}</text>`);
  }
  parts.push(`<text class="axis-label" x="${WIDTH - MARGIN.right}" y="${HEIGHT - 4}" text-anchor="end">time since start</text>`);
  return parts.join('\n');
}

function niceTimeStep(rough: number): number {
  return [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400].find((step) => step >= rough) ?? 86400;
}

function legend(entries: readonly { name: string; color: string }[]): string {
  let x = WIDTH - MARGIN.right;
  const parts: string[] = [];
  for (const entry of [...entries].reverse()) {
    const width = entry.name.length * 6.5 + 18;
    x -= width;
    parts.push(`<rect x="${fixed(x)}" y="9" width="10" height="10" fill="${entry.color}"/><text class="legend" x="${fixed(x + 14)}" y="18">${text(entry.name)}</text>`);
  }
  return parts.join('\n');
}

function linePath(points: readonly Point[], toX: (x: number) => number, toY: (y: number) => number, step: boolean): string {
  const segments: string[] = [];
  let drawing = false;
  for (const point of points) {
    if (point.y === null) {
      drawing = false;
      continue;
    }
    const x = fixed(toX(point.x));
    const y = fixed(toY(point.y));
    if (!drawing) segments.push(`M${x} ${y}`);
    else if (step) segments.push(`H${x} V${y}`);
    else segments.push(`L${x} ${y}`);
    drawing = true;
  }
  return segments.join(' ');
}

/** m:ss or h:mm:ss since the start of the run. */
export function formatClock(seconds: number): string {
  const whole = Math.round(seconds);
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const pad = (value: number) => String(value).padStart(2, '0');
  return hours > 0 ? `${hours}:${pad(minutes)}:${pad(whole % 60)}` : `${minutes}:${pad(whole % 60)}`;
}

function fixed(value: number): string {
  return String(Math.round(value * 10) / 10);
}
