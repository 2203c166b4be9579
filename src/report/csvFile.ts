import { closeSync, openSync, writeSync } from 'node:fs';
import { stringify } from 'csv-stringify/sync';

/** What a CSV cell may hold before formatting; undefined becomes an empty cell. */
export type CsvCell = string | number | boolean | undefined;

export interface CsvColumn<Row> {
  readonly header: string;
  readonly cell: (row: Row) => CsvCell;
}

/** A column header for every field of Row, optional ones too. */
export type FieldHeaders<Row> = { readonly [Field in keyof Required<Row>]: string };

/**
 * One column per field of Row, in the order given. The mapped type lists every
 * field (optional ones too), so adding a field to Row in src/results.ts fails to
 * compile until someone decides its column: "every field" stays true.
 */
export function fieldColumns<Row>(
  headers: FieldHeaders<Row>,
  formats: { readonly [Field in keyof Row]?: (value: Row[Field]) => CsvCell } = {},
): CsvColumn<Row>[] {
  return (Object.keys(headers) as (keyof Row)[]).map((field) => {
    const format = formats[field] ?? ((value: Row[typeof field]) => value as CsvCell);
    return { header: headers[field], cell: (row: Row) => format(row[field]) };
  });
}

/**
 * Whole numbers as they are; others rounded to at most 6 decimals with trailing
 * zeros dropped (0.0123456789 -> 0.012346: microsecond resolution for seconds).
 */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return '';
  if (Number.isInteger(value)) return String(value);
  return String(Number(value.toFixed(6)));
}

export function formatCell(value: CsvCell): string {
  switch (typeof value) {
    case 'undefined':
      return '';
    case 'number':
      return formatNumber(value);
    case 'boolean':
      return value ? 'true' : 'false';
    default:
      return value;
  }
}

/** Epoch milliseconds as ISO 8601 UTC; empty when not a valid time. */
export function isoTime(epochMs: number | undefined): string {
  return epochMs !== undefined && Number.isFinite(epochMs) ? new Date(epochMs).toISOString() : '';
}

/**
 * A CSV file written with plain synchronous writes on an open descriptor: what
 * write() returns from is in the operating system's hands, so a crash of the
 * process afterwards loses nothing. (No fsync: surviving a kernel crash is not
 * worth a disk flush per call.)
 */
export class CsvFile<Row> {
  private fd: number | undefined;
  private closed = false;

  constructor(
    readonly path: string,
    private readonly columns: readonly CsvColumn<Row>[],
  ) {}

  get header(): readonly string[] {
    return this.columns.map((column) => column.header);
  }

  /** Creates (or truncates) the file and writes the header row; later calls do nothing. */
  open(): void {
    if (this.fd !== undefined || this.closed) return;
    this.fd = openSync(this.path, 'w');
    writeSync(this.fd, stringify([this.header]));
  }

  /** One CSV line (with its line break) for a row. */
  line(row: Row): string {
    return stringify([this.columns.map((column) => formatCell(column.cell(row)))]);
  }

  /** Writes lines now, opening the file first if needed. */
  write(lines: string): void {
    if (lines === '') return;
    if (this.closed) throw new Error(`${this.path} is already closed`);
    this.open();
    writeSync(this.fd!, lines);
  }

  /** Opens first if it never was, so a run with no rows still leaves a header-only file. */
  close(): void {
    if (this.closed) return;
    this.open();
    this.closed = true;
    closeSync(this.fd!);
    this.fd = undefined;
  }
}
