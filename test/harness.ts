import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp } from 'node:fs/promises';
import { createServer as createHttpServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  ElicitRequestSchema,
  McpError,
  ResourceListChangedNotificationSchema,
  ResourceUpdatedNotificationSchema,
  type CallToolResult,
  type ClientCapabilities,
  type ElicitRequest,
  type ElicitResult,
  type Progress,
} from '@modelcontextprotocol/sdk/types.js';
import { test as base } from 'vitest';
import { startEmulator, type Emulator, type EmulatorOptions, type RecordedRequest } from '../src/emulator/server.js';
import { Journal } from '../src/journal/journal.js';
import { createServer, JOURNAL_TOOLS, type ServerOptions } from '../src/mcp/server.js';
import { selectTools, type ToolSelection } from '../src/mcp/tool-selection.js';
import { tools } from '../src/mcp/tools/index.js';
import { SinchGroupsClient, type SinchClientOptions } from '../src/sinch/client.js';
import type { Group } from '../src/sinch/schemas.js';

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

/** Every tool the server has, by name, sorted. */
export const TOOL_NAMES = tools.map((tool) => tool.name).sort();

/** What a server without a change journal offers: all but list_changes and undo_change. */
export const TOOL_NAMES_WITHOUT_JOURNAL = TOOL_NAMES.filter((name) => !JOURNAL_TOOLS.includes(name));

/** A new temporary folder, so that no test writes anywhere else. */
export const tempDir = () => mkdtemp(join(tmpdir(), 'sinch-test-'));

/** A change journal in a new temporary folder: the real state folder is never written by a test. */
export const tempJournal = async () => new Journal(join(await tempDir(), 'journal.jsonl'));

/** The i-th of a run of distinct, possible US numbers in E.164: +16050000000, +16050000001, ... */
export const number = (i: number) => `+1605${String(i).padStart(7, '0')}`;
/** number(from) up to, not including, number(to). */
export const numbers = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => number(from + k));
/** As Sinch stores and returns a number: without the "+". */
export const bare = (e164: string) => e164.slice(1);

export const groupsPath = (emulator: Emulator) => `/xms/v1/${emulator.servicePlanId}/groups`;
export const groupPath = (emulator: Emulator, id: string) => `${groupsPath(emulator)}/${id}`;
/** The requests made since `mark` (an earlier `emulator.requests.length`). */
export const since = (emulator: Emulator, mark: number): RecordedRequest[] => emulator.requests.slice(mark);
/** Requests as "METHOD path". */
export const summary = (requests: RecordedRequest[]) => requests.map(({ method, path }) => `${method} ${path}`);
/** The requests an emulator received, as "METHOD path" with the account's groups path shortened to "/groups". */
export const sent = (emulator: Emulator) =>
  emulator.requests.map(({ method, path }) => `${method} ${path.replace(/^\/xms\/v1\/[^/]+\/groups/, '/groups')}`);

/** A page of list_groups. */
export interface GroupPage {
  page: number;
  page_size: number;
  count: number;
  groups: Group[];
  next_page?: number;
}

/** A page of list_group_members. */
export interface MemberPage {
  group_id: string;
  total: number;
  matching?: number;
  members: string[];
  next_cursor?: string;
}

export const textOf = (result: CallToolResult) =>
  result.content.map((part) => (part.type === 'text' ? part.text : '')).join('');

/** Retries as in production, but with delays short enough for a test suite. */
export const FAST_RETRY = { minDelayMs: 5, maxDelayMs: 50 };

/**
 * The audit lines of the servers this test file started in memory, parsed, oldest first. They are kept here
 * rather than written to stderr, where hundreds of them would bury the test run's own output.
 */
export const audited: Record<string, unknown>[] = [];

