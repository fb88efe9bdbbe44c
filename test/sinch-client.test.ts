import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { describe, expect } from 'vitest';
import type { Emulator } from '../src/emulator/server.js';
import { describeError, describeUnfinished } from '../src/mcp/errors.js';
import { redact } from '../src/secrets.js';
import { SinchGroupsClient, type ChangeProgress, type SinchClientOptions } from '../src/sinch/client.js';
import { ChangeStoppedError } from '../src/sinch/errors.js';
import { FAST_RETRY, connect, listen, numbers, sent, test, until, type Connection, type Fixtures } from './harness.js';

// The Sinch client against replies no well-behaved Sinch sends: redirects, wrong ids, slow drips, huge
// or hostile texts; and the client's own bounds: deadlines, connections, Retry-After, stopping a change.
// Everything talks HTTP on 127.0.0.1 to the emulator or to a node:http stand-in.

const PLAN = 'plan1';
const ID = '01W4FFL35P4NC4K35SMSGROUP1';
const OTHER = '01W4FFL35P4NC4K35SMSGROUP2';
const groupOf = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  name: 'Team',
  size: 1,
  created_at: '2024-06-06T08:59:22.156Z',
  modified_at: '2024-06-06T08:59:22.156Z',
  ...extra,
});

interface StandIn {
  url: string;
  /** "METHOD path" of every request, in order of arrival. */
  received: string[];
  /** Distinct connections that carried a request. */
  sockets: Set<Socket>;
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
};

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('succeeded but should have failed');
    },
    (error: unknown) => error,
  );
}

/** Stand-ins, servers and clients, each closed when the test ends. */
function kitFor(defer: Fixtures['defer']) {
  /** A stand-in for Sinch that answers with `answer`, given the request and its number (from 0). */
  async function standIn(answer: (req: IncomingMessage, res: ServerResponse, index: number) => void): Promise<StandIn> {
    const received: string[] = [];
    const sockets = new Set<Socket>();
    const server = await listen((req, res) => {
      req.resume();
      req.on('end', () => {
        sockets.add(req.socket);
        received.push(`${req.method} ${req.url?.replace(`/xms/v1/${PLAN}/groups`, '/groups')}`);
        answer(req, res, received.length - 1);
      });
    });
    defer(server.close);
    return { url: server.url, received, sockets };
  }

  /** The real MCP server over a Sinch client pointed at `url`. */
  async function serverFor(url: string, options: Partial<SinchClientOptions> = {}): Promise<Connection> {
    const connection = await connect({ baseUrl: url, servicePlanId: PLAN, apiToken: 'stand-in-token-0123', ...options } as SinchClientOptions);
    defer(() => connection.close());
    return connection;
  }

  function clientFor(options: Partial<SinchClientOptions> & { baseUrl: string }): SinchGroupsClient {
    const client = new SinchGroupsClient({ servicePlanId: PLAN, apiToken: 'stand-in-token-0123', ...options, retry: { ...FAST_RETRY, ...options.retry } } as SinchClientOptions);
    defer(() => client.close());
    return client;
  }

  function emulatorClient(sinch: Emulator, options: Partial<SinchClientOptions> = {}): SinchGroupsClient {
    return clientFor({ baseUrl: sinch.url, servicePlanId: sinch.servicePlanId, apiToken: sinch.apiToken, ...options });
  }
  return { standIn, serverFor, clientFor, emulatorClient };
}

type Kit = ReturnType<typeof kitFor>;

const it = test.extend<{ kit: Kit }>({
  kit: async ({ defer }, use) => {
    await use(kitFor(defer));
  },
});

describe('only 2xx is success', () => {
  it('a DELETE answered 302 with an empty body is an error naming the status, and the redirect is not followed', async ({ kit: { standIn, serverFor } }) => {
    const sinch = await standIn((_req, res) => json(res, 302, undefined, { location: '/elsewhere' }));
    const server = await serverFor(sinch.url);
    const error = await server.fails('delete_group', { group_id: ID, confirm: true });
    expect(error).toContain(`Sinch answered delete group ${ID} with HTTP 302, which is not a success (redirects are not followed)`);
    expect(sinch.received).toEqual([`DELETE /groups/${ID}`]);
  });

  it.for([301, 307])('an update answered %i with a group as its body is an error, not the group', async (status, { kit: { standIn, serverFor } }) => {
    const sinch = await standIn((_req, res) => json(res, status, groupOf(ID), { location: '/elsewhere' }));
    const server = await serverFor(sinch.url);
    const error = await server.fails('update_group', { group_id: ID, add: ['+14155550123'] });
    expect(error).toContain(`with HTTP ${status}, which is not a success`);
    expect(sinch.received).toEqual([`POST /groups/${ID}`]);
  });
});

