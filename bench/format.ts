/** Percentiles, summaries and fixed-width tables: what the bench and the scale demo print with. */

/** The p-th percentile (0–100), interpolating between closest ranks. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (rank - low);
}

export interface Summary {
  n: number;
  median: number;
  p90: number;
  p99: number;
  min: number;
  max: number;
}

export function summarize(values: readonly number[]): Summary {
  return {
    n: values.length,
    median: percentile(values, 50),
    p90: percentile(values, 90),
    p99: percentile(values, 99),
    min: Math.min(...values),
    max: Math.max(...values),
  };
}

export const ms = (value: number, digits = 2) => `${value.toFixed(digits)} ms`;
export const us = (valueMs: number) => `${(valueMs * 1000).toFixed(0)} µs`;
export const int = (value: number) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '–');
export const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;
export const ratio = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}×` : '–');
export const bytes = (count: number) => (count < 10_240 ? `${int(count)} B` : `${int(count / 1024)} KiB`);

/** A fixed-width table: the first column left-aligned, the others right-aligned; short rows are padded. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((row) => headers.map((_, column) => String(row[column] ?? '')))];
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => [...row[column]!].length)));
  const line = (row: string[]) =>
    row
      .map((cell, column) => {
        const pad = ' '.repeat(widths[column]! - [...cell].length);
        return column === 0 ? cell + pad : pad + cell;
      })
      .join('  ')
      .trimEnd();
  const rule = widths.map((width) => '─'.repeat(width)).join('  ');
  return [line(cells[0]!), rule, ...cells.slice(1).map(line)].join('\n');
}

export function heading(title: string): string {
  return `\n${title}\n${'═'.repeat([...title].length)}`;
}
