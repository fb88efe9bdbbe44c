import * as z from 'zod';
import { Group } from '../../sinch/schemas.js';
import { args, defineTool } from '../tool.js';

export default defineTool({
  name: 'get_group',
  title: 'Get group',
  description: "A group's name, size, timestamps and settings; list_group_members gives its numbers.",
  inputSchema: z.strictObject({ group_id: args.groupId('The group id, from list_groups.') }),
  outputSchema: Group,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  handler: ({ group_id }, { sinch }) => sinch.getGroup(group_id),
});