describe('ids in replies', () => {
  it('a get answered with another group is an error', async ({ kit: { standIn, serverFor } }) => {
    const sinch = await standIn((_req, res) => json(res, 200, groupOf(OTHER)));
    const server = await serverFor(sinch.url);
    const error = await server.fails('get_group', { group_id: ID });
    expect(error).toContain(`get group ${ID} failed: Sinch's reply was about group ${OTHER}, not the group asked for`);
  });

  it('a split update whose first reply names another group sends nothing to that group', async ({ kit: { standIn, clientFor } }) => {
    const sinch = await standIn((_req, res) => json(res, 200, groupOf(OTHER)));
    const client = clientFor({ baseUrl: sinch.url, concurrency: 1 });
    const error = await failure(client.updateGroup(ID, { add: numbers(0, 10_001) }));
    expect(String(error)).toContain(`Sinch's reply was about group ${OTHER}, not the group asked for`);
    expect(sinch.received).toEqual([`POST /groups/${ID}`]);
  });

  it('every chunk of a split replace goes to the group asked for, and a chunk answered for another group fails it', async ({ kit: { standIn, clientFor } }) => {
    const sinch = await standIn((_req, res, index) => json(res, 200, groupOf(index === 0 ? ID : OTHER)));
    const client = clientFor({ baseUrl: sinch.url, concurrency: 1 });
    const error = await failure(client.replaceGroup(ID, { members: numbers(0, 25_000) }));
    expect(describeError(error, 'replace_group')).toContain(
      `It was only partly applied: 1 of 3 requests succeeded, then replace group ${ID} failed: Sinch's reply was about group ${OTHER}, not the group asked for.`,
    );
    expect(sinch.received).toEqual([`PUT /groups/${ID}`, `POST /groups/${ID}`]);
  });

  it('a create answered with the id "." fails before any follow-up request', async ({ kit: { standIn, clientFor } }) => {
    const sinch = await standIn((_req, res) => json(res, 201, groupOf('.')));
    const client = clientFor({ baseUrl: sinch.url });
    const error = describeError(await failure(client.createGroup({ name: 'Big', members: numbers(0, 10_001) })), 'create_group');
    expect(error).toContain("create group failed: Sinch's reply did not have the documented shape (an id that is not 1 to 64 letters and digits at id)");
    expect(error).toContain('check list_groups before creating it again');
    expect(sinch.received).toEqual(['POST /groups']);
  });

  it('ids in a list and in child_groups are checked too', async ({ kit: { standIn, serverFor } }) => {
    const sinch = await standIn((req, res) =>
      req.method === 'GET' && req.url?.endsWith('/groups')
        ? json(res, 200, { page: 0, page_size: 1, count: 1, groups: [groupOf('../x')] })
        : json(res, 200, groupOf(ID, { child_groups: ['a/b'] })),
    );
    const server = await serverFor(sinch.url);
    expect(await server.fails('list_groups')).toContain('(an id that is not 1 to 64 letters and digits at groups.0.id)');
    expect(await server.fails('get_group', { group_id: ID })).toContain('at child_groups.0)');
  });
});

describe('a deadline on each attempt, and on all of them', () => {
  /** Headers at once, then one byte of a never-ending body every 20 ms. */
  const drip = (res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const timer = setInterval(() => res.write(' '), 20);
    res.on('close', () => clearInterval(timer));
  };

  it('a reply that drips a byte at a time ends at SINCH_TIMEOUT_MS, and the error says which bound', async ({ kit: { standIn, serverFor } }) => {
    const sinch = await standIn((_req, res) => drip(res));
    const server = await serverFor(sinch.url, { timeoutMs: 300 });
    const error = await server.fails('get_group', { group_id: ID });
    expect(error).toContain(`get group ${ID} failed: Sinch at ${sinch.url} did not finish its reply within 300 ms (SINCH_TIMEOUT_MS)`);
    expect(sinch.received).toHaveLength(1);
  });

  it('all attempts together end within SINCH_RETRY_MAX_ELAPSED_MS', async ({ kit: { standIn, serverFor } }) => {
    const sinch = await standIn((_req, res, index) => (index === 0 ? json(res, 503, { code: 'service_unavailable', text: 'Later.' }) : drip(res)));
    const server = await serverFor(sinch.url, { timeoutMs: 60_000, retry: { maxElapsedMs: 400 } });
    const error = await server.fails('get_group', { group_id: ID });
    expect(error).toMatch(
      new RegExp(`did not finish its reply within the 400 ms allowed for all attempts \\(SINCH_RETRY_MAX_ELAPSED_MS\\) after 2 attempts over \\d+ ms`),
    );
    expect(sinch.received).toHaveLength(2);
  });
});

