/**
 * Durations as scenario files write them: "500ms", "5s", "1.5s", "2m", "1h",
 * or a bare number meaning seconds (YAML `wait: 5`).
 */

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
const DURATION = /^(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h)$/;

/**
 * Seconds, or undefined when the value is not a duration. Negative values are
 * not durations. A string needs a unit: "500" alone could mean ms or s.
 */
export function parseDurationSeconds(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = DURATION.exec(value.trim());
  if (!match) return undefined;
  const [, amount = '', unit = 's'] = match;
  const ms = Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  // Divide once from ms so "50ms" is exactly 0.05, not 0.05000000000000001.
  return Number.isFinite(ms) ? ms / 1000 : undefined;
}

/** Seconds to whole-enough milliseconds, without float noise (0.07 s -> 70, not 70.00000000000001). */
export function secondsToMs(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e3;
}

/** The shortest readable form, for messages and step names: 0.05 -> "50ms", 5 -> "5s", 120 -> "2m". */
export function formatSeconds(seconds: number): string {
  if (seconds !== 0 && seconds < 1) return `${secondsToMs(seconds)}ms`;
  if (seconds >= 3600 && seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds >= 60 && seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}
