/**
 * Account pools from a CSV file (`accounts: { csv: users.csv }`): a header row
 * naming the columns (user, and any of password, authUser, displayName), then
 * one account per row. Comma or semicolon separated (SIPp injection files use
 * semicolons), RFC 4180 quoting, blank lines skipped. Pure: the loader reads
 * the file and checks each user like any other account.
 */

export const CSV_ACCOUNT_COLUMNS = ['user', 'password', 'authUser', 'displayName'] as const;
export type CsvAccountColumn = (typeof CSV_ACCOUNT_COLUMNS)[number];

export interface CsvAccountRow {
  /** 1-based line number in the file, for messages. */
  line: number;
  fields: Partial<Record<CsvAccountColumn, string>>;
}

export interface ParsedAccountsCsv {
  rows: CsvAccountRow[];
  problems: { line: number; message: string }[];
}

export function parseAccountsCsv(text: string): ParsedAccountsCsv {
  const records = splitRecords(text.replace(/^\uFEFF/, ''));
  const problems: ParsedAccountsCsv['problems'] = [];
  const headerRecord = records.find((record) => !isBlank(record.cells));
  if (!headerRecord) return { rows: [], problems: [{ line: 1, message: 'the file is empty; it needs a header row such as user,password' }] };
  const delimiter = headerRecord.raw.includes(';') && !headerRecord.raw.includes(',') ? ';' : ',';
  const parse = (raw: string) => splitCells(raw, delimiter);
  const header = parse(headerRecord.raw).map((cell) => cell.trim());
  const columns: (CsvAccountColumn | undefined)[] = header.map((name) => CSV_ACCOUNT_COLUMNS.find((column) => column.toLowerCase() === name.toLowerCase()));
  header.forEach((name, index) => {
    if (columns[index] === undefined) problems.push({ line: headerRecord.line, message: `unknown column ${JSON.stringify(name)} (allowed: ${CSV_ACCOUNT_COLUMNS.join(', ')})` });
  });
  if (!columns.includes('user')) problems.push({ line: headerRecord.line, message: 'the header row needs a user column' });
  const rows: CsvAccountRow[] = [];
  for (const record of records) {
    if (record.line <= headerRecord.line || isBlank(record.cells)) continue;
    if (record.unterminatedQuote) {
      problems.push({ line: record.line, message: 'a quoted field is not closed' });
      continue;
    }
    const cells = parse(record.raw);
    if (cells.length !== header.length) {
      problems.push({ line: record.line, message: `expected ${header.length} fields like the header, got ${cells.length}` });
      continue;
    }
    const fields: CsvAccountRow['fields'] = {};
    cells.forEach((cell, index) => {
      const column = columns[index];
      if (column !== undefined && cell !== '') fields[column] = column === 'password' ? cell : cell.trim();
    });
    rows.push({ line: record.line, fields });
  }
  return { rows, problems };
}

interface RawRecord {
  line: number;
  raw: string;
  cells: string;
  unterminatedQuote: boolean;
}

/** Records, each possibly spanning lines inside quotes. */
function splitRecords(text: string): RawRecord[] {
  const records: RawRecord[] = [];
  let start = 0;
  let line = 1;
  while (start < text.length) {
    let index = start;
    let quoted = false;
    let lines = 0;
    while (index < text.length) {
      const ch = text[index]!;
      if (ch === '"') quoted = !quoted;
      else if (!quoted && (ch === '\n' || ch === '\r')) break;
      else if (ch === '\n') lines++;
      index++;
    }
    const raw = text.slice(start, index);
    records.push({ line, raw, cells: raw, unterminatedQuote: quoted });
    line += lines + 1;
    start = text.startsWith('\r\n', index) ? index + 2 : index + 1;
  }
  return records;
}

function splitCells(raw: string, delimiter: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i]!;
    if (quoted) {
      if (ch === '"' && raw[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === delimiter) {
      cells.push(cell);
      cell = '';
    }
    else cell += ch;
  }
  cells.push(cell);
  return cells;
}

function isBlank(raw: string): boolean {
  return raw.trim() === '';
}
