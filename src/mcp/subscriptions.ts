import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ErrorCode, McpError, SubscribeRequestSchema, UnsubscribeRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { groupUris, isGroupUri } from './resources/groups.js';

export interface ChangeNotifier {
  /** Tells subscribers that a group changed, and everyone listing resources when groups came or went. */
  changed(groupId: string, options?: { listChanged?: boolean }): Promise<void>;
}

/** resources/subscribe for the group resources of one session, with updates sent after each change. */
export function trackSubscriptions(server: McpServer): ChangeNotifier {
  const subscribed = new Set<string>();
  server.server.registerCapabilities({ resources: { subscribe: true, listChanged: true } });
  server.server.setRequestHandler(SubscribeRequestSchema, ({ params }) => {
    if (!isGroupUri(params.uri)) {
      throw new McpError(ErrorCode.InvalidParams, `${params.uri} is not a group resource (sinch://groups/{group_id}[/members])`);
    }
    subscribed.add(params.uri);
    return {};
  });
  server.server.setRequestHandler(UnsubscribeRequestSchema, ({ params }) => {
    subscribed.delete(params.uri);
    return {};
  });
  return {
    async changed(groupId, { listChanged = false } = {}) {
      if (!server.isConnected()) return;
      for (const uri of groupUris(groupId)) {
        if (subscribed.has(uri)) await server.server.sendResourceUpdated({ uri });
      }
      if (listChanged) await server.server.sendResourceListChanged();
    },
  };
}
