import { readFile, stat } from 'node:fs/promises';
import { loadPhoneNumbers, normalizeList, normalizeNumber, type InvalidEntry } from '../sinch/numbers.js';
import { parseCsv, type CsvRow } from './csv.js';
import { FileRefusal, type FileAccess } from './folders.js';

/** Header words that say a column holds phone numbers. */
const PHONE_HEADERS = new Set(['phone', 'mobile', 'msisdn', 'tel', 'number']);
/** Rows looked at to tell which columns hold numbers. */
const SAMPLE_ROWS = 100;
/** A list of numbers this large is far beyond any group; a bigger file is not read. */
const MAX_FILE_BYTES = 64 * 1024 * 1024;

export interface NumbersFileArg {
  path: string;
  column?: string;
}

/** The numbers of one file, with invalid entries named by their 1-based line. */
export interface FileNumbers {
  numbers: string[];
  /** Data rows read (header and blank lines aside). */
  read: number;
  invalid: (Omit<InvalidEntry, 'index'> & { line: number })[];
  invalidCount: number;
  duplicates: number;
}

/** Reads the numbers of a CSV or text file in an allowed folder; the column is found as the tool describes. */
export async function readNumbersFile(files: FileAccess, { path, column }: NumbersFileArg, field: string, maxRows: number): Promise<FileNumbers> {
  const real = await files.readable(path, `${field}.path`);
  const info = await stat(real);
  if (!info.isFile()) throw new FileRefusal(`${field}.path: ${JSON.stringify(path)} is not a file`);
  if (info.size > MAX_FILE_BYTES) throw new FileRefusal(`${field}.path: ${JSON.stringify(path)} is over ${MAX_FILE_BYTES / 1024 / 1024} MiB`);
  const rows = parseCsv(await readFile(real, 'utf8'));
  await loadPhoneNumbers();
  const header = rows.length > 0 && isHeader(rows[0]!) ? rows[0]!.fields : undefined;
  const data = header ? rows.slice(1) : rows;
  if (data.length > maxRows) {
    throw new FileRefusal(`${field}: ${JSON.stringify(path)} has ${data.length} rows; one call takes at most ${maxRows} (SINCH_MAX_NUMBERS_PER_CALL)`);
  }
  const at = pickColumn(header, data, column, field);
  const list = normalizeList(data.map((row) => row.fields[at] ?? ''));
  return {
    numbers: list.numbers,
    read: data.length,
    invalid: list.invalid.map(({ index, value, reason }) => ({ line: data[index]!.line, value, reason })),
    invalidCount: list.invalidCount,
    duplicates: list.duplicates,
  };
}

/** A first row none of whose fields is a phone number, and some of which has letters, names the columns. */
const isHeader = ({ fields }: CsvRow) => fields.some((value) => /\p{L}/u.test(value)) && !fields.some((value) => normalizeNumber(value).ok);

const saysPhone = (name: string) => name.toLowerCase().split(/[^a-z]+/).some((word) => PHONE_HEADERS.has(word));

function pickColumn(header: string[] | undefined, data: CsvRow[], column: string | undefined, field: string): number {
  const width = Math.max(header?.length ?? 0, ...data.slice(0, SAMPLE_ROWS).map((row) => row.fields.length));
  const name = (at: number) => (header?.[at] ? `${JSON.stringify(header[at])} (column ${at})` : `column ${at}`);
  if (column !== undefined) {
    if (/^\d+$/.test(column)) {
      const at = Number(column);
      if (at >= width) throw new FileRefusal(`${field}.column: the file has ${width} column(s), numbered from 0; there is no column ${at}`);
      return at;
    }
    const at = header?.findIndex((title) => title.toLowerCase() === column.trim().toLowerCase()) ?? -1;
    if (at === -1) {
      const names = header ? `its header names ${header.map((title) => JSON.stringify(title)).join(', ')}` : 'it has no header row';
      throw new FileRefusal(`${field}.column: no column is called ${JSON.stringify(column)}; ${names}`);
    }
    return at;
  }
  if (width <= 1) return 0;
  const named = header?.flatMap((title, at) => (saysPhone(title) ? [at] : [])) ?? [];
  if (named.length === 1) return named[0]!;
  const candidates = named.length > 1 ? named : Array.from({ length: width }, (_, at) => at).filter((at) => holdsNumbers(data, at));
  if (candidates.length === 1) return candidates[0]!;
  if (candidates.length === 0) throw new FileRefusal(`${field}: no column of the file holds phone numbers; name it with column`);
  throw new FileRefusal(
    `${field}: more than one column could hold the numbers (${candidates.map(name).join(', ')}); say which with column, ` +
      'so that no other column (an id, say) is texted by mistake',
  );
}

/** At least half the values of the first rows in this column are phone numbers. */
function holdsNumbers(data: CsvRow[], at: number): boolean {
  const values = data.slice(0, SAMPLE_ROWS).map((row) => row.fields[at] ?? '').filter((value) => value !== '');
  return values.length > 0 && values.filter((value) => normalizeNumber(value).ok).length * 2 >= values.length;
}
