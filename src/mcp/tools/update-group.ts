import { Group, GroupId, UpdateGroupRequest } from '../../sinch/schemas.js';
import { defineTool } from '../tool.js';

// Not marked destructive: it removes only the numbers the caller names, unlike replace_group.
export default defineTool({
  name: 'update_group',
  title: 'Update group',
  description: 'Add or remove members, rename, or copy members from another group; untouched members stay. Use replace_group only to overwrite the whole member list.',
  inputSchema: UpdateGroupRequest.extend({ group_id: GroupId.describe('The group to change.') }),
  outputSchema: Group,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  handler: ({ group_id, ...body }, { sinch }) => sinch.updateGroup(group_id, body),
});
