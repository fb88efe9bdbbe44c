/** One record of a CSV file, named by the 1-based line it starts on. */
export interface CsvRow {
  line: number;
  fields: string[];
}

/**
 * Reads CSV as RFC 4180 writes it: fields in double quotes may hold commas, quotes (doubled) and line
 * breaks; lines end in LF or CRLF; a leading byte order mark is dropped. A plain text file with one
 * value a line reads as one column. Blank lines are skipped, but still counted in line numbers.
 */
export function parseCsv(text: string): CsvRow[] {
  const rows: CsvRow[] = [];
  const input = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let line = 1;
  let rowLine = 1;
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let wasQuoted = false;
  /** A row of one quoted empty field ("") is a row, unlike a blank line. */
  let wasQuotedRow = false;
  const endField = () => {
    fields.push(wasQuoted ? field : field.trim());
    field = '';
    wasQuoted = false;
  };
  const endRow = () => {
    endField();
    if (fields.length > 1 || fields[0] !== '' || wasQuotedRow) rows.push({ line: rowLine, fields });
    fields = [];
    wasQuotedRow = false;
  };
  for (let i = 0; i < input.length; i++) {
    const char = input[i]!;
    if (quoted) {
      if (char === '"') {
        if (input[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (char === '\n') line++;
        field += char;
      }
      continue;
    }
    if (char === '"' && field.trim() === '') {
      quoted = true;
      wasQuoted = true;
      wasQuotedRow = true;
      field = '';
    } else if (char === ',') endField();
    else if (char === '\n' || char === '\r') {
      if (char === '\r' && input[i + 1] === '\n') i++;
      endRow();
      line++;
      rowLine = line;
    } else field += char;
  }
  if (field !== '' || fields.length > 0 || wasQuoted) endRow();
  return rows;
}

/** A field as CSV writes it: quoted only when it must be. */
export const csvField = (value: string) => (/[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);
