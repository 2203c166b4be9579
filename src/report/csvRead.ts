/**
 * Reading back the CSV files a run wrote (RFC 4180, as csv-stringify writes
 * them: quoted fields may hold commas, doubled quotes and line breaks).
 * Streaming, because samples.csv of a long load run does not fit in memory
 * comfortably as one string.
 */
import { createReadStream } from 'node:fs';

/** Splits CSV text into rows, chunk by chunk; a field may span chunks. */
export class CsvRowParser {
  private field = '';
  private row: string[] = [];
  private inQuotes = false;
  /** Inside quotes, a quote was seen: the next character says whether it was "" (a quote) or the end. */
  private quoteSeen = false;
  /** A \r ended the last row; a \n right after it belongs to the same line break. */
  private afterCarriageReturn = false;
  private fieldStarted = false;

  push(chunk: string, emit: (row: string[]) => void): void {
    for (let position = 0; position < chunk.length; position++) {
      const char = chunk[position]!;
      if (this.afterCarriageReturn) {
        this.afterCarriageReturn = false;
        if (char === '\n') continue;
      }
      if (this.inQuotes) {
        if (this.quoteSeen) {
          this.quoteSeen = false;
          if (char === '"') {
            this.field += '"';
            continue;
          }
          this.inQuotes = false; // the quote closed the field; read this character as outside quotes
        } else if (char === '"') {
          this.quoteSeen = true;
          continue;
        } else {
          this.field += char;
          continue;
        }
      }
      switch (char) {
        case ',':
          this.endField();
          break;
        case '\r':
        case '\n':
          this.endField();
          emit(this.row);
          this.row = [];
          this.afterCarriageReturn = char === '\r';
          break;
        case '"':
          if (!this.fieldStarted) {
            this.inQuotes = true;
            this.fieldStarted = true;
            break;
          }
          this.field += char;
          break;
        default:
          this.field += char;
          this.fieldStarted = true;
      }
    }
  }

  /** The last row when the file does not end with a line break. */
  end(emit: (row: string[]) => void): void {
    if (this.inQuotes && !this.quoteSeen) throw new Error('the file ends inside a quoted field');
    if (this.fieldStarted || this.row.length > 0) {
      this.endField();
      emit(this.row);
    }
    this.row = [];
    this.inQuotes = false;
    this.quoteSeen = false;
  }

  private endField(): void {
    this.row.push(this.field);
    this.field = '';
    this.fieldStarted = false;
  }
}

export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  const parser = new CsvRowParser();
  parser.push(text, (row) => rows.push(row));
  parser.end((row) => rows.push(row));
  return rows;
}

/** One record per data row, keyed by the header row's column names; `line` is the row's number (header = 1). */
export interface CsvRecord {
  line: number;
  cells: ReadonlyMap<string, string>;
}

/** `onHeader` sees the column names first, so a reader can check them even in a file with no rows. */
export async function* readCsvRecords(path: string, onHeader: (header: readonly string[]) => void = () => undefined): AsyncGenerator<CsvRecord> {
  const parser = new CsvRowParser();
  let header: string[] | undefined;
  let line = 0;
  let pending: CsvRecord[] = [];
  const take = (row: string[]) => {
    line++;
    if (header === undefined) {
      header = row;
      onHeader(header);
      return;
    }
    if (row.length === 1 && row[0] === '') return; // a blank line
    pending.push({ line, cells: new Map(header.map((name, index) => [name, row[index] ?? ''])) });
  };
  for await (const chunk of createReadStream(path, { encoding: 'utf8' })) {
    parser.push(chunk as string, take);
    yield* pending;
    pending = [];
  }
  parser.end(take);
  yield* pending;
  if (header === undefined) onHeader([]);
}
