import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect } from 'vitest';
import { CLI, cleanEnv, numbers, sinchEnv, spawnCli, test, textOf, TOOL_NAMES_WITHOUT_JOURNAL, until, type Fixtures } from './harness.js';

// The built command line over stdio, exactly as `npm start` and mcp.json run it.

async function connect(defer: Fixtures['defer'], env: Record<string, string>) {
  const transport = new StdioClientTransport({ command: process.execPath, args: [CLI], env, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const client = new Client({ name: 'stdio-test', version: '1.0.0' });
  const protocolErrors: Error[] = [];
  await client.connect(transport);
  // Anything on stdout that is not a protocol message would surface here.
  transport.onerror = (error) => protocolErrors.push(error);
  defer(() => client.close());
  return { client, stderr: () => stderr, protocolErrors };
}

const structured = (result: unknown) => (result as CallToolResult).structuredContent as Record<string, unknown>;

const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};
const LIST_GROUPS = { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'list_groups', arguments: {} } };

/** The server as a bare process: lines in, parsed lines out, so that malformed input can be sent. */
function spawnRaw(defer: Fixtures['defer'], env: Record<string, string>) {
  const { child, exited, stdout, stderr } = spawnCli([], env);
  defer(async () => void (child.exitCode === null && child.kill('SIGKILL')));
  const lines = () => stdout().split('\n').filter(Boolean);
  return Object.assign(child, {
    exited,
    stderr,
    send: (line: string) => child.stdin.write(`${line}\n`),
    /** The first `count` lines the server wrote, each parsed: anything that is not JSON fails the test. */
    async replies(count: number, timeoutMs?: number): Promise<unknown[]> {
      await until(() => lines().length >= count, `${count} replies`, timeoutMs);
      return lines().slice(0, count).map((line) => JSON.parse(line));
    },
    /** Sends initialize and waits for its answer. */
    async initialize() {
      child.stdin.write(`${JSON.stringify(INITIALIZE)}\n`);
      await this.replies(1);
    },
  });
}

