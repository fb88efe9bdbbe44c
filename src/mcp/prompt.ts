import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { SinchGroupsClient } from '../sinch/client.js';

/** A prompt, offered only by a server that offers the tool it walks an assistant through. */
export interface PromptDefinition {
  /** The name of the tool the prompt needs. */
  requires: string;
  register(server: McpServer, sinch: SinchGroupsClient): void;
}
