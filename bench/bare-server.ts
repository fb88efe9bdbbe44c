// The floor for start-up, memory and per-call cost: an MCP server on the same SDK as ours, over stdio, with one
// trivial tool and nothing else (no Sinch client, no schemas of its own, no phone numbers).
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';

const server = new McpServer({ name: 'bare', version: '1.0.0' });
server.registerTool('ping', { description: 'Replies "pong".' }, async () => ({ content: [{ type: 'text', text: 'pong' }] }));
process.stdin.on('end', () => process.exit(0));
await server.connect(new StdioServerTransport());