describe('bounded connections', () => {
  it('200 concurrent calls share at most maxConnections sockets, and all succeed', async ({ kit: { standIn, clientFor } }) => {
    const sinch = await standIn((_req, res) => setTimeout(() => json(res, 200, groupOf(ID)), 10));
    const client = clientFor({ baseUrl: sinch.url, maxConnections: 5 });
    const groups = await Promise.all(Array.from({ length: 200 }, () => client.getGroup(ID)));
    expect(groups).toHaveLength(200);
    expect(sinch.received).toHaveLength(200);
    expect(sinch.sockets.size).toBeGreaterThan(0);
    expect(sinch.sockets.size).toBeLessThanOrEqual(5);
  });
});

describe('429 and Retry-After', () => {
  const tooMany = { code: 'too_many_requests', text: 'Slow down.' };

  it.for([
    ['seconds', (): string => '120'],
    ['an HTTP date', (): string => new Date(Date.now() + 120_000).toUTCString()],
  ] as const)('Retry-After: 120 s (as %s) ends the call at once, saying how long and until when', async ([_form, header], { kit: { standIn, serverFor } }) => {
    const sinch = await standIn((_req, res) => json(res, 429, tooMany, { 'retry-after': header() }));
    const server = await serverFor(sinch.url);
    const before = Date.now();
    const error = await server.fails('list_groups');
    expect(sinch.received).toEqual(['GET /groups']);
    const match = /it asked to wait (\d+\.\d) s, until (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z), and the retry limits \(SINCH_MAX_RETRIES, SINCH_RETRY_MAX_ELAPSED_MS\) leave no room for that wait/.exec(error);
    expect(match, error).not.toBeNull();
    expect(Number(match![1])).toBeGreaterThan(115);
    expect(Number(match![1])).toBeLessThanOrEqual(120);
    const until = Date.parse(match![2]!);
    expect(until).toBeGreaterThanOrEqual(before + 115_000);
    expect(error).toContain(`Sinch is limiting the request rate and did not process this; try again after ${match![2]}.`);
    expect(error).not.toContain('a few seconds');
  });
});

