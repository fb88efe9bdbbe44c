import * as z from 'zod';
import type { JournalEntry } from './journal.js';

export const ChangeSummary = z.object({
  id: z.string(),
  time: z.string(),
  tool: z.string(),
  group_id: z.string(),
  group_name: z.string().optional(),
  added: z.number().int(),
  removed: z.number().int(),
  name_before: z.string().optional(),
  name_after: z.string().optional(),
});
export type ChangeSummary = z.infer<typeof ChangeSummary>;

export interface ChangeQuery {
  account: string;
  groupId?: string;
  /** Only changes at or after this time. */
  since?: Date;
  limit: number;
}

/** One account's changes, newest first, as counts: numbers stay in the journal. */
export function summarize(entries: readonly JournalEntry[], { account, groupId, since, limit }: ChangeQuery): ChangeSummary[] {
  const from = since?.getTime() ?? -Infinity;
  return entries
    .filter((entry) => entry.account === account && (groupId === undefined || entry.group_id === groupId) && Date.parse(entry.time) >= from)
    .reverse()
    .slice(0, limit)
    .map((entry) => ({
      id: entry.id,
      time: entry.time,
      tool: entry.tool,
      group_id: entry.group_id,
      ...(entry.group_name === undefined ? {} : { group_name: entry.group_name }),
      added: entry.added.length,
      removed: entry.removed.length,
      ...(entry.name_before !== entry.name_after && entry.kind !== 'create' && entry.kind !== 'delete'
        ? { ...(entry.name_before === undefined ? {} : { name_before: entry.name_before }), ...(entry.name_after === undefined ? {} : { name_after: entry.name_after }) }
        : {}),
    }));
}
