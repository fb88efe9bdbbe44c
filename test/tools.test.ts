import { describe, expect } from 'vitest';
import type { RecordedRequest } from '../src/emulator/server.js';
import type { Group } from '../src/sinch/schemas.js';
import { bare, groupPath, groupsPath, number, numbers, since, summary, test, TOOL_NAMES, TOOL_NAMES_WITHOUT_JOURNAL, type GroupPage, type Harness, type MemberPage } from './harness.js';


interface UpdateBody {
  add?: string[];
  remove?: string[];
  [key: string]: unknown;
}

/** The changes sent since `mark`: update_group reads the group (and members) first when it removes anything. */
const postsSince = (h: Harness, mark: number): RecordedRequest[] => since(h.emulator, mark).filter((request) => request.method === 'POST');
const storedMembers = (h: Harness, id: string) => new Set(h.emulator.store.members(id));
const createGroup = (h: Harness, args: Record<string, unknown> = {}) => h.ok<Group>('create_group', args);

async function allMembers(h: Harness, groupId: string, limit?: number): Promise<MemberPage[]> {
  const pages: MemberPage[] = [];
  let cursor: string | undefined;
  do {
    const page: MemberPage = await h.ok<MemberPage>('list_group_members', {
      group_id: groupId,
      ...(limit !== undefined && { limit }),
      ...(cursor !== undefined && { cursor }),
    });
    pages.push(page);
    cursor = page.next_cursor;
  } while (cursor !== undefined && pages.length < 100);
  return pages;
}

/** A group as list_groups shows it: what an assistant needs to choose, without created_at. */
const listed = ({ created_at: _, ...group }: Group) => group;

const ISO_MILLIS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('tools/list', () => {
  const READ_ONLY = ['list_groups', 'get_group', 'list_group_members', 'find_numbers', 'list_changes'];
  // update_group too: its removals can empty a group, so it asks before drastic ones; export_group_members
  // too: asked to, it overwrites a file.
  const DESTRUCTIVE = ['update_group', 'replace_group', 'delete_group', 'remove_numbers_everywhere', 'export_group_members', 'undo_change'];
  // The group a change is about, and a new group's name (its maxLength says the rest): the field's
  // name says all a description would.
  const UNDESCRIBED = [
    'create_group.name',
    'update_group.group_id',
    'replace_group.group_id',
    'delete_group.group_id',
    'export_group_members.group_id',
    'export_group_members.path',
  ];

  // The shared server has a journal, so it offers every tool; without one, all but list_changes and undo_change.
  test('offers every tool', async ({ shared, h }) => {
    expect((await shared.client.listTools()).tools.map((tool) => tool.name).sort()).toEqual(TOOL_NAMES);
    expect((await h.client.listTools()).tools.map((tool) => tool.name).sort()).toEqual(TOOL_NAMES_WITHOUT_JOURNAL);
  });

  test('every tool has a title, a description, described inputs, an output schema and all four hints', async ({ shared: h }) => {
    const { tools } = await h.client.listTools();
    expect(tools).toHaveLength(TOOL_NAMES.length);
    const undescribed: string[] = [];
    for (const tool of tools) {
      expect(tool.title, tool.name).toEqual(expect.stringMatching(/\S/));
      expect(tool.description?.trim().length, tool.name).toBeGreaterThan(20);
      expect(tool.inputSchema.type, tool.name).toBe('object');
      for (const [property, schema] of Object.entries(tool.inputSchema.properties ?? {})) {
        const { description } = schema as { description?: unknown };
        if (description === undefined) undescribed.push(`${tool.name}.${property}`);
        else expect(description, `${tool.name}.${property}`).toEqual(expect.stringMatching(/\S/));
      }
      expect(tool.outputSchema?.type, tool.name).toBe('object');
      expect(Object.keys(tool.outputSchema?.properties ?? {}).length, tool.name).toBeGreaterThan(0);
      expect(tool.annotations, tool.name).toMatchObject({
        readOnlyHint: READ_ONLY.includes(tool.name),
        destructiveHint: DESTRUCTIVE.includes(tool.name),
        // list_changes reads only the journal.
        openWorldHint: tool.name !== 'list_changes',
      });
      expect(typeof tool.annotations?.idempotentHint, tool.name).toBe('boolean');
    }
    expect(undescribed.sort()).toEqual([...UNDESCRIBED].sort());
  });

  test('every input object is closed: additionalProperties is false at every depth', async ({ shared: h }) => {
    const { tools } = await h.client.listTools();
    const open: string[] = [];
    const walk = (schema: unknown, at: string): void => {
      if (schema === null || typeof schema !== 'object') return;
      const node = schema as Record<string, unknown>;
      if (node.type === 'object' && node.additionalProperties !== false) open.push(at);
      for (const [key, value] of Object.entries(node)) {
        if (key === 'properties') for (const [name, property] of Object.entries(value as object)) walk(property, `${at}.${name}`);
        else if (typeof value === 'object') walk(value, `${at}/${key}`);
      }
    };
    for (const tool of tools) walk(tool.inputSchema, tool.name);
    expect(open).toEqual([]);
    expect(tools.find((tool) => tool.name === 'create_group')!.inputSchema.properties!.auto_update).toMatchObject({
      type: 'object',
      additionalProperties: false,
      required: ['to'],
    });
  });

  test('the group tools take group_id as a required input', async ({ shared: h }) => {
    const { tools } = await h.client.listTools();
    const required = Object.fromEntries(tools.map((tool) => [tool.name, tool.inputSchema.required ?? []]));
    expect(required).toEqual({
      create_group: [],
      list_groups: [],
      get_group: ['group_id'],
      list_group_members: ['group_id'],
      update_group: ['group_id'],
      // members or members_file, which the tool checks: a schema saying "one of" would be refused by strict clients.
      replace_group: ['group_id'],
      delete_group: ['group_id'],
      find_numbers: ['numbers'],
      remove_numbers_everywhere: ['numbers'],
      export_group_members: ['group_id', 'path', 'format'],
      list_changes: [],
      undo_change: ['change_id'],
    });
  });
});

