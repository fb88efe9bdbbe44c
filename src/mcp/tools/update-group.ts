import * as z from 'zod';
import { Group, UpdateGroupRequest, type UpdateGroupBody } from '../../sinch/schemas.js';
import { newlyAdded, readBefore, recordApplied } from '../changes.js';
import { GroupCheck, NotAppliedError } from '../guards.js';
import { numberEntries, numbersFile, NumbersReport, refuseInvalidNumbers, skipInvalid, takeNumbers } from '../number-input.js';
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
    add: numberEntries('To add (before removals).').optional(),
    remove: numberEntries('To remove.').optional(),
    add_file: numbersFile().optional(),
    remove_file: numbersFile().optional(),
    skip_invalid: skipInvalid(),
    remove_name: z.boolean().optional().describe('true removes the name.'),
    dry_run: args.dryRun(),
    confirm: args.confirm(),
    expected_modified_at: args.expectedModifiedAt(),
  }).check(refuseInvalidNumbers('add', 'remove')),
  outputSchema: Group.extend({ preview: Preview.optional(), numbers: NumbersReport.optional(), change_id: z.string().optional() }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  handler: async (
    { group_id, add, remove, add_file, remove_file, skip_invalid, remove_name, dry_run, confirm, expected_modified_at, ...fields },
    context,
  ) => {
    const { sinch, changed, confirm: ask, progress, signal } = context;
    if (remove_name && fields.name !== undefined) {
      throw new NotAppliedError('Nothing was changed: give either name (to rename) or remove_name: true (to remove the name), not both.');
    }
    const {
      numbers: [toAdd, toRemove],
      report,
    } = await takeNumbers(
      context,
      [
        { field: 'add', list: add, fileField: 'add_file', file: add_file },
        { field: 'remove', list: remove, fileField: 'remove_file', file: remove_file },
      ],
      skip_invalid,
    );
    const requested = { ...fields, ...(toAdd ? { add: toAdd } : {}), ...(toRemove ? { remove: toRemove } : {}) };
    const body: UpdateGroupBody = remove_name ? { ...requested, name: null } : requested;
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
        if (dry_run) return { ...group, preview, ...(report ? { numbers: report } : {}) };
        if (drastic(preview)) await check.consent(ask, async () => `Updating group ${label(group)}: ${summarize(preview)}`, confirm);
      }
    }
    const before = context.changes.recording || report ? await readBefore(context, await check.read(), true) : undefined;
    const group = await sinch.updateGroup(group_id, body, { onProgress: progress, signal });
    await changed(group_id);
    const change_id = await recordApplied(context, {
      tool: 'update_group',
      kind: 'update',
      groupId: group_id,
      before,
      after: group,
      counts: { added: toAdd?.length ?? 0, removed: toRemove?.length ?? 0 },
    });
    const numbers = report && { ...report, added: newlyAdded(toAdd, before?.members, toRemove) };
    return { ...group, ...(numbers ? { numbers } : {}), ...(change_id ? { change_id } : {}) };
  },
});
