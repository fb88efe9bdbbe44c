import { ResourceTemplate, type McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import type { ChangeLog } from '../../journal/changes.js';
import { summarize } from '../../journal/query.js';
import { GroupId } from '../../sinch/schemas.js';

/** Changes a resource shows: the newest, as list_changes gives them by default. */
export const RESOURCE_CHANGES = 100;

export const changesUri = (groupId?: string) => (groupId === undefined ? 'sinch://changes' : `sinch://groups/${groupId}/changes`);

/** The journal as resources: this account's changes, and one group's, newest first (JSON). */
export function registerChangeResources(server: McpServer, changes: ChangeLog): void {
  const read = async (uri: URL, groupId?: string) => {
    const entries = await changes.journal!.read();
    const listed = summarize(entries, { account: changes.account, groupId, limit: RESOURCE_CHANGES });
    return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify({ changes: listed }) }] };
  };
  server.registerResource(
    'changes',
    changesUri(),
    { title: 'Changes', description: `The newest ${RESOURCE_CHANGES} changes made through this server's tools, with counts (JSON).`, mimeType: 'application/json' },
    (uri) => read(uri),
  );
  server.registerResource(
    'group-changes',
    new ResourceTemplate(changesUri('{group_id}'), { list: undefined }),
    { title: 'Changes of a group', description: `The newest ${RESOURCE_CHANGES} changes to one group (JSON).`, mimeType: 'application/json' },
    (uri, variables) => {
      const parsed = GroupId.safeParse(variables.group_id);
      if (!parsed.success) throw Object.assign(new Error(`group_id: ${parsed.error.issues[0]?.message}`), { code: ErrorCode.InvalidParams });
      return read(uri, parsed.data);
    },
  );
}
