import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/report/csvRead.js';
import { mergeByKey } from '../../src/report/mergeOrder.js';
import { cellAt, csvRecordBatches, writeRecords } from '../../src/report/mergeRecords.js';

const root = mkdtempSync(join(tmpdir(), 'callwright-merge-order-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Items in batches of `size` (the last one shorter), with an empty batch thrown in: sources may yield those. */
async function* batched<Item>(items: readonly Item[], size: number): AsyncGenerator<Item[]> {
  yield [];
  for (let start = 0; start < items.length; start += size) yield items.slice(start, start + size);
}

async function all<Item>(batches: AsyncIterable<readonly Item[]>): Promise<Item[]> {
  const out: Item[] = [];
  for await (const batch of batches) out.push(...batch);
  return out;
}

describe('mergeByKey', () => {
  it('merges sources in time order into one in time order, ties in source order', async () => {
    const sources = [
      [{ at: 1, from: 'a' }, { at: 5, from: 'a' }, { at: 5, from: 'a2' }],
      [],
      [{ at: 0, from: 'c' }, { at: 5, from: 'c' }, { at: 9, from: 'c' }],
    ];
    const merged = await all(mergeByKey(sources.map((items) => batched(items, 2)), (item) => item.at, 4));
    expect(merged.map((item) => `${item.at}${item.from}`)).toEqual(['0c', '1a', '5a', '5a2', '5c', '9c']);
  });

  it('gives what a stable sort of everything gives, for any number of sorted sources and any batch sizes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 30 }), { maxLength: 12 }),
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 7 }),
        async (lists, inSize, outSize) => {
          const sources = lists.map((list, source) => [...list].sort((a, b) => a - b).map((at, position) => ({ at, source, position })));
          const merged = await all(mergeByKey(sources.map((items) => batched(items, inSize)), (item) => item.at, outSize));
          expect(merged).toEqual(sources.flat().sort((a, b) => a.at - b.at || a.source - b.source));
        },
      ),
    );
  });
});

describe('CSV records as raw text', () => {
  const cell = fc.oneof(fc.string(), fc.constantFrom('', 'a,b', '"quoted"', 'line\nbreak', 'crlf\r\nx', '""', ',', '\n'));

  it('reads back every record csv-stringify wrote, byte for byte, across chunk boundaries', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(cell, { minLength: 3, maxLength: 3 }), { maxLength: 40 }), fc.integer({ min: 0, max: 300_000 }), async (rows, padding) => {
        // A long first row moves the rest across the reader's 256 KiB chunks.
        const written = [['x'.repeat(padding), 'b', 'c'], ...rows];
        const path = join(root, 'records.csv');
        writeFileSync(path, stringify(written));
        const records = await all(csvRecordBatches(path));
        expect(records.map((record) => `${record}\n`)).toEqual(written.map((row) => stringify([row])));
        for (const [index, record] of records.entries()) expect([0, 1, 2].map((column) => cellAt(record, column))).toEqual(written[index]);
      }),
      { numRuns: 60 },
    );
  });

  it('refuses a file that ends inside a quoted field', async () => {
    const path = join(root, 'open-quote.csv');
    writeFileSync(path, 'a,b\n1,"unfinished\n');
    await expect(all(csvRecordBatches(path))).rejects.toThrow('ends inside a quoted field');
  });

  it('writes records under the header, one per line, and counts them', async () => {
    const path = join(root, 'written.csv');
    const count = await writeRecords(path, 'a,b', [['1,2', '3,"x\ny"'], [], ['5,6']]);
    expect(count).toBe(3);
    expect(parseCsv(readFileSync(path, 'utf8'))).toEqual([['a', 'b'], ['1', '2'], ['3', 'x\ny'], ['5', '6']]);
  });
});
