import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../errors.js';
import { parseCsv, readCsvRecords, type CsvRecord } from './csvRead.js';

const root = mkdtempSync(join(tmpdir(), 'callwright-csvread-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let files = 0;
function fileWith(text: string | Buffer): string {
  const path = join(root, `${++files}.csv`);
  writeFileSync(path, text);
  return path;
}

async function read(path: string): Promise<{ header: readonly string[] | undefined; records: { line: number; cells: Record<string, string> }[] }> {
  let header: readonly string[] | undefined;
  const records: { line: number; cells: Record<string, string> }[] = [];
  for await (const record of readCsvRecords(path, (names) => (header = names))) records.push(plain(record));
  return { header, records };
}

const plain = (record: CsvRecord) => ({ line: record.line, cells: Object.fromEntries(record.cells) });

describe('parseCsv', () => {
  it('handles quotes, doubled quotes, line breaks in fields, mixed CRLF and LF, and a missing last line break', () => {
    expect(parseCsv('a,b,c\r\n"x,1","say ""hi""","two\nlines"\n,,\nlast,"",row')).toEqual([
      ['a', 'b', 'c'],
      ['x,1', 'say "hi"', 'two\nlines'],
      ['', '', ''],
      ['last', '', 'row'],
    ]);
  });

  it('ends a row at a lone CR too, and adds no row for the last line break', () => {
    expect(parseCsv('a,b\rc,d\r\ne,f\n')).toEqual([['a', 'b'], ['c', 'd'], ['e', 'f']]);
    expect(parseCsv('')).toEqual([]);
  });

  it('gives a blank line as one empty cell and rows of any length', () => {
    expect(parseCsv('a,b\n\nc\n')).toEqual([['a', 'b'], [''], ['c']]);
  });

  it('drops a UTF-8 byte order mark', () => {
    expect(parseCsv('\uFEFFcall_id,scenario\n1,smoke\n')).toEqual([['call_id', 'scenario'], ['1', 'smoke']]);
  });

  it('reads back what csv-stringify writes, whatever the cells hold', () => {
    const rows = [
      ['id', 'text'],
      ['1', 'comma, "quote", and\nnewline'],
      ['2', '\r\n'],
      ['3', ''],
      ['4', ' spaces kept '],
    ];
    expect(parseCsv(stringify(rows))).toEqual(rows);
  });

  it('refuses text that is not CSV, saying where', () => {
    expect(() => parseCsv('a,"b\n')).toThrow('line 1: a quoted field in the row starting here is never closed (the file ends inside it)');
    expect(() => parseCsv('a,b\n"x"y,z\n')).toThrow(/^line 2: a quoted field goes on after its closing quote/);
    expect(() => parseCsv('a,b\nx"y,z\n')).toThrow(/^line 2: a quote inside a field that is not quoted/);
  });
});

describe('readCsvRecords', () => {
  it('keys each row by the header, numbering it by the line it starts on', async () => {
    const path = fileWith('\uFEFFid,text\r\n1,"two\nlines"\r\n\r\n2,"x ""q"""\n3,\n');
    expect(await read(path)).toEqual({
      header: ['id', 'text'],
      records: [
        { line: 2, cells: { id: '1', text: 'two\nlines' } },
        { line: 5, cells: { id: '2', text: 'x "q"' } },
        { line: 6, cells: { id: '3', text: '' } },
      ],
    });
  });

  it('shows the header of a file without rows, and an empty header for an empty file', async () => {
    expect(await read(fileWith('id,text\n'))).toEqual({ header: ['id', 'text'], records: [] });
    expect(await read(fileWith(''))).toEqual({ header: [], records: [] });
  });

  it('reads a row whose quoted field spans the stream\'s chunks (big samples.csv files)', async () => {
    const long = `${'x'.repeat(70_000)}\n"${'y'.repeat(70_000)}`;
    const rows = [['id', 'text'], ...Array.from({ length: 5 }, (_, index) => [String(index), long])];
    const { records } = await read(fileWith(stringify(rows)));
    expect(records.map((record) => record.cells)).toEqual(rows.slice(1).map(([id, text]) => ({ id, text })));
    expect(records.map((record) => record.line)).toEqual([2, 4, 6, 8, 10]);
  });

  it('gives the same rows wherever the file\'s 64 KiB read chunks cut the text (inside quotes, between CR and LF)', async () => {
    const tricky = '"a ""q"", b","c\r\nd"\r\ne,f\r\n';
    const chunk = 64 * 1024;
    for (let cut = 0; cut <= tricky.length; cut++) {
      const header = 'h1,h2\n';
      const padding = `pad,${'p'.repeat(chunk - cut - header.length - 'pad,\n'.length)}\n`;
      const { records } = await read(fileWith(header + padding + tricky));
      expect(records.slice(1).map((record) => record.cells), `cut at ${cut}`).toEqual([
        { h1: 'a "q", b', h2: 'c\r\nd' },
        { h1: 'e', h2: 'f' },
      ]);
    }
  });

  it('refuses a row with more or fewer cells than the header, naming file and line (a run killed mid-write)', async () => {
    const path = fileWith('id,text,ok\n1,a,true\n2,b\n');
    const reading = read(path);
    await expect(reading).rejects.toBeInstanceOf(InputError);
    await expect(reading).rejects.toThrow(`${path} line 3: 2 cells where the header has 3`);
    await expect(read(fileWith('id\n1\n2,extra\n'))).rejects.toThrow(/line 3: 2 cells where the header has 1$/);
  });

  it('refuses text that is not CSV with an InputError naming file and line', async () => {
    const unclosed = fileWith('id,text\n1,"never closed\n');
    await expect(read(unclosed)).rejects.toBeInstanceOf(InputError);
    await expect(read(unclosed)).rejects.toThrow(`${unclosed} line 2: a quoted field in the row starting here is never closed`);
    const cutShort = fileWith('id,text\n1,ok\n2,"a\nb\nc');
    await expect(read(cutShort)).rejects.toThrow(`${cutShort} line 3: a quoted field in the row starting here is never closed`);
    const stray = fileWith('id,text\n1,ok\n2,"x"y\n');
    await expect(read(stray)).rejects.toThrow(`${stray} line 3: a quoted field goes on after its closing quote`);
  });

  it('passes a file system error on as it is (the callers name the file)', async () => {
    await expect(read(join(root, 'missing.csv'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('stops reading when the reader stops early', async () => {
    const path = fileWith(stringify([['id'], ...Array.from({ length: 10_000 }, (_, index) => [String(index)])]));
    for await (const record of readCsvRecords(path)) {
      expect(record.cells.get('id')).toBe('0');
      break;
    }
  });
});
