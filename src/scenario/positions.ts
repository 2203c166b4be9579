/**
 * Where a field path (`steps[3].call.codecs[0]`, as Problems records them)
 * sits in the YAML text, so every problem can be shown as `file:LINE:COL:`,
 * the form editors and CI annotators jump to. A field that is not there (a
 * required one left out) is shown at the nearest parent that is.
 */
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';

export interface Position {
  /** 1-based, as editors count. */
  line: number;
  col: number;
}

/** The position of a field path, or undefined when the document has no content at all. */
export type Locate = (path: string) => Position | undefined;

export function locator(document: Document.Parsed, lineCounter: LineCounter): Locate {
  return (path) => {
    const offset = offsetOf(document, pathSegments(path));
    return offset === undefined ? undefined : lineCounter.linePos(offset);
  };
}

// One segment of a path as joinPath writes it: `.name` (or `name` first), `[3]`, `["odd key"]`.
const SEGMENT = /(?:^|\.)([A-Za-z_$][A-Za-z0-9_$-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/y;

/**
 * The keys and indexes of a path, the inverse of problems.ts joinPath. Reading
 * stops at anything that is not a path (`roles.a.accounts.csv (users.csv:3)`),
 * so a note after a path still finds the field.
 */
export function pathSegments(path: string): (string | number)[] {
  const segments: (string | number)[] = [];
  SEGMENT.lastIndex = 0;
  for (let match = SEGMENT.exec(path); match; match = SEGMENT.exec(path)) {
    const [, name, index, quoted] = match;
    segments.push(name ?? (index !== undefined ? Number(index) : (JSON.parse(quoted!) as string)));
  }
  return segments;
}

/** Offset of the deepest node along the path: a mapping's key (where the field's line starts), a list's item. */
function offsetOf(document: Document.Parsed, segments: readonly (string | number)[]): number | undefined {
  let node: unknown = document.contents;
  let offset = rangeStart(node);
  for (const segment of segments) {
    if (isAlias(node)) node = node.resolve(document);
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
      if (!pair) break;
      offset = rangeStart(pair.key) ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number' && segment < node.items.length) {
      node = node.items[segment];
      offset = rangeStart(node) ?? offset;
    } else {
      break;
    }
  }
  return offset;
}

function rangeStart(node: unknown): number | undefined {
  return (node as Node | null | undefined)?.range?.[0];
}