describe('the command line over stdio', () => {
  test('with no credentials it runs on the seeded emulator and says so', async ({ defer }) => {
    const { client, stderr, protocolErrors } = await connect(defer, cleanEnv());
    expect(client.getInstructions()).toMatch(/emulator/);
    expect((await client.listTools()).tools.map((tool) => tool.name).sort()).toEqual(TOOL_NAMES_WITHOUT_JOURNAL);
    expect(structured(await client.callTool({ name: 'list_groups', arguments: {} })).count).toBeGreaterThanOrEqual(2);
    const created = structured(await client.callTool({ name: 'create_group', arguments: { name: 'Stdio', members: ['+1 415 555 0100'] } }));
    const members = structured(await client.callTool({ name: 'list_group_members', arguments: { group_id: created.id } }));
    expect(members).toEqual({ group_id: created.id, total: 1, members: ['+14155550100'] });
    expect(stderr()).toMatch(/built-in emulator/);
    expect(protocolErrors).toEqual([]);
  });

  test('with credentials it calls the configured Sinch origin, and never prints the token', async ({ defer, emulator }) => {
    const sinch = await emulator();
    const { client, stderr } = await connect(defer, cleanEnv(sinchEnv(sinch)));
    expect(client.getInstructions()).not.toMatch(/emulator/);
    await client.callTool({ name: 'create_group', arguments: { name: 'Real' } });
    const failed = (await client.callTool({ name: 'get_group', arguments: { group_id: 'MISSING1' } })) as CallToolResult;
    expect(failed.isError).toBe(true);
    expect(sinch.requests.map((request) => `${request.method} ${request.path}`)).toEqual([
      `POST /xms/v1/${sinch.servicePlanId}/groups`,
      `GET /xms/v1/${sinch.servicePlanId}/groups/MISSING1`,
    ]);
    expect(sinch.requests[0]?.headers.authorization).toBe(`Bearer ${sinch.apiToken}`);
    expect(JSON.stringify(failed)).not.toContain(sinch.apiToken);
    expect(stderr()).not.toContain(sinch.apiToken);
  });

  test('with half the credentials it stops and names the missing variable', async () => {
    const { exited, stdout, stderr } = spawnCli([], cleanEnv({ SINCH_API_TOKEN: 'secret-token-value' }));
    expect(await exited).toBe(1);
    expect(stderr()).toMatch(/SINCH_SERVICE_PLAN_ID/);
    expect(stderr()).not.toContain('secret-token-value');
    expect(stdout()).toBe('');
  });

  test('it exits cleanly when stdin closes', async () => {
    const { child, exited } = spawnCli([], cleanEnv());
    child.stdin.end();
    expect(await exited).toBe(0);
  });

  test('garbage on stdin gets JSON-RPC errors, and the server reads on', async ({ defer }) => {
    const child = spawnRaw(defer, cleanEnv());
    child.send('this is not json');
    child.send('{"hello": "world"}');
    child.send(JSON.stringify(INITIALIZE));
    const replies = await child.replies(3);
    expect(replies[0]).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700 } });
    expect(replies[1]).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32600 } });
    expect(replies[2]).toMatchObject({ jsonrpc: '2.0', id: 1, result: { serverInfo: { name: 'sinch-groups-mcp' } } });
    child.stdin.end();
    expect(await child.exited).toBe(0);
  });

  test('a line over MCP_MAX_BODY_BYTES (4 MiB by default) gets a JSON-RPC error; work under way and later lines are answered', { timeout: 60_000 }, async ({ defer, emulator }) => {
    const sinch = await emulator();
    sinch.store.create({ name: 'Existing' });
    sinch.faults.push({ delayMs: 1_000 });
    const child = spawnRaw(defer, cleanEnv(sinchEnv(sinch)));
    await child.initialize();
    child.send(JSON.stringify({ ...LIST_GROUPS, id: 2 }));
    await until(() => sinch.requests.length === 1);
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
    expect(sinch.requests).toHaveLength(2);
    child.stdin.end();
    expect(await child.exited).toBe(0);
    expect(child.stderr()).not.toMatch(/stopping|exceeded|while Sinch had not answered/);
  });

  test('MCP_MAX_BODY_BYTES sets the longest line: one byte more is refused, the limit itself is served', async ({ defer }) => {
    const child = spawnRaw(defer, cleanEnv({ MCP_MAX_BODY_BYTES: '1000' }));
    const padded = (size: number, id: number) => {
      const base = JSON.stringify({ ...LIST_GROUPS, id, params: { ...LIST_GROUPS.params, _meta: { pad: '' } } });
      return base.replace('"pad":""', `"pad":"${'x'.repeat(size - base.length)}"`);
    };
    child.send(padded(1001, 1));
    child.send(padded(1000, 2));
    // A \r\n line ending is not part of the line.
    child.stdin.write(`${padded(1000, 3)}\r\n`);
    const replies = await child.replies(3);
    expect(replies[0]).toMatchObject({ id: null, error: { code: -32600, message: expect.stringMatching(/longer than 1000 bytes \(MCP_MAX_BODY_BYTES\)/) } });
    expect(replies[1]).toMatchObject({ id: 2, result: { structuredContent: { count: 2 } } });
    expect(replies[2]).toMatchObject({ id: 3, result: { structuredContent: { count: 2 } } });
    child.stdin.end();
    expect(await child.exited).toBe(0);
  });

  test('SIGTERM stops it with exit code 0', async ({ defer }) => {
    const child = spawnRaw(defer, cleanEnv());
    await child.initialize();
    child.kill('SIGTERM');
    expect(await child.exited).toBe(0);
  });

  test('stopping while Sinch has not answered says so on stderr, and still exits', { timeout: 15_000 }, async ({ defer, emulator }) => {
    const sinch = await emulator();
    sinch.faults.push({ path: '/groups/SLOW1', hang: true });
    const child = spawnRaw(defer, cleanEnv(sinchEnv(sinch)));
    await child.initialize();
    child.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'update_group', arguments: { group_id: 'SLOW1', add: ['+14155550123'] } } }));
    await until(() => sinch.requests.length === 1);
    child.stdin.end();
    expect(await child.exited).toBe(0);
    expect(child.stderr()).toContain(
      'stdin closed before a change was complete: update group SLOW1: its one request (1 number): sent and not answered yet, so whether Sinch applied it is not known.',
    );
    expect(child.stderr()).not.toContain(sinch.apiToken);
  });
});

test('closing stdin during a 25,000-number create stops it between requests and says exactly what exists', { timeout: 20_000 }, async ({ defer, emulator }) => {
  const sinch = await emulator();
  const child = spawnRaw(defer, cleanEnv({ ...sinchEnv(sinch), SINCH_CONCURRENCY: '1' }));
  await child.initialize();
  // The create is answered at once; its first addition is still under way when the grace period ends.
  sinch.faults.push({ path: '/groups/', delayMs: 2_500 });
  child.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'create_group', arguments: { members: numbers(0, 25_000) } } }));
  await until(() => sinch.requests.length === 2);
  child.stdin.end();
  expect(await child.exited).toBe(0);

  const [group] = sinch.store.list().groups;
  expect(sinch.store.members(group!.id)).toHaveLength(20_000);
  expect(sinch.requests).toHaveLength(2);
  // The reply, after the initialize result and the list_changed notice the applied part sent.
  const reply = ((await child.replies(3)) as Array<{ id?: number; result: CallToolResult }>).find((message) => message.id === 2);
  const text = textOf(reply!.result);
  expect(reply!.result.isError).toBe(true);
  expect(text).toContain('requests 1-2 of 3 (20,000 numbers): applied; request 3 of 3 (5,000 numbers): not sent');
  expect(text).toContain(group!.id);
  expect(text).toContain('Do not call create_group again');
  expect(child.stderr()).toContain(`create_group stopped, as the server is stopping: ${text}`);
});
