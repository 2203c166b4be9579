/**
 * Durations as people write them, one grammar for scenario fields, threshold
 * limits and command-line options: a number with a unit (`500ms`, `1.5s`,
 * `2m`, `1h`), or several from the largest unit down (`1m30s`, `1h2m3.5s`,
 * `1s500ms`). Pure and dependency-free: the ground floor.
 */

const UNIT_MS = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 } as const;
type Unit = keyof typeof UNIT_MS;
/** Units from the largest down: a compound duration names each at most once, in this order. */
const UNIT_ORDER: readonly Unit[] = ['h', 'm', 's', 'ms'];
// `ms` before `m`, so 500ms is not read as 500m then "s".
const PART = /(\d+(?:\.\d+)?|\.\d+)\s*(ms|h|m|s)\s*/y;

export const DURATION_EXAMPLES = '500ms, 5s, 2m, 1m30s';

const NUMBER = String.raw`(?:\d+(?:\.\d+)?|\.\d+)`;
/**
 * The same grammar as a regular expression, for JSON Schema (editors check
 * scenario files with it); durations.test.ts holds the two together.
 */
export const DURATION_PATTERN = String.raw`^\s*(?=\S)(?:${NUMBER}\s*h\s*)?(?:${NUMBER}\s*m(?!s)\s*)?(?:${NUMBER}\s*s\s*)?(?:${NUMBER}\s*ms\s*)?$`;

/**
 * Seconds, or undefined when `text` is not a duration with units. A bare
 * number is not one: "200" could mean ms (k6) or s, so callers decide what
 * a number means where one is allowed. Units out of order (`30s1m`) or
 * repeated (`1s2s`) are refused as the typos they likely are.
 */
export function parseDurationText(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  let ms = 0;
  let lastUnit = -1;
  PART.lastIndex = 0;
  while (PART.lastIndex < trimmed.length) {
    const match = PART.exec(trimmed);
    if (!match) return undefined;
    const [, amount = '', unit = ''] = match;
    const rank = UNIT_ORDER.indexOf(unit as Unit);
    if (rank <= lastUnit) return undefined;
    lastUnit = rank;
    ms += Number(amount) * UNIT_MS[unit as Unit];
  }
  // Divide once from ms so "50ms" is exactly 0.05, not 0.05000000000000001.
  return Number.isFinite(ms) ? ms / 1000 : undefined;
}
