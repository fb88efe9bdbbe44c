import { Agent, request } from 'undici';
import { describe, expect, vi } from 'vitest';
import { seedExampleGroups } from '../src/emulator/seed.js';
import { startEmulator, type Emulator } from '../src/emulator/server.js';
import type { Group, GroupPage } from '../src/emulator/store.js';
import { number, test } from './harness.js';

interface CallOptions {
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
}

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';

const FORM = 'application/x-www-form-urlencoded';

function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
}

/** Requests to one emulator: its groups API with the service plan, its token endpoint, its groups API with the project. */
function apiFor(emulator: Emulator) {
  /** One request to the groups API, authenticated; `body` goes as JSON, `rawBody` as given, with only the headers given. */
  async function call(method: Method, path = '', options: CallOptions = {}) {
    const rawBody = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
    const query = options.query ? `?${new URLSearchParams(options.query)}` : '';
    const res = await request(`${emulator.url}/xms/v1/${emulator.servicePlanId}/groups${path}${query}`, {
      method,
      headers: {
        authorization: `Bearer ${emulator.apiToken}`,
        ...(options.body !== undefined && { 'content-type': 'application/json' }),
        ...options.headers,
      },
      body: rawBody,
    });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, text, json: text ? (JSON.parse(text) as unknown) : undefined };
  }

  async function createGroup(body: unknown): Promise<Group> {
    const res = await call('POST', '', { body });
    expect(res.status).toBe(201);
    return res.json as Group;
  }

  async function membersOf(id: string): Promise<unknown> {
    const res = await call('GET', `/${id}/members`);
    expect(res.status).toBe(200);
    return res.json;
  }

  /** One request to the token endpoint; by default a correct client-credentials grant. */
  async function tokenRequest(
    options: { method?: 'GET' | 'POST'; authorization?: string | null; contentType?: string | null; body?: string } = {},
    target: Emulator = emulator,
  ) {
    const authorization = options.authorization === undefined ? basic(target.keyId, target.keySecret) : options.authorization;
    const contentType = options.contentType === undefined ? FORM : options.contentType;
    const method = options.method ?? 'POST';
    const res = await request(target.tokenUrl, {
      method,
      headers: { ...(authorization !== null && { authorization }), ...(contentType !== null && { 'content-type': contentType }) },
      body: method === 'POST' ? (options.body ?? 'grant_type=client_credentials') : undefined,
    });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, text, json: text ? (JSON.parse(text) as unknown) : undefined };
  }

  async function accessToken(target: Emulator = emulator): Promise<string> {
    const res = await tokenRequest({}, target);
    expect(res.status).toBe(200);
    return (res.json as { access_token: string }).access_token;
  }

  /** One request to the groups API under the project, with the given bearer token. */
  async function projectCall(token: string, method: Method, path = '', body?: unknown, target: Emulator = emulator) {
    const res = await request(`${target.url}/xms/v1/${target.projectId}/groups${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, text, json: text ? (JSON.parse(text) as unknown) : undefined };
  }
  return { emulator, call, createGroup, membersOf, tokenRequest, accessToken, projectCall };
}

const it = test.extend<{ api: ReturnType<typeof apiFor> }>({
  api: async ({ emulator: start }, use) => {
    await use(apiFor(await start()));
  },
});

function invalidNumber(field: string, value: string) {
  return {
    code: 'syntax_invalid_parameter_format',
    text: `The format of parameter '${field}' is invalid; value '${value}' is not a valid MSISDN or group ID.`,
  };
}

const UNKNOWN_GROUP = {
  code: 'unknown_group',
  text: 'One or more groups referenced in your request could not be found',
};

const numbers = (count: number) => Array.from({ length: count }, (_, i) => number(i));

/** A reply's status and JSON body, to compare at once. */
const reply = (res: { status: number; json: unknown }) => ({ status: res.status, json: res.json });

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const MISSING_ID = '01W4FFL35P4NC4K35SMSGROUP1';

describe('create', () => {
  it('returns 201 with the group, its size, timestamps and no members field', async ({ api: { call } }) => {
    const res = await call('POST', '', { body: { name: 'VIP customers', members: ['+14155550123', '+447700900123'] } });
    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toBe('application/json');
    const group = res.json as Group;
    expect(group).toEqual({
      id: expect.stringMatching(ULID),
      name: 'VIP customers',
      size: 2,
      created_at: expect.stringMatching(ISO_MS),
      modified_at: group.created_at,
    });
  });

  it('accepts an empty body and leaves the name out', async ({ api: { createGroup } }) => {
    const group = await createGroup({});
    expect(Object.keys(group).sort()).toEqual(['created_at', 'id', 'modified_at', 'size']);
    expect(group.size).toBe(0);
  });

  it('gives each group a new, time-ordered ID', async ({ api: { createGroup } }) => {
    const first = await createGroup({});
    const second = await createGroup({});
    expect(second.id).not.toBe(first.id);
    expect(second.id.slice(0, 10) >= first.id.slice(0, 10)).toBe(true);
  });

  it('stores auto_update and existing child_groups and returns them', async ({ api: { createGroup } }) => {
    const child = await createGroup({ name: 'Child' });
    const autoUpdate = { to: '+15551231234', add: { first_word: 'JOIN' }, remove: { first_word: 'Sinch', second_word: 'STOP' } };
    const group = await createGroup({ name: 'Parent', child_groups: [child.id], auto_update: autoUpdate });
    expect(group.child_groups).toEqual([child.id]);
    expect(group.auto_update).toEqual(autoUpdate);
    expect(group.size).toBe(0); // child members are not merged in
  });

  it('ignores unknown top-level fields', async ({ api: { createGroup } }) => {
    const group = await createGroup({ name: 'Plain', colour: 'blue' });
    expect(group).not.toHaveProperty('colour');
  });
});

describe('get', () => {
  it('returns the group as created', async ({ api: { call, createGroup } }) => {
    const created = await createGroup({ name: 'Newsletter', members: ['+46701740605'] });
    const res = await call('GET', `/${created.id}`);
    expect(reply(res)).toEqual({ status: 200, json: created });
  });

  it('answers 404 with an empty body for an unknown group', async ({ api: { call } }) => {
    const res = await call('GET', `/${MISSING_ID}`);
    expect(res.status).toBe(404);
    expect(res.text).toBe('');
  });
});

describe('members', () => {
  it('returns a bare array of numbers without "+", whatever format they came in', async ({ api: { createGroup, membersOf } }) => {
    const group = await createGroup({ members: ['+14155550123', '00447700900123', '+46 (70) 174-06-05', '16051234567'] });
    expect(await membersOf(group.id)).toEqual(['14155550123', '447700900123', '46701740605', '16051234567']);
  });

  it('accepts the numbers from Sinch documentation', async ({ api: { createGroup } }) => {
    const documented = ['+14058961234', '+447911123456', '+55987654321', '+4612345678', '+15551235555', '16051234567'];
    const group = await createGroup({ members: documented });
    expect(group.size).toBe(6);
  });
});

describe('list', () => {
  it('lists one page: 2 groups with page_size=2, newest first', async ({ api: { call, createGroup } }) => {
    const older = await createGroup({ name: 'Older' });
    const newer = await createGroup({ name: 'Newer' });
    const res = await call('GET', '', { query: { page: '0', page_size: '2' } });
    expect(reply(res)).toEqual({ status: 200, json: { page: 0, page_size: 2, count: 2, groups: [newer, older] } });
  });

  it('lists all: 3 groups across 2 pages', async ({ api: { call, createGroup } }) => {
    const [a, b, c] = [await createGroup({ name: 'A' }), await createGroup({ name: 'B' }), await createGroup({ name: 'C' })];
    const first = await call('GET', '', { query: { page: '0', page_size: '2' } });
    const second = await call('GET', '', { query: { page: '1', page_size: '2' } });
    expect(first.json).toEqual({ page: 0, page_size: 2, count: 3, groups: [c, b] });
    expect(second.json).toEqual({ page: 1, page_size: 1, count: 3, groups: [a] });
  });

  it('answers a page past the end with no groups and page_size 0', async ({ api: { call, createGroup } }) => {
    await createGroup({});
    const res = await call('GET', '', { query: { page: '3', page_size: '2' } });
    expect(reply(res)).toEqual({ status: 200, json: { page: 3, page_size: 0, count: 1, groups: [] } });
  });

  it('defaults to page 0 with 30 groups', async ({ api: { emulator, call } }) => {
    for (let i = 0; i < 31; i++) emulator.store.create({});
    const page = (await call('GET')).json as GroupPage;
    expect({ page: page.page, page_size: page.page_size, count: page.count }).toEqual({ page: 0, page_size: 30, count: 31 });
  });

  it('refuses page_size above 100, and paging values that are not non-negative integers', async ({ api: { call } }) => {
    expect(await call('GET', '', { query: { page_size: '100' } })).toMatchObject({ status: 200 });
    expect(await call('GET', '', { query: { page_size: '101' } })).toMatchObject({
      status: 400,
      json: { code: 'syntax_constraint_violation', text: "Parameter 'page_size' must be between 1 and 100." },
    });
    expect(await call('GET', '', { query: { page: '-1' } })).toMatchObject({
      status: 400,
      json: {
        code: 'syntax_invalid_parameter_format',
        text: "The format of parameter 'page' is invalid; value '-1' is not a non-negative integer.",
      },
    });
    expect(await call('GET', '', { query: { page_size: 'ten' } })).toMatchObject({
      status: 400,
      json: { code: 'syntax_invalid_parameter_format' },
    });
  });
});

describe('update', () => {
  it('applies additions before removals, so a number on both lists ends up out', async ({ api: { call, createGroup, membersOf } }) => {
    const group = await createGroup({ name: 'Team', members: ['+14155550100', '+14155550101'] });
    const res = await call('POST', `/${group.id}`, {
      body: { add: ['+14155550102', '+14155550103'], remove: ['+14155550101', '+14155550103'] },
    });
    expect(res.status).toBe(200);
    const updated = res.json as Group;
    expect(updated).toEqual({ ...group, size: 2, modified_at: expect.stringMatching(ISO_MS) });
    expect(updated.modified_at > group.modified_at).toBe(true);
    expect(await membersOf(group.id)).toEqual(['14155550100', '14155550102']);
  });

  it('ignores duplicate adds, in the request and against existing members', async ({ api: { call, createGroup } }) => {
    const group = await createGroup({ members: ['+14155550100', '14155550100', '+1 415 555 0100'] });
    expect(group.size).toBe(1);
    const res = await call('POST', `/${group.id}`, { body: { add: ['+14155550100', '0014155550100'] } });
    expect(res.status).toBe(200);
    expect((res.json as Group).size).toBe(1);
  });

  it('accepts removing numbers that are not members', async ({ api: { call, createGroup, membersOf } }) => {
    const group = await createGroup({ members: ['+14155550100'] });
    const res = await call('POST', `/${group.id}`, { body: { remove: ['+447700900999'] } });
    expect(res.status).toBe(200);
    expect(await membersOf(group.id)).toEqual(['14155550100']);
  });

  it('removes the name on name: null, so the field is absent', async ({ api: { call, createGroup } }) => {
    const group = await createGroup({ name: 'Temporary' });
    const res = await call('POST', `/${group.id}`, { body: { name: null } });
    expect(res.status).toBe(200);
    expect(res.json).not.toHaveProperty('name');
    expect((await call('GET', `/${group.id}`)).json).not.toHaveProperty('name');
  });

  it('keeps the name when it is omitted, and renames when it is given', async ({ api: { call, createGroup } }) => {
    const group = await createGroup({ name: 'Keep me' });
    expect((await call('POST', `/${group.id}`, { body: { add: ['+14155550100'] } })).json).toMatchObject({ name: 'Keep me' });
    expect((await call('POST', `/${group.id}`, { body: { name: 'Renamed' } })).json).toMatchObject({ name: 'Renamed' });
  });

  it('copies members once with add_from_group, and takes them out with remove_from_group', async ({ api: { call, createGroup, membersOf } }) => {
    const target = await createGroup({ members: ['+14155550100', '+14155550101'] });
    const source = await createGroup({ members: ['+14155550101', '+14155550102'] });
    await call('POST', `/${target.id}`, { body: { add_from_group: source.id } });
    expect(await membersOf(target.id)).toEqual(['14155550100', '14155550101', '14155550102']);
    // A one-time copy: later changes to the source do not follow.
    await call('POST', `/${source.id}`, { body: { add: ['+14155550103'] } });
    expect(await membersOf(target.id)).toEqual(['14155550100', '14155550101', '14155550102']);
    const res = await call('POST', `/${target.id}`, { body: { remove_from_group: source.id } });
    expect((res.json as Group).size).toBe(1);
    expect(await membersOf(target.id)).toEqual(['14155550100']);
    expect(await membersOf(source.id)).toEqual(['14155550101', '14155550102', '14155550103']);
  });

  it('refuses add_from_group or remove_from_group naming a missing group with 403, changing nothing', async ({ api: { call, createGroup, membersOf } }) => {
    const group = await createGroup({ name: 'Stable', members: ['+14155550100'] });
    for (const field of ['add_from_group', 'remove_from_group']) {
      const res = await call('POST', `/${group.id}`, { body: { add: ['+14155550101'], name: 'Changed', [field]: MISSING_ID } });
      expect(reply(res)).toEqual({ status: 403, json: UNKNOWN_GROUP });
    }
    expect((await call('GET', `/${group.id}`)).json).toEqual(group);
    expect(await membersOf(group.id)).toEqual(['14155550100']);
  });

  it('answers 404 with an empty body for an unknown group', async ({ api: { call } }) => {
    const res = await call('POST', `/${MISSING_ID}`, { body: { add: ['+14155550100'] } });
    expect(res.status).toBe(404);
    expect(res.text).toBe('');
  });
});

describe('child_groups', () => {
  it('refuses a missing group with 403 on create and on replace', async ({ api: { call, createGroup } }) => {
    const created = await call('POST', '', { body: { child_groups: [MISSING_ID] } });
    expect(reply(created)).toEqual({ status: 403, json: UNKNOWN_GROUP });
    const group = await createGroup({ name: 'Parent' });
    const replaced = await call('PUT', `/${group.id}`, { body: { members: [], child_groups: [MISSING_ID] } });
    expect(reply(replaced)).toEqual({ status: 403, json: UNKNOWN_GROUP });
    expect((await call('GET', `/${group.id}`)).json).toEqual(group);
  });

  it('refuses an ID that is not letters and digits', async ({ api: { call } }) => {
    const res = await call('POST', '', { body: { child_groups: ['not-an-id'] } });
    expect(reply(res)).toEqual({ status: 400, json: invalidNumber('child_groups[0]', 'not-an-id') });
  });
});

describe('replace', () => {
  it('swaps everything: fields not given are cleared, id and created_at are kept', async ({ api: { call, createGroup, membersOf } }) => {
    const group = await createGroup({
      name: 'Before',
      members: ['+14155550100', '+14155550101'],
      auto_update: { to: '+15551231234', add: { first_word: 'JOIN' } },
    });

    const res = await call('PUT', `/${group.id}`, { body: { members: ['+447700900123', '+447700900123'] } });
    expect(res.status).toBe(200);
    const replaced = res.json as Group;
    expect(replaced).toEqual({ id: group.id, size: 1, created_at: group.created_at, modified_at: expect.stringMatching(ISO_MS) });
    expect(replaced.modified_at > group.modified_at).toBe(true);
    expect(await membersOf(group.id)).toEqual(['447700900123']);
  });

  it('sets the name and child groups given', async ({ api: { call, createGroup } }) => {
    const child = await createGroup({});
    const group = await createGroup({ name: 'Before' });
    const res = await call('PUT', `/${group.id}`, { body: { members: [], name: 'After', child_groups: [child.id] } });
    expect(res.json).toMatchObject({ id: group.id, name: 'After', size: 0, child_groups: [child.id] });
  });

  it('requires members', async ({ api: { call, createGroup } }) => {
    const group = await createGroup({ name: 'Kept' });
    const res = await call('PUT', `/${group.id}`, { body: { name: 'Other' } });
    expect(reply(res)).toEqual({ status: 400, json: { code: 'syntax_constraint_violation', text: "Parameter 'members' is required." } });
    expect((await call('GET', `/${group.id}`)).json).toEqual(group);
  });

  it('keeps the group in its place in the list', async ({ api: { call, createGroup } }) => {
    const older = await createGroup({ name: 'Older' });
    const newer = await createGroup({ name: 'Newer' });
    await call('PUT', `/${older.id}`, { body: { members: [] } });
    const ids = ((await call('GET')).json as GroupPage).groups.map((group) => group.id);
    expect(ids).toEqual([newer.id, older.id]);
  });
});

describe('delete', () => {
  it('answers 200 with an empty body, after which the group is gone everywhere', async ({ api: { call, createGroup } }) => {
    const group = await createGroup({ name: 'Doomed', members: ['+14155550100'] });
    const res = await call('DELETE', `/${group.id}`);
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    expect(res.headers['content-type']).toBeUndefined();
    const afterwards = [
      await call('GET', `/${group.id}`),
      await call('GET', `/${group.id}/members`),
      await call('POST', `/${group.id}`, { body: { add: ['+14155550101'] } }),
      await call('PUT', `/${group.id}`, { body: { members: [] } }),
      await call('DELETE', `/${group.id}`),
    ];
    expect(afterwards.map(({ status, text }) => ({ status, text }))).toEqual(Array(5).fill({ status: 404, text: '' }));
    expect(((await call('GET')).json as GroupPage).count).toBe(0);
  });
});

describe('authentication', () => {
  const unauthorized = { code: 'unauthorized', text: 'Invalid or missing credentials.' };

  it('answers 401 to a wrong token', async ({ api: { emulator, call } }) => {
    const res = await call('GET', '', { headers: { authorization: `Bearer ${emulator.apiToken}x` } });
    expect(reply(res)).toEqual({ status: 401, json: unauthorized });
  });

  it('answers 401 without an Authorization header, and creates nothing', async ({ api: { emulator } }) => {
    const res = await request(`${emulator.url}/xms/v1/${emulator.servicePlanId}/groups`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.statusCode).toBe(401);
    expect(await res.body.json()).toEqual(unauthorized);
    expect(emulator.store.list().count).toBe(0);
  });

  it('answers 401 when the service plan in the path is not the token’s', async ({ api: { emulator } }) => {
    const res = await request(`${emulator.url}/xms/v1/someoneelse/groups`, { headers: { authorization: `Bearer ${emulator.apiToken}` } });
    expect(res.statusCode).toBe(401);
    expect(await res.body.json()).toEqual(unauthorized);
  });

  it('uses the service plan and token it was given', async ({ emulator: start }) => {
    const custom = await start({ servicePlanId: 'jd63jf88477ll123ab4567cd89012ef3', apiToken: 'secret' });
    const res = await request(`${custom.url}/xms/v1/jd63jf88477ll123ab4567cd89012ef3/groups`, {
      headers: { authorization: 'Bearer secret' },
    });
    expect(res.statusCode).toBe(200);
    expect(await res.body.json()).toEqual({ page: 0, page_size: 0, count: 0, groups: [] });
  });

  it('generates a 32-hex-character service plan and token by default', ({ api: { emulator } }) => {
    expect(emulator.servicePlanId).toMatch(/^[0-9a-f]{32}$/);
    expect(emulator.apiToken).toMatch(/^[0-9a-f]{32}$/);
    expect(emulator.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
});

describe('request format', () => {
  it('answers 415 to a POST without an application/json content type', async ({ api: { emulator, call } }) => {
    const missing = await call('POST', '', { rawBody: '{}' });
    expect(emulator.requests[0]?.headers).not.toHaveProperty('content-type');
    const wrong = await call('POST', '', { headers: { 'content-type': 'text/plain' }, rawBody: '{}' });
    for (const res of [missing, wrong]) {
      expect(res.status).toBe(415);
      expect(res.json).toEqual({ code: 'unsupported_media_type', text: "The request body must be sent as 'application/json'." });
    }
    expect(emulator.store.list().count).toBe(0);
  });

  it('accepts a charset parameter on the content type', async ({ api: { call } }) => {
    const res = await call('POST', '', { headers: { 'content-type': 'application/json; charset=utf-8' }, rawBody: '{}' });
    expect(res.status).toBe(201);
  });

  it('answers 400 syntax_invalid_json to a body that is not JSON, or not an object', async ({ api: { call } }) => {
    const broken = await call('POST', '', { headers: { 'content-type': 'application/json' }, rawBody: '{"name": ' });
    expect(broken.status).toBe(400);
    expect(broken.json).toEqual({ code: 'syntax_invalid_json', text: expect.stringMatching(/^The request body is not valid JSON: /) });
    const array = await call('POST', '', { body: [] });
    expect(reply(array)).toEqual({ status: 400, json: { code: 'syntax_invalid_json', text: 'The request body must be a JSON object.' } });
  });

  it('answers 400 with the field, index and raw value for a bad MSISDN', async ({ api: { call, createGroup } }) => {
    const created = await call('POST', '', { body: { members: ['+14155550100', '+1'] } });
    expect(reply(created)).toEqual({ status: 400, json: invalidNumber('members[1]', '+1') });
    const group = await createGroup({});
    const added = await call('POST', `/${group.id}`, { body: { add: ['0701740605'] } });
    expect(reply(added)).toEqual({ status: 400, json: invalidNumber('add[0]', '0701740605') });
    const removed = await call('POST', `/${group.id}`, { body: { remove: ['+1415555010x'] } });
    expect(reply(removed)).toEqual({ status: 400, json: invalidNumber('remove[0]', '+1415555010x') });
    const tooLong = await call('PUT', `/${group.id}`, { body: { members: ['+1234567890123456'] } });
    expect(tooLong.json).toEqual(invalidNumber('members[0]', '+1234567890123456'));
  });

  it('answers 400 syntax_invalid_parameter_format to fields of the wrong JSON type', async ({ api: { call } }) => {
    const name = await call('POST', '', { body: { name: 5 } });
    expect(name.status).toBe(400);
    expect(name.json).toEqual({
      code: 'syntax_invalid_parameter_format',
      text: "The format of parameter 'name' is invalid; expected a string.",
    });

    const members = await call('POST', '', { body: { members: '+14155550100' } });
    expect(members.status).toBe(400);
    expect(members.json).toEqual({
      code: 'syntax_invalid_parameter_format',
      text: "The format of parameter 'members' is invalid; expected an array of phone numbers.",
    });
  });

  it('validates auto_update', async ({ api: { call } }) => {
    const missingTo = await call('POST', '', { body: { auto_update: { add: { first_word: 'JOIN' } } } });
    expect(missingTo.status).toBe(400);
    expect(missingTo.json).toEqual({ code: 'syntax_constraint_violation', text: "Parameter 'auto_update.to' is required." });
    const twoWords = await call('POST', '', { body: { auto_update: { to: '12345', add: { first_word: 'JOIN US' } } } });
    expect(twoWords.status).toBe(400);
    expect(twoWords.json).toEqual({
      code: 'syntax_invalid_parameter_format',
      text: "The format of parameter 'auto_update.add.first_word' is invalid; value 'JOIN US' is not a single word.",
    });

    const longWord = await call('POST', '', {
      body: { auto_update: { to: '12345', remove: { first_word: 'STOP', second_word: 'A'.repeat(16) } } },
    });
    expect(longWord.status).toBe(400);
    expect(longWord.json).toEqual({
      code: 'syntax_constraint_violation',
      text: "Parameter 'auto_update.remove.second_word' must be at most 15 characters long.",
    });
  });

  it('answers 413 to a body over 16 MiB', async ({ api: { call } }) => {
    const res = await call('POST', '', { body: { name: 'x', padding: 'x'.repeat(17 * 1024 * 1024) } });
    expect(res.status).toBe(413);
    expect(res.json).toMatchObject({ code: 'request_too_large' });
  });
});

describe('routing', () => {
  it('answers 405 to another method on a known route', async ({ api: { call, createGroup } }) => {
    const group = await createGroup({});
    const res = await call('PATCH', `/${group.id}`, { body: {} });
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, POST, PUT, DELETE');
    const members = await call('DELETE', `/${group.id}/members`);
    expect(members.status).toBe(405);
    expect(members.headers.allow).toBe('GET');
  });

  it('answers 404 to unknown paths', async ({ api: { emulator } }) => {
    for (const path of ['/xms/v1/batches', `/xms/v1/${emulator.servicePlanId}/groups/a-b`, '/']) {
      const res = await request(`${emulator.url}${path}`, { headers: { authorization: `Bearer ${emulator.apiToken}` } });
      expect(res.statusCode).toBe(404);
      expect(await res.body.text()).toBe('');
    }
  });
});

describe('limits', () => {
  it('allows a name of 20 characters and refuses 21, or an empty one', async ({ api: { call, createGroup } }) => {
    expect((await createGroup({ name: 'N'.repeat(20) })).name).toBe('N'.repeat(20));
    for (const name of ['N'.repeat(21), '']) {
      const res = await call('POST', '', { body: { name } });
      expect(res.status).toBe(400);
      expect(res.json).toEqual({ code: 'syntax_constraint_violation', text: "Parameter 'name' must be 1 to 20 characters long." });
    }
  });

  it('allows 10,000 members and refuses 10,001', async ({ api: { call, createGroup } }) => {
    expect((await createGroup({ members: numbers(10_000) })).size).toBe(10_000);
    const res = await call('POST', '', { body: { members: numbers(10_001) } });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ code: 'syntax_constraint_violation', text: "Parameter 'members' must have at most 10000 elements." });
  });

  it('refuses more than 10,000 numbers to add or to remove', async ({ api: { call, createGroup } }) => {
    const group = await createGroup({});
    for (const field of ['add', 'remove']) {
      const res = await call('POST', `/${group.id}`, { body: { [field]: numbers(10_001) } });
      expect(res.status).toBe(400);
      expect(res.json).toEqual({ code: 'syntax_constraint_violation', text: `Parameter '${field}' must have at most 10000 elements.` });
    }
    const both = await call('POST', `/${group.id}`, { body: { add: numbers(10_000), remove: numbers(10_000) } });
    expect(both.status).toBe(200);
  });

  it('refuses more than 10 child groups', async ({ api: { emulator, call, createGroup } }) => {
    const children = Array.from({ length: 11 }, () => emulator.store.create({}).id);
    expect((await createGroup({ child_groups: children.slice(0, 10) })).child_groups).toHaveLength(10);
    const res = await call('POST', '', { body: { child_groups: children } });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ code: 'syntax_constraint_violation', text: "Parameter 'child_groups' must have at most 10 elements." });
  });
});

describe('request log', () => {
  it('records every request in order, refused ones included', async ({ api: { emulator, call } }) => {
    await call('POST', '', { body: { name: 'Logged' }, headers: { 'X-Trace': 'abc' } });
    await call('GET', '', { query: { page: '1', page_size: '5' }, headers: { authorization: 'Bearer wrong' } });
    const path = `/xms/v1/${emulator.servicePlanId}/groups`;
    expect(emulator.requests).toEqual([
      {
        method: 'POST',
        path,
        query: {},
        headers: expect.objectContaining({
          authorization: `Bearer ${emulator.apiToken}`,
          'content-type': 'application/json',
          'x-trace': 'abc',
        }),
        body: { name: 'Logged' },
        rawBody: '{"name":"Logged"}',
      },
      {
        method: 'GET',
        path,
        query: { page: '1', page_size: '5' },
        headers: expect.objectContaining({ authorization: 'Bearer wrong' }),
        body: undefined,
        rawBody: '',
      },
    ]);
  });

  it('keeps the raw text of a body that is not JSON', async ({ api: { emulator, call } }) => {
    await call('POST', '', { headers: { 'content-type': 'application/json' }, rawBody: 'not json' });
    expect(emulator.requests[0]).toMatchObject({ body: undefined, rawBody: 'not json' });
  });
});

describe('fault queue', () => {
  it('answers with each queued fault once, after the requests it lets through, then behaves again', async ({ api: { emulator, call } }) => {
    emulator.faults.push(
      { after: 1, status: 503, body: '{"code":"busy","text":"Later"}' },
      { after: 1, status: 502, body: '<html>', contentType: 'text/html' },
    );
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await call('GET', '', { query: { page: String(i) } })).status);
    const html = await request(`${emulator.url}/anything`);
    const after = await call('GET');
    expect(statuses).toEqual([200, 503, 200]);
    expect(html.statusCode).toBe(502);
    expect(html.headers['content-type']).toBe('text/html');
    expect(await html.body.text()).toBe('<html>');
    expect(after.json).toMatchObject({ groups: [] });
    expect(emulator.requests).toHaveLength(5);
    expect(emulator.faults).toEqual([]);
  });
});

describe('record: false', () => {
  it('answers as usual and keeps no request', async ({ emulator: start }) => {
    const quiet = await start({ record: false });
    const res = await request(`${quiet.url}/xms/v1/${quiet.servicePlanId}/groups`, {
      headers: { authorization: `Bearer ${quiet.apiToken}` },
    });
    expect(res.statusCode).toBe(200);
    expect(await res.body.json()).toMatchObject({ count: 0, groups: [] });
    expect(quiet.requests).toEqual([]);
  });
});

describe('seedExampleGroups', () => {
  it('creates the example groups in the store without any request', async ({ api: { emulator, call } }) => {
    const [vip, newsletter] = seedExampleGroups(emulator);
    expect(emulator.requests).toEqual([]);
    const page = (await call('GET')).json as GroupPage;
    expect(page.groups.map(({ name, size }) => ({ name, size }))).toEqual([
      { name: 'Newsletter', size: 3 },
      { name: 'VIP customers', size: 5 },
    ]);
    expect(page.groups.map(({ id }) => id)).toEqual([newsletter?.id, vip?.id]);
    expect(emulator.store.members(vip?.id ?? '')).toContain('14155550123');
  });
});

const UNAUTHORIZED = { code: 'unauthorized', text: 'Invalid or missing credentials.' };
const EXPIRED = { code: 'unauthorized', text: 'The access token expired.' };
const EXPIRED_CHALLENGE = 'Bearer error="invalid_token", error_description="The access token expired"';

describe('OAuth2 token endpoint', () => {
  it('issues a new bearer token for HTTP Basic key ID and secret and the client-credentials form', async ({ api: { emulator, tokenRequest } }) => {
    expect(emulator.tokensIssued).toBe(0);
    const first = await tokenRequest();
    const second = await tokenRequest({ contentType: `${FORM}; charset=utf-8` });
    expect(first.status).toBe(200);
    expect(first.headers['content-type']).toBe('application/json');
    expect(first.headers['cache-control']).toBe('no-store');
    expect(first.json).toEqual({
      access_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      expires_in: 3600,
      scope: '',
      token_type: 'bearer',
    });
    expect(second.status).toBe(200);
    expect((second.json as { access_token: string }).access_token).not.toBe((first.json as { access_token: string }).access_token);
    expect(emulator.tokensIssued).toBe(2);
  });

  it('records token requests like any other', async ({ api: { emulator, tokenRequest } }) => {
    await tokenRequest();
    expect(emulator.requests).toEqual([
      {
        method: 'POST',
        path: '/oauth2/token',
        query: {},
        headers: expect.objectContaining({ authorization: basic(emulator.keyId, emulator.keySecret), 'content-type': FORM }),
        body: undefined,
        rawBody: 'grant_type=client_credentials',
      },
    ]);
  });

  it('generates a 32-hex-character project, key ID and secret by default, and serves tokens at tokenUrl', ({ api: { emulator } }) => {
    expect(emulator.projectId).toMatch(/^[0-9a-f]{32}$/);
    expect(emulator.keyId).toMatch(/^[0-9a-f]{32}$/);
    expect(emulator.keySecret).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set([emulator.projectId, emulator.keyId, emulator.keySecret, emulator.servicePlanId, emulator.apiToken]).size).toBe(5);
    expect(emulator.tokenUrl).toBe(`${emulator.url}/oauth2/token`);
  });

  it('uses the project, key and token lifetime it was given', async ({ api: { tokenRequest, projectCall }, emulator: start }) => {
    const custom = await start({ projectId: 'my-project', keyId: 'key-id', keySecret: 'key:secret', tokenLifetimeSeconds: 60 });
    expect({ projectId: custom.projectId, keyId: custom.keyId, keySecret: custom.keySecret }).toEqual({
      projectId: 'my-project',
      keyId: 'key-id',
      keySecret: 'key:secret',
    });
    const res = await tokenRequest({ authorization: basic('key-id', 'key:secret') }, custom);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ expires_in: 60 });
    const listed = await projectCall((res.json as { access_token: string }).access_token, 'GET', '', undefined, custom);
    expect(listed.status).toBe(200);
  });

  it('refuses a negative or non-finite token lifetime', async () => {
    await expect(startEmulator({ tokenLifetimeSeconds: -1 })).rejects.toThrow(RangeError);
    await expect(startEmulator({ tokenLifetimeSeconds: Number.NaN })).rejects.toThrow(RangeError);
  });

  it('answers 401 invalid_client to wrong or missing client credentials, issuing nothing', async ({ api: { emulator, tokenRequest } }) => {
    const attempts = [
      basic(emulator.keyId, `${emulator.keySecret}x`),
      basic(`${emulator.keyId}x`, emulator.keySecret),
      basic(emulator.keySecret, emulator.keyId),
      `Bearer ${emulator.apiToken}`,
      `Basic ${emulator.keyId}:${emulator.keySecret}`,
    ];
    for (const authorization of attempts) {
      const res = await tokenRequest({ authorization });
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Basic realm="oauth2"');
      expect(res.json).toEqual({
        error: 'invalid_client',
        error_description: expect.stringMatching(/^Client authentication (failed|required)/),
      });
    }
    const missing = await tokenRequest({ authorization: null });
    expect(missing.status).toBe(401);
    expect(missing.json).toEqual({
      error: 'invalid_client',
      error_description: 'Client authentication required: send the key ID and key secret with HTTP Basic.',
    });
    expect(emulator.tokensIssued).toBe(0);
    expect(emulator.requests).toHaveLength(attempts.length + 1);
  });

  it('answers 400 unsupported_grant_type to another grant, and invalid_request to none', async ({ api: { emulator, tokenRequest } }) => {
    for (const body of ['grant_type=password&username=a&password=b', 'grant_type=authorization_code&code=x', 'grant_type=']) {
      const res = await tokenRequest({ body });
      expect(reply(res)).toEqual({ status: 400, json: { error: 'unsupported_grant_type' } });
    }
    for (const body of ['', 'scope=x', 'grant_type=client_credentials&grant_type=client_credentials']) {
      const res = await tokenRequest({ body });
      expect(res.status).toBe(400);
      expect(res.json).toEqual({
        error: 'invalid_request',
        error_description: "The request must have exactly one 'grant_type' parameter.",
      });
    }
    expect(emulator.tokensIssued).toBe(0);
  });

  it('answers 415 to a body that is not form-encoded, and 405 to another method', async ({ api: { emulator, tokenRequest } }) => {
    const unsupported = {
      error: 'invalid_request',
      error_description: "The request body must be sent as 'application/x-www-form-urlencoded'.",
    };
    const json = await tokenRequest({ contentType: 'application/json', body: '{"grant_type":"client_credentials"}' });
    expect(reply(json)).toEqual({ status: 415, json: unsupported });
    const missing = await tokenRequest({ contentType: null });
    expect(reply(missing)).toEqual({ status: 415, json: unsupported });
    const get = await tokenRequest({ method: 'GET' });
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST');
    expect(get.json).toEqual({ error: 'invalid_request', error_description: 'Method GET is not allowed here.' });
    expect(emulator.tokensIssued).toBe(0);
  });
});

describe('project authentication', () => {
  it('serves the groups API under the project with an access token, on the same account as the service plan', async ({ api: { emulator, call, accessToken, projectCall } }) => {
    const token = await accessToken();
    const created = await projectCall(token, 'POST', '', { name: 'Via project', members: ['+14155550100'] });
    expect(created.status).toBe(201);
    const group = created.json as Group;
    expect(group).toMatchObject({ name: 'Via project', size: 1 });
    expect((await call('GET', `/${group.id}`)).json).toEqual(group);
    await call('POST', `/${group.id}`, { body: { add: ['+14155550101'] } });
    expect((await projectCall(token, 'GET', `/${group.id}/members`)).json).toEqual(['14155550100', '14155550101']);
    expect((await projectCall(token, 'GET')).json).toMatchObject({ count: 1 });
    const deleted = await projectCall(token, 'DELETE', `/${group.id}`);
    expect({ status: deleted.status, text: deleted.text }).toEqual({ status: 200, text: '' });
    expect(emulator.store.list().count).toBe(0);
  });

  it('answers 401 with an "expired" challenge once expireTokens() has run, and accepts a new token', async ({ api: { emulator, accessToken, projectCall } }) => {
    const old = await accessToken();
    expect((await projectCall(old, 'GET')).status).toBe(200);
    emulator.expireTokens();
    const expired = await projectCall(old, 'GET');
    expect(expired.status).toBe(401);
    expect(expired.headers['www-authenticate']).toBe(EXPIRED_CHALLENGE);
    expect(expired.json).toEqual(EXPIRED);
    const fresh = await accessToken();
    expect((await projectCall(fresh, 'GET')).status).toBe(200);
    expect((await projectCall(old, 'GET')).status).toBe(401);
    expect(emulator.tokensIssued).toBe(2);
  });

  it('expires a token after its lifetime, to the millisecond', async ({ api: { accessToken, projectCall }, emulator: start }) => {
    const custom = await start({ tokenLifetimeSeconds: 1 });
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const start = Date.parse('2024-06-06T08:59:22.000Z');
      vi.setSystemTime(start);
      const token = await accessToken(custom);
      vi.setSystemTime(start + 999);
      expect((await projectCall(token, 'GET', '', undefined, custom)).status).toBe(200);
      vi.setSystemTime(start + 1000);
      const expired = await projectCall(token, 'GET', '', undefined, custom);
      expect(expired.status).toBe(401);
      expect(expired.headers['www-authenticate']).toBe(EXPIRED_CHALLENGE);
      expect(expired.json).toEqual(EXPIRED);
    } finally {
      vi.useRealTimers();
    }
  });

  it('treats a lifetime of 0 as expired at once', async ({ api: { tokenRequest, projectCall }, emulator: start }) => {
    const custom = await start({ tokenLifetimeSeconds: 0 });
    const res = await tokenRequest({}, custom);
    expect(res.json).toMatchObject({ expires_in: 0 });
    const listed = await projectCall((res.json as { access_token: string }).access_token, 'GET', '', undefined, custom);
    expect(listed.json).toEqual(EXPIRED);
  });

  it('answers an unknown token with the plain 401, not "expired"', async ({ api: { accessToken, projectCall } }) => {
    await accessToken();
    const res = await projectCall('not-a-token', 'GET');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.json).toEqual(UNAUTHORIZED);
    expect(res.text).not.toMatch(/expired/i);
  });

  it('refuses the api token on project routes and access tokens on service-plan routes', async ({ api: { emulator, call, accessToken, projectCall } }) => {
    const token = await accessToken();
    const apiTokenOnProject = await projectCall(emulator.apiToken, 'GET');
    expect(reply(apiTokenOnProject)).toEqual({ status: 401, json: UNAUTHORIZED });
    const accessTokenOnPlan = await call('GET', '', { headers: { authorization: `Bearer ${token}` } });
    expect(reply(accessTokenOnPlan)).toEqual({ status: 401, json: UNAUTHORIZED });
    // An expired token on the service plan is just a wrong token there.
    emulator.expireTokens();
    const expiredOnPlan = await call('GET', '', { headers: { authorization: `Bearer ${token}` } });
    expect(expiredOnPlan.headers['www-authenticate']).toBe('Bearer');
    expect(expiredOnPlan.json).toEqual(UNAUTHORIZED);
    const otherProject = await request(`${emulator.url}/xms/v1/${emulator.servicePlanId}x/groups`, {
      headers: { authorization: `Bearer ${await accessToken()}` },
    });
    expect(otherProject.statusCode).toBe(401);
    expect(await otherProject.body.json()).toEqual(UNAUTHORIZED);
    expect(emulator.store.list().count).toBe(0);
  });

  it('answers 401 to a key ID and secret sent as if they were a token', async ({ api: { emulator, projectCall } }) => {
    const res = await projectCall(emulator.keySecret, 'GET');
    expect(reply(res)).toEqual({ status: 401, json: UNAUTHORIZED });
  });
});

describe('fault kinds', () => {
  /** Settles to 'pending' if `promise` has not settled within `ms`. */
  async function stateAfter(promise: Promise<unknown>, ms: number): Promise<'settled' | 'pending'> {
    const timeout = new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), ms));
    return Promise.race([promise.then(() => 'settled' as const, () => 'settled' as const), timeout]);
  }

  it('delays a normal answer by delayMs, recording the request on arrival', async ({ api: { emulator, call } }) => {
    emulator.faults.push({ delayMs: 300 });
    const started = performance.now();
    const pending = call('POST', '', { body: { name: 'Slow' } });
    expect(await stateAfter(pending, 100)).toBe('pending');
    expect(emulator.requests).toHaveLength(1);
    const res = await pending;
    const elapsed = performance.now() - started;
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ name: 'Slow' });
    // Timers count whole milliseconds of loop time, so allow one below.
    expect(elapsed).toBeGreaterThanOrEqual(299);
    expect(emulator.faults).toEqual([]);
    expect((await call('GET')).status).toBe(200);
  });

  it('delays a fault status by delayMs', async ({ api: { emulator, call } }) => {
    emulator.faults.push({ delayMs: 200, status: 503, body: '{"code":"busy","text":"Later"}' });
    const started = performance.now();
    const res = await call('POST', '', { body: {} });
    expect(performance.now() - started).toBeGreaterThanOrEqual(199);
    expect(reply(res)).toEqual({ status: 503, json: { code: 'busy', text: 'Later' } });
    expect(emulator.store.list().count).toBe(0);
  });

  it('drops the connection without an answer, doing nothing, then behaves again', async ({ api: { emulator, call } }) => {
    emulator.faults.push({ drop: true });
    await expect(call('POST', '', { body: { name: 'Lost' } })).rejects.toMatchObject({ code: 'UND_ERR_SOCKET' });
    expect(emulator.requests).toHaveLength(1);
    expect(emulator.store.list().count).toBe(0);
    expect((await call('GET')).status).toBe(200);
    expect(emulator.faults).toEqual([]);
  });

  it('drops the connection after delayMs', async ({ api: { emulator, call } }) => {
    emulator.faults.push({ drop: true, delayMs: 200, status: 500 });
    const started = performance.now();
    await expect(call('GET')).rejects.toMatchObject({ code: 'UND_ERR_SOCKET' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(199);
  });

  it('hangs until the client gives up, and close() still finishes, ending what hangs and clearing delay timers', async () => {
    const own = await startEmulator();
    const impatient = new Agent({ headersTimeout: 200 });
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    const clearTimeoutSpy = vi.spyOn(globalThis, 'clearTimeout');
    try {
      own.faults.push({ hang: true }, { hang: true, delayMs: 60_000 }, { delayMs: 60_000 });
      const url = `${own.url}/xms/v1/${own.servicePlanId}/groups`;
      const headers = { authorization: `Bearer ${own.apiToken}` };
      await expect(request(url, { headers, dispatcher: impatient })).rejects.toMatchObject({ code: 'UND_ERR_HEADERS_TIMEOUT' });
      const hanging = request(url, { headers }).then(() => 'answered', (error: { code?: string }) => error.code);
      const delayed = request(url, { headers }).then(() => 'answered', (error: { code?: string }) => error.code);
      await vi.waitFor(() => expect(own.requests).toHaveLength(3));
      expect(await stateAfter(hanging, 100)).toBe('pending');
      await own.close();
      expect(await hanging).toBe('UND_ERR_SOCKET');
      expect(await delayed).toBe('UND_ERR_SOCKET');
      // Only the plain delay sets a timer (a hang ignores delayMs); close() cleared it.
      const delayTimers = setTimeoutSpy.mock.calls.flatMap(([, ms], i) => (ms === 60_000 ? [setTimeoutSpy.mock.results[i]?.value] : []));
      expect(delayTimers).toHaveLength(1);
      expect(clearTimeoutSpy).toHaveBeenCalledWith(delayTimers[0]);
    } finally {
      setTimeoutSpy.mockRestore();
      clearTimeoutSpy.mockRestore();
      await impatient.destroy();
    }
  });

  it('applies a fault with a path only to requests whose path contains it; others pass it by uncounted', async ({ api: { emulator, call, tokenRequest } }) => {
    emulator.faults.push({ path: '/oauth2/token', after: 1, status: 503, body: '{"error":"temporarily_unavailable"}' });
    for (let i = 0; i < 3; i++) expect((await call('GET')).status).toBe(200);
    expect((await tokenRequest()).status).toBe(200);
    const refused = await tokenRequest();
    expect(reply(refused)).toEqual({ status: 503, json: { error: 'temporarily_unavailable' } });
    expect((await tokenRequest()).status).toBe(200);
    expect(emulator.faults).toEqual([]);
    expect(emulator.tokensIssued).toBe(2);
  });

  it('serves the first queued fault that matches the request, keeping the rest in order', async ({ api: { emulator, call, tokenRequest } }) => {
    emulator.faults.push(
      { path: '/oauth2/token', status: 503 },
      { path: '/members', status: 502 },
      { status: 500 },
      { path: '/oauth2/token', status: 429 },
    );
    const group = emulator.store.create({ members: ['+14155550100'] });
    expect((await call('GET', `/${group.id}`)).status).toBe(500);
    expect((await call('GET', `/${group.id}`)).status).toBe(200);
    expect((await call('GET', `/${group.id}/members`)).status).toBe(502);
    expect((await call('GET', `/${group.id}/members`)).status).toBe(200);
    expect((await tokenRequest()).status).toBe(503);
    expect(emulator.faults).toEqual([{ path: '/oauth2/token', status: 429 }]);
    expect((await tokenRequest()).status).toBe(429);
    expect((await tokenRequest()).status).toBe(200);
  });

  it('matches the path without the query string', async ({ api: { emulator, call } }) => {
    emulator.faults.push({ path: 'page', status: 500 });
    expect((await call('GET', '', { query: { page: '0' } })).status).toBe(200);
    expect(emulator.faults).toHaveLength(1);
  });
});
