import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import { connect as tcpConnect } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect } from 'vitest';
import type { Emulator } from '../src/emulator/server.js';
import { cleanEnv, sinchEnv, spawnCli as spawnProcess, test, textOf, TOOL_NAMES_WITHOUT_JOURNAL, until, type Fixtures } from './harness.js';

const hex = () => randomBytes(16).toString('hex');

interface Served {
  child: ChildProcessWithoutNullStreams;
  /** http://127.0.0.1:PORT/mcp */
  url: string;
  port: number;
  stderr(): string;
  exited: Promise<number | null>;
}

/** Server processes and clients, each closed when its test ends (tests run concurrently). */
function makeKit(defer: Fixtures['defer']) {
  function spawnCli(args: string[], env: Record<string, string>) {
    const spawned = spawnProcess(args, env);
    defer(async () => {
      if (spawned.child.exitCode === null && spawned.child.signalCode === null) {
        spawned.child.kill('SIGKILL');
        await spawned.exited;
      }
    });
    return spawned;
  }

  /** `--http` on an ephemeral port; resolves once GET /healthz answers. */
  async function serve(env: Record<string, string>, args: string[] = []): Promise<Served> {
    const { child, exited, stderr } = spawnCli(['--http', '--port', '0', ...args], env);
    let code: number | null | undefined;
    void exited.then((value) => (code = value));
    await until(() => code !== undefined || /serving MCP at \S+/.test(stderr()), 'the server', 10_000);
    if (code !== undefined) throw new Error(`the server exited with ${code}: ${stderr()}`);
    const url = /serving MCP at (http:\/\/\S+\/mcp)/.exec(stderr())![1]!;
    const port = Number(new URL(url).port);
    const health = await raw({ port, method: 'GET', path: '/healthz' });
    if (health.status !== 200) throw new Error(`GET /healthz answered ${health.status}`);
    return { child, url, port, stderr, exited };
  }

  /** An SDK client over Streamable HTTP, sending `headers` on every request. */
  async function connect(url: string, headers: Record<string, string>): Promise<Client> {
    const client = new Client({ name: 'http-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
    // The server may be gone by now (the SIGTERM tests), and closing then reports it.
    defer(() => client.close().catch(() => undefined));
    return client;
  }

  /** A bare TCP connection, to send a request as slowly, or as incompletely, as a hostile client would. */
  async function socket(port: number) {
    const connection = tcpConnect(port, '127.0.0.1');
    let received = '';
    connection.setEncoding('utf8');
    connection.on('data', (chunk: string) => (received += chunk));
    connection.on('error', () => undefined);
    const closed = once(connection, 'close').then(() => received);
    defer(async () => void connection.destroy());
    await once(connection, 'connect');
    return { write: (text: string) => connection.write(text), received: () => received, closed, end: () => connection.destroy() };
  }

  return { spawnCli, serve, connect, socket };
}

type Kit = ReturnType<typeof makeKit> & { emulator: Fixtures['emulator'] };

const it = test.extend<{ kit: Kit }>({
  kit: async ({ defer, emulator }, use) => {
    await use({ ...makeKit(defer), emulator });
  },
});

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

/** The structured result of a call that must succeed. */
async function ok(client: Client, name: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
  const result = await call(client, name, args);
  if (result.isError) throw new Error(`${name} failed: ${textOf(result)}`);
  return result.structuredContent as Record<string, unknown>;
}


interface RawReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request on a fresh connection, with full control of the headers (Host included). */
function raw(options: { port: number; method?: string; path?: string; headers?: Record<string, string>; body?: string }): Promise<RawReply> {
  const { port, method = 'POST', path = '/mcp', headers = {}, body } = options;
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent: false,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }),
          accept: 'application/json, text/event-stream',
          ...headers,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The JSON-RPC message in a reply, sent either as JSON or as one SSE event. */
function messageOf(reply: RawReply): Record<string, unknown> {
  const data = reply.body.startsWith('{') ? reply.body : reply.body.split('\n').find((line) => line.startsWith('data: '))?.slice(6);
  if (data === undefined) throw new Error(`no JSON-RPC message in ${JSON.stringify(reply.body)}`);
  return JSON.parse(data) as Record<string, unknown>;
}

const rpc = (method: string, params: Record<string, unknown> = {}, id = 1) => JSON.stringify({ jsonrpc: '2.0', id, method, params });
const LIST_GROUPS = rpc('tools/call', { name: 'list_groups', arguments: {} });

const requestLines = (sinch: Emulator) => sinch.requests.map((request) => `${request.method} ${request.path}`);

// Each test spawns its own server; they run side by side, so one slow start does not hold up the rest.
describe.concurrent('the command line over HTTP (--http)', { timeout: 15_000 }, () => {
  // First, as it takes longest: the others run beside it.
  it('SIGTERM waits at most 10 s for a call Sinch never answers, then exits 0', async ({ kit: { emulator, serve } }) => {
    const sinch = await emulator();
    const token = hex();
    const server = await serve(cleanEnv({ ...sinchEnv(sinch), MCP_AUTH_TOKEN: token }));
    const group = sinch.store.create({ name: 'Stuck' });
    sinch.faults.push({ path: '/groups/', hang: true });
    const stuck = raw({ port: server.port, headers: bearer(token), body: rpc('tools/call', { name: 'get_group', arguments: { group_id: group.id } }) }).then(
      (reply) => ({ reply }),
      (error: NodeJS.ErrnoException) => ({ error }),
    );
    await until(() => sinch.requests.length === 1);
    const signalled = Date.now();
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(Date.now() - signalled).toBeGreaterThanOrEqual(9_900);
    // The call was cut off, never answered as if it had succeeded.
    const outcome = await stuck;
    expect('reply' in outcome ? JSON.stringify(outcome.reply) : outcome.error.code).toBe('ECONNRESET');
  }, 20_000);

  it('serves tools and resources over Streamable HTTP, calling the configured Sinch', async ({ kit: { emulator, serve, connect } }) => {
    const sinch = await emulator();
    const token = hex();
    const server = await serve(cleanEnv({ ...sinchEnv(sinch), MCP_AUTH_TOKEN: token }));
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/mcp`);
    const client = await connect(server.url, bearer(token));
    expect(client.getServerVersion()?.name).toBe('sinch-groups-mcp');
    // Configured credentials mean a real account: nothing about the emulator.
    expect(client.getInstructions()).not.toMatch(/emulator/);
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(TOOL_NAMES_WITHOUT_JOURNAL);
    expect(sinch.requests).toEqual([]);
    const created = await ok(client, 'create_group', { name: 'Http', members: ['+1 415 555 0100'] });
    expect(created).toMatchObject({ name: 'Http', size: 1 });
    const id = created.id as string;
    expect(await ok(client, 'list_group_members', { group_id: id })).toEqual({ group_id: id, total: 1, members: ['+14155550100'] });
    const updated = await ok(client, 'update_group', { group_id: id, add: ['+1 415 555 0101'], name: 'Renamed' });
    expect(updated).toMatchObject({ id, name: 'Renamed', size: 2 });
    const { resources } = await client.listResources();
    expect(resources).toEqual([
      { uri: `sinch://groups/${id}`, name: 'Renamed', title: 'Renamed', description: `SMS group ${id}, 2 members`, mimeType: 'application/json' },
    ]);
    const members = await client.readResource({ uri: `sinch://groups/${id}/members` });
    expect(members.contents).toEqual([{ uri: `sinch://groups/${id}/members`, mimeType: 'text/plain', text: '+14155550100\n+14155550101' }]);
    const group = await client.readResource({ uri: `sinch://groups/${id}` });
    expect(JSON.parse((group.contents[0] as { text: string }).text)).toMatchObject({ id, name: 'Renamed', size: 2 });
    const plan = `/xms/v1/${sinch.servicePlanId}/groups`;
    expect(requestLines(sinch)).toEqual([
      `POST ${plan}`,
      `GET ${plan}/${id}/members`,
      `POST ${plan}/${id}`,
      `GET ${plan}`,
      `GET ${plan}/${id}/members`,
      `GET ${plan}/${id}`,
    ]);
    expect(sinch.requests.every((request) => request.headers.authorization === `Bearer ${sinch.apiToken}`)).toBe(true);
    expect(sinch.store.get(id)).toMatchObject({ name: 'Renamed', size: 2 });
    expect(server.stderr()).not.toContain(sinch.apiToken);
    expect(server.stderr()).not.toContain(token);
  });

  it('/mcp needs the bearer token: without it or with a wrong one, 401 and nothing reaches Sinch; /healthz needs none', async ({ kit: { emulator, serve } }) => {
    const sinch = await emulator();
    const token = hex();
    const { port, stderr } = await serve(cleanEnv({ ...sinchEnv(sinch), MCP_AUTH_TOKEN: token }));
    for (const headers of [{}, bearer(hex()), bearer(`${token}x`), bearer(token.slice(0, -1)), { Authorization: `Basic ${token}` }, { Authorization: token }]) {
      const reply = await raw({ port, headers, body: LIST_GROUPS });
      expect(reply.status, JSON.stringify(headers)).toBe(401);
      expect(reply.headers['www-authenticate']).toBe('Bearer');
      expect(messageOf(reply)).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32600, message: expect.stringMatching(/^Unauthorized/) } });
    }
    expect(sinch.requests).toEqual([]);
    // The same request with the token goes through, so it was the token that was refused.
    const allowed = await raw({ port, headers: bearer(token), body: LIST_GROUPS });
    expect(allowed.status).toBe(200);
    expect(messageOf(allowed)).toMatchObject({ id: 1, result: { structuredContent: { count: 0, groups: [] } } });
    expect(requestLines(sinch)).toEqual([`GET /xms/v1/${sinch.servicePlanId}/groups`]);
    const health = await raw({ port, method: 'GET', path: '/healthz' });
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toEqual({ status: 'ok' });
    expect(stderr()).not.toContain(token);
  });

  it('without OAuth, the paths OAuth clients probe answer 404 saying to send the bearer token', async ({ kit: { emulator, serve } }) => {
    const sinch = await emulator();
    const { port } = await serve(cleanEnv({ ...sinchEnv(sinch), MCP_AUTH_TOKEN: hex() }));
    const paths = ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource', '/.well-known/oauth-authorization-server', '/.well-known/openid-configuration', '/register'];
    for (const path of paths) {
      const reply = await raw({ port, method: path === '/register' ? 'POST' : 'GET', path, ...(path === '/register' && { body: '{}' }) });
      expect(reply.status, path).toBe(404);
      expect(JSON.parse(reply.body)).toEqual({
        error: 'not_found',
        error_description: 'This server does not use OAuth: send the header Authorization: Bearer <MCP_AUTH_TOKEN>, with the token the server was started with',
      });
    }
    expect((await raw({ port, method: 'GET', path: '/elsewhere' })).body).toBe('{"error":"not found: MCP is served at /mcp"}');
  });

  it('Host and Origin must be loopback names or in MCP_ALLOWED_HOSTS (403 otherwise)', async ({ kit: { emulator, serve } }) => {
    const sinch = await emulator();
    const token = hex();
    const { port } = await serve(cleanEnv({ ...sinchEnv(sinch), MCP_AUTH_TOKEN: token, MCP_ALLOWED_HOSTS: 'mcp.example.com' }));
    const body = rpc('tools/list');
    const status = async (headers: Record<string, string>) => (await raw({ port, headers: { ...bearer(token), ...headers }, body })).status;
    expect(await status({ Host: 'evil.example' })).toBe(403);
    expect(await status({ Host: `evil.example:${port}` })).toBe(403);
    expect(await status({ Host: `mcp.example.com.evil.example:${port}` })).toBe(403);
    expect(await status({ Origin: 'http://evil.example' })).toBe(403);
    expect(await status({ Origin: `http://evil.example:${port}` })).toBe(403);
    expect(await status({ Origin: 'null' })).toBe(403);
    const refused = await raw({ port, headers: { ...bearer(token), Host: 'evil.example' }, body });
    expect(messageOf(refused)).toMatchObject({ error: { message: expect.stringMatching(/^Forbidden: Host "evil.example"/) } });
    expect(await status({ Host: `127.0.0.1:${port}` })).toBe(200);
    expect(await status({ Host: `localhost:${port}` })).toBe(200);
    expect(await status({ Host: `mcp.example.com:${port}` })).toBe(200);
    expect(await status({ Host: 'mcp.example.com' })).toBe(200);
    expect(await status({ Origin: `http://localhost:${port}` })).toBe(200);
    expect(await status({ Origin: 'https://mcp.example.com' })).toBe(200);
    const allowed = await raw({ port, headers: { ...bearer(token), Host: `mcp.example.com:${port}` }, body });
    const { result } = messageOf(allowed) as { result: { tools: Array<{ name: string }> } };
    expect(result.tools.map((tool) => tool.name).sort()).toEqual(TOOL_NAMES_WITHOUT_JOURNAL);
  });

  it('bodies over MCP_MAX_BODY_BYTES get 413, bodies that are not JSON 400, and GET /mcp 405', async ({ kit: { emulator, serve } }) => {
    const sinch = await emulator();
    const token = hex();
    const { port } = await serve(cleanEnv({ ...sinchEnv(sinch), MCP_AUTH_TOKEN: token, MCP_MAX_BODY_BYTES: '1000' }));
    const padded = (size: number) => {
      const base = rpc('tools/call', { name: 'list_groups', arguments: {}, _meta: { pad: '' } });
      return base.replace('"pad":""', `"pad":"${'x'.repeat(size - base.length)}"`);
    };
    const large = await raw({ port, headers: bearer(token), body: padded(1001) });
    expect(large.status).toBe(413);
    expect(messageOf(large)).toMatchObject({ id: null, error: { code: -32600, message: expect.stringMatching(/MCP_MAX_BODY_BYTES/) } });
    const huge = await raw({ port, headers: bearer(token), body: padded(200_000) });
    expect(huge.status).toBe(413);
    expect(sinch.requests).toEqual([]);
    const fits = await raw({ port, headers: bearer(token), body: padded(1000) });
    expect(fits.status).toBe(200);
    expect(messageOf(fits)).toMatchObject({ id: 1, result: { structuredContent: { count: 0 } } });
    const garbage = await raw({ port, headers: bearer(token), body: 'this is not json' });
    expect(garbage.status).toBe(400);
    expect(messageOf(garbage)).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700 } });
    const get = await raw({ port, method: 'GET', headers: { ...bearer(token), accept: 'text/event-stream' } });
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST');
    expect((await raw({ port, method: 'DELETE', headers: bearer(token) })).status).toBe(405);
    expect((await raw({ port, method: 'GET', path: '/elsewhere', headers: bearer(token) })).status).toBe(404);
    expect(sinch.requests).toHaveLength(1);
  });

  it('a client that sends its headers slower than MCP_HEADERS_TIMEOUT_MS gets 408 and is disconnected', async ({ kit: { emulator, serve, socket } }) => {
    const sinch = await emulator();
    const { port } = await serve(cleanEnv({ ...sinchEnv(sinch), MCP_HEADERS_TIMEOUT_MS: '200' }));
    const slow = await socket(port);
    slow.write('POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    expect(await slow.closed).toMatch(/^HTTP\/1\.1 408 /);
    expect(sinch.requests).toEqual([]);
  });

  it('a client that sends its body slower than MCP_REQUEST_TIMEOUT_MS gets 408; a slow Sinch is not cut off', async ({ kit: { emulator, serve, socket } }) => {
    const sinch = await emulator();
    const token = hex();
    const server = await serve(cleanEnv({ ...sinchEnv(sinch), MCP_AUTH_TOKEN: token, MCP_HEADERS_TIMEOUT_MS: '100', MCP_REQUEST_TIMEOUT_MS: '300' }));
    const slow = await socket(server.port);
    const body = LIST_GROUPS;
    slow.write(
      `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\n` +
        `Accept: application/json, text/event-stream\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
    );
    expect(await slow.closed).toMatch(/^HTTP\/1\.1 408 /);
    expect(sinch.requests).toEqual([]);
    // The limit is on receiving the request: the answer may take as long as Sinch does.
    sinch.faults.push({ path: '/groups', delayMs: 1_000 });
    const reply = await raw({ port: server.port, headers: bearer(token), body });
    expect(reply.status).toBe(200);
    expect(messageOf(reply)).toMatchObject({ id: 1, result: { structuredContent: { count: 0 } } });
    expect(server.stderr()).not.toMatch(/Internal error/);
  });

  it('connections beyond MCP_MAX_CONNECTIONS are closed as they arrive, until one of the others ends', async ({ kit: { emulator, serve, socket } }) => {
    const sinch = await emulator();
    const server = await serve(cleanEnv({ ...sinchEnv(sinch), MCP_MAX_CONNECTIONS: '2' }));
    const held = [await socket(server.port), await socket(server.port)];
    for (const connection of held) {
      // An answer on it means the server has taken the connection; keep-alive holds it open after.
      connection.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      await until(() => connection.received().includes('{"status":"ok"}'));
    }
    const refused = await raw({ port: server.port, method: 'GET', path: '/healthz' }).then(
      (reply) => reply.status,
      (error: NodeJS.ErrnoException) => error.code,
    );
    expect(refused).toMatch(/^E[A-Z]+$/);
    await until(() => /refused 1 connection\(s\): 2 were open already \(MCP_MAX_CONNECTIONS\)/.test(server.stderr()));
    held[0]!.end();
    let status: number | undefined;
    await until(() => status === 200, 'a connection is taken again', 5_000, async () => {
      status = await raw({ port: server.port, method: 'GET', path: '/healthz' }).then((reply) => reply.status, () => undefined);
    });
  });

  it('refuses to listen beyond loopback without MCP_AUTH_TOKEN', async ({ kit: { spawnCli } }) => {
    const { exited, stderr, stdout } = spawnCli(['--http', '--host', '0.0.0.0', '--port', '0'], cleanEnv());
    expect(await exited).toBe(1);
    expect(stderr()).toMatch(/MCP_AUTH_TOKEN or MCP_OAUTH_ISSUER must be set to listen on 0\.0\.0\.0/);
    expect(stderr()).not.toMatch(/serving MCP/);
    expect(stdout()).toBe('');
  });

  it('refuses to listen beyond loopback with a token shorter than 32 characters, without showing it', async ({ kit: { spawnCli } }) => {
    const token = hex().slice(0, 31);
    const { exited, stderr, stdout } = spawnCli(['--http', '--host', '0.0.0.0', '--port', '0'], cleanEnv({ MCP_AUTH_TOKEN: token }));
    expect(await exited).toBe(1);
    expect(stderr()).toMatch(/MCP_AUTH_TOKEN must be at least 32 characters to listen on 0\.0\.0\.0/);
    expect(stderr()).not.toContain(token);
    expect(stdout()).toBe('');
  });

  it('5 clients making 10 calls each at once all succeed, and Sinch gets exactly 50 groups', async ({ kit: { emulator, serve, connect } }) => {
    const sinch = await emulator();
    const token = hex();
    const { url } = await serve(cleanEnv({ ...sinchEnv(sinch), MCP_AUTH_TOKEN: token }));
    const clients = await Promise.all(Array.from({ length: 5 }, () => connect(url, bearer(token))));
    const names = clients.flatMap((_, i) => Array.from({ length: 10 }, (__, j) => `c${i}-${j}`));
    const results = await Promise.all(
      clients.flatMap((client, i) => Array.from({ length: 10 }, (_, j) => ok(client, 'create_group', { name: `c${i}-${j}`, members: [`+1415555${i}${j.toString().padStart(3, '0')}`] }))),
    );
    expect(results.map((group) => group.name)).toEqual(names);
    expect(new Set(results.map((group) => group.id)).size).toBe(50);
    const stored = sinch.store.list(0, 100);
    expect(stored.count).toBe(50);
    expect(stored.groups.map((group) => group.name).sort()).toEqual([...names].sort());
    expect(sinch.requests).toHaveLength(50);
  });

  describe('--per-request-credentials', () => {
    async function perRequest(serve: Kit['serve'], sinch: Emulator, token: string) {
      // Credentials in the environment too: they must not be used.
      return serve(cleanEnv({ ...sinchEnv(sinch), MCP_AUTH_TOKEN: token }), ['--per-request-credentials']);
    }
    const credentials = (planId: string, apiToken: string) => ({ 'X-Sinch-Service-Plan-Id': planId, 'X-Sinch-Api-Token': apiToken });

    it('each request uses the credentials it carries, and only those', async ({ kit: { emulator, serve, connect } }) => {
      const sinch = await emulator();
      const token = hex();
      const server = await perRequest(serve, sinch, token);
      const wrong = `wrong${hex()}`;
      const right = await connect(server.url, { ...bearer(token), ...credentials(sinch.servicePlanId, sinch.apiToken) });
      const created = await ok(right, 'create_group', { name: 'Mine' });
      expect(sinch.requests).toHaveLength(1);
      expect(sinch.requests[0]).toMatchObject({
        method: 'POST',
        path: `/xms/v1/${sinch.servicePlanId}/groups`,
        headers: { authorization: `Bearer ${sinch.apiToken}` },
      });
      const mistaken = await connect(server.url, { ...bearer(token), ...credentials(sinch.servicePlanId, wrong) });
      const refused = await call(mistaken, 'get_group', { group_id: created.id });
      expect(refused.isError).toBe(true);
      expect(textOf(refused)).toMatch(/^Sinch refused to get group \S+ \(HTTP 401 unauthorized: Invalid or missing credentials\.\)/);
      expect(textOf(refused)).not.toContain(wrong);
      expect(sinch.requests).toHaveLength(2);
      expect(sinch.requests[1]?.headers.authorization).toBe(`Bearer ${wrong}`);
      const before = sinch.requests.length;
      const missing: Record<string, string>[] = [
        {},
        { 'X-Sinch-Service-Plan-Id': sinch.servicePlanId },
        { 'X-Sinch-Api-Token': sinch.apiToken },
        credentials('', sinch.apiToken),
        credentials(sinch.servicePlanId, '  '),
        credentials('../groups', sinch.apiToken),
      ];
      for (const headers of missing) {
        const reply = await raw({ port: server.port, headers: { ...bearer(token), ...headers }, body: LIST_GROUPS });
        expect(reply.status, JSON.stringify(headers)).toBe(401);
        expect(messageOf(reply)).toMatchObject({ error: { message: expect.stringMatching(/X-Sinch-Service-Plan-Id and X-Sinch-Api-Token/) } });
      }
      // The MCP token is still checked first.
      const noBearer = await raw({ port: server.port, headers: credentials(sinch.servicePlanId, sinch.apiToken), body: LIST_GROUPS });
      expect(noBearer.status).toBe(401);
      expect(sinch.requests).toHaveLength(before);
      for (const secret of [sinch.apiToken, wrong, token]) expect(server.stderr()).not.toContain(secret);
      expect(server.stderr()).toMatch(/credentials in the environment are not used/);
    });

    it('interleaved clients with right and wrong credentials each get their own outcome', async ({ kit: { emulator, serve, connect } }) => {
      const sinch = await emulator();
      const token = hex();
      const server = await perRequest(serve, sinch, token);
      // Even clients hold the account's credentials; odd ones a plan and token of their own, which Sinch refuses.
      const accounts = Array.from({ length: 6 }, (_, i) =>
        i % 2 === 0 ? { planId: sinch.servicePlanId, apiToken: sinch.apiToken, good: true } : { planId: `plan${i}${hex()}`, apiToken: `token${i}${hex()}`, good: false },
      );
      const clients = await Promise.all(accounts.map((account) => connect(server.url, { ...bearer(token), ...credentials(account.planId, account.apiToken) })));
      const outcomes = await Promise.all(
        clients.flatMap((client, i) => Array.from({ length: 8 }, (_, j) => call(client, 'create_group', { name: `k${i}-${j}` }).then((result) => ({ i, j, result })))),
      );
      for (const { i, j, result } of outcomes) {
        if (accounts[i]!.good) {
          expect(result.isError, textOf(result)).toBeFalsy();
          expect(result.structuredContent).toMatchObject({ name: `k${i}-${j}` });
        } else {
          expect(result.isError).toBe(true);
          expect(textOf(result)).toMatch(/HTTP 401 unauthorized/);
        }
      }
      // Every request Sinch got carried the credentials of the client whose group it was creating.
      expect(sinch.requests).toHaveLength(48);
      for (const request of sinch.requests) {
        const i = Number(/^k(\d)-\d$/.exec((request.body as { name: string }).name)![1]);
        expect(request.path).toBe(`/xms/v1/${accounts[i]!.planId}/groups`);
        expect(request.headers.authorization).toBe(`Bearer ${accounts[i]!.apiToken}`);
      }
      expect(sinch.store.list(0, 100).groups.map((group) => group.name).sort()).toEqual(
        [0, 2, 4].flatMap((i) => Array.from({ length: 8 }, (_, j) => `k${i}-${j}`)).sort(),
      );
      for (const { apiToken } of accounts) expect(server.stderr()).not.toContain(apiToken);
      expect(server.stderr()).not.toContain(token);
    });
  });

  it('SIGTERM lets a call under way finish, refuses new connections, then exits 0', async ({ kit: { emulator, serve, connect } }) => {
    const sinch = await emulator();
    const token = hex();
    const server = await serve(cleanEnv({ ...sinchEnv(sinch), MCP_AUTH_TOKEN: token }));
    const client = await connect(server.url, bearer(token));
    const group = sinch.store.create({ name: 'Slow' });
    sinch.faults.push({ path: '/groups/', delayMs: 2_500 });
    let settled = false;
    const slow = call(client, 'get_group', { group_id: group.id }).finally(() => (settled = true));
    await until(() => sinch.requests.length === 1);
    const signalled = Date.now();
    server.child.kill('SIGTERM');
    // While the call is still waiting for Sinch, a new connection finds nothing listening (or, when it
    // raced the close, is dropped at once).
    let refusal: unknown;
    while (refusal === undefined && Date.now() - signalled < 2_000) {
      await raw({ port: server.port, method: 'GET', path: '/healthz' }).catch((error: unknown) => (refusal = error));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(['ECONNREFUSED', 'ECONNRESET']).toContain((refusal as NodeJS.ErrnoException | undefined)?.code);
    expect(settled).toBe(false);
    const order: string[] = [];
    const exit = server.exited.finally(() => order.push('exited'));
    const result = await slow.finally(() => order.push('answered'));
    expect(result.isError, textOf(result)).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ id: group.id, name: 'Slow' });
    expect(await exit).toBe(0);
    expect(order).toEqual(['answered', 'exited']);
    expect(sinch.requests).toHaveLength(1);
  });

  it('MCP_ALLOWED_HOSTS matches host names whatever their case', async ({ kit: { emulator, serve } }) => {
    const sinch = await emulator();
    const token = hex();
    const { port } = await serve(cleanEnv({ ...sinchEnv(sinch), MCP_AUTH_TOKEN: token, MCP_ALLOWED_HOSTS: 'MCP.Example.com' }));
    const status = async (host: string) => (await raw({ port, headers: { ...bearer(token), Host: host }, body: rpc('tools/list') })).status;
    expect(await status('MCP.Example.com')).toBe(200);
    expect(await status(`mcp.example.com:${port}`)).toBe(200);
  });

  it('--host [::1], which the settings accept as loopback, is served', async ({ kit: { spawnCli } }) => {
    const { stderr, exited } = spawnCli(['--http', '--host', '[::1]', '--port', '0'], cleanEnv());
    let code: number | null | undefined;
    void exited.then((value) => (code = value));
    await until(() => code !== undefined || /serving MCP at/.test(stderr()), 'the server', 5_000);
    expect(stderr()).not.toMatch(/failed to start/);
    expect(stderr()).toMatch(/serving MCP at http:\/\/\[::1\]:\d+\/mcp \(no authentication: every program and user on this machine can call it\)/);
  });
});
