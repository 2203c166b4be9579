/**
 * Durations as scenario files write them: "500ms", "5s", "1.5s", "2m", "1h",
 * compound ones such as "1m30s" (common/durations.ts), or a bare number
 * meaning seconds (YAML `wait: 5`).
 */
import { parseDurationText } from '../common/durations.js';

/**
 * Seconds, or undefined when the value is not a duration. Negative values are
 * not durations. A string needs a unit: "500" alone could mean ms or s.
 */
export function parseDurationSeconds(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  return typeof value === 'string' ? parseDurationText(value) : undefined;
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