describe('create_group', () => {
  test('{} creates an empty, unnamed group and sends {}', async ({ h }) => {
    const group = await createGroup(h, {});
    expect(group).toEqual({ id: expect.stringMatching(/^[A-Za-z0-9]+$/), size: 0, created_at: expect.stringMatching(ISO_MILLIS), modified_at: group.created_at });
    expect(summary(h.emulator.requests)).toEqual([`POST ${groupsPath(h.emulator)}`]);
    expect(h.emulator.requests[0]!.rawBody).toBe('{}');
    expect(h.emulator.requests[0]!.headers['content-type']).toBe('application/json');
    expect(h.emulator.store.get(group.id)).toEqual(group);
  });

  test('creates a named group without members', async ({ h }) => {
    const group = await createGroup(h, { name: 'Newsletter' });
    expect(group).toMatchObject({ name: 'Newsletter', size: 0 });
    expect(h.emulator.requests[0]!.body).toEqual({ name: 'Newsletter' });
  });

  test('sends numbers in every documented form to Sinch in E.164 with "+", once each', async ({ h }) => {
    const group = await createGroup(h, {
      name: 'VIP',
      members: ['+14058961234', '0044 7911 123456', '16051234567', '+1 (605) 123-4567', '+46-12-345678'],
    });

    // "16051234567" and "+1 (605) 123-4567" are the same number.
    expect(group).toMatchObject({ name: 'VIP', size: 4 });
    expect(h.emulator.requests).toHaveLength(1);
    expect(h.emulator.requests[0]!.body).toEqual({
      name: 'VIP',
      members: ['+14058961234', '+447911123456', '+16051234567', '+4612345678'],
    });
    expect(storedMembers(h, group.id)).toEqual(new Set(['14058961234', '447911123456', '16051234567', '4612345678']));
  });

  test('accepts the documentation examples', async ({ h }) => {
    const examples = ['+14058961234', '+447911123456', '+55987654321', '+4612345678', '+15551235555', '16051234567'];
    const group = await createGroup(h, { members: examples });
    expect(group.size).toBe(6);
    expect(h.emulator.requests[0]!.body).toEqual({ members: examples.map((n) => (n.startsWith('+') ? n : `+${n}`)) });
  });

  test('sends auto_update and child_groups as given', async ({ h }) => {
    const child = await createGroup(h, { name: 'Child' });
    const autoUpdate = { to: '12345', add: { first_word: 'JOIN' }, remove: { first_word: 'STOP', second_word: 'NOW' } };
    const group = await createGroup(h, { name: 'Parent', child_groups: [child.id], auto_update: autoUpdate });
    expect(group).toMatchObject({ name: 'Parent', child_groups: [child.id], auto_update: autoUpdate });
    expect(h.emulator.requests[1]!.body).toEqual({ name: 'Parent', child_groups: [child.id], auto_update: autoUpdate });
  });
});

