import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startEmulator, type Emulator } from '../src/emulator/server.js';
import { createServer } from '../src/mcp/server.js';
import { SinchGroupsClient } from '../src/sinch/client.js';

export interface Harness {
  emulator: Emulator;
  client: Client;
  /** Calls a tool and returns its result; `isError` results are returned, not thrown. */
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  /** Calls a tool that must succeed and returns its structured content. */
  ok<T = Record<string, unknown>>(name: string, args?: Record<string, unknown>): Promise<T>;
  /** Calls a tool that must fail and returns its error text. */
  fails(name: string, args?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

/** The real server, connected to an SDK client in memory and to the emulator over HTTP on 127.0.0.1. */
export async function startHarness(): Promise<Harness> {
  const emulator = await startEmulator();
  const sinch = new SinchGroupsClient({
    baseUrl: emulator.url,
    servicePlanId: emulator.servicePlanId,
    apiToken: emulator.apiToken,
  });
  const server = createServer({ sinch });
  const client = new Client({ name: 'test', version: '1.0.0' });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);

  const call = async (name: string, args: Record<string, unknown> = {}) =>
    (await client.callTool({ name, arguments: args })) as CallToolResult;
  const text = (result: CallToolResult) => result.content.map((part) => (part.type === 'text' ? part.text : '')).join('');
  return {
    emulator,
    client,
    call,
    async ok<T>(name: string, args?: Record<string, unknown>) {
      const result = await call(name, args);
      if (result.isError) throw new Error(`${name} failed: ${text(result)}`);
      return result.structuredContent as T;
    },
    async fails(name: string, args?: Record<string, unknown>) {
      const result = await call(name, args);
      if (!result.isError) throw new Error(`${name} succeeded but should have failed: ${text(result)}`);
      if (result.structuredContent !== undefined) throw new Error(`${name} failed with structuredContent`);
      return text(result);
    },
    async close() {
      await client.close();
      await server.close();
      await sinch.close();
      await emulator.close();
    },
  };
}
