import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, test } from 'vitest';
import { startEmulator, type Emulator } from '../src/emulator/server.js';

// The built command line, exactly as `npm start` and mcp.json run it (`npm test` builds it first).
const CLI = new URL('../dist/cli/index.js', import.meta.url).pathname;

/** The environment of a machine with no Sinch or MCP settings at all. */
function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env = Object.fromEntries(
    Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined && !/^(SINCH|MCP)_/.test(entry[0])),
  );
  // The real state folder is never written by a test.
  return { ...env, SINCH_JOURNAL: 'off', ...extra };
}

interface Spawned {
  client: Client;
  stderr: () => string;
  protocolErrors: Error[];
}

const open: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of open.splice(0)) await close();
});

async function connect(env: Record<string, string>): Promise<Spawned> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [CLI], env, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const client = new Client({ name: 'stdio-test', version: '1.0.0' });
  const protocolErrors: Error[] = [];
  await client.connect(transport);
  // Anything on stdout that is not a protocol message would surface here.
  transport.onerror = (error) => protocolErrors.push(error);
  open.push(() => client.close());
  return { client, stderr: () => stderr, protocolErrors };
}

const structured = (result: unknown) => (result as CallToolResult).structuredContent as Record<string, unknown>;

describe('the command line over stdio', () => {
  test('with no credentials it runs on the seeded emulator and says so', async () => {
    const { client, stderr, protocolErrors } = await connect(cleanEnv());
    expect(client.getInstructions()).toMatch(/emulator/);
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(
      ['create_group', 'delete_group', 'export_group_members', 'get_group', 'list_group_members', 'list_groups', 'replace_group', 'update_group'],
    );
    const list = structured(await client.callTool({ name: 'list_groups', arguments: {} }));
    expect(list.count).toBeGreaterThanOrEqual(2);
    const created = structured(
      await client.callTool({ name: 'create_group', arguments: { name: 'Stdio', members: ['+1 415 555 0100'] } }),
    );
    const members = structured(await client.callTool({ name: 'list_group_members', arguments: { group_id: created.id } }));
    expect(members).toEqual({ group_id: created.id, total: 1, members: ['+14155550100'] });
    expect(stderr()).toMatch(/built-in emulator/);
    expect(protocolErrors).toEqual([]);
  });

  test('with credentials it calls the configured Sinch origin, and never prints the token', async () => {
    const emulator: Emulator = await startEmulator();
    open.push(() => emulator.close());
    const { client, stderr } = await connect(
      cleanEnv({
        SINCH_SMS_BASE_URL: emulator.url,
        SINCH_SERVICE_PLAN_ID: emulator.servicePlanId,
        SINCH_API_TOKEN: emulator.apiToken,
      }),
    );
    expect(client.getInstructions()).not.toMatch(/emulator/);
    await client.callTool({ name: 'create_group', arguments: { name: 'Real' } });
    const failed = (await client.callTool({ name: 'get_group', arguments: { group_id: 'MISSING1' } })) as CallToolResult;
    expect(failed.isError).toBe(true);
    expect(emulator.requests.map((request) => `${request.method} ${request.path}`)).toEqual([
      `POST /xms/v1/${emulator.servicePlanId}/groups`,
      `GET /xms/v1/${emulator.servicePlanId}/groups/MISSING1`,
    ]);
    expect(emulator.requests[0]?.headers.authorization).toBe(`Bearer ${emulator.apiToken}`);
    expect(JSON.stringify(failed)).not.toContain(emulator.apiToken);
    expect(stderr()).not.toContain(emulator.apiToken);
  });

  test('with half the credentials it stops and names the missing variable', async () => {
    const child = spawn(process.execPath, [CLI], { env: cleanEnv({ SINCH_API_TOKEN: 'secret-token-value' }) });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const [code] = await once(child, 'exit');
    expect(code).toBe(1);
    expect(stderr).toMatch(/SINCH_SERVICE_PLAN_ID/);
    expect(stderr).not.toContain('secret-token-value');
    expect(stdout).toBe('');
  });

  test('it exits cleanly when stdin closes', async () => {
    const child = spawn(process.execPath, [CLI], { env: cleanEnv() });
    child.stdin.end();
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });

  test('garbage on stdin gets JSON-RPC errors, and the server reads on', async () => {
    const child = spawnRaw(cleanEnv());
    child.send('this is not json');
    child.send('{"hello": "world"}');
    child.send(JSON.stringify(INITIALIZE));
    const replies = await child.replies(3);
    expect(replies[0]).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700 } });
    expect(replies[1]).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32600 } });
    expect(replies[2]).toMatchObject({ jsonrpc: '2.0', id: 1, result: { serverInfo: { name: 'sinch-groups-mcp' } } });
    child.stdin.end();
    expect((await once(child, 'exit'))[0]).toBe(0);
  });

  test('a line over MCP_MAX_BODY_BYTES (4 MiB by default) gets a JSON-RPC error; work under way and later lines are answered', async () => {
    const emulator = await startEmulator();
    open.push(() => emulator.close());
    emulator.store.create({ name: 'Existing' });
    emulator.faults.push({ delayMs: 1_000 });
    const child = spawnRaw(
      cleanEnv({ SINCH_SMS_BASE_URL: emulator.url, SINCH_SERVICE_PLAN_ID: emulator.servicePlanId, SINCH_API_TOKEN: emulator.apiToken }),
    );
    child.send(JSON.stringify(INITIALIZE));
    await child.replies(1);
    child.send(JSON.stringify({ ...LIST_GROUPS, id: 2 }));
    await until(() => emulator.requests.length === 1);
    // 50 MB of one request, in the form a client would send it, while the call before it waits for Sinch.
    child.send(JSON.stringify({ ...LIST_GROUPS, id: 3, params: { ...LIST_GROUPS.params, _meta: { pad: 'x'.repeat(50_000_000) } } }));
    child.send(JSON.stringify({ ...LIST_GROUPS, id: 4 }));
    const replies = (await child.replies(4, 30_000)) as Array<{ id: number | null }>;
    const byId = new Map(replies.map((reply) => [reply.id, reply]));
    expect(byId.get(null)).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32600, message: 'Invalid Request: the line is longer than 4194304 bytes (MCP_MAX_BODY_BYTES) and was skipped' },
    });
    expect(byId.get(2)).toMatchObject({ result: { structuredContent: { count: 1 } } });
    expect(byId.get(4)).toMatchObject({ result: { structuredContent: { count: 1 } } });
    expect(emulator.requests).toHaveLength(2);
    child.stdin.end();
    expect((await once(child, 'exit'))[0]).toBe(0);
    expect(child.stderr()).not.toMatch(/stopping|exceeded|while Sinch had not answered/);
  }, 60_000);

  test('MCP_MAX_BODY_BYTES sets the longest line: one byte more is refused, the limit itself is served', async () => {
    const child = spawnRaw(cleanEnv({ MCP_MAX_BODY_BYTES: '1000' }));
    const padded = (size: number, id: number) => {
      const base = JSON.stringify({ ...LIST_GROUPS, id, params: { ...LIST_GROUPS.params, _meta: { pad: '' } } });
      return base.replace('"pad":""', `"pad":"${'x'.repeat(size - base.length)}"`);
    };
    expect(padded(1000, 1)).toHaveLength(1000);
    child.send(padded(1001, 1));
    child.send(padded(1000, 2));
    // A \r\n line ending is not part of the line.
    child.stdin.write(`${padded(1000, 3)}\r\n`);
    const replies = await child.replies(3);
    expect(replies[0]).toMatchObject({ id: null, error: { code: -32600, message: expect.stringMatching(/longer than 1000 bytes \(MCP_MAX_BODY_BYTES\)/) } });
    expect(replies[1]).toMatchObject({ id: 2, result: { structuredContent: { count: 2 } } });
    expect(replies[2]).toMatchObject({ id: 3, result: { structuredContent: { count: 2 } } });
    child.stdin.end();
    expect((await once(child, 'exit'))[0]).toBe(0);
  });

  test('SIGTERM stops it at once, with exit code 0', async () => {
    const child = spawnRaw(cleanEnv());
    child.send(JSON.stringify(INITIALIZE));
    await child.replies(1);
    const started = Date.now();
    child.kill('SIGTERM');
    expect((await once(child, 'exit'))[0]).toBe(0);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  test('stopping while Sinch has not answered says so on stderr, and still exits promptly', async () => {
    const emulator = await startEmulator();
    open.push(() => emulator.close());
    emulator.faults.push({ path: '/groups/SLOW1', hang: true });
    const child = spawnRaw(
      cleanEnv({
        SINCH_SMS_BASE_URL: emulator.url,
        SINCH_SERVICE_PLAN_ID: emulator.servicePlanId,
        SINCH_API_TOKEN: emulator.apiToken,
      }),
    );
    child.send(JSON.stringify(INITIALIZE));
    await child.replies(1);
    child.send(
      JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'update_group', arguments: { group_id: 'SLOW1', add: ['+14155550123'] } } }),
    );
    await until(() => emulator.requests.length === 1);
    const started = Date.now();
    child.stdin.end();
    expect((await once(child, 'exit'))[0]).toBe(0);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(child.stderr()).toContain(
      'stdin closed before a change was complete: update group SLOW1: its one request (1 number): sent and not answered yet, so whether Sinch applied it is not known.',
    );
    expect(child.stderr()).not.toContain(emulator.apiToken);
  }, 15_000);
});

