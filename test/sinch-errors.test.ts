import type { IncomingMessage } from 'node:http';
import { describe, expect } from 'vitest';
import { startEmulator } from '../src/emulator/server.js';
import type { Group } from '../src/sinch/schemas.js';
import { bare, connect as connectServer, groupPath, listen, number, numbers, since, summary, test as base, TOOL_NAMES_WITHOUT_JOURNAL, type Fixtures, type Harness } from './harness.js';

// Sinch's refusals reach the assistant as isError text carrying the HTTP status and Sinch's own code and
// text, with advice; never a crash, and never a credential.

/** Every token used in this file; none may appear in any error text. */
const tokens = new Set<string>();

/** Checks an error text for every token seen so far, then returns it. */
function noTokens(text: string): string {
  expect(text.length).toBeGreaterThan(0);
  for (const token of tokens) expect(text).not.toContain(token);
  return text;
}

/** The harness, its error texts checked for tokens. */
const checked = (h: Harness) => {
  tokens.add(h.emulator.apiToken);
  return async (tool: string, args: Record<string, unknown>) => noTokens(await h.fails(tool, args));
};

/** vitest's `test` with `fails`: the harness's `fails`, its error texts checked for tokens. */
const test = base.extend<{ fails: (tool: string, args: Record<string, unknown>) => Promise<string> }>({
  fails: async ({ h }, use) => {
    await use(checked(h));
  },
});

/** The real server over a Sinch client with other settings; its errors are checked for tokens too. */
async function connect(defer: Fixtures['defer'], options: { baseUrl: string; servicePlanId: string; apiToken: string }) {
  tokens.add(options.apiToken);
  const connection = await connectServer(options);
  defer(() => connection.close());
  return { ...connection, fails: async (tool: string, args?: Record<string, unknown>) => noTokens(await connection.fails(tool, args)) };
}

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A stand-in for a Sinch gateway that answers every request with one status and body, and a server over it. */
async function behindFake(defer: Fixtures['defer'], status: number, body: string) {
  const received: Received[] = [];
  const server = await listen((req, res) => {
    let data = '';
    req.on('data', (chunk: Buffer) => (data += chunk.toString('utf8')));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: data });
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
      res.end(body);
    });
  });
  defer(server.close);
  const sinch = await connect(defer, { baseUrl: server.url, servicePlanId: 'plan1', apiToken: `fake-token-${status}` });
  return { received, sinch };
}

const MISSING = '01W4FFL35P4NC4K35SMSGROUP1';
/** An add over 10,000 is sent as several requests, so Sinch can fail after some have been applied. */
const ADD = numbers(1, 10_002);

describe('403 unknown_group', () => {
  test('add_from_group naming a missing group: Sinch\'s code and text, and the group is unchanged', async ({ h, fails }) => {
    const group = await h.ok<Group>('create_group', { name: 'Target', members: ['+14155550123'] });
    const error = await fails('update_group', { group_id: group.id, add_from_group: MISSING });
    expect(error).toContain('HTTP 403 unknown_group');
    expect(error).toContain('One or more groups referenced in your request could not be found');
    expect(error).toContain('add_from_group, remove_from_group or child_groups does not exist');
    expect(h.emulator.requests.at(-1)).toMatchObject({ method: 'POST', path: groupPath(h.emulator, group.id), body: { add_from_group: MISSING } });
    expect(h.emulator.store.members(group.id)).toEqual(['14155550123']);
  });

  // update_group reads remove_from_group's members to weigh the removal, so the missing group is a 404
  // on that read, before Sinch could be asked to change anything, even a change split over several requests.
  test.for([
    ['alone', {}],
    ['with an add of several requests', { add: ADD }],
  ] as const)('remove_from_group naming a missing group (%s) is found before anything changes', async ([, extra], { h, fails }) => {
    const group = await h.ok<Group>('create_group', { members: [number(0)] });
    const before = h.emulator.requests.length;
    const error = await fails('update_group', { group_id: group.id, remove_from_group: MISSING, ...extra });
    expect(error).toBe(`Nothing was changed: remove_from_group names group ${MISSING}, which does not exist; check the id with list_groups.`);
    // Only reads: the group, to weigh the removal, and the members of both groups.
    const requests = summary(since(h.emulator, before));
    expect(requests).toContain(`GET ${groupPath(h.emulator, MISSING)}/members`);
    expect(requests.every((request) => request.startsWith('GET '))).toBe(true);
    expect(h.emulator.store.members(group.id)).toEqual([bare(number(0))]);
  });

  test('create_group with a missing child group creates nothing', async ({ h, fails }) => {
    const error = await fails('create_group', { name: 'Parent', child_groups: [MISSING] });
    expect(error).toContain('Sinch refused to create group (HTTP 403 unknown_group');
    expect(h.emulator.store.list().count).toBe(0);
  });
});

