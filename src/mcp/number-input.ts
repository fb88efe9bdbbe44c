import * as z from 'zod';
import { readNumbersFile, type NumbersFileArg } from '../files/numbers-file.js';
import { loadPhoneNumbers, maxNumbersPerCall, normalizeList, type NormalizedList } from '../sinch/numbers.js';
import { describeInvalid, MAX_REPORTED_BAD_NUMBERS, refuseInvalid } from '../sinch/schemas.js';
import { NotAppliedError } from './guards.js';
import type { ToolContext } from './tool.js';

/** An inline list as the schema normalized it, up to the 25th bad entry; `raw` for skip_invalid to read on. */
export type InlineNumbers = NormalizedList & { raw: string[] };

/**
 * A list of numbers in the arguments. Its bad entries refuse the call in the same round as every other
 * mistake (refuseInvalidNumbers, on the tool's object, which alone sees skip_invalid); checking stops after
 * 25 of them, so that a wrong list cannot hold the server.
 */
export const numberEntries = (what: string) =>
  z
    .array(z.string())
    .transform(async (raw): Promise<InlineNumbers> => {
      await loadPhoneNumbers();
      return { raw, ...normalizeList(raw, { stopAfter: MAX_REPORTED_BAD_NUMBERS, keep: MAX_REPORTED_BAD_NUMBERS }) };
    })
    .describe(`${what ? `${what} ` : ''}E.164, e.g. "+447700900123".`);

const isInline = (value: unknown): value is InlineNumbers => typeof value === 'object' && value !== null && 'invalid' in value && 'raw' in value;

/** Refuses the bad entries of these inline lists unless skip_invalid is true; runs even when other arguments are wrong too. */
export const refuseInvalidNumbers = (...fields: string[]) =>
  z.superRefine<Record<string, unknown>>(
    (args, ctx) => {
      if (args.skip_invalid === true) return;
      for (const field of fields) {
        const list = args[field];
        if (isInline(list)) refuseInvalid(ctx, list, [field]);
      }
    },
    { when: ({ value }) => typeof value === 'object' && value !== null },
  );

// Described once on the object, not on each field: every word here is paid for on every turn.
const FilePath = z.string().refine((path) => path !== '', { error: 'is empty; give the absolute path of the file' });

/** Numbers from a file, for every *_file argument alike: the argument's name says what they are for. */
export const numbersFile = () => z.strictObject({ path: FilePath, column: z.string().optional() }).describe('CSV/text; column: header or 0-based index.');

export const skipInvalid = () => z.boolean().optional().describe('Apply the valid; report the rest.');

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
  list?: InlineNumbers;
  fileField: string;
  file?: NumbersFileArg;
}

/**
 * Takes every source: inline lists as the schema normalized them, files read now. Without skip_invalid one
 * invalid file row refuses the call, naming rows by line (a bad inline entry was refused by the schema);
 * with it the valid numbers go ahead and the invalid are reported.
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
  const numbers: (string[] | undefined)[] = [];
  for (const { field, list, fileField, file } of sources) {
    const taken: string[][] = [];
    if (list) {
      // The schema stopped at the 25th bad entry; skip_invalid applies every valid one, so it reads them all.
      const normalized = list.unexamined > 0 ? normalizeList(list.raw) : list;
      read += list.raw.length;
      invalid += normalized.invalidCount;
      duplicates += normalized.duplicates;
      problems.push(...normalized.invalid.map(({ index, value, reason }) => ({ at: `${field}[${index}]`, value, reason })));
      taken.push(normalized.numbers);
    }
    if (file) {
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
    const more = invalid > named.length ? `and ${invalid - named.length} more invalid` : undefined;
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
