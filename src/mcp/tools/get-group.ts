import { z } from 'zod';
import { Group, GroupId } from '../../sinch/schemas.js';
import { defineTool } from '../tool.js';

export default defineTool({
  name: 'get_group',
  title: 'Get group',
  description: "Get one SMS group's name, size, timestamps and auto-update settings. Use list_group_members for its numbers.",
  inputSchema: z.object({ group_id: GroupId.describe('The group id, from list_groups.') }),
  outputSchema: Group,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  handler: ({ group_id }, { sinch }) => sinch.getGroup(group_id),
});