describe('stopping a change between requests', () => {
  it('aborted before the first request: nothing is sent, and the error says so', async ({ kit: { emulatorClient }, emulator }) => {
    const sinch = await emulator();
    const group = sinch.store.create({ name: 'Team' });
    const client = emulatorClient(sinch);
    const error = await failure(client.updateGroup(group.id, { add: numbers(0, 25_000) }, { signal: AbortSignal.abort() }));
    expect(error).toBeInstanceOf(ChangeStoppedError);
    expect(describeError(error, 'update_group')).toBe(
      `update_group was stopped before anything was sent. Nothing was sent to Sinch for update group ${group.id} (none of its 3 requests went out), so nothing changed. Call update_group again to make the change.`,
    );
    expect(sinch.requests).toEqual([]);
  });

  it('a delete aborted before it is sent sends nothing', async ({ kit: { emulatorClient }, emulator }) => {
    const sinch = await emulator();
    const group = sinch.store.create({ name: 'Team' });
    const error = await failure(emulatorClient(sinch).deleteGroup(group.id, { signal: AbortSignal.abort() }));
    expect(describeError(error, 'delete_group')).toContain(`Nothing was sent to Sinch for delete group ${group.id}`);
    expect(sinch.store.list().count).toBe(1);
  });

  it('an update aborted after its first request: the rest is not sent, and the error says what was applied', async ({ kit: { emulatorClient }, emulator }) => {
    const sinch = await emulator();
    const group = sinch.store.create({ name: 'Team' });
    const client = emulatorClient(sinch);
    const stop = new AbortController();
    const error = await failure(client.updateGroup(group.id, { add: numbers(0, 25_000) }, { signal: stop.signal, onProgress: () => stop.abort() }));
    expect(sent(sinch)).toEqual([`POST /groups/${group.id}`]);
    expect(describeError(error, 'update_group')).toBe(
      `update_group was stopped part-way, as asked; requests already sent were let finish. update group ${group.id}: request 1 of 3 (10,000 numbers): applied; requests 2-3 of 3 (15,000 numbers): not sent. Group ${group.id} now has 10000 members. To finish, call update_group again with the same arguments: repeating the part already applied is harmless.`,
    );
  });

  it('a create aborted after its first request names the group that now exists and how to finish', async ({ kit: { emulatorClient }, emulator }) => {
    const sinch = await emulator();
    const client = emulatorClient(sinch);
    const stop = new AbortController();
    const error = await failure(client.createGroup({ name: 'Big', members: numbers(0, 15_000) }, { signal: stop.signal, onProgress: () => stop.abort() }));
    const [created] = sinch.store.list().groups;
    expect(created).toMatchObject({ name: 'Big', size: 10_000 });
    expect((error as ChangeStoppedError).progress.groupId).toBe(created!.id);
    const text = describeError(error, 'create_group');
    expect(text).toContain(`create group ${created!.id}: request 1 of 2 (10,000 numbers): applied; request 2 of 2 (5,000 numbers): not sent.`);
    expect(text).toContain(`Do not call create_group again (that would make a second group); to finish, call update_group with group_id ${created!.id}`);
  });

  it('a request already sent when the signal aborts is let finish, and counted as applied', async ({ kit: { emulatorClient }, emulator }) => {
    const sinch = await emulator();
    const group = sinch.store.create({ name: 'Team' });
    sinch.faults.push({ after: 1, path: `/groups/${group.id}`, delayMs: 200 });
    const client = emulatorClient(sinch, { concurrency: 1 });
    const stop = new AbortController();
    const change = failure(client.updateGroup(group.id, { add: numbers(0, 25_000) }, { signal: stop.signal }));
    await until(() => sinch.requests.length === 2, 'the second request');
    stop.abort();
    const error = (await change) as ChangeStoppedError;
    expect(error.progress.requests.map(({ state }) => state)).toEqual(['applied', 'applied', 'not sent']);
    expect(sinch.store.get(group.id).size).toBe(20_000);
    expect(sent(sinch)).toHaveLength(2);
  });

  it('settle() says where each unfinished change stands: applied, in flight, not sent, and the group', async ({ kit: { standIn, emulatorClient }, emulator }) => {
    const sinch = await emulator();
    const group = sinch.store.create({ name: 'Team' });
    const other = sinch.store.create({ name: 'Other' });
    const client = emulatorClient(sinch, { concurrency: 1 });
    const stop = new AbortController();
    // A change that completed is not reported.
    await client.updateGroup(group.id, { add: numbers(0, 1) });
    sinch.requests.length = 0;
    sinch.faults.push({ after: 1, path: `/groups/${group.id}`, delayMs: 500 });
    const change = failure(client.updateGroup(group.id, { add: numbers(0, 25_000) }, { signal: stop.signal }));
    // Nor is a read.
    const read = client.getGroup(other.id);
    await until(() => sinch.requests.length === 3, 'the second request of the change');
    stop.abort();
    const unfinished: ChangeProgress[] = await client.settle(50);
    expect(unfinished).toHaveLength(1);
    expect(unfinished[0]).toMatchObject({ groupId: group.id, operation: { action: 'update group', groupId: group.id } });
    expect(describeUnfinished(unfinished[0]!)).toBe(
      `update group ${group.id}: request 1 of 3 (10,000 numbers): applied; request 2 of 3 (10,000 numbers): sent and not answered yet, so whether Sinch applied it is not known; request 3 of 3 (5,000 numbers): not sent. To finish, call update_group again with the same arguments: repeating the part already applied is harmless.`,
    );
    await read;
    // Once the request in flight is answered, the change ends as stopped, with that request applied.
    const stopped = (await change) as ChangeStoppedError;
    expect(stopped.progress.requests.map(({ state }) => state)).toEqual(['applied', 'applied', 'not sent']);
  });
});

