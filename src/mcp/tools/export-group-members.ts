import * as z from 'zod';
import { writeAtomically } from '../../files/export.js';
import { args, defineTool } from '../tool.js';
import { membersUri } from '../resources/groups.js';

export default defineTool({
  name: 'export_group_members',
  title: 'Export group members',
  description: 'Write every member of a group to a new CSV/text file at an absolute path in an allowed folder.',
  inputSchema: z.strictObject({
    group_id: args.groupId(),
    path: z.string().refine((path) => path !== '', { error: 'is empty; give the absolute path of the file' }),
    format: z.enum(['csv', 'txt']).describe('csv has a "phone" header.'),
    overwrite: z.boolean().optional().describe('true replaces an existing file.'),
  }),
  outputSchema: z.object({
    group_id: z.string(),
    path: z.string(),
    count: z.number().int(),
    bytes: z.number().int(),
    sha256: z.string(),
  }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  handler: async ({ group_id, path, format, overwrite = false }, { sinch, files }) => {
    const target = await files.writable(path, 'path');
    const members = (await sinch.listMembers(group_id)).sort();
    const lines = format === 'csv' ? ['phone', ...members] : members;
    const written = await writeAtomically(target, lines.map((line) => `${line}\n`).join(''), overwrite, 'path');
    return { group_id, path: target, count: members.length, ...written };
  },
  links: ({ group_id, count }) => [
    { type: 'resource_link', uri: membersUri(group_id), name: `members of ${group_id}`, description: `${count} numbers, one per line`, mimeType: 'text/plain' },
  ],
});
