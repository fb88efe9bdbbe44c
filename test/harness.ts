import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startEmulator, type Emulator } from '../src/emulator/server.js';
import { createServer } from '../src/mcp/server.js';
import { SinchGroupsClient, type SinchClientOptions } from '../src/sinch/client.js';

export interface Connection {
  client: Client;
  /** Calls a tool and returns its result; `isError` results are returned, not thrown. */
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
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
export async function connect(sinchOptions: SinchClientOptions): Promise<Connection> {
  const sinch = new SinchGroupsClient({ ...sinchOptions, retry: { ...FAST_RETRY, ...sinchOptions.retry } });
  const server = createServer({ sinch });
  const client = new Client({ name: 'test', version: '1.0.0' });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);

  const call = async (name: string, args: Record<string, unknown> = {}) =>
    (await client.callTool({ name, arguments: args })) as CallToolResult;
  return {
    client,
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
export async function startHarness(): Promise<Harness> {
  const emulator = await startEmulator();
  const connection = await connect({
    baseUrl: emulator.url,
    servicePlanId: emulator.servicePlanId,
    apiToken: emulator.apiToken,
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