describe('per-request credentials', () => {
  /** Echoes the Authorization header, and `extra`, in a Sinch error. */
  const echo = (standIn: Kit['standIn'], extra = '') =>
    standIn((req, res) => json(res, 400, { code: 'bad_request', text: `Got ${req.headers.authorization}${extra}` }));

  it("a caller's own token is masked in its errors however many other callers came since", async ({ kit: { standIn, clientFor } }) => {
    const sinch = await echo(standIn);
    const mine = 'my-own-token-0123456789';
    const client = clientFor({ baseUrl: sinch.url, apiToken: mine, perRequest: true });
    for (let i = 0; i < 1_100; i++) clientFor({ baseUrl: sinch.url, apiToken: `someone-else-${i}-abcdef`, perRequest: true });
    const text = describeError(await failure(client.getGroup(ID)), 'get_group');
    expect(text).toContain('(HTTP 400 bad_request: Got Bearer [redacted])');
    expect(text).not.toContain(mine);
  });

  it("one caller's token masks nothing in another caller's errors, and is not kept", async ({ kit: { standIn, clientFor } }) => {
    const sinch = await echo(standIn, ' for Group members');
    const odd = 'Group members';
    clientFor({ baseUrl: sinch.url, apiToken: odd, perRequest: true });
    const other = clientFor({ baseUrl: sinch.url, apiToken: 'other-token-0123456789', perRequest: true });
    const text = describeError(await failure(other.getGroup(ID)), 'get_group');
    expect(text).toContain('Got Bearer [redacted] for Group members');
    expect(redact(`a text naming ${odd}`)).toBe(`a text naming ${odd}`);
    expect(redact('other-token-0123456789')).toBe('other-token-0123456789');
  });

  it("the process's own credentials stay masked everywhere", async ({ kit: { standIn, clientFor } }) => {
    const sinch = await echo(standIn);
    const own = 'process-own-token-0123456789';
    const client = clientFor({ baseUrl: sinch.url, apiToken: own });
    expect(describeError(await failure(client.getGroup(ID)), 'get_group')).not.toContain(own);
    expect(redact(`log line with ${own}`)).toBe('log line with [redacted]');
  });
});

describe('untrusted reply content', () => {
  it("a 20 MB error text is cut to 1,000 characters", async ({ kit: { standIn, serverFor } }) => {
    const sinch = await standIn((_req, res) => json(res, 400, { code: 'x'.repeat(5_000), text: 'y'.repeat(20 * 1024 * 1024) }));
    const server = await serverFor(sinch.url);
    const error = await server.fails('get_group', { group_id: ID });
    expect(error).toContain(`(HTTP 400 ${'x'.repeat(999)}…: ${'y'.repeat(999)}…)`);
    expect(error).not.toContain('x'.repeat(1_000));
    expect(error.length).toBeLessThan(3_000);
  });

  it('control characters and bidi overrides are taken out of error texts and group names', async ({ kit: { standIn, serverFor } }) => {
    const hostile = 'Bad\u0007 \u001b[31mred\u001b[0m\r\nnext\u0085 \u202Egnp.exe\u202C \u2066x\u2069';
    const sinch = await standIn((req, res) =>
      req.method === 'GET' ? json(res, 200, groupOf(ID, { name: `Te\u202Eam\u0000` })) : json(res, 400, { code: `c\u0000ode`, text: hostile }),
    );
    const server = await serverFor(sinch.url);
    const error = await server.fails('update_group', { group_id: ID, add: ['+14155550123'] });
    const group = await server.ok('get_group', { group_id: ID });
    expect(error).toContain('(HTTP 400 code: Bad [31mred[0m next gnp.exe x)');
    expect(error).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    expect(group).toMatchObject({ name: 'Team' });
  });

  it.for(['<script>alert(1)</script>', '+1 415 555', ''])('a member %j makes the reply malformed, never passed on', async (member, { kit: { standIn, serverFor } }) => {
    const sinch = await standIn((_req, res) => json(res, 200, ['14155550123', member]));
    const server = await serverFor(sinch.url);
    const error = await server.fails('list_group_members', { group_id: ID });
    expect(error).toContain("Sinch's reply did not have the documented shape (a member that is not a phone number (digits only) at 1)");
    expect(error).not.toContain('<script>');
  });
});

describe('honest wording when a change may have been applied', () => {
  it('a connection cut part-way through a split update: no stale size, and "cut after the request was sent"', async ({ emulator, defer }) => {
    const sinch = await emulator();
    const group = sinch.store.create({ name: 'Team', members: ['+14155550123'] });
    sinch.faults.push({ after: 1, drop: true }, { drop: true }, { drop: true }, { drop: true });
    const server = await connect({ baseUrl: sinch.url, servicePlanId: sinch.servicePlanId, apiToken: sinch.apiToken });
    defer(() => server.close());
    const error = await server.fails('update_group', { group_id: group.id, add: numbers(0, 10_001) });
    expect(error).toContain(`the connection to Sinch at ${sinch.url} was cut after the request was sent, before Sinch answered`);
    expect(error).not.toContain('could not reach');
    expect(error).not.toContain('now has');
    expect(error).toContain(`Group ${group.id} had 10001 members after the last request Sinch confirmed; its size now is not known`);
  });
});
