import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { ErrorCode, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { loadConfig } from '../config.js';
import { log } from '../log.js';
import { describeUnfinished } from '../mcp/errors.js';
import { createServer } from '../mcp/server.js';
import type { ToolSelection } from '../mcp/tool.js';
import { openBackend } from './backend.js';

/** How long a stopping server waits for Sinch requests under way before giving up on them. */
const SHUTDOWN_GRACE_MS = 3_000;

/** Serves MCP on stdio, against Sinch when credentials are set and on the built-in emulator otherwise. */
export async function serve(selection: ToolSelection): Promise<void> {
  // stdout carries only protocol messages, whatever a dependency might print.
  console.log = console.info = console.debug = console.error;

  const config = loadConfig();
  if (config.mode === 'per-request') throw new Error('per-request credentials need the HTTP mode');
  const backend = await openBackend(config);
  const { sinch } = backend;
  const server = createServer({ sinch, emulated: backend.emulated, ...selection });
  const transport = new StdioServerTransport();
  // A line that is not a JSON-RPC message gets the JSON-RPC error for it, and the server reads on.
  transport.onerror = (error) => {
    const refusal =
      error instanceof SyntaxError
        ? { code: ErrorCode.ParseError, message: 'Parse error: the line is not JSON' }
        : error.name === 'ZodError'
          ? { code: ErrorCode.InvalidRequest, message: 'Invalid Request: not a JSON-RPC message' }
          : undefined;
    if (refusal) void transport.send({ jsonrpc: '2.0', id: null, error: refusal } as unknown as JSONRPCMessage);
    else log(`stdio: ${error.message}`);
  };

  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    process.stdin.pause();
    const unfinished = await sinch.settle(SHUTDOWN_GRACE_MS);
    for (const progress of unfinished) log(`${why} before a change was complete: ${describeUnfinished(progress)}`);
    await server.close();
    await backend.close();
    process.exit(0);
  };
  process.stdin.on('end', () => void stop('stdin closed'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  await server.connect(transport);
}
