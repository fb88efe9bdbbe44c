import { Agent, request, type Dispatcher } from 'undici';
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

/** A reply read whole: its status, headers, text, and the text as JSON when it is JSON. */
async function read(res: Dispatcher.ResponseData) {
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: text && /json/.test(String(res.headers['content-type'])) ? (JSON.parse(text) as unknown) : undefined };
}

/** Requests to one emulator: its groups API with the service plan, its token endpoint, its groups API with the project. */
function apiFor(emulator: Emulator) {
  /** One request to the groups API, authenticated; `body` goes as JSON, `rawBody` as given, with only the headers given. */
  async function call(method: Method, path = '', options: CallOptions = {}) {
    const rawBody = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
    const query = options.query ? `?${new URLSearchParams(options.query)}` : '';
    const headers = { authorization: `Bearer ${emulator.apiToken}`, ...(options.body !== undefined && { 'content-type': 'application/json' }), ...options.headers };
    return read(await request(`${emulator.url}/xms/v1/${emulator.servicePlanId}/groups${path}${query}`, { method, headers, body: rawBody }));
  }

  /** Any request to the emulator, as given: no credentials are added. */
  const raw = async (path: string, options: Omit<Dispatcher.RequestOptions, 'origin' | 'path'> = { method: 'GET' }, target = emulator) =>
    read(await request(`${target.url}${path}`, options));

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
    const headers = { ...(authorization !== null && { authorization }), ...(contentType !== null && { 'content-type': contentType }) };
    return read(await request(target.tokenUrl, { method, headers, body: method === 'POST' ? (options.body ?? 'grant_type=client_credentials') : undefined }));
  }

  async function accessToken(target: Emulator = emulator): Promise<string> {
    const res = await tokenRequest({}, target);
    expect(res.status).toBe(200);
    return (res.json as { access_token: string }).access_token;
  }

  /** One request to the groups API under the project, with the given bearer token. */
  async function projectCall(token: string, method: Method, path = '', body?: unknown, target: Emulator = emulator) {
    const headers = { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) };
    return raw(`/xms/v1/${target.projectId}/groups${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }, target);
  }
  return { emulator, call, raw, createGroup, membersOf, tokenRequest, accessToken, projectCall };
}

const it = test.extend<{ api: ReturnType<typeof apiFor> }>({
  api: async ({ emulator: start }, use) => {
    await use(apiFor(await start()));
  },
});

const constraint = (text: string) => ({ code: 'syntax_constraint_violation', text });
const format = (text: string) => ({ code: 'syntax_invalid_parameter_format', text });
const invalidNumber = (field: string, value: string) =>
  format(`The format of parameter '${field}' is invalid; value '${value}' is not a valid MSISDN or group ID.`);

const UNKNOWN_GROUP = { code: 'unknown_group', text: 'One or more groups referenced in your request could not be found' };
const UNAUTHORIZED = { code: 'unauthorized', text: 'Invalid or missing credentials.' };
const EXPIRED = { code: 'unauthorized', text: 'The access token expired.' };
const EXPIRED_CHALLENGE = 'Bearer error="invalid_token", error_description="The access token expired"';

const numbers = (count: number) => Array.from({ length: count }, (_, i) => number(i));

/** A reply's status and JSON body, to compare at once. */
const reply = (res: { status: number; json: unknown }) => ({ status: res.status, json: res.json });
/** A reply's status and text, to compare at once. */
const plain = (res: { status: number; text: string }) => ({ status: res.status, text: res.text });
/** A reply's status, challenge and JSON body, to compare at once. */
const challenged = (res: { status: number; headers: Record<string, unknown>; json: unknown }) => ({
  status: res.status,
  challenge: res.headers['www-authenticate'],
  json: res.json,
});

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const MISSING_ID = '01W4FFL35P4NC4K35SMSGROUP1';

describe('create', () => {
  it('returns 201 with the group, its size, timestamps and no members field', async ({ api: { call } }) => {
    const res = await call('POST', '', { body: { name: 'VIP customers', members: ['+14155550123', '+447700900123'] } });
    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toBe('application/json');
    const group = res.json as Group;
    const created_at = expect.stringMatching(ISO_MS);
    expect(group).toEqual({ id: expect.stringMatching(ULID), name: 'VIP customers', size: 2, created_at, modified_at: group.created_at });
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
    // size 0: child members are not merged in.
    expect({ child_groups: group.child_groups, auto_update: group.auto_update, size: group.size }).toEqual({ child_groups: [child.id], auto_update: autoUpdate, size: 0 });
  });

  it('ignores unknown top-level fields', async ({ api: { createGroup } }) => {
    expect(await createGroup({ name: 'Plain', colour: 'blue' })).not.toHaveProperty('colour');
  });
});

describe('get', () => {
  it('returns the group as created', async ({ api: { call, createGroup } }) => {
    const created = await createGroup({ name: 'Newsletter', members: ['+46701740605'] });
    expect(reply(await call('GET', `/${created.id}`))).toEqual({ status: 200, json: created });
  });
});

describe('members', () => {
  it('returns a bare array of numbers without "+", whatever format they came in', async ({ api: { createGroup, membersOf } }) => {
    const group = await createGroup({ members: ['+14155550123', '00447700900123', '+46 (70) 174-06-05', '16051234567'] });
    expect(await membersOf(group.id)).toEqual(['14155550123', '447700900123', '46701740605', '16051234567']);
  });

  it('accepts the numbers from Sinch documentation', async ({ api: { createGroup } }) => {
    const documented = ['+14058961234', '+447911123456', '+55987654321', '+4612345678', '+15551235555', '16051234567'];
    expect((await createGroup({ members: documented })).size).toBe(6);
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
      json: constraint("Parameter 'page_size' must be between 1 and 100."),
    });
    expect(await call('GET', '', { query: { page: '-1' } })).toMatchObject({
      status: 400,
      json: format("The format of parameter 'page' is invalid; value '-1' is not a non-negative integer."),
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
    expect(reply(res)).toEqual({ status: 200, json: { ...group, size: 2, modified_at: expect.stringMatching(ISO_MS) } });
    expect((res.json as Group).modified_at > group.modified_at).toBe(true);
    expect(await membersOf(group.id)).toEqual(['14155550100', '14155550102']);
  });

  it('ignores duplicate adds, in the request and against existing members', async ({ api: { call, createGroup } }) => {
    const group = await createGroup({ members: ['+14155550100', '14155550100', '+1 415 555 0100'] });
    expect(group.size).toBe(1);
    const res = await call('POST', `/${group.id}`, { body: { add: ['+14155550100', '0014155550100'] } });
    expect(res).toMatchObject({ status: 200, json: { size: 1 } });
  });

  it('accepts removing numbers that are not members', async ({ api: { call, createGroup, membersOf } }) => {
    const group = await createGroup({ members: ['+14155550100'] });
    expect((await call('POST', `/${group.id}`, { body: { remove: ['+447700900999'] } })).status).toBe(200);
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
});

describe('replace', () => {
  it('swaps everything: fields not given are cleared, id and created_at are kept', async ({ api: { call, createGroup, membersOf } }) => {
    const group = await createGroup({
      name: 'Before',
      members: ['+14155550100', '+14155550101'],
      auto_update: { to: '+15551231234', add: { first_word: 'JOIN' } },
    });
    const res = await call('PUT', `/${group.id}`, { body: { members: ['+447700900123', '+447700900123'] } });
    const fresh = { id: group.id, size: 1, created_at: group.created_at, modified_at: expect.stringMatching(ISO_MS) };
    expect(reply(res)).toEqual({ status: 200, json: fresh });
    expect((res.json as Group).modified_at > group.modified_at).toBe(true);
    expect(await membersOf(group.id)).toEqual(['447700900123']);
  });

  it('sets the name and child groups given', async ({ api: { call, createGroup } }) => {
    const child = await createGroup({});
    const group = await createGroup({ name: 'Before' });
    const res = await call('PUT', `/${group.id}`, { body: { members: [], name: 'After', child_groups: [child.id] } });
    expect(res.json).toMatchObject({ id: group.id, name: 'After', size: 0, child_groups: [child.id] });
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
    expect({ ...plain(res), type: res.headers['content-type'] }).toEqual({ status: 200, text: '', type: undefined });
    const afterwards = [
      await call('GET', `/${group.id}`),
      await call('GET', `/${group.id}/members`),
      await call('POST', `/${group.id}`, { body: { add: ['+14155550101'] } }),
      await call('PUT', `/${group.id}`, { body: { members: [] } }),
      await call('DELETE', `/${group.id}`),
    ];
    expect(afterwards.map(plain)).toEqual(Array(5).fill({ status: 404, text: '' }));
    expect(((await call('GET')).json as GroupPage).count).toBe(0);
  });
});

describe('an unknown group', () => {
  it.for([
    ['GET', undefined],
    ['POST', { add: ['+14155550100'] }],
  ] as const)('%s answers 404 with an empty body', async ([method, body], { api: { call } }) => {
    expect(plain(await call(method, `/${MISSING_ID}`, { body }))).toEqual({ status: 404, text: '' });
  });
});

describe('refused changes', () => {
  const nameLength = constraint("Parameter 'name' must be 1 to 20 characters long.");
  const tooMany = (field: string) => constraint(`Parameter '${field}' must have at most 10000 elements.`);
  // [what, method, on the existing group (else a create), body, status, Sinch's code and text]
  const REFUSED: [string, 'POST' | 'PUT', boolean, unknown, number, unknown][] = [
    ['a name of the wrong JSON type', 'POST', false, { name: 5 }, 400, format("The format of parameter 'name' is invalid; expected a string.")],
    ['members that are not an array', 'POST', false, { members: '+14155550100' }, 400, format("The format of parameter 'members' is invalid; expected an array of phone numbers.")],
    ['auto_update without to', 'POST', false, { auto_update: { add: { first_word: 'JOIN' } } }, 400, constraint("Parameter 'auto_update.to' is required.")],
    [
      'an auto_update keyword of two words',
      'POST',
      false,
      { auto_update: { to: '12345', add: { first_word: 'JOIN US' } } },
      400,
      format("The format of parameter 'auto_update.add.first_word' is invalid; value 'JOIN US' is not a single word."),
    ],
    [
      'an auto_update keyword over 15 characters',
      'POST',
      false,
      { auto_update: { to: '12345', remove: { first_word: 'STOP', second_word: 'A'.repeat(16) } } },
      400,
      constraint("Parameter 'auto_update.remove.second_word' must be at most 15 characters long."),
    ],
    ['a bad MSISDN among members, by field and index', 'POST', false, { members: ['+14155550100', '+1'] }, 400, invalidNumber('members[1]', '+1')],
    ['a bad MSISDN to add', 'POST', true, { add: ['0701740605'] }, 400, invalidNumber('add[0]', '0701740605')],
    ['a bad MSISDN to remove', 'POST', true, { remove: ['+1415555010x'] }, 400, invalidNumber('remove[0]', '+1415555010x')],
    ['a number too long, on replace', 'PUT', true, { members: ['+1234567890123456'] }, 400, invalidNumber('members[0]', '+1234567890123456')],
    ['a child group ID that is not letters and digits', 'POST', false, { child_groups: ['not-an-id'] }, 400, invalidNumber('child_groups[0]', 'not-an-id')],
    ['a missing child group on create', 'POST', false, { child_groups: [MISSING_ID] }, 403, UNKNOWN_GROUP],
    ['a missing child group on replace', 'PUT', true, { members: [], child_groups: [MISSING_ID] }, 403, UNKNOWN_GROUP],
    ['a replace without members', 'PUT', true, { name: 'Other' }, 400, constraint("Parameter 'members' is required.")],
    ['add_from_group naming a missing group', 'POST', true, { add: ['+14155550101'], name: 'Changed', add_from_group: MISSING_ID }, 403, UNKNOWN_GROUP],
    ['remove_from_group naming a missing group', 'POST', true, { add: ['+14155550101'], name: 'Changed', remove_from_group: MISSING_ID }, 403, UNKNOWN_GROUP],
    ['a name of 21 characters', 'POST', false, { name: 'N'.repeat(21) }, 400, nameLength],
    ['an empty name', 'POST', false, { name: '' }, 400, nameLength],
    ['10,001 members', 'POST', false, { members: numbers(10_001) }, 400, tooMany('members')],
    ['10,001 numbers to add', 'POST', true, { add: numbers(10_001) }, 400, tooMany('add')],
    ['10,001 numbers to remove', 'POST', true, { remove: numbers(10_001) }, 400, tooMany('remove')],
  ];

  it.for(REFUSED)('refuses %s with its code and text, changing nothing', async ([, method, onGroup, body, status, json], { api: { call, createGroup, membersOf } }) => {
    const group = await createGroup({ name: 'Stable', members: ['+14155550100'] });
    expect(reply(await call(method, onGroup ? `/${group.id}` : '', { body }))).toEqual({ status, json });
    expect((await call('GET')).json).toEqual({ page: 0, page_size: 1, count: 1, groups: [group] });
    expect(await membersOf(group.id)).toEqual(['14155550100']);
  });
});

describe('limits', () => {
  it('allows a name of 20 characters, 10,000 members, and 10,000 numbers each to add and remove', async ({ api: { call, createGroup } }) => {
    expect((await createGroup({ name: 'N'.repeat(20) })).name).toBe('N'.repeat(20));
    const group = await createGroup({ members: numbers(10_000) });
    expect(group.size).toBe(10_000);
    expect((await call('POST', `/${group.id}`, { body: { add: numbers(10_000), remove: numbers(10_000) } })).status).toBe(200);
  });

  it('refuses more than 10 child groups', async ({ api: { emulator, call, createGroup } }) => {
    const children = Array.from({ length: 11 }, () => emulator.store.create({}).id);
    expect((await createGroup({ child_groups: children.slice(0, 10) })).child_groups).toHaveLength(10);
    const res = await call('POST', '', { body: { child_groups: children } });
    expect(reply(res)).toEqual({ status: 400, json: constraint("Parameter 'child_groups' must have at most 10 elements.") });
  });
});

describe('authentication', () => {
  it.for([
    ['a wrong token', (e: Emulator) => [`/xms/v1/${e.servicePlanId}/groups`, { headers: { authorization: `Bearer ${e.apiToken}x` } }] as const],
    ['no Authorization header', (e: Emulator) => [`/xms/v1/${e.servicePlanId}/groups`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }] as const],
    ['a service plan in the path that is not the token’s', (e: Emulator) => ['/xms/v1/someoneelse/groups', { headers: { authorization: `Bearer ${e.apiToken}` } }] as const],
  ] as const)('answers 401 to %s, and creates nothing', async ([, attempt], { api: { emulator, raw } }) => {
    const [path, options] = attempt(emulator);
    expect(reply(await raw(path, { method: 'GET', ...options }))).toEqual({ status: 401, json: UNAUTHORIZED });
    expect(emulator.store.list().count).toBe(0);
  });

  it('uses the service plan and token it was given', async ({ api: { raw }, emulator: start }) => {
    const custom = await start({ servicePlanId: 'jd63jf88477ll123ab4567cd89012ef3', apiToken: 'secret' });
    const res = await raw('/xms/v1/jd63jf88477ll123ab4567cd89012ef3/groups', { method: 'GET', headers: { authorization: 'Bearer secret' } }, custom);
    expect(reply(res)).toEqual({ status: 200, json: { page: 0, page_size: 0, count: 0, groups: [] } });
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
    const unsupported = { status: 415, json: { code: 'unsupported_media_type', text: "The request body must be sent as 'application/json'." } };
    expect([missing, wrong].map(reply)).toEqual([unsupported, unsupported]);
    expect(emulator.store.list().count).toBe(0);
  });

  it('accepts a charset parameter on the content type', async ({ api: { call } }) => {
    expect((await call('POST', '', { headers: { 'content-type': 'application/json; charset=utf-8' }, rawBody: '{}' })).status).toBe(201);
  });

  it('answers 400 syntax_invalid_json to a body that is not JSON, or not an object', async ({ api: { call } }) => {
    const broken = await call('POST', '', { headers: { 'content-type': 'application/json' }, rawBody: '{"name": ' });
    expect(reply(broken)).toEqual({ status: 400, json: { code: 'syntax_invalid_json', text: expect.stringMatching(/^The request body is not valid JSON: /) } });
    const array = await call('POST', '', { body: [] });
    expect(reply(array)).toEqual({ status: 400, json: { code: 'syntax_invalid_json', text: 'The request body must be a JSON object.' } });
  });

  it('answers 413 to a body over 16 MiB', async ({ api: { call } }) => {
    const res = await call('POST', '', { body: { name: 'x', padding: 'x'.repeat(17 * 1024 * 1024) } });
    expect(res).toMatchObject({ status: 413, json: { code: 'request_too_large' } });
  });
});

describe('routing', () => {
  it('answers 405 to another method on a known route', async ({ api: { call, createGroup } }) => {
    const group = await createGroup({});
    const res = await call('PATCH', `/${group.id}`, { body: {} });
    const members = await call('DELETE', `/${group.id}/members`);
    expect([res, members].map(({ status, headers }) => ({ status, allow: headers.allow }))).toEqual([
      { status: 405, allow: 'GET, POST, PUT, DELETE' },
      { status: 405, allow: 'GET' },
    ]);
  });

  it('answers 404 to unknown paths', async ({ api: { emulator, raw } }) => {
    for (const path of ['/xms/v1/batches', `/xms/v1/${emulator.servicePlanId}/groups/a-b`, '/']) {
      expect(plain(await raw(path, { method: 'GET', headers: { authorization: `Bearer ${emulator.apiToken}` } }))).toEqual({ status: 404, text: '' });
    }
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
        headers: expect.objectContaining({ authorization: `Bearer ${emulator.apiToken}`, 'content-type': 'application/json', 'x-trace': 'abc' }),
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
  it('answers with each queued fault once, after the requests it lets through, then behaves again', async ({ api: { emulator, call, raw } }) => {
    emulator.faults.push(
      { after: 1, status: 503, body: '{"code":"busy","text":"Later"}' },
      { after: 1, status: 502, body: '<html>', contentType: 'text/html' },
    );
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await call('GET', '', { query: { page: String(i) } })).status);
    const html = await raw('/anything');
    const after = await call('GET');
    expect(statuses).toEqual([200, 503, 200]);
    expect({ ...plain(html), type: html.headers['content-type'] }).toEqual({ status: 502, text: '<html>', type: 'text/html' });
    expect(after.json).toMatchObject({ groups: [] });
    expect(emulator.requests).toHaveLength(5);
    expect(emulator.faults).toEqual([]);
  });
});

describe('record: false', () => {
  it('answers as usual and keeps no request', async ({ api: { raw }, emulator: start }) => {
    const quiet = await start({ record: false });
    const res = await raw(`/xms/v1/${quiet.servicePlanId}/groups`, { method: 'GET', headers: { authorization: `Bearer ${quiet.apiToken}` } }, quiet);
    expect(res).toMatchObject({ status: 200, json: { count: 0, groups: [] } });
    expect(quiet.requests).toEqual([]);
  });
});

describe('seedExampleGroups', () => {
  it('creates the example groups in the store without any request', async ({ api: { emulator, call } }) => {
    const [vip, newsletter] = seedExampleGroups(emulator);
    expect(emulator.requests).toEqual([]);
    const page = (await call('GET')).json as GroupPage;
    expect(page.groups.map(({ id, name, size }) => ({ id, name, size }))).toEqual([
      { id: newsletter?.id, name: 'Newsletter', size: 3 },
      { id: vip?.id, name: 'VIP customers', size: 5 },
    ]);
    expect(emulator.store.members(vip?.id ?? '')).toContain('14155550123');
  });
});

describe('OAuth2 token endpoint', () => {
  it('issues a new bearer token for HTTP Basic key ID and secret and the client-credentials form', async ({ api: { emulator, tokenRequest } }) => {
    expect(emulator.tokensIssued).toBe(0);
    const first = await tokenRequest();
    const second = await tokenRequest({ contentType: `${FORM}; charset=utf-8` });
    expect({ ...reply(first), type: first.headers['content-type'], cache: first.headers['cache-control'] }).toEqual({
      status: 200,
      type: 'application/json',
      cache: 'no-store',
      json: { access_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), expires_in: 3600, scope: '', token_type: 'bearer' },
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
    for (const generated of [emulator.projectId, emulator.keyId, emulator.keySecret]) expect(generated).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set([emulator.projectId, emulator.keyId, emulator.keySecret, emulator.servicePlanId, emulator.apiToken]).size).toBe(5);
    expect(emulator.tokenUrl).toBe(`${emulator.url}/oauth2/token`);
  });

  it('uses the project, key and token lifetime it was given', async ({ api: { tokenRequest, projectCall }, emulator: start }) => {
    const custom = await start({ projectId: 'my-project', keyId: 'key-id', keySecret: 'key:secret', tokenLifetimeSeconds: 60 });
    expect([custom.projectId, custom.keyId, custom.keySecret]).toEqual(['my-project', 'key-id', 'key:secret']);
    const res = await tokenRequest({ authorization: basic('key-id', 'key:secret') }, custom);
    expect(res).toMatchObject({ status: 200, json: { expires_in: 60 } });
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
      expect(challenged(await tokenRequest({ authorization }))).toEqual({
        status: 401,
        challenge: 'Basic realm="oauth2"',
        json: { error: 'invalid_client', error_description: expect.stringMatching(/^Client authentication (failed|required)/) },
      });
    }
    const missing = await tokenRequest({ authorization: null });
    expect(reply(missing)).toEqual({
      status: 401,
      json: { error: 'invalid_client', error_description: 'Client authentication required: send the key ID and key secret with HTTP Basic.' },
    });
    expect(emulator.tokensIssued).toBe(0);
    expect(emulator.requests).toHaveLength(attempts.length + 1);
  });

  it('answers 400 unsupported_grant_type to another grant, and invalid_request to none', async ({ api: { emulator, tokenRequest } }) => {
    for (const body of ['grant_type=password&username=a&password=b', 'grant_type=authorization_code&code=x', 'grant_type=']) {
      expect(reply(await tokenRequest({ body }))).toEqual({ status: 400, json: { error: 'unsupported_grant_type' } });
    }
    const invalid = { error: 'invalid_request', error_description: "The request must have exactly one 'grant_type' parameter." };
    for (const body of ['', 'scope=x', 'grant_type=client_credentials&grant_type=client_credentials']) {
      expect(reply(await tokenRequest({ body }))).toEqual({ status: 400, json: invalid });
    }
    expect(emulator.tokensIssued).toBe(0);
  });

  it('answers 415 to a body that is not form-encoded, and 405 to another method', async ({ api: { emulator, tokenRequest } }) => {
    const unsupported = {
      status: 415,
      json: { error: 'invalid_request', error_description: "The request body must be sent as 'application/x-www-form-urlencoded'." },
    };
    expect(reply(await tokenRequest({ contentType: 'application/json', body: '{"grant_type":"client_credentials"}' }))).toEqual(unsupported);
    expect(reply(await tokenRequest({ contentType: null }))).toEqual(unsupported);
    const get = await tokenRequest({ method: 'GET' });
    expect({ ...reply(get), allow: get.headers.allow }).toEqual({
      status: 405,
      allow: 'POST',
      json: { error: 'invalid_request', error_description: 'Method GET is not allowed here.' },
    });
    expect(emulator.tokensIssued).toBe(0);
  });
});

describe('project authentication', () => {
  const expired = { status: 401, challenge: EXPIRED_CHALLENGE, json: EXPIRED };

  it('serves the groups API under the project with an access token, on the same account as the service plan', async ({ api: { emulator, call, accessToken, projectCall } }) => {
    const token = await accessToken();
    const created = await projectCall(token, 'POST', '', { name: 'Via project', members: ['+14155550100'] });
    expect(created).toMatchObject({ status: 201, json: { name: 'Via project', size: 1 } });
    const group = created.json as Group;
    expect((await call('GET', `/${group.id}`)).json).toEqual(group);
    await call('POST', `/${group.id}`, { body: { add: ['+14155550101'] } });
    expect((await projectCall(token, 'GET', `/${group.id}/members`)).json).toEqual(['14155550100', '14155550101']);
    expect((await projectCall(token, 'GET')).json).toMatchObject({ count: 1 });
    expect(plain(await projectCall(token, 'DELETE', `/${group.id}`))).toEqual({ status: 200, text: '' });
    expect(emulator.store.list().count).toBe(0);
  });

  it('answers 401 with an "expired" challenge once expireTokens() has run, and accepts a new token', async ({ api: { emulator, accessToken, projectCall } }) => {
    const old = await accessToken();
    expect((await projectCall(old, 'GET')).status).toBe(200);
    emulator.expireTokens();
    expect(challenged(await projectCall(old, 'GET'))).toEqual(expired);
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
      expect(challenged(await projectCall(token, 'GET', '', undefined, custom))).toEqual(expired);
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
    expect(challenged(res)).toEqual({ status: 401, challenge: 'Bearer', json: UNAUTHORIZED });
    expect(res.text).not.toMatch(/expired/i);
  });

  it('refuses the api token on project routes and access tokens on service-plan routes', async ({ api: { emulator, call, raw, accessToken, projectCall } }) => {
    const token = await accessToken();
    const refused = { status: 401, json: UNAUTHORIZED };
    expect(reply(await projectCall(emulator.apiToken, 'GET'))).toEqual(refused);
    expect(reply(await call('GET', '', { headers: { authorization: `Bearer ${token}` } }))).toEqual(refused);
    // An expired token on the service plan is just a wrong token there.
    emulator.expireTokens();
    const expiredOnPlan = await call('GET', '', { headers: { authorization: `Bearer ${token}` } });
    expect(challenged(expiredOnPlan)).toEqual({ ...refused, challenge: 'Bearer' });
    const otherProject = await raw(`/xms/v1/${emulator.servicePlanId}x/groups`, { method: 'GET', headers: { authorization: `Bearer ${await accessToken()}` } });
    expect(reply(otherProject)).toEqual(refused);
    expect(emulator.store.list().count).toBe(0);
  });

  it('answers 401 to a key ID and secret sent as if they were a token', async ({ api: { emulator, projectCall } }) => {
    expect(reply(await projectCall(emulator.keySecret, 'GET'))).toEqual({ status: 401, json: UNAUTHORIZED });
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
    expect(res).toMatchObject({ status: 201, json: { name: 'Slow' } });
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
    expect({ requests: emulator.requests.length, groups: emulator.store.list().count, faults: emulator.faults }).toEqual({ requests: 1, groups: 0, faults: [] });
    expect((await call('GET')).status).toBe(200);
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