describe('get_group', () => {
  test('returns the group as Sinch has it, without members', async ({ h }) => {
    const created = await createGroup(h, { name: 'Team', members: ['+14155550123', '+447700900123'] });
    const group = await h.ok<Group>('get_group', { group_id: created.id });
    expect(group).toEqual({ id: created.id, name: 'Team', size: 2, created_at: created.created_at, modified_at: created.modified_at });
    expect(summary(since(h.emulator, 1))).toEqual([`GET ${groupPath(h.emulator, created.id)}`]);
  });

  test('accepts older and test id shapes', async ({ h }) => {
    const text = await h.fails('get_group', { group_id: 'dxCJTlfb1UsF' });
    expect(text).toContain('HTTP 404');
    expect(summary(h.emulator.requests)).toEqual([`GET ${groupPath(h.emulator, 'dxCJTlfb1UsF')}`]);
  });
});

describe('list_groups', () => {
  test('lists one page: 2 groups with page_size=2, newest first, and the next page', async ({ h }) => {
    await createGroup(h, { name: 'A' });
    const b = await createGroup(h, { name: 'B' });
    const c = await createGroup(h, { name: 'C' });
    const page = await h.ok<GroupPage>('list_groups', { page_size: 2 });
    expect(page).toEqual({ page: 0, page_size: 2, count: 3, groups: [c, b].map(listed), next_page: 1 });
    const request = h.emulator.requests.at(-1)!;
    expect(request.method).toBe('GET');
    expect(request.path).toBe(groupsPath(h.emulator));
    expect(request.query).toEqual({ page_size: '2' });
  });

  test('lists all: walking next_page yields every group once, newest first', async ({ h }) => {
    const created: Group[] = [];
    for (const name of ['A', 'B', 'C', 'D', 'E']) created.push(await createGroup(h, { name }));
    const pages: GroupPage[] = [];
    let page: number | undefined = 0;
    while (page !== undefined && pages.length < 10) {
      const result: GroupPage = await h.ok<GroupPage>('list_groups', { page, page_size: 2 });
      pages.push(result);
      page = result.next_page;
    }
    expect(pages.map((p) => [p.page, p.page_size, p.count, p.next_page])).toEqual([[0, 2, 5, 1], [1, 2, 5, 2], [2, 1, 5, undefined]]);
    expect(pages.flatMap((p) => p.groups)).toEqual([...created].reverse().map(listed));
    expect(since(h.emulator, 5).map((r) => r.query)).toEqual([
      { page: '0', page_size: '2' },
      { page: '1', page_size: '2' },
      { page: '2', page_size: '2' },
    ]);
  });

  test('uses Sinch defaults when no paging is given: page 0, up to 30', async ({ h }) => {
    for (let i = 0; i < 31; i++) await createGroup(h, {});
    const first = await h.ok<GroupPage>('list_groups', {});
    expect(first).toMatchObject({ page: 0, page_size: 30, count: 31, next_page: 1 });
    expect(first.groups).toHaveLength(30);
    expect(h.emulator.requests.at(-1)!.query).toEqual({});
    const second = await h.ok<GroupPage>('list_groups', { page: 1 });
    expect(second).toMatchObject({ page: 1, page_size: 1, count: 31 });
    expect(second).not.toHaveProperty('next_page');
  });

  test('a page past the end has no groups, page_size 0 and no next_page', async ({ h }) => {
    await createGroup(h, { name: 'Only' });
    const page = await h.ok<GroupPage>('list_groups', { page: 5, page_size: 2 });
    expect(page).toEqual({ page: 5, page_size: 0, count: 1, groups: [] });
  });

  test('no groups at all: an empty first page', async ({ h }) => {
    expect(await h.ok<GroupPage>('list_groups', {})).toEqual({ page: 0, page_size: 0, count: 0, groups: [] });
  });
});

