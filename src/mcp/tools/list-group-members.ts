import * as z from 'zod';
import { wholeNumber } from '../../sinch/schemas.js';
import { args, defineTool } from '../tool.js';

// The cursor is the last number of the previous page, so pages stay exact even if members were
// added or removed in between: nothing is returned twice.
const encodeCursor = (lastNumber: string) => Buffer.from(lastNumber).toString('base64url');

const Cursor = z
  .string()
  .max(100)
  .transform((cursor, ctx) => {
    const lastNumber = Buffer.from(cursor, 'base64url').toString();
    if (/^\+\d{1,15}$/.test(lastNumber)) return lastNumber;
    ctx.addIssue({
      code: 'custom',
      message: `${JSON.stringify(cursor)} is not a cursor that list_group_members returned; start again without one`,
    });
    return z.NEVER;
  });

const Digits = z
  .string()
  .transform((value) => value.replace(/[\s\-()+]/g, ''))
  .pipe(z.string().regex(/^\d{1,15}$/, { error: (issue) => `must be 1 to 15 digits (got ${JSON.stringify(issue.input)})` }));

/** Index of the first number sorting after `after`, in a sorted list. */
function firstAfter(sorted: string[], after: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]! <= after) low = middle + 1;
    else high = middle;
  }
  return low;
}

export default defineTool({
  name: 'list_group_members',
  title: 'List group members',
  description:
    "A group's numbers (E.164, sorted), a page at a time: pass next_cursor as cursor. contains finds numbers without paging.",
  inputSchema: z.strictObject({
    group_id: args.groupId('The group id, from list_groups.'),
    limit: wholeNumber(1, 10_000).optional().describe('1 to 10,000 (default 1,000).'),
    cursor: Cursor.optional().describe('next_cursor from the previous page.'),
    contains: Digits.optional().describe('Only numbers containing these digits.'),
  }),
  outputSchema: z.object({
    group_id: z.string(),
    total: z.number().int().describe('Members in the whole group.'),
    matching: z.number().int().optional().describe('With contains: how many members match.'),
    members: z.array(z.string()),
    next_cursor: z.string().optional().describe('Present when more members follow.'),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  handler: async ({ group_id, limit = 1_000, cursor, contains }, { sinch }) => {
    const all = await sinch.listMembers(group_id);
    const listed = (contains === undefined ? all : all.filter((number) => number.includes(contains))).sort();
    const from = cursor === undefined ? 0 : firstAfter(listed, cursor);
    const members = listed.slice(from, from + limit);
    return {
      group_id,
      total: all.length,
      ...(contains === undefined ? {} : { matching: listed.length }),
      members,
      ...(from + limit < listed.length ? { next_cursor: encodeCursor(members.at(-1)!) } : {}),
    };
  },
});
