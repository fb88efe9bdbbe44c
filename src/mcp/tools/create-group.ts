import { CreateGroupRequest, Group } from '../../sinch/schemas.js';
import { defineTool } from '../tool.js';

export default defineTool({
  name: 'create_group',
  title: 'Create group',
  description: 'Create an SMS group, optionally with members (any number of them). Returns the group and its id.',
  inputSchema: CreateGroupRequest,
  outputSchema: Group,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  handler: async (args, { sinch, changed, progress, signal }) => {
    const group = await sinch.createGroup(args, { onProgress: progress, signal });
    await changed(group.id, { listChanged: true });
    return group;
  },
});
