import { z } from 'zod';
import { Group, GroupId, ReplaceGroupRequest } from '../../sinch/schemas.js';
import { checkUnchanged } from '../guards.js';
import { label, Preview, previewReplace, summarize } from '../preview.js';
import { defineTool } from '../tool.js';

export default defineTool({
  name: 'replace_group',
  title: 'Replace group',
  description:
    "Overwrite a group: members become exactly the list given, and name and settings not given are cleared. Needs the user's confirmation; dry_run previews.",
  inputSchema: ReplaceGroupRequest.extend({
    group_id: GroupId.describe('The group to overwrite.'),
    dry_run: z.boolean().optional().describe('Preview only.'),
    confirm: z.boolean().optional().describe('true once the user agreed.'),
    expected_modified_at: z.string().optional().describe('modified_at you read; refused if it changed.'),
  }),
  outputSchema: Group.extend({ preview: Preview.optional() }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  handler: async ({ group_id, dry_run, confirm, expected_modified_at, ...body }, { sinch, changed, confirm: ask, progress }) => {
    let current: Group | undefined;
    const read = async () => (current ??= await sinch.getGroup(group_id));
    if (expected_modified_at !== undefined) checkUnchanged(await read(), expected_modified_at);
    if (dry_run) {
      const now = await read();
      return { ...now, preview: await previewReplace(sinch, now, body) };
    }
    await ask(async () => {
      const now = await read();
      return `Replacing group ${label(now)}: ${summarize(await previewReplace(sinch, now, body))}`;
    }, confirm);
    // What the user agreed to was the group as read; while they answered, it may have changed.
    if (current) checkUnchanged(await sinch.getGroup(group_id), current.modified_at);
    const group = await sinch.replaceGroup(group_id, body, { onProgress: progress });
    await changed(group_id);
    return group;
  },
});