describe('list_group_members', () => {
  test('returns the numbers in E.164 with "+", sorted, although Sinch stores them bare', async ({ h }) => {
    const group = await createGroup(h, { members: ['+447911123456', '+14058961234', '+4612345678'] });
    expect(h.emulator.store.members(group.id)).toEqual(['447911123456', '14058961234', '4612345678']);
    const page = await h.ok<MemberPage>('list_group_members', { group_id: group.id });
    expect(page).toEqual({ group_id: group.id, total: 3, members: ['+14058961234', '+447911123456', '+4612345678'] });
    expect(summary(since(h.emulator, 1))).toEqual([`GET ${groupPath(h.emulator, group.id)}/members`]);
  });

  test('an empty group has no members and no next_cursor', async ({ h }) => {
    const group = await createGroup(h, {});
    expect(await h.ok<MemberPage>('list_group_members', { group_id: group.id })).toEqual({ group_id: group.id, total: 0, members: [] });
  });

  test('walking next_cursor with a limit yields every member exactly once', async ({ h }) => {
    const members = numbers(0, 25);
    const group = await createGroup(h, { members: [...members].reverse() });
    const pages = await allMembers(h, group.id, 10);
    expect(pages.map((p) => p.members.length)).toEqual([10, 10, 5]);
    expect(pages.map((p) => p.total)).toEqual([25, 25, 25]);
    expect(pages.map((p) => typeof p.next_cursor)).toEqual(['string', 'string', 'undefined']);
    expect(pages.flatMap((p) => p.members)).toEqual(members);
  });

  test('a limit equal to the group size gives one page without next_cursor', async ({ h }) => {
    const group = await createGroup(h, { members: numbers(0, 4) });
    const page = await h.ok<MemberPage>('list_group_members', { group_id: group.id, limit: 4 });
    expect(page).toEqual({ group_id: group.id, total: 4, members: numbers(0, 4) });
  });

  test('pages hold 1,000 numbers by default: a group of 2,500 takes three pages', async ({ h }) => {
    const members = numbers(0, 2_500);
    const group = await createGroup(h, { members });
    const pages = await allMembers(h, group.id);
    expect(pages.map((p) => p.members.length)).toEqual([1_000, 1_000, 500]);
    expect(pages.every((p) => p.total === 2_500)).toBe(true);
    const seen = pages.flatMap((p) => p.members);
    expect(new Set(seen).size).toBe(2_500);
    expect(seen).toEqual(members);
  });

  test('a cursor stays exact when members change between pages', async ({ h }) => {
    const group = await createGroup(h, { members: numbers(0, 6) });
    const first = await h.ok<MemberPage>('list_group_members', { group_id: group.id, limit: 3 });
    expect(first.members).toEqual(numbers(0, 3));
    // One already-listed member leaves; the next page must neither repeat nor skip anyone.
    await h.ok('update_group', { group_id: group.id, remove: [number(0)] });
    const second = await h.ok<MemberPage>('list_group_members', { group_id: group.id, limit: 3, cursor: first.next_cursor });
    expect(second).toEqual({ group_id: group.id, total: 5, members: numbers(3, 6) });
  });

  test('a cursor that list_group_members did not give is an error, and nothing is asked of Sinch', async ({ h }) => {
    const group = await createGroup(h, { members: numbers(0, 3) });
    const before = h.emulator.requests.length;
    const text = await h.fails('list_group_members', { group_id: group.id, cursor: 'not-a-cursor' });
    expect(text).toBe('Nothing was changed: cursor: "not-a-cursor" is not a cursor that list_group_members returned; start again without one.');
    expect(h.emulator.requests.length).toBe(before);
  });
});