/** The real server over its own Sinch client, connected to an SDK client in memory. */
export async function connect(sinchOptions: SinchClientOptions, options: SessionOptions = {}): Promise<Connection> {
  const { elicit, capabilities = elicit ? { elicitation: {} } : {}, onResult, readOnly, only, ...serverOptions } = options;
  const sinch = new SinchGroupsClient({ ...sinchOptions, retry: { ...FAST_RETRY, ...sinchOptions.retry } });
  let server: McpServer;
  try {
    server = createServer({
      sinch,
      tools: selectTools(tools, { readOnly, only }),
      readOnly,
      audit: (line) => void audited.push(JSON.parse(line) as Record<string, unknown>),
      ...serverOptions,
    });
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

/** Waits for a condition the test cannot be told of, checking every 10 ms and running `between` before each new look. */
export async function until(condition: () => boolean, what = 'a condition', timeoutMs = 5_000, between?: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
    await between?.();
  }
}

/** The built command line, as `npm start` and mcp.json run it (`npm test` builds it first). */
export const CLI = new URL('../dist/cli/index.js', import.meta.url).pathname;

/** The inherited environment without any Sinch or MCP settings, the journal off, then `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env = Object.fromEntries(
    Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined && !/^(SINCH|MCP)_/.test(entry[0])),
  );
  // The real state folder is never written by a test.
  return { ...env, SINCH_JOURNAL: 'off', ...extra };
}

/** Settings that point the command line at an emulator's service plan. */
export const sinchEnv = (sinch: Emulator) => ({ SINCH_SMS_BASE_URL: sinch.url, SINCH_SERVICE_PLAN_ID: sinch.servicePlanId, SINCH_API_TOKEN: sinch.apiToken });

/** The command line as a process, what it wrote so far, and its exit code once it exits. */
export function spawnCli(args: string[], env: Record<string, string>, { node = [] as string[] } = {}) {
  const child = spawn(process.execPath, [...node, CLI, ...args], { env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

export interface Fixtures {
  /** Runs `close` when the test ends, the last registered first. */
  defer: (close: () => Promise<unknown>) => void;
  /** A harness with these options, closed when the test ends. */
  harness: (options?: SessionOptions) => Promise<Harness>;
  /** A harness with the default options, closed when the test ends. */
  h: Harness;
  /** Another emulator, closed when the test ends. */
  emulator: (options?: EmulatorOptions) => Promise<Emulator>;
  /** One harness for every test of a file, for tests that share what they set up; with a journal, so it offers every tool. */
  shared: Harness;
}

/** vitest's `test` with fixtures that are started for a test that names them, and closed after it. */
export const test = base.extend<Fixtures>({
  defer: async ({}, use) => {
    const closers: Array<() => Promise<unknown>> = [];
    await use((close) => void closers.push(close));
    for (const close of closers.reverse()) await close();
  },
  harness: async ({ defer }, use) => {
    await use(async (options) => {
      const harness = await startHarness(options);
      defer(() => harness.close());
      return harness;
    });
  },
  h: async ({ harness }, use) => {
    await use(await harness());
  },
  shared: [
    async ({}, use) => {
      const harness = await startHarness({ journal: await tempJournal() });
      await use(harness);
      await harness.close();
    },
    { scope: 'file' },
  ],
  emulator: async ({ defer }, use) => {
    await use(async (options) => {
      const emulator = await startEmulator(options);
      defer(() => emulator.close());
      return emulator;
    });
  },
});

/** Calls a tool that must be refused before any request reaches Sinch; returns the refusal text. */
export async function refused(h: Harness, tool: string, args: Record<string, unknown>): Promise<string> {
  const before = h.emulator.requests.length;
  const text = await h.fails(tool, args);
  if (h.emulator.requests.length !== before) throw new Error(`${tool} sent ${h.emulator.requests.length - before} request(s) to Sinch: ${text}`);
  if (!text.startsWith('Nothing was changed')) throw new Error(`${tool} was refused without "Nothing was changed": ${text}`);
  return text;
}

/** The members an emulator holds for a group, in E.164, sorted. */
export const membersOf = (emulator: Emulator, id: string) => emulator.store.members(id).map((digits) => `+${digits}`).sort();

/** The JSON-RPC error a request was answered with. */
export async function rpcError(promise: Promise<unknown>): Promise<McpError> {
  const outcome = await promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a JSON-RPC error, got ${JSON.stringify(outcome.value)}`);
  if (!(outcome.error instanceof McpError)) throw new Error(`expected an McpError, got ${String(outcome.error)}`);
  return outcome.error;
}

/** Sinch client settings for an emulator's service plan, with other settings from `extra`. */
export const sinchOf = (emulator: Emulator, extra: Omit<Partial<SinchClientOptions>, 'servicePlanId' | 'apiToken'> = {}) =>
  ({ baseUrl: emulator.url, servicePlanId: emulator.servicePlanId, apiToken: emulator.apiToken, ...extra }) as SinchClientOptions;
