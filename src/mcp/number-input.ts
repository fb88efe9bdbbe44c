import { z } from 'zod';
import { readNumbersFile, type NumbersFileArg } from '../files/numbers-file.js';
import { maxNumbersPerCall, normalizeList } from '../sinch/numbers.js';
import { describeInvalid, MAX_REPORTED_BAD_NUMBERS } from '../sinch/schemas.js';
import { NotAppliedError } from './guards.js';
import type { ToolContext } from './tool.js';

/** A list of numbers read by the tool rather than the schema, so that skip_invalid can apply the valid ones. */
export const numberEntries = (what: string) => z.array(z.string()).describe(`${what ? `${what} ` : ''}E.164, e.g. "+447700900123".`);

// Described once on the object, not on each field: every word here is paid for on every turn.
const FilePath = z.string().refine((path) => path !== '', { error: 'is empty; give the absolute path of the file' });

export const numbersFile = (what: string) =>
  z.strictObject({ path: FilePath, column: z.string().optional() }).describe(`${what} CSV/text file; column: header or 0-based index.`);

export const skipInvalid = () => z.boolean().optional().describe('Apply valid numbers, report invalid ones.');

export const NumbersReport = z
  .object({
    read: z.number().int(),
    valid: z.number().int(),
    invalid: z.number().int(),
    duplicates: z.number().int(),
    added: z.number().int().optional(),
    skipped: z.array(z.object({ at: z.string(), value: z.string(), reason: z.string() })).optional(),
  })
  .meta({ brief: 'read, valid, invalid, duplicates, added?, skipped?: [{at, value, reason}] (first 25)' });
export type NumbersReport = z.infer<typeof NumbersReport>;

/** Where a tool's numbers for one purpose come from: a list in the arguments, a file, or both. */
export interface NumberSource {
  field: string;
  list?: string[];
  fileField: string;
  file?: NumbersFileArg;
}

/**
 * Reads and normalizes every source. Without skip_invalid one invalid entry refuses the call, naming
 * entries by index (lists) or line (files); with it the valid numbers go ahead and the invalid are reported.
 * The report is there when a file was read or skip_invalid given.
 */
export async function takeNumbers(
  { files }: Pick<ToolContext, 'files'>,
  sources: NumberSource[],
  skip: boolean | undefined,
): Promise<{ numbers: (string[] | undefined)[]; report?: NumbersReport }> {
  const problems: { at: string; value: string; reason: string }[] = [];
  let invalid = 0;
  let read = 0;
  let duplicates = 0;
  let stopped: string | undefined;
  const numbers: (string[] | undefined)[] = [];
  for (const { field, list, fileField, file } of sources) {
    const taken: string[][] = [];
    if (list) {
      const normalized = normalizeList(list, skip ? {} : { stopAfter: MAX_REPORTED_BAD_NUMBERS });
      read += list.length - normalized.unexamined;
      invalid += normalized.invalidCount;
      duplicates += normalized.duplicates;
      problems.push(...normalized.invalid.map(({ index, value, reason }) => ({ at: `${field}[${index}]`, value, reason })));
      if (normalized.unexamined > 0) {
        stopped = `${field}: checking stopped after ${normalized.invalidCount} bad entries; the ${normalized.unexamined} after [${normalized.invalid.at(-1)!.index}] were not examined`;
      }
      taken.push(normalized.numbers);
    }
    if (file && stopped === undefined) {
      const fromFile = await readNumbersFile(files, file, fileField, maxNumbersPerCall());
      read += fromFile.read;
      invalid += fromFile.invalidCount;
      duplicates += fromFile.duplicates;
      problems.push(...fromFile.invalid.map(({ line, value, reason }) => ({ at: `${fileField} line ${line}`, value, reason })));
      taken.push(fromFile.numbers);
    }
    if (taken.length === 0) numbers.push(undefined);
    else {
      const merged = new Set(taken.flat());
      duplicates += taken.flat().length - merged.size;
      numbers.push([...merged]);
    }
  }
  if (invalid > 0 && !skip) {
    const named = problems.slice(0, MAX_REPORTED_BAD_NUMBERS).map(({ at, value, reason }) => `${at}: ${describeInvalid(value, reason)}`);
    const more = stopped ?? (invalid > named.length ? `and ${invalid - named.length} more invalid` : undefined);
    throw new NotAppliedError(`Nothing was changed: ${[...named, ...(more ? [more] : [])].join('; ')}.`);
  }
  const fromFile = sources.some((source) => source.file);
  if (!fromFile && !skip) return { numbers };
  const valid = numbers.reduce((sum, list) => sum + (list?.length ?? 0), 0);
  return {
    numbers,
    report: { read, valid, invalid, duplicates, ...(problems.length > 0 ? { skipped: problems.slice(0, MAX_REPORTED_BAD_NUMBERS) } : {}) },
  };
}
