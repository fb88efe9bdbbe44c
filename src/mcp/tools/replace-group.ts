import * as z from 'zod';
import { Group, ReplaceGroupRequest } from '../../sinch/schemas.js';
import { newlyAdded, readBefore, recordApplied } from '../changes.js';
import { GroupCheck, NotAppliedError } from '../guards.js';
import { numberEntries, numbersFile, NumbersReport, refuseInvalidNumbers, skipInvalid, takeNumbers } from '../number-input.js';
import { label, Preview, previewReplace, summarize } from '../preview.js';
import { args, defineTool } from '../tool.js';

export default defineTool({
  name: 'replace_group',
  title: 'Replace group',
  description:
    "Overwrite a group: members become exactly the list given; name and settings not given are cleared. Needs confirmation; dry_run previews.",
  inputSchema: ReplaceGroupRequest.extend({
    group_id: args.groupId(),
    members: numberEntries('The whole new member list.').optional(),
    members_file: numbersFile().optional(),
    skip_invalid: skipInvalid(),
    dry_run: args.dryRun(),
    confirm: args.confirm(),
    expected_modified_at: args.expectedModifiedAt(),
  }).check(refuseInvalidNumbers('members')),
  outputSchema: Group.extend({ preview: Preview.optional(), numbers: NumbersReport.optional(), change_id: z.string().optional() }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  handler: async ({ group_id, members, members_file, skip_invalid, dry_run, confirm, expected_modified_at, ...settings }, context) => {
    const { sinch, changed, confirm: ask, progress, signal } = context;
    if ((members === undefined) === (members_file === undefined)) {
      throw new NotAppliedError('Nothing was changed: give the new members as either members or members_file, not both (members: [] empties the group).');
    }
    const {
      numbers: [list = []],
      report,
    } = await takeNumbers(context, [{ field: 'members', list: members, fileField: 'members_file', file: members_file }], skip_invalid);
    const body = { ...settings, members: list };
    const check = new GroupCheck(sinch, group_id, expected_modified_at);
    if (dry_run) {
      const now = await check.read();
      return { ...now, preview: await previewReplace(sinch, now, body), ...(report ? { numbers: report } : {}) };
    }
    await check.consent(ask, async (group) => `Replacing group ${label(group)}: ${summarize(await previewReplace(sinch, group, body))}`, confirm);
    const before = context.changes.recording || report ? await readBefore(context, await check.read(), true) : undefined;
    const group = await sinch.replaceGroup(group_id, body, { onProgress: progress, signal });
    await changed(group_id);
    const change_id = await recordApplied(context, {
      tool: 'replace_group',
      kind: 'replace',
      groupId: group_id,
      before,
      after: group,
    });
    const numbers = report && { ...report, added: newlyAdded(list, before?.members) };
    return { ...group, ...(numbers ? { numbers } : {}), ...(change_id ? { change_id } : {}) };
  },
});
