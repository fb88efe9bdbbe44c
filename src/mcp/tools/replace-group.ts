import { Group, GroupId, ReplaceGroupRequest } from '../../sinch/schemas.js';
import { defineTool } from '../tool.js';

export default defineTool({
  name: 'replace_group',
  title: 'Replace group',
  description: 'Overwrite a group: its members become exactly the given list, and name and settings not given are cleared. Prefer update_group for adding or removing some numbers.',
  inputSchema: ReplaceGroupRequest.extend({ group_id: GroupId.describe('The group to overwrite.') }),
  outputSchema: Group,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  handler: ({ group_id, ...body }, { sinch }) => sinch.replaceGroup(group_id, body),
});
