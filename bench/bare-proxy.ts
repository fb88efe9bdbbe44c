// A reference for the per-call bench: a bare MCP server on the same SDK whose one tool sends the same GET as
// get_group with undici and returns Sinch's reply as text. No output schema, retries or reply validation: what a
// minimal "MCP tool that reads Sinch" costs on this machine, process hops included.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { request } from 'undici';
import { z } from 'zod';

const groups = `${process.env.SINCH_SMS_BASE_URL}/xms/v1/${process.env.SINCH_SERVICE_PLAN_ID}/groups/`;
const headers = { authorization: `Bearer ${process.env.SINCH_API_TOKEN}`, accept: 'application/json' };

const server = new McpServer({ name: 'bare-proxy', version: '1.0.0' });
server.registerTool('get_group', { description: 'Reads a group.', inputSchema: { group_id: z.string() } }, async ({ group_id }) => {
  const response = await request(groups + encodeURIComponent(group_id), { headers });
  return { content: [{ type: 'text', text: await response.body.text() }] };
});
process.stdin.on('end', () => process.exit(0));
await server.connect(new StdioServerTransport());
