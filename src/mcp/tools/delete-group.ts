import { z } from 'zod';
import { GroupId, type Group } from '../../sinch/schemas.js';
import { checkUnchanged } from '../guards.js';
import { label } from '../preview.js';
import { defineTool } from '../tool.js';

export default defineTool({
  name: 'delete_group',
  title: 'Delete group',
  description: "Delete a group and its members for good, after the user's confirmation.",
  inputSchema: z.object({
    group_id: GroupId.describe('The group to delete.'),
    confirm: z.boolean().optional().describe('true once the user agreed.'),
    expected_modified_at: z.string().optional().describe('modified_at you read; refused if it changed.'),
  }),
  outputSchema: z.object({ group_id: z.string(), deleted: z.literal(true) }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  handler: async ({ group_id, confirm, expected_modified_at }, { sinch, changed, confirm: ask }) => {
    let group: Group | undefined;
    const read = async () => (group ??= await sinch.getGroup(group_id));
    if (expected_modified_at !== undefined) checkUnchanged(await read(), expected_modified_at);
    await ask(async () => {
      const now = await read();
      return `Deleting group ${label(now)} removes it and its ${now.size} members for good.`;
    }, confirm);
    // What the user agreed to was the group as read; while they answered, it may have changed.
    if (group) checkUnchanged(await sinch.getGroup(group_id), group.modified_at);
    await sinch.deleteGroup(group_id);
    await changed(group_id, { listChanged: true });
    return { group_id, deleted: true as const };
  },
});
