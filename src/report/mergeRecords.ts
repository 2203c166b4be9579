/**
 * CSV records as their raw text, for joining files without rewriting them: a
 * merged row is the shard's row, byte for byte (a column this version does
 * not know survives too), and millions of sample rows cost a scan for line
 * breaks, not a parse and a re-quote each. A record ends at a line break
 * outside quotes: with RFC 4180 quoting (csv-stringify's), a record is inside
 * a quoted field exactly when it has seen an odd number of quote characters.
 */
import { createReadStream, createWriteStream, renameSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { parseCsv } from './csvRead.js';

/** A file's records without their line breaks, in batches (one per chunk read); blank lines skipped. */
export async function* csvRecordBatches(path: string): AsyncGenerator<string[]> {
  let text = '';
  let start = 0;
  let scanFrom = 0;
  let inQuotes = false;
  for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: 256 * 1024 })) {
    text = text.slice(start) + (chunk as string);
    scanFrom -= start;
    start = 0;
    const records: string[] = [];
    for (let lineBreak = text.indexOf('\n', scanFrom); lineBreak >= 0; lineBreak = text.indexOf('\n', scanFrom)) {
      for (let quote = text.indexOf('"', scanFrom); quote >= 0 && quote < lineBreak; quote = text.indexOf('"', quote + 1)) inQuotes = !inQuotes;
      scanFrom = lineBreak + 1;
      if (inQuotes) continue; // a line break inside a quoted field
      const record = text.slice(start, text[lineBreak - 1] === '\r' ? lineBreak - 1 : lineBreak);
      if (record !== '') records.push(record);
      start = lineBreak + 1;
    }
    if (records.length > 0) yield records;
  }
  const last = text.slice(start);
  for (let quote = last.indexOf('"', scanFrom - start); quote >= 0; quote = last.indexOf('"', quote + 1)) inQuotes = !inQuotes;
  if (inQuotes) throw new Error('the file ends inside a quoted field');
  if (last !== '') yield [last];
}

/** The cells of one record (the header, or a row whose cell is needed). */
export function recordCells(record: string): string[] {
  return parseCsv(record)[0] ?? [];
}

/** One cell of a record, without parsing it whole when it has no quotes (the usual case). */
export function cellAt(record: string, column: number): string {
  if (record.includes('"')) return recordCells(record)[column] ?? '';
  let from = 0;
  for (let skipped = 0; skipped < column; skipped++) {
    const comma = record.indexOf(',', from);
    if (comma < 0) return '';
    from = comma + 1;
  }
  const end = record.indexOf(',', from);
  return record.slice(from, end < 0 ? undefined : end);
}

/**
 * Records written one per line after the header, with backpressure, to a
 * temporary file renamed into place at the end (never half a file under the
 * real name). Returns how many records were written.
 */
export async function writeRecords(path: string, header: string, batches: Iterable<readonly string[]> | AsyncIterable<readonly string[]>): Promise<number> {
  const temporary = `${path}.${process.pid}.merge.tmp`;
  const out = createWriteStream(temporary);
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  failed.catch(() => undefined);
  const write = async (text: string) => {
    if (!out.write(text)) await Promise.race([once(out, 'drain'), failed]);
  };
  let count = 0;
  try {
    await write(`${header}\n`);
    for await (const batch of batches) {
      if (batch.length === 0) continue;
      count += batch.length;
      await write(`${batch.join('\n')}\n`);
    }
    out.end();
    await Promise.race([once(out, 'close'), failed]);
    renameSync(temporary, path);
    return count;
  } catch (error) {
    out.destroy();
    rmSync(temporary, { force: true });
    throw error;
  }
}
