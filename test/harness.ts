import { createServer as createHttpServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  ElicitRequestSchema,
  ResourceListChangedNotificationSchema,
  ResourceUpdatedNotificationSchema,
  type CallToolResult,
  type ClientCapabilities,
  type ElicitRequest,
  type ElicitResult,
  type Progress,
} from '@modelcontextprotocol/sdk/types.js';
import { startEmulator, type Emulator } from '../src/emulator/server.js';
import { createServer, type ServerOptions } from '../src/mcp/server.js';
import { selectTools, type ToolSelection } from '../src/mcp/tool-selection.js';
import { tools } from '../src/mcp/tools/index.js';
import { SinchGroupsClient, type SinchClientOptions } from '../src/sinch/client.js';

/** The server's options (readOnly, only, emulated), and what the client declares and does. */
export interface SessionOptions extends Omit<ServerOptions, 'sinch' | 'tools'>, ToolSelection {
  /** Answers the server's elicitation requests; without it the client cannot be asked anything. */
  elicit?: (params: ElicitRequest['params']) => ElicitResult | Promise<ElicitResult>;
  /** Declared instead of the default: { elicitation: {} } with `elicit`, else none. */
  capabilities?: ClientCapabilities;
  /** Sees every tool result, e.g. to look for secrets in it. */
  onResult?: (result: CallToolResult) => void;
}

export type Notice = { updated: string } | { listChanged: true };

export interface Connection {
  client: Client;
  /** Resource notifications received, in order. */
  notices: Notice[];
  /** Elicitation requests received, in order. */
  elicitations: ElicitRequest['params'][];
  /** Calls a tool and returns its result; `isError` results are returned, not thrown. */
  call(name: string, args?: Record<string, unknown>, onprogress?: (progress: Progress) => void): Promise<CallToolResult>;
  /** Calls a tool that must succeed and returns its structured content. */
  ok<T = Record<string, unknown>>(name: string, args?: Record<string, unknown>): Promise<T>;
  /** Calls a tool that must fail (with no structured content) and returns its error text. */
  fails(name: string, args?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

export interface Harness extends Connection {
  emulator: Emulator;
}

export const textOf = (result: CallToolResult) =>
  result.content.map((part) => (part.type === 'text' ? part.text : '')).join('');

/** Retries as in production, but with delays short enough for a test suite. */
export const FAST_RETRY = { minDelayMs: 5, maxDelayMs: 50 };

/** The real server over its own Sinch client, connected to an SDK client in memory. */
export async function connect(sinchOptions: SinchClientOptions, options: SessionOptions = {}): Promise<Connection> {
  const { elicit, capabilities = elicit ? { elicitation: {} } : {}, onResult, readOnly, only, ...serverOptions } = options;
  const sinch = new SinchGroupsClient({ ...sinchOptions, retry: { ...FAST_RETRY, ...sinchOptions.retry } });
  let server: McpServer;
  try {
    server = createServer({ sinch, tools: selectTools(tools, { readOnly, only }), readOnly, ...serverOptions });
  } catch (error) {
    // Options the server refuses must not leave the Sinch client's connections open.
    await sinch.close();
    throw error;
  }
  const client = new Client({ name: 'test', version: '1.0.0' }, { capabilities });
  const notices: Notice[] = [];
  const elicitations: ElicitRequest['params'][] = [];
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, ({ params }) => void notices.push({ updated: params.uri }));
  client.setNotificationHandler(ResourceListChangedNotificationSchema, () => void notices.push({ listChanged: true }));
  if (elicit) {
    client.setRequestHandler(ElicitRequestSchema, async ({ params }) => {
      elicitations.push(params);
      return elicit(params);
    });
  }
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);

  const call: Connection['call'] = async (name, args = {}, onprogress) => {
    const result = (await client.callTool({ name, arguments: args }, undefined, onprogress && { onprogress })) as CallToolResult;
    onResult?.(result);
    return result;
  };
  return {
    client,
    notices,
    elicitations,
    call,
    async ok<T>(name: string, args?: Record<string, unknown>) {
      const result = await call(name, args);
      if (result.isError) throw new Error(`${name} failed: ${textOf(result)}`);
      return result.structuredContent as T;
    },
    async fails(name: string, args?: Record<string, unknown>) {
      const result = await call(name, args);
      if (!result.isError) throw new Error(`${name} succeeded but should have failed: ${textOf(result)}`);
      if (result.structuredContent !== undefined) throw new Error(`${name} failed with structuredContent`);
      return textOf(result);
    },
    async close() {
      await client.close();
      await server.close();
      await sinch.close();
    },
  };
}

/** The real server connected to the emulator over HTTP on 127.0.0.1. */
export async function startHarness(options: SessionOptions = {}): Promise<Harness> {
  const emulator = await startEmulator();
  const connection = await connect(
    { baseUrl: emulator.url, servicePlanId: emulator.servicePlanId, apiToken: emulator.apiToken },
    options,
  ).catch(async (error: unknown) => {
    await emulator.close();
    throw error;
  });
  return {
    ...connection,
    emulator,
    async close() {
      await connection.close();
      await emulator.close();
    },
  };
}

/** An HTTP server on 127.0.0.1, standing in for Sinch or for a gateway in front of it. */
export async function listen(handler: RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const server = createHttpServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // The Sinch client keeps connections alive, and close() waits for every one of them to end.
        server.closeAllConnections();
      }),
  };
}

/** Waits for a condition the test cannot be told of, checking every 10 ms. */
export async function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
