/**
 * Reading back the CSV files a run wrote, with csv-parse (csv-stringify's
 * sibling, which wrote them): RFC 4180 quoting, where a quoted cell may hold
 * commas, doubled quotes and line breaks. Line breaks may be LF, CRLF or CR,
 * mixed (a file edited on Windows), and a UTF-8 byte order mark is dropped.
 * Streaming, because samples.csv of a long load run does not fit in memory
 * comfortably as one string.
 */
import { createReadStream } from 'node:fs';
import { CsvError, parse, type Options } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';
import { InputError } from '../errors.js';

const BAD_FILE_HINT = 'give the file as callwright wrote it; a run that was killed may leave its last line cut short';

/** Rows as they are: any number of cells each, a blank line as one empty cell (callers decide). */
const PARSE_OPTIONS: Options = {
  bom: true,
  // The first break csv-parse meets would otherwise be the only one it accepts.
  record_delimiter: ['\r\n', '\n', '\r'],
  relax_column_count: true,
};

/** The rows of CSV text; throws when the text is not CSV (an unclosed or stray quote), naming the row's line. */
export function parseCsv(text: string): string[][] {
  const lines = new RowLines();
  try {
    return (parseSync(text, lines.options) as unknown as NumberedRow[]).map((row) => row.record);
  } catch (error) {
    throw error instanceof CsvError ? new Error(`line ${lines.next}: ${describeCsvError(error)}`) : error;
  }
}

/** One record per data row, keyed by the header row's column names; `line` is the line its row starts on (header = 1). */
export interface CsvRecord {
  line: number;
  cells: ReadonlyMap<string, string>;
}

/**
 * The data rows of a CSV file, streamed. `onHeader` sees the column names
 * first, so a reader can check them even in a file with no rows. Blank lines
 * are skipped; a row whose cells do not match the header's, or text that is
 * not CSV, is an InputError naming the file and the line.
 */
export async function* readCsvRecords(path: string, onHeader: (header: readonly string[]) => void = () => undefined): AsyncGenerator<CsvRecord> {
  const input = createReadStream(path);
  const lines = new RowLines();
  const parser = parse(lines.options);
  input.once('error', (error) => parser.destroy(error));
  input.pipe(parser);
  let header: string[] | undefined;
  try {
    for await (const { record, line } of parser as AsyncIterable<NumberedRow>) {
      if (header === undefined) {
        header = record;
        onHeader(header);
        continue;
      }
      if (record.length === 1 && record[0] === '') continue; // a blank line
      if (record.length !== header.length) {
        throw new InputError(`${path} line ${line}: ${record.length} cells where the header has ${header.length}`, BAD_FILE_HINT);
      }
      yield { line, cells: new Map(header.map((name, index) => [name, record[index]!])) };
    }
  } catch (error) {
    throw error instanceof CsvError ? new InputError(`${path} line ${lines.next}: ${describeCsvError(error)}`, BAD_FILE_HINT) : error;
  } finally {
    input.destroy();
    parser.destroy();
  }
  if (header === undefined) onHeader([]);
}

interface NumberedRow {
  record: string[];
  /** The line the row starts on (the first is 1). */
  line: number;
}

/**
 * Numbers rows by the line they start on, which is not their count once a
 * quoted cell spans lines (csv-parse counts a CR LF inside quotes as two). Called by the parser as it completes each row, so
 * `next` is also where a row the parser refuses starts, even when rows
 * before it were never read from the stream.
 */
class RowLines {
  next = 1;

  private readonly onRecord = (record: string[], context: { lines: number }): NumberedRow => {
    const line = this.next;
    this.next = context.lines + 1;
    return { record, line };
  };

  /** Options whose rows are NumberedRow (csv-parse's types allow another row shape only with `columns`). */
  readonly options: Options = { ...PARSE_OPTIONS, on_record: this.onRecord as unknown as Options['on_record'] };
}

/** csv-parse's messages name its options; say what is wrong with the file instead. */
function describeCsvError(error: CsvError): string {
  switch (error.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quoted field in the row starting here is never closed (the file ends inside it)';
    case 'CSV_INVALID_CLOSING_QUOTE':
      return 'a quoted field goes on after its closing quote (a quote inside a field is written "")';
    case 'INVALID_OPENING_QUOTE':
      return 'a quote inside a field that is not quoted (such a field is written in quotes, a quote in it as "")';
    default:
      return error.message;
  }
}
