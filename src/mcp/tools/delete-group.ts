import * as z from 'zod';
import { readBefore, recordApplied } from '../changes.js';
import { GroupCheck } from '../guards.js';
import { label } from '../preview.js';
import { args, defineTool } from '../tool.js';

export default defineTool({
  name: 'delete_group',
  title: 'Delete group',
  description: "Delete a group for good, after the user's confirmation. Its numbers stay in any other groups.",
  inputSchema: z.strictObject({
    group_id: args.groupId(),
    confirm: args.confirm(),
    expected_modified_at: args.expectedModifiedAt(),
  }),
  outputSchema: z.object({ group_id: z.string(), deleted: z.literal(true), change_id: z.string().optional() }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  handler: async ({ group_id, confirm, expected_modified_at }, context) => {
    const { sinch, changed, confirm: ask, signal } = context;
    const check = new GroupCheck(sinch, group_id, expected_modified_at);
    await check.consent(
      ask,
      async (group) =>
        `Deleting group ${label(group)} removes it and its ${group.size} members for good; the numbers stay in any other groups that hold them.`,
      confirm,
    );
    const before = context.changes.recording ? await readBefore(context, await check.read()) : undefined;
    await sinch.deleteGroup(group_id, { signal });
    await changed(group_id, { listChanged: true });
    const change_id = await recordApplied(context, {
      tool: 'delete_group',
      kind: 'delete',
      groupId: group_id,
      before,
      ...(before ? {} : { counts: check.known && { added: 0, removed: check.known.size } }),
    });
    return { group_id, deleted: true as const, ...(change_id ? { change_id } : {}) };
  },
});