describe('update_group', () => {
  test('adds members and renames, returning the updated group', async ({ h }) => {
    const group = await createGroup(h, { name: 'Old', members: ['+14155550123'] });
    const updated = await h.ok<Group>('update_group', { group_id: group.id, name: 'New', add: ['0044 7700 900123'] });
    expect(updated).toMatchObject({ id: group.id, name: 'New', size: 2, created_at: group.created_at });
    expect(Date.parse(updated.modified_at)).toBeGreaterThan(Date.parse(group.modified_at));
    expect(summary(since(h.emulator, 1))).toEqual([`POST ${groupPath(h.emulator, group.id)}`]);
    expect(h.emulator.requests[1]!.body).toEqual({ name: 'New', add: ['+447700900123'] });
    expect(storedMembers(h, group.id)).toEqual(new Set(['14155550123', '447700900123']));
  });

  test('additions are applied before removals: a number on both lists ends up out', async ({ h }) => {
    const [a, b, c, d] = numbers(0, 4) as [string, string, string, string];
    const group = await createGroup(h, { members: [a, b] });
    const mark = h.emulator.requests.length;
    const updated = await h.ok<Group>('update_group', { group_id: group.id, add: [c, d], remove: [d, a] });
    expect(updated.size).toBe(2);
    expect(storedMembers(h, group.id)).toEqual(new Set([bare(b), bare(c)]));
    expect(postsSince(h, mark).map((r) => r.body)).toEqual([{ add: [c, d], remove: [d, a] }]);
  });

  test('adding a present number and removing an absent one are fine', async ({ h }) => {
    const [a, b, absent] = numbers(0, 3) as [string, string, string];
    const group = await createGroup(h, { members: [a, b] });
    const updated = await h.ok<Group>('update_group', { group_id: group.id, add: [a], remove: [absent] });
    expect(updated.size).toBe(2);
    expect(storedMembers(h, group.id)).toEqual(new Set([bare(a), bare(b)]));
  });

  test('leaving name out keeps the name, and the request has no name key', async ({ h }) => {
    const group = await createGroup(h, { name: 'Keep me' });
    const updated = await h.ok<Group>('update_group', { group_id: group.id, add: [number(1)] });
    expect(updated.name).toBe('Keep me');
    const request = h.emulator.requests[1]!;
    expect(request.body).toEqual({ add: [number(1)] });
    expect(Object.keys(request.body as object)).not.toContain('name');
    expect(request.rawBody).not.toContain('name');
  });

  test('name: null keeps the name, as if it were left out: null means "not given"', async ({ h }) => {
    const group = await createGroup(h, { name: 'Keep me', members: [number(1)] });
    const updated = await h.ok<Group>('update_group', { group_id: group.id, name: null, add: [number(2)] });
    expect(updated).toMatchObject({ name: 'Keep me', size: 2 });
    expect(h.emulator.store.get(group.id).name).toBe('Keep me');
    expect(h.emulator.requests[1]!.rawBody).toBe(JSON.stringify({ add: [number(2)] }));
  });

  test('remove_name: true removes the name and is sent as an explicit JSON null', async ({ h }) => {
    const group = await createGroup(h, { name: 'Remove me', members: [number(1)] });
    const updated = await h.ok<Group>('update_group', { group_id: group.id, remove_name: true });
    expect(updated).not.toHaveProperty('name');
    expect(updated.size).toBe(1);
    expect(h.emulator.store.get(group.id)).not.toHaveProperty('name');
    expect(summary(since(h.emulator, 1))).toEqual([`POST ${groupPath(h.emulator, group.id)}`]);
    expect(h.emulator.requests[1]!.rawBody).toBe('{"name":null}');
    expect((await h.ok<Group>('get_group', { group_id: group.id })).name).toBeUndefined();
  });

  test('no null is ever sent except for remove_name: true', async ({ h }) => {
    const other = await createGroup(h, { name: 'Other', members: [number(9)] });
    const group = await createGroup(h, { name: 'G', members: [number(1)], auto_update: { to: '12345', add: { first_word: 'JOIN' } } });
    await h.ok('update_group', {
      group_id: group.id,
      add: [number(2)],
      remove: [number(1)],
      add_from_group: other.id,
      auto_update: { to: '+14155550100', add: { first_word: 'IN' }, remove: { first_word: 'OUT' } },
      confirm: true,
    });
    await h.ok('update_group', { group_id: group.id, name: null, add: [number(4)] });
    await h.ok('update_group', { group_id: group.id, remove_name: true, remove_from_group: other.id });
    await h.ok('update_group', { group_id: group.id, name: 'Back' });
    await h.ok('replace_group', { group_id: group.id, confirm: true, members: [number(3)] });
    await h.ok('replace_group', { group_id: group.id, confirm: true, members: [], name: 'Empty', child_groups: [other.id] });
    const changes = h.emulator.requests.filter((r) => r.method !== 'GET');
    expect(changes.map((r) => r.rawBody.match(/null/g)?.length ?? 0)).toEqual([0, 0, 0, 0, 1, 0, 0, 0]);
    expect(changes[4]!.body).toEqual({ name: null, remove_from_group: other.id });
  });

  test('add_from_group copies the other group\'s members in, once', async ({ h }) => {
    const source = await createGroup(h, { members: numbers(0, 3) });
    const target = await createGroup(h, { members: numbers(2, 5) });
    const updated = await h.ok<Group>('update_group', { group_id: target.id, add_from_group: source.id });
    expect(updated.size).toBe(5);
    expect(storedMembers(h, target.id)).toEqual(new Set(numbers(0, 5).map(bare)));
    expect(h.emulator.requests[2]!.body).toEqual({ add_from_group: source.id });
    // A copy, not a link: later changes to the source do not reach the target.
    await h.ok('update_group', { group_id: source.id, add: [number(7)] });
    expect(storedMembers(h, target.id).has(bare(number(7)))).toBe(false);
    expect(storedMembers(h, source.id)).toEqual(new Set([...numbers(0, 3), number(7)].map(bare)));
  });

  test('remove_from_group takes out every member of the other group', async ({ h }) => {
    const leavers = await createGroup(h, { members: [number(0), number(1), number(8)] });
    const target = await createGroup(h, { members: numbers(0, 4) });
    const mark = h.emulator.requests.length;
    const updated = await h.ok<Group>('update_group', { group_id: target.id, remove_from_group: leavers.id });
    expect(updated.size).toBe(2);
    expect(storedMembers(h, target.id)).toEqual(new Set([number(2), number(3)].map(bare)));
    expect(storedMembers(h, leavers.id).size).toBe(3);
    expect(postsSince(h, mark).map((r) => r.body)).toEqual([{ remove_from_group: leavers.id }]);
  });
});

