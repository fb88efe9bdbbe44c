import { ResourceTemplate, type McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ErrorCode, type ReadResourceResult } from '@modelcontextprotocol/sdk/types.js';
import type { SinchGroupsClient } from '../../sinch/client.js';
import { SinchApiError } from '../../sinch/errors.js';
import { GroupId, MAX_PAGE_SIZE, type Group } from '../../sinch/schemas.js';
import { describeError } from '../errors.js';

/** resources/list and completion look at this many groups at most, newest first: a list, not a dump. */
export const LISTED_GROUPS = 200;

const RESOURCE_NOT_FOUND = -32002;

/**
 * A JSON-RPC error with the message as written: the SDK's McpError puts "MCP error <code>:" in its
 * message, which the client's McpError then puts in front once more.
 */
class ResourceError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: { uri: string },
  ) {
    super(message);
  }
}

export const groupUri = (groupId: string) => `sinch://groups/${groupId}`;
export const membersUri = (groupId: string) => `sinch://groups/${groupId}/members`;
export const groupUris = (groupId: string) => [groupUri(groupId), membersUri(groupId)];

async function newestGroups(sinch: SinchGroupsClient): Promise<Group[]> {
  const groups: Group[] = [];
  for (let page = 0; groups.length < LISTED_GROUPS; page++) {
    const list = await sinch.listGroups({ page, page_size: MAX_PAGE_SIZE });
    groups.push(...list.groups);
    if (list.groups.length === 0 || groups.length >= list.count) break;
  }
  return groups.slice(0, LISTED_GROUPS);
}

/** Group ids whose id or name starts with what was typed, ignoring case. */
export async function completeGroupId(sinch: SinchGroupsClient, typed: string): Promise<string[]> {
  const prefix = typed.toLowerCase();
  const groups = await newestGroups(sinch);
  return groups
    .filter((group) => group.id.toLowerCase().startsWith(prefix) || group.name?.toLowerCase().startsWith(prefix))
    .map((group) => group.id);
}

/** Reads one resource of a group; a missing group is an error, never an empty resource. */
async function readGroupResource(
  uri: URL,
  variables: Record<string, string | string[]>,
  read: (groupId: string) => Promise<{ mimeType: string; text: string }>,
): Promise<ReadResourceResult> {
  const parsed = GroupId.safeParse(variables.group_id);
  if (!parsed.success) throw new ResourceError(ErrorCode.InvalidParams, `group_id: ${parsed.error.issues[0]?.message}`);
  try {
    return { contents: [{ uri: uri.href, ...(await read(parsed.data)) }] };
  } catch (error) {
    if (error instanceof SinchApiError && error.status === 404) {
      throw new ResourceError(RESOURCE_NOT_FOUND, `Group ${parsed.data} does not exist; use list_groups to find the right id.`, { uri: uri.href });
    }
    throw new ResourceError(ErrorCode.InternalError, describeError(error, 'resources/read'));
  }
}

export function registerGroupResources(server: McpServer, sinch: SinchGroupsClient): void {
  const complete = { group_id: (typed: string) => completeGroupId(sinch, typed) };

  server.registerResource(
    'group',
    new ResourceTemplate(groupUri('{group_id}'), {
      list: async () => ({
        resources: (await newestGroups(sinch)).map((group) => ({
          uri: groupUri(group.id),
          name: group.name ?? group.id,
          // What a person picking from the list reads; an unnamed group can only be told apart by its id.
          title: group.name ?? `Unnamed group ${group.id}`,
          description: `SMS group ${group.id}, ${group.size} ${group.size === 1 ? 'member' : 'members'}`,
          mimeType: 'application/json',
        })),
      }),
      complete,
    }),
    {
      title: 'SMS group',
      description: `A group's name, size, timestamps and auto-update settings (JSON). Listing shows the newest ${LISTED_GROUPS} groups; list_groups pages through all.`,
      mimeType: 'application/json',
    },
    (uri, variables) =>
      readGroupResource(uri, variables, async (groupId) => ({
        mimeType: 'application/json',
        text: JSON.stringify(await sinch.getGroup(groupId)),
      })),
  );

  server.registerResource(
    'group-members',
    new ResourceTemplate(membersUri('{group_id}'), { list: undefined, complete }),
    {
      title: 'SMS group members',
      description: "A group's members in E.164, sorted, one per line (text/plain).",
      mimeType: 'text/plain',
    },
    (uri, variables) =>
      readGroupResource(uri, variables, async (groupId) => ({
        mimeType: 'text/plain',
        text: (await sinch.listMembers(groupId)).sort().join('\n'),
      })),
  );
}