describe('stopping in the middle of a large change', () => {
  test('closing stdin during a 25,000-number create stops it between requests and says exactly what exists', async () => {
    const emulator = await startEmulator();
    open.push(() => emulator.close());
    const child = spawnRaw(
      cleanEnv({
        SINCH_SMS_BASE_URL: emulator.url,
        SINCH_SERVICE_PLAN_ID: emulator.servicePlanId,
        SINCH_API_TOKEN: emulator.apiToken,
        SINCH_CONCURRENCY: '1',
      }),
    );
    child.send(JSON.stringify(INITIALIZE));
    await child.replies(1);
    // The create is answered at once; its first addition is still under way when the grace period ends.
    emulator.faults.push({ path: '/groups/', delayMs: 2_500 });
    const members = Array.from({ length: 25_000 }, (_, i) => `+1605${String(i).padStart(7, '0')}`);
    child.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'create_group', arguments: { members } } }));
    await until(() => emulator.requests.length === 2);
    child.stdin.end();
    expect((await once(child, 'exit'))[0]).toBe(0);

    const [group] = emulator.store.list().groups;
    expect(emulator.store.members(group!.id)).toHaveLength(20_000);
    expect(emulator.requests).toHaveLength(2);
    // The reply, after the initialize result and the list_changed notice the applied part sent.
    const reply = ((await child.replies(3)) as Array<{ id?: number; result: CallToolResult }>).find((message) => message.id === 2);
    const text = (reply!.result.content[0] as { text: string }).text;
    expect(reply!.result.isError).toBe(true);
    expect(text).toContain('requests 1-2 of 3 (20,000 numbers): applied; request 3 of 3 (5,000 numbers): not sent');
    expect(text).toContain(group!.id);
    expect(text).toContain('Do not call create_group again');
    expect(child.stderr()).toContain(`create_group stopped, as the server is stopping: ${text}`);
  }, 20_000);
});

const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};

const LIST_GROUPS = { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'list_groups', arguments: {} } };

/** The server as a bare process: lines in, parsed lines out, so that malformed input can be sent. */
function spawnRaw(env: Record<string, string>) {
  const child = spawn(process.execPath, [CLI], { env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  open.push(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return Object.assign(child, {
    send: (line: string) => child.stdin.write(`${line}\n`),
    stderr: () => stderr,
    /** The first `count` lines the server wrote, each parsed: anything that is not JSON fails the test. */
    async replies(count: number, timeoutMs?: number): Promise<unknown[]> {
      await until(() => stdout.split('\n').filter(Boolean).length >= count, timeoutMs);
      return stdout.split('\n').filter(Boolean).slice(0, count).map((line) => JSON.parse(line));
    },
  });
}

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