describe('replace_group', () => {
  test('swaps the members and clears the name and settings not given', async ({ h }) => {
    const group = await createGroup(h, { name: 'Old', members: numbers(0, 3), auto_update: { to: '12345', add: { first_word: 'JOIN' } } });
    const replaced = await h.ok<Group>('replace_group', { group_id: group.id, confirm: true, members: ['+447911123456', number(1)] });
    expect(replaced).toEqual({ id: group.id, size: 2, created_at: group.created_at, modified_at: expect.stringMatching(ISO_MILLIS) });
    expect(summary(since(h.emulator, 1))).toEqual([`PUT ${groupPath(h.emulator, group.id)}`]);
    expect(h.emulator.requests[1]!.body).toEqual({ members: ['+447911123456', number(1)] });
    expect(storedMembers(h, group.id)).toEqual(new Set(['447911123456', bare(number(1))]));
  });

  test('sets a name when given', async ({ h }) => {
    const group = await createGroup(h, { name: 'Old', members: [number(0)] });
    const replaced = await h.ok<Group>('replace_group', { group_id: group.id, confirm: true, members: [], name: 'New' });
    expect(replaced).toMatchObject({ id: group.id, name: 'New', size: 0 });
    expect(h.emulator.requests[1]!.body).toEqual({ members: [], name: 'New' });
  });
});

describe('delete_group', () => {
  test('deletes the group; get_group then fails with 404 saying it does not exist', async ({ h }) => {
    const group = await createGroup(h, { name: 'Doomed', members: [number(0)] });
    const result = await h.ok('delete_group', { group_id: group.id, confirm: true });
    expect(result).toEqual({ group_id: group.id, deleted: true });
    expect(summary(since(h.emulator, 1))).toEqual([`DELETE ${groupPath(h.emulator, group.id)}`]);
    expect(h.emulator.store.list().count).toBe(0);
    const text = await h.fails('get_group', { group_id: group.id });
    expect(text).toContain('HTTP 404');
    expect(text).toContain(`Group ${group.id} does not exist`);
  });

  test('deleting one group leaves the others', async ({ h }) => {
    const keep = await createGroup(h, { name: 'Keep' });
    const drop = await createGroup(h, { name: 'Drop' });
    await h.ok('delete_group', { group_id: drop.id, confirm: true });
    expect(await h.ok<GroupPage>('list_groups', {})).toEqual({ page: 0, page_size: 1, count: 1, groups: [listed(keep)] });
  });
});

