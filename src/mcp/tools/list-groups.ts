import { z } from 'zod';
import { GroupList, ListGroupsRequest } from '../../sinch/schemas.js';
import { defineTool } from '../tool.js';

const DEFAULT_PAGE_SIZE = 30;

export default defineTool({
  name: 'list_groups',
  title: 'List groups',
  description: 'List SMS groups (ids, names, sizes), newest first, a page at a time.',
  inputSchema: ListGroupsRequest,
  outputSchema: GroupList.extend({
    next_page: z.number().int().optional().describe('Pass as page to get the next groups; absent on the last page.'),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  handler: async (args, { sinch }) => {
    const list = await sinch.listGroups(args);
    const seen = list.page * (args.page_size ?? DEFAULT_PAGE_SIZE) + list.page_size;
    return seen < list.count && list.page_size > 0 ? { ...list, next_page: list.page + 1 } : list;
  },
});
