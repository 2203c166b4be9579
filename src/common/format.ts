/** How figures are shown to people, the same in the summary, JUnit, HTML and compare. */

export type DisplayUnit = 'seconds' | 'ratio' | 'score' | 'count';

/** Seconds shown as ms below 1 s (setup and jitter live there), else as seconds to the ms. */
export function formatSeconds(seconds: number): string {
  const abs = Math.abs(seconds);
  if (abs < 0.001 && abs > 0) return `${round(seconds * 1000, 3)}ms`;
  if (abs < 1) return `${round(seconds * 1000, abs < 0.1 ? 2 : 1)}ms`;
  return `${round(seconds, abs < 10 ? 3 : 2)}s`;
}

/** A 0..1 ratio as a percentage, with enough decimals to tell 99.9% from 100%. */
export function formatRatio(ratio: number): string {
  const percent = ratio * 100;
  const decimals = percent !== 0 && Math.abs(percent) < 1 ? 3 : 2;
  return `${round(percent, decimals)}%`;
}

export function formatValue(value: number | null | undefined, unit: DisplayUnit): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '-';
  switch (unit) {
    case 'seconds':
      return formatSeconds(value);
    case 'ratio':
      return formatRatio(value);
    case 'score':
      return round(value, 2).toFixed(2);
    case 'count':
      return String(round(value, 3));
  }
}

/** Rounds and drops float noise (0.30000000000000004 -> 0.3). */
export function round(value: number, decimals: number): number {
  return Number(value.toFixed(decimals));
}
