import * as z from 'zod';
import { CreateGroupRequest, Group } from '../../sinch/schemas.js';
import { recordApplied } from '../changes.js';
import { numberEntries, numbersFile, NumbersReport, refuseInvalidNumbers, skipInvalid, takeNumbers } from '../number-input.js';
import { defineTool } from '../tool.js';

export default defineTool({
  name: 'create_group',
  title: 'Create group',
  description: 'Create an SMS group, optionally with members (any number of them). Returns the group and its id.',
  inputSchema: CreateGroupRequest.extend({
    members: numberEntries('').optional(),
    members_file: numbersFile().optional(),
    skip_invalid: skipInvalid(),
  }).check(refuseInvalidNumbers('members')),
  outputSchema: Group.extend({ numbers: NumbersReport.optional(), change_id: z.string().optional() }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  handler: async ({ members, members_file, skip_invalid, ...settings }, context) => {
    const { sinch, changed, progress, signal } = context;
    const {
      numbers: [list],
      report,
    } = await takeNumbers(context, [{ field: 'members', list: members, fileField: 'members_file', file: members_file }], skip_invalid);
    const group = await sinch.createGroup({ ...settings, ...(list ? { members: list } : {}) }, { onProgress: progress, signal });
    await changed(group.id, { listChanged: true });
    const change_id = await recordApplied(context, {
      tool: 'create_group',
      kind: 'create',
      groupId: group.id,
      after: group,
      counts: { added: group.size, removed: 0 },
    });
    return { ...group, ...(report ? { numbers: { ...report, added: group.size } } : {}), ...(change_id ? { change_id } : {}) };
  },
});