describe('lists over Sinch\'s 10,000 limit', () => {
  test('create_group with 25,000 members: create with 10,000, then adds of 10,000 and 5,000', async ({ h }) => {
    const members = numbers(0, 25_000);
    const group = await createGroup(h, { name: 'Big', members });
    expect(group).toMatchObject({ name: 'Big', size: 25_000 });
    expect(summary(h.emulator.requests)).toEqual([
      `POST ${groupsPath(h.emulator)}`,
      `POST ${groupPath(h.emulator, group.id)}`,
      `POST ${groupPath(h.emulator, group.id)}`,
    ]);
    const [create, add1, add2] = h.emulator.requests.map((r) => r.body as UpdateBody & { members?: string[] });
    expect(create).toEqual({ name: 'Big', members: members.slice(0, 10_000) });
    expect(add1).toEqual({ add: members.slice(10_000, 20_000) });
    expect(add2).toEqual({ add: members.slice(20_000) });
    expect(storedMembers(h, group.id)).toEqual(new Set(members.map(bare)));
    expect(h.emulator.store.list().count).toBe(1);
  });

  test('create_group with exactly 10,000 members is one request', async ({ h }) => {
    const group = await createGroup(h, { members: numbers(0, 10_000) });
    expect(group.size).toBe(10_000);
    expect(h.emulator.requests).toHaveLength(1);
  });

  test('update_group adding 25,000 and removing 12,000 ends as one request would, every add before any remove', async ({ h }) => {
    const initial = numbers(0, 5_000);
    const add = numbers(3_000, 28_000); // 2,000 already in the group
    // Removals: 2,000 only in the group, 2,000 in both, 2,000 only added, 1,000 added later, 5,000 absent.
    const remove = [...numbers(1_000, 7_000), ...numbers(27_000, 33_000)];
    const group = await createGroup(h, { members: initial });
    const mark = h.emulator.requests.length;
    // 4,000 of the 5,000 members leave, which needs the user's consent.
    const updated = await h.ok<Group>('update_group', { group_id: group.id, add, remove, confirm: true });
    const expected = new Set([...initial, ...add]);
    for (const n of remove) expected.delete(n);
    expect(updated.size).toBe(expected.size);
    expect(storedMembers(h, group.id)).toEqual(new Set([...expected].map(bare)));
    // Reads to weigh the removals come first; from the first change on, every request is a change to the group.
    const requests = since(h.emulator, mark);
    const firstPost = requests.findIndex((r) => r.method === 'POST');
    expect(requests.slice(0, firstPost).every((r) => r.method === 'GET')).toBe(true);
    expect(requests.slice(firstPost).every((r) => r.method === 'POST' && r.path === groupPath(h.emulator, group.id))).toBe(true);
    const bodies = requests.slice(firstPost).map((r) => r.body as UpdateBody);
    for (const body of bodies) {
      expect(Object.keys(body).every((key) => key === 'add' || key === 'remove')).toBe(true);
      expect(body.add?.length ?? 0).toBeLessThanOrEqual(10_000);
      expect(body.remove?.length ?? 0).toBeLessThanOrEqual(10_000);
    }
    // Chunks of one phase go out concurrently, so only their union is fixed, not their order.
    expect(bodies.flatMap((b) => b.add ?? []).sort()).toEqual([...add].sort());
    expect(bodies.flatMap((b) => b.remove ?? []).sort()).toEqual([...remove].sort());
    const lastAdd = bodies.reduce((last, b, index) => (b.add !== undefined ? index : last), -1);
    const firstRemove = bodies.findIndex((b) => b.remove !== undefined);
    expect(lastAdd).toBeLessThan(firstRemove);
    expect(bodies).toHaveLength(5); // ceil(25,000 / 10,000) add chunks, then ceil(12,000 / 10,000) remove chunks
  });

  test('update_group splitting keeps name with the first request and removes remove_from_group\'s members last', async ({ h }) => {
    const leavers = await createGroup(h, { members: [number(0), number(20_000)] });
    const group = await createGroup(h, { name: 'Old', members: [number(0)] });
    const mark = h.emulator.requests.length;
    // The group's only member leaves, which needs the user's consent.
    const updated = await h.ok<Group>('update_group', {
      group_id: group.id,
      name: 'Renamed',
      add: numbers(10_000, 25_000),
      remove_from_group: leavers.id,
      confirm: true,
    });

    // As one request: number(0) and number(20,000) both leave, the rest of the adds stay.
    expect(updated).toMatchObject({ name: 'Renamed', size: 14_999 });
    const requests = since(h.emulator, mark);
    const firstPost = requests.findIndex((r) => r.method === 'POST');
    expect(summary(requests.slice(0, firstPost))).toContain(`GET ${groupPath(h.emulator, leavers.id)}/members`);
    expect(requests.slice(0, firstPost).every((r) => r.method === 'GET')).toBe(true);
    expect(summary(requests.slice(firstPost))).toEqual([`POST ${groupPath(h.emulator, group.id)}`, `POST ${groupPath(h.emulator, group.id)}`, `POST ${groupPath(h.emulator, group.id)}`]);
    const bodies = requests.slice(firstPost).map((r) => r.body as UpdateBody);
    expect(bodies.map((b) => Object.keys(b).sort())).toEqual([['add', 'name'], ['add'], ['remove']]);
    expect(bodies[2]!.remove!.slice().sort()).toEqual([number(0), number(20_000)].sort());
  });

  test('replace_group with 15,000 members: PUT with 10,000, then an add of 5,000', async ({ h }) => {
    const group = await createGroup(h, { name: 'Old', members: numbers(90_000, 90_010) });
    const members = numbers(0, 15_000);
    const mark = h.emulator.requests.length;
    const replaced = await h.ok<Group>('replace_group', { group_id: group.id, confirm: true, name: 'New', members });
    expect(replaced).toMatchObject({ id: group.id, name: 'New', size: 15_000 });
    expect(summary(since(h.emulator, mark))).toEqual([`PUT ${groupPath(h.emulator, group.id)}`, `POST ${groupPath(h.emulator, group.id)}`]);
    const [put, post] = since(h.emulator, mark).map((r) => r.body);
    expect(put).toEqual({ name: 'New', members: members.slice(0, 10_000) });
    expect(post).toEqual({ add: members.slice(10_000) });
    expect(storedMembers(h, group.id)).toEqual(new Set(members.map(bare)));
  });
});

