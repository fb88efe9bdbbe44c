import { z } from 'zod';
import { Group, UpdateGroupRequest, type UpdateGroupBody } from '../../sinch/schemas.js';
import { GroupCheck, NotAppliedError } from '../guards.js';
import { label, Preview, previewUpdate, summarize } from '../preview.js';
import { args, defineTool } from '../tool.js';

/** Removals this large need the user's consent, as replace_group and delete_group do. */
const MANY_REMOVED = 1_000;

const drastic = ({ removed, size_before, size_after }: Preview) =>
  removed.count > 0 && (size_after === 0 || removed.count * 2 > size_before || removed.count > MANY_REMOVED);

export default defineTool({
  name: 'update_group',
  title: 'Update group',
  description:
    "Add or remove numbers (additions first), rename, or copy another group's members in or out; dry_run previews. Large removals need confirmation.",
  inputSchema: UpdateGroupRequest.extend({
    group_id: args.groupId(),
    remove_name: z.boolean().optional().describe('true removes the name.'),
    dry_run: args.dryRun(),
    confirm: args.confirm(),
    expected_modified_at: args.expectedModifiedAt(),
  }),
  outputSchema: Group.extend({ preview: Preview.optional() }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  handler: async ({ group_id, remove_name, dry_run, confirm, expected_modified_at, ...fields }, { sinch, changed, confirm: ask, progress, signal }) => {
    if (remove_name && fields.name !== undefined) {
      throw new NotAppliedError('Nothing was changed: give either name (to rename) or remove_name: true (to remove the name), not both.');
    }
    const body: UpdateGroupBody = remove_name ? { ...fields, name: null } : fields;
    const check = new GroupCheck(sinch, group_id, expected_modified_at);
    await check.checkExpected();
    const named = body.remove?.length ?? 0;
    if (dry_run || named > 0 || body.remove_from_group !== undefined) {
      const group = await check.read();
      // Naming at most half the members (and at most 1,000) cannot be drastic, so there is no need
      // to read every member to know that; another group's members can be any number.
      const maybeDrastic = body.remove_from_group !== undefined || named * 2 > group.size || named > MANY_REMOVED;
      if (dry_run || maybeDrastic) {
        const preview = await previewUpdate(sinch, group, body);
        if (dry_run) return { ...group, preview };
        if (drastic(preview)) await check.consent(ask, async () => `Updating group ${label(group)}: ${summarize(preview)}`, confirm);
      }
    }
    const group = await sinch.updateGroup(group_id, body, { onProgress: progress, signal });
    await changed(group_id);
    return group;
  },
});
