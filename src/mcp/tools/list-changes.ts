import * as z from 'zod';
import { ChangeSummary, summarize } from '../../journal/query.js';
import { wholeNumber } from '../../sinch/schemas.js';
import { args, defineTool } from '../tool.js';

const Since = z.string().refine((text) => /^\d{4}-\d{2}-\d{2}/.test(text) && !Number.isNaN(Date.parse(text)), {
  error: (issue) => `${JSON.stringify(issue.input)} is not an ISO 8601 time such as 2026-11-23T09:00:00Z`,
});

export default defineTool({
  name: 'list_changes',
  title: 'List changes',
  description: 'Changes made through these tools, newest first, with counts of numbers added and removed.',
  inputSchema: z.strictObject({
    group_id: args.groupId('Only this group.').optional(),
    since: Since.optional().describe('ISO 8601 time.'),
    limit: wholeNumber(1, 500).optional().describe('1 to 500 (default 20).'),
  }),
  outputSchema: z.object({
    changes: z.array(ChangeSummary.meta({ brief: '{id, time, tool, group_id, group_name?, added, removed, name_before?, name_after?}' })),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  handler: async ({ group_id, since, limit = 20 }, { changes }) => ({
    changes: summarize(await changes.journal!.read(), {
      account: changes.account,
      groupId: group_id,
      since: since === undefined ? undefined : new Date(since),
      limit,
    }),
  }),
});