describe('a change split over several requests', () => {
  test('Sinch failing part-way: the error says what landed, and repeating the call completes it', async ({ h, fails }) => {
    const group = await h.ok<Group>('create_group', { members: [number(0)] });
    // The first attempt and its three retries all fail.
    const unavailable = { status: 503, body: '{"code":"service_unavailable","text":"Try later"}' };
    h.emulator.faults.push({ after: 1, ...unavailable }, unavailable, unavailable, unavailable);
    const error = await fails('update_group', { group_id: group.id, add: ADD });
    expect(error).toContain('It was only partly applied: 1 of 2 requests succeeded');
    expect(error).toMatch(/after 4 attempts over \d+ ms \(HTTP 503 service_unavailable: Try later\)/);
    // A 5xx may or may not have been applied, so only the size Sinch last confirmed is stated.
    expect(error).toContain(`request 1 of 2 (10,000 numbers): applied; request 2 of 2 (1 number): sent, but whether Sinch applied it is not known`);
    expect(error).toContain(`Group ${group.id} had 10001 members after the last request Sinch confirmed; its size now is not known`);
    expect(error).toContain('When Sinch is available again, call update_group again with the same arguments');
    expect(h.emulator.store.members(group.id)).toHaveLength(10_001);
    const done = await h.ok<Group>('update_group', { group_id: group.id, add: ADD });
    expect(done.size).toBe(10_002);
  });

  test('a refusal part-way is not promised to go away by itself', async ({ h, fails }) => {
    const group = await h.ok<Group>('create_group', { members: [number(0)] });
    h.emulator.faults.push({ after: 1, status: 400, body: '{"code":"syntax_constraint_violation","text":"No"}' });
    const error = await fails('replace_group', { group_id: group.id, members: ADD, confirm: true });
    expect(error).toContain('It was only partly applied: 1 of 2 requests succeeded');
    expect(error).toContain('Once the cause is fixed, call replace_group again with the same arguments');
  });

  test('create_group failing part-way names the new group and says not to create it again', async ({ h, fails }) => {
    h.emulator.faults.push({ after: 1, status: 500 }, { status: 500 }, { status: 500 }, { status: 500 });
    const error = await fails('create_group', { name: 'Big', members: ADD });
    const [created] = h.emulator.store.list().groups;
    expect(created).toMatchObject({ name: 'Big', size: 10_000 });
    expect(error).toContain(`Group ${created!.id} had 10000 members after the last request Sinch confirmed`);
    expect(error).toContain('Do not call create_group again');
    expect(error).toContain(`call update_group with group_id ${created!.id} and add set to the same members`);
  });
});

describe('404 for a missing group', () => {
  test.for([
    ['get_group', {}],
    ['list_group_members', {}],
    ['update_group', { add: ['+14155550123'] }],
    ['replace_group', { members: ['+14155550123'] }],
    ['delete_group', {}],
  ] as const)('%s says the group does not exist', async ([tool, rest], { h, fails }) => {
    const error = await fails(tool, { group_id: MISSING, ...rest });
    for (const part of ['(HTTP 404)', `Group ${MISSING} does not exist`, 'list_groups']) expect(error).toContain(part);
    expect(h.emulator.requests).toMatchObject([{ path: expect.stringContaining(`/groups/${MISSING}`) }]);
  });

  test('a deleted group is missing for every later operation', async ({ h, fails }) => {
    const group = await h.ok<Group>('create_group', { name: 'Gone' });
    await h.ok('delete_group', { group_id: group.id, confirm: true });
    for (const tool of ['get_group', 'update_group', 'delete_group']) {
      expect(await fails(tool, { group_id: group.id })).toContain(`Group ${group.id} does not exist`);
    }
  });
});

describe('401 bad credentials', () => {
  test('a wrong token gets Sinch\'s 401 and advice on the credentials', async ({ h, defer }) => {
    const wrongToken = 'wrong-token-0123456789abcdef';
    const sinch = await connect(defer, { baseUrl: h.emulator.url, servicePlanId: h.emulator.servicePlanId, apiToken: wrongToken });
    for (const [tool, args] of [
      ['list_groups', {}],
      ['create_group', { name: 'Nope' }],
      ['get_group', { group_id: MISSING }],
    ] as const) {
      const error = await sinch.fails(tool, args);
      expect(error).toContain('HTTP 401 unauthorized: Invalid or missing credentials');
      expect(error).toContain('SINCH_API_TOKEN');
    }
    expect(h.emulator.requests.map((r) => r.headers.authorization)).toEqual(Array(3).fill(`Bearer ${wrongToken}`));
    expect(h.emulator.store.list().count).toBe(0);
  });

  test('a wrong service plan id is refused the same way', async ({ h, defer }) => {
    const sinch = await connect(defer, { baseUrl: h.emulator.url, servicePlanId: 'otherplan', apiToken: h.emulator.apiToken });
    expect(await sinch.fails('list_groups')).toContain('HTTP 401 unauthorized');
    expect(h.emulator.requests[0]!.path).toBe('/xms/v1/otherplan/groups');
  });
});

