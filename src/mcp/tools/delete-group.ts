import { z } from 'zod';
import { GroupId } from '../../sinch/schemas.js';
import { defineTool } from '../tool.js';

export default defineTool({
  name: 'delete_group',
  title: 'Delete group',
  description: 'Delete an SMS group and its member list for good; scheduled batches to it then reach no one.',
  inputSchema: z.object({ group_id: GroupId.describe('The group to delete.') }),
  outputSchema: z.object({ group_id: z.string(), deleted: z.literal(true) }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  handler: async ({ group_id }, { sinch }) => {
    await sinch.deleteGroup(group_id);
    return { group_id, deleted: true as const };
  },
});
