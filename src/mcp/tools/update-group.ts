import { z } from 'zod';
import { Group, GroupId, UpdateGroupRequest } from '../../sinch/schemas.js';
import { checkUnchanged } from '../guards.js';
import { Preview, previewUpdate } from '../preview.js';
import { defineTool } from '../tool.js';

// Not marked destructive: it removes only the numbers the caller names, unlike replace_group.
export default defineTool({
  name: 'update_group',
  title: 'Update group',
  description:
    'Add or remove members (additions first), rename, or copy members from another group. dry_run: true changes nothing and returns a preview.',
  inputSchema: UpdateGroupRequest.extend({
    group_id: GroupId.describe('The group to change.'),
    dry_run: z.boolean().optional().describe('Preview only.'),
    expected_modified_at: z.string().optional().describe('modified_at you read; refused if it changed.'),
  }),
  outputSchema: Group.extend({ preview: Preview.optional() }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  handler: async ({ group_id, dry_run, expected_modified_at, ...body }, { sinch, changed, progress }) => {
    if (dry_run || expected_modified_at !== undefined) {
      const current = await sinch.getGroup(group_id);
      checkUnchanged(current, expected_modified_at);
      if (dry_run) return { ...current, preview: await previewUpdate(sinch, current, body) };
    }
    const group = await sinch.updateGroup(group_id, body, { onProgress: progress });
    await changed(group_id);
    return group;
  },
});