describe('list_group_members contains', () => {
  test('finds one number among 2,500 without paging', async ({ h }) => {
    const group = h.emulator.store.create({ members: numbers(0, 2_500).reverse() });
    const page = await h.ok<MemberPage>('list_group_members', { group_id: group.id, contains: '6050001234' });
    expect(page).toEqual({ group_id: group.id, total: 2_500, matching: 1, members: [number(1_234)] });
    expect(summary(h.emulator.requests)).toEqual([`GET ${groupPath(h.emulator, group.id)}/members`]);
  });

  test('separators and "+" are ignored: a number as people write it', async ({ h }) => {
    const group = h.emulator.store.create({ members: numbers(0, 2_500) });
    const page = await h.ok<MemberPage>('list_group_members', { group_id: group.id, contains: '+1 (605) 000-0042' });
    expect(page).toEqual({ group_id: group.id, total: 2_500, matching: 1, members: [number(42)] });
  });

  test('no match: matching 0, no members, no cursor', async ({ h }) => {
    const group = h.emulator.store.create({ members: numbers(0, 2_500) });
    const page = await h.ok<MemberPage>('list_group_members', { group_id: group.id, contains: '4155550123' });
    expect(page).toEqual({ group_id: group.id, total: 2_500, matching: 0, members: [] });
  });

  test('pages over the matches with the cursor', async ({ h }) => {
    const group = h.emulator.store.create({ members: numbers(0, 2_500) });
    const pages: MemberPage[] = [];
    let cursor: string | undefined;
    do {
      const page: MemberPage = await h.ok<MemberPage>('list_group_members', {
        group_id: group.id,
        contains: '60500012',
        limit: 40,
        ...(cursor !== undefined && { cursor }),
      });
      pages.push(page);
      cursor = page.next_cursor;
    } while (cursor !== undefined && pages.length < 10);
    expect(pages.map((p) => [p.total, p.matching, p.members.length, typeof p.next_cursor])).toEqual([
      [2_500, 100, 40, 'string'],
      [2_500, 100, 40, 'string'],
      [2_500, 100, 20, 'undefined'],
    ]);
    expect(pages.flatMap((p) => p.members)).toEqual(numbers(1_200, 1_300));
  });

  test('without contains there is no matching', async ({ h }) => {
    const group = h.emulator.store.create({ members: numbers(0, 3) });
    expect(await h.ok<MemberPage>('list_group_members', { group_id: group.id })).toEqual({ group_id: group.id, total: 3, members: numbers(0, 3) });
  });

  test.for(['abc', '605abc', '', '1234567890123456'])('contains %o is refused, and nothing is asked of Sinch', async (contains, { h }) => {
    const group = h.emulator.store.create({ members: numbers(0, 3) });
    const text = await h.fails('list_group_members', { group_id: group.id, contains });
    expect(text).toBe(`Nothing was changed: contains: must be 1 to 15 digits (got ${JSON.stringify(contains)}).`);
    expect(h.emulator.requests).toEqual([]);
  });
});
