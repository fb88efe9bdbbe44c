import { Group, ReplaceGroupRequest } from '../../sinch/schemas.js';
import { GroupCheck } from '../guards.js';
import { label, Preview, previewReplace, summarize } from '../preview.js';
import { args, defineTool } from '../tool.js';

export default defineTool({
  name: 'replace_group',
  title: 'Replace group',
  description:
    "Overwrite a group: members become exactly the list given; name and settings not given are cleared. Needs confirmation; dry_run previews.",
  inputSchema: ReplaceGroupRequest.extend({
    group_id: args.groupId(),
    dry_run: args.dryRun(),
    confirm: args.confirm(),
    expected_modified_at: args.expectedModifiedAt(),
  }),
  outputSchema: Group.extend({ preview: Preview.optional() }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  handler: async ({ group_id, dry_run, confirm, expected_modified_at, ...body }, { sinch, changed, confirm: ask, progress, signal }) => {
    const check = new GroupCheck(sinch, group_id, expected_modified_at);
    if (dry_run) {
      const now = await check.read();
      return { ...now, preview: await previewReplace(sinch, now, body) };
    }
    await check.consent(ask, async (group) => `Replacing group ${label(group)}: ${summarize(await previewReplace(sinch, group, body))}`, confirm);
    const group = await sinch.replaceGroup(group_id, body, { onProgress: progress, signal });
    await changed(group_id);
    return group;
  },
});
