import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SubscribeRequestSchema, UnsubscribeRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { log } from '../log.js';
import { groupUris } from './resources/groups.js';
import type { ChangeNotifier } from './tool.js';

/** resources/subscribe for the group resources of one session, with updates sent after each change. */
export function trackSubscriptions(server: McpServer): ChangeNotifier {
  const subscribed = new Set<string>();
  server.server.registerCapabilities({ resources: { subscribe: true, listChanged: true } });
  // Any URI may be subscribed to, as MCP clients expect; only group resources ever change, so only
  // they are ever notified.
  server.server.setRequestHandler(SubscribeRequestSchema, ({ params }) => {
    subscribed.add(params.uri);
    return {};
  });
  server.server.setRequestHandler(UnsubscribeRequestSchema, ({ params }) => {
    subscribed.delete(params.uri);
    return {};
  });
  return {
    // The change is made by now: a notification that cannot be sent must not turn it into a failure.
    async changed(groupId, { listChanged = false } = {}) {
      if (!server.isConnected()) return;
      try {
        for (const uri of groupUris(groupId)) {
          if (subscribed.has(uri)) await server.server.sendResourceUpdated({ uri });
        }
        if (listChanged) await server.server.sendResourceListChanged();
      } catch (error) {
        log(`could not notify subscribers of group ${groupId}: ${error instanceof Error ? error.message : String(error)}`);
      }
    },
  };
}

/** For a server that cannot notify anyone: changes are made all the same, and nobody is told. */
export const NO_NOTICES: ChangeNotifier = { changed: async () => undefined };

/**
 * Declares that the resource list is not notified of. Called after the resources are registered, since
 * registering them declares listChanged.
 */
export function withoutResourceNotices(server: McpServer): void {
  server.server.registerCapabilities({ resources: { listChanged: false } });
}