describe('unreachable Sinch', () => {
  test('a closed port gives a clear error, not a crash, and the server keeps working', async ({ defer }) => {
    const gone = await startEmulator();
    const { url, servicePlanId, apiToken } = gone;
    await gone.close();
    const sinch = await connect(defer, { baseUrl: url, servicePlanId, apiToken });
    const error = await sinch.fails('list_groups');
    expect(error).toContain(`list groups failed: could not reach Sinch at ${url}`);
    expect(error).toContain('ECONNREFUSED');
    expect(error).toMatch(/after 4 attempts over \d+ ms\. Nothing reached Sinch, so nothing changed\./);
    // The server is still there: another call fails the same way, and the tools are still listed.
    expect(await sinch.fails('create_group', { name: 'Later' })).toContain(`could not reach Sinch at ${url}`);
    expect((await sinch.client.listTools()).tools.map((tool) => tool.name).sort()).toEqual(TOOL_NAMES_WITHOUT_JOURNAL);
  });
});

describe('other gateway shapes and statuses', () => {
  test('{"error": {code, message, status}} is read: INVALID_ARGUMENT and the message', async ({ defer }) => {
    const message = "Field 'name' is malformed.";
    const { received, sinch } = await behindFake(defer, 400, JSON.stringify({ error: { code: 400, message, status: 'INVALID_ARGUMENT', details: [] } }));
    const error = await sinch.fails('create_group', { name: 'Team' });
    expect(error).toContain(`Sinch refused to create group (HTTP 400 INVALID_ARGUMENT: ${message})`);
    expect(error).toContain('Correct the request');
    expect(received).toMatchObject([
      { method: 'POST', url: '/xms/v1/plan1/groups', body: '{"name":"Team"}', headers: { authorization: 'Bearer fake-token-400' } },
    ]);
  });

  test('Sinch\'s own 400 shape: syntax_invalid_parameter_format and its text', async ({ defer }) => {
    const sinchText = "The format of parameter 'members[0]' is invalid; value '+1' is not a valid MSISDN or group ID.";
    const { sinch } = await behindFake(defer, 400, JSON.stringify({ code: 'syntax_invalid_parameter_format', text: sinchText }));
    const error = await sinch.fails('update_group', { group_id: MISSING, add: ['+14155550123'] });
    expect(error).toContain(`Sinch refused to update group ${MISSING} (HTTP 400 syntax_invalid_parameter_format: ${sinchText})`);
  });

  test.for([
    [429, 'too_many_requests', 'gave no time to wait, so wait a minute or more before trying again'],
    [500, 'internal_error', 'problem on its side'],
    [503, 'service_unavailable', 'problem on its side'],
  ] as const)('HTTP %i comes back with its code and advice', async ([status, code, advice], { defer }) => {
    const { sinch } = await behindFake(defer, status, JSON.stringify({ code, text: 'Try later.' }));
    const error = await sinch.fails('get_group', { group_id: MISSING });
    expect(error).toContain(`(HTTP ${status} ${code}: Try later.)`);
    expect(error).toContain(advice);
  });

  test('an error body that is not JSON still gives the status', async ({ defer }) => {
    const { sinch } = await behindFake(defer, 502, '<html>Bad gateway</html>');
    const error = await sinch.fails('list_groups');
    expect(error).toMatch(/Sinch refused to list groups after 4 attempts over \d+ ms \(HTTP 502\)/);
    expect(error).not.toContain('<html>');
  });

  test('a success whose body is not the documented shape is an error, not a crash', async ({ defer }) => {
    const { sinch } = await behindFake(defer, 200, JSON.stringify({ unexpected: true }));
    const error = await sinch.fails('get_group', { group_id: MISSING });
    expect(error).toContain(`get group ${MISSING} failed: Sinch's reply did not have the documented shape`);
  });
});

describe('tokens never leak', () => {
  test('no error text in this file carried a token, including the harness\'s', async ({ h, fails }) => {
    await fails('get_group', { group_id: MISSING });
    await fails('update_group', { group_id: MISSING, add_from_group: MISSING });
    await fails('list_group_members', { group_id: MISSING, cursor: 'bogus' });
    // Every helper above ran noTokens on each text; this guards the guard.
    expect(() => noTokens(`leak ${h.emulator.apiToken}`)).toThrow();
  });
});
