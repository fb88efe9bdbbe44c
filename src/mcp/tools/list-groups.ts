import * as z from 'zod';
import { Group, ListGroupsRequest } from '../../sinch/schemas.js';
import { defineTool } from '../tool.js';

const DEFAULT_PAGE_SIZE = 30;

/** Groups a name search returns at most; more matches than this say truncated. */
const MAX_FOUND = 100;

/** What an assistant needs to choose a group; get_group gives the rest. */
const Listed = Group.pick({ id: true, name: true, size: true, modified_at: true, child_groups: true, auto_update: true });

export default defineTool({
  name: 'list_groups',
  title: 'List groups',
  description:
    'List SMS groups (id, name, size), newest first, a page at a time. To find a group by name, pass name instead: one call searches every page.',
  inputSchema: ListGroupsRequest.extend({
    name: z.string().min(1).optional().describe('Part of the name, any case; not with page or page_size.'),
  }).superRefine(({ name, page, page_size }, ctx) => {
    if (name !== undefined && (page !== undefined || page_size !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['name'], message: 'searches every page, so it takes no page or page_size; leave those out' });
    }
  }),
  outputSchema: z.object({
    groups: z.array(Listed),
    page: z.number().int().optional(),
    page_size: z.number().int().optional(),
    count: z.number().int().optional(),
    next_page: z.number().int().optional().describe('Pass as page to get the next groups; absent on the last page.'),
    searched: z.number().int().optional().describe('With name: how many groups were looked through.'),
    truncated: z.literal(true).optional().describe(`With name: more than ${MAX_FOUND} matched.`),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  handler: async ({ name, ...paging }, { sinch, progress, signal }) => {
    if (name !== undefined) {
      const all = await sinch.listAllGroups({ signal, onProgress: (done, total) => progress(done, total, `${done} of ${total} groups read`) });
      const wanted = name.toLowerCase();
      const found = all.filter((group) => group.name?.toLowerCase().includes(wanted));
      return {
        groups: found.slice(0, MAX_FOUND).map((group) => Listed.parse(group)),
        searched: all.length,
        ...(found.length > MAX_FOUND ? { truncated: true as const } : {}),
      };
    }
    const list = await sinch.listGroups(paging);
    const page = { ...list, groups: list.groups.map((group) => Listed.parse(group)) };
    const seen = list.page * (paging.page_size ?? DEFAULT_PAGE_SIZE) + list.page_size;
    return seen < list.count && list.page_size > 0 ? { ...page, next_page: list.page + 1 } : page;
  },
});
