import { describe, expect } from 'vitest';
import { LISTED_GROUPS } from '../src/mcp/resources/groups.js';
import type { Group } from '../src/sinch/schemas.js';
import { groupPath, groupsPath, number, numbers, rpcError, summary, test, type Harness, type Notice } from './harness.js';

const groupUri = (id: string) => `sinch://groups/${id}`;
const membersUri = (id: string) => `sinch://groups/${id}/members`;
/** Straight into the store: no request is recorded. */
const seed = (s: Harness, body: Record<string, unknown>): Group => s.emulator.store.create(body);

const RESOURCE_NOT_FOUND = -32002;
const INVALID_PARAMS = -32602;

describe('resources/templates/list', () => {
  test('offers the group and its members as templates, JSON and plain text', async ({ h: s }) => {
    const { resourceTemplates } = await s.client.listResourceTemplates();
    expect(resourceTemplates.map(({ name, uriTemplate, mimeType, title }) => ({ name, uriTemplate, mimeType, title }))).toEqual([
      { name: 'group', uriTemplate: 'sinch://groups/{group_id}', mimeType: 'application/json', title: 'SMS group' },
      { name: 'group-members', uriTemplate: 'sinch://groups/{group_id}/members', mimeType: 'text/plain', title: 'SMS group members' },
    ]);
    expect(resourceTemplates[0]!.description).toContain(`newest ${LISTED_GROUPS} groups`);
    expect(resourceTemplates[1]!.description).toContain('E.164');
    expect(resourceTemplates[1]!.description).toContain('one per line');
  });

  test('the server declares resources with subscribe and listChanged, and completions', ({ h: s }) => {
    const capabilities = s.client.getServerCapabilities();
    expect(capabilities?.resources).toEqual({ subscribe: true, listChanged: true });
    expect(capabilities?.completions).toEqual({});
  });
});

describe('resources/list', () => {
  test('names every group, newest first, by walking the pages', async ({ h: s }) => {
    const a = seed(s, { name: 'Alpha', members: numbers(0, 2) });
    const b = seed(s, { members: [number(5)] });
    const c = seed(s, { name: 'Gamma' });
    const { resources } = await s.client.listResources();
    expect(resources).toEqual([
      { uri: groupUri(c.id), name: 'Gamma', title: 'Gamma', description: `SMS group ${c.id}, 0 members`, mimeType: 'application/json' },
      { uri: groupUri(b.id), name: b.id, title: `Unnamed group ${b.id}`, description: `SMS group ${b.id}, 1 member`, mimeType: 'application/json' },
      { uri: groupUri(a.id), name: 'Alpha', title: 'Alpha', description: `SMS group ${a.id}, 2 members`, mimeType: 'application/json' },
    ]);
    expect(summary(s.emulator.requests)).toEqual([`GET ${groupsPath(s.emulator)}`]);
    expect(s.emulator.requests[0]!.query).toEqual({ page: '0', page_size: '100' });
  });

  test('no groups: no resources, and one request', async ({ h: s }) => {
    expect((await s.client.listResources()).resources).toEqual([]);
    expect(s.emulator.requests).toHaveLength(1);
  });

  test(`stops at the newest ${LISTED_GROUPS} groups when there are more`, async ({ h: s }) => {
    const created = Array.from({ length: 205 }, (_, i) => seed(s, { name: `G${i}` }));
    const { resources } = await s.client.listResources();
    expect(LISTED_GROUPS).toBe(200);
    expect(resources).toHaveLength(200);
    expect(resources.map((r) => r.uri)).toEqual(created.slice(5).reverse().map((g) => groupUri(g.id)));
    expect(resources.map((r) => r.name).slice(0, 2)).toEqual(['G204', 'G203']);
    expect(resources.at(-1)!.name).toBe('G5');
    expect(s.emulator.requests.map((r) => r.query)).toEqual([{ page: '0', page_size: '100' }, { page: '1', page_size: '100' }]);
  });

  test('150 groups: two pages, all listed', async ({ h: s }) => {
    for (let i = 0; i < 150; i++) seed(s, {});
    const { resources } = await s.client.listResources();
    expect(resources).toHaveLength(150);
    expect(new Set(resources.map((r) => r.uri)).size).toBe(150);
    expect(s.emulator.requests.map((r) => r.query.page)).toEqual(['0', '1']);
  });
});

describe('resources/read', () => {
  test('the group URI gives the group as JSON', async ({ h: s }) => {
    const group = seed(s, { name: 'Team', members: [number(1), number(0)], auto_update: { to: '12345', add: { first_word: 'JOIN' } } });
    const result = await s.client.readResource({ uri: groupUri(group.id) });
    expect(result.contents).toHaveLength(1);
    const [content] = result.contents;
    expect(content).toMatchObject({ uri: groupUri(group.id), mimeType: 'application/json' });
    expect(JSON.parse((content as { text: string }).text)).toEqual({
      id: group.id,
      name: 'Team',
      size: 2,
      created_at: group.created_at,
      modified_at: group.modified_at,
      auto_update: { to: '12345', add: { first_word: 'JOIN' } },
    });
    expect(summary(s.emulator.requests)).toEqual([`GET ${groupPath(s.emulator, group.id)}`]);
  });

  test('the members URI gives the numbers in E.164, sorted, one per line, as text/plain', async ({ h: s }) => {
    const group = seed(s, { members: ['447911123456', '+14058961234', '4612345678', '14058961233'] });
    const result = await s.client.readResource({ uri: membersUri(group.id) });
    expect(result.contents).toEqual([
      { uri: membersUri(group.id), mimeType: 'text/plain', text: '+14058961233\n+14058961234\n+447911123456\n+4612345678' },
    ]);
    expect(summary(s.emulator.requests)).toEqual([`GET ${groupPath(s.emulator, group.id)}/members`]);
  });

  test('a read after a change made through a tool shows the change', async ({ h: s }) => {
    const group = seed(s, { name: 'Team', members: [number(1)] });
    expect((await s.client.readResource({ uri: membersUri(group.id) })).contents[0]).toMatchObject({ text: number(1) });
    await s.ok('update_group', { group_id: group.id, add: [number(0)], name: 'Renamed' });
    expect((await s.client.readResource({ uri: membersUri(group.id) })).contents[0]).toMatchObject({ text: `${number(0)}\n${number(1)}` });
    const json = JSON.parse(((await s.client.readResource({ uri: groupUri(group.id) })).contents[0] as { text: string }).text) as Group;
    expect(json).toMatchObject({ name: 'Renamed', size: 2 });
  });

  test('an empty group has an empty members resource', async ({ h: s }) => {
    const group = seed(s, { name: 'Empty' });
    expect((await s.client.readResource({ uri: membersUri(group.id) })).contents).toEqual([
      { uri: membersUri(group.id), mimeType: 'text/plain', text: '' },
    ]);
  });

  test.for([
    ['group', groupUri('01MISSING0000000000000000X')],
    ['members', membersUri('01MISSING0000000000000000X')],
  ] as const)('reading a missing group (%s) is a resource-not-found error, not empty contents', async ([_, uri], { h: s }) => {
    const error = await rpcError(s.client.readResource({ uri }));
    expect(error.code).toBe(RESOURCE_NOT_FOUND);
    // The client's McpError puts the code in front once; the server adds nothing to the message.
    expect(error.message).toBe('MCP error -32002: Group 01MISSING0000000000000000X does not exist; use list_groups to find the right id.');
    expect(error.data).toEqual({ uri });
    expect(s.emulator.requests).toHaveLength(1);
  });

  test('a deleted group cannot be read any more', async ({ h: s }) => {
    const group = seed(s, { name: 'Gone', members: [number(0)] });
    s.emulator.store.delete(group.id);
    expect((await rpcError(s.client.readResource({ uri: membersUri(group.id) }))).code).toBe(RESOURCE_NOT_FOUND);
  });

  test.for(['bad_id', 'a-b', 'x'.repeat(65)])('an invalid group id in the URI (%s) is an invalid-params error and asks nothing of Sinch', async (id, { h: s }) => {
    for (const uri of [groupUri(id), membersUri(id)]) {
      const error = await rpcError(s.client.readResource({ uri }));
      expect(error.code).toBe(INVALID_PARAMS);
      expect(error.message).toBe(`MCP error -32602: group_id: "${id}" is not a group id: ids are letters and digits only (see list_groups)`);
    }
    expect(s.emulator.requests).toEqual([]);
  });

  test('a URI that is no group resource is an error', async ({ h: s }) => {
    const group = seed(s, {});
    const error = await rpcError(s.client.readResource({ uri: `${groupUri(group.id)}/owner` }));
    expect(error.code).toBe(INVALID_PARAMS);
    expect(s.emulator.requests).toEqual([]);
  });
});

describe('completion/complete of group_id', () => {
  const complete = (s: Harness, ref: { type: 'ref/resource'; uri: string } | { type: 'ref/prompt'; name: string }, value: string) =>
    s.client.complete({ ref, argument: { name: 'group_id', value } });
  const REFS = [
    { type: 'ref/resource', uri: 'sinch://groups/{group_id}' },
    { type: 'ref/resource', uri: 'sinch://groups/{group_id}/members' },
    { type: 'ref/prompt', name: 'careful_membership_change' },
  ] as const;

  test.for(REFS)('by a prefix of the id, in any case (%o)', async (ref, { h: s }) => {
    const target = seed(s, { name: 'Target' });
    seed(s, { name: 'Other' });
    seed(s, {});
    const prefix = target.id.slice(0, 16);
    expect((await complete(s, ref, prefix)).completion).toEqual({ values: [target.id], total: 1, hasMore: false });
    expect((await complete(s, ref, prefix.toLowerCase())).completion).toEqual({ values: [target.id], total: 1, hasMore: false });
    expect((await complete(s, ref, target.id)).completion.values).toEqual([target.id]);
  });

  test.for(REFS)('by a prefix of the name, ignoring case, newest first (%o)', async (ref, { h: s }) => {
    const newsletter = seed(s, { name: 'Newsletter' });
    seed(s, { name: 'Renewals' });
    const desk = seed(s, { name: 'news desk' });
    seed(s, {});
    expect((await complete(s, ref, 'NEWS')).completion).toEqual({ values: [desk.id, newsletter.id], total: 2, hasMore: false });
    expect((await complete(s, ref, 'newsl')).completion.values).toEqual([newsletter.id]);
    expect((await complete(s, ref, 'zzz')).completion).toEqual({ values: [], total: 0, hasMore: false });
  });

  test('an empty prefix offers the newest groups, at most 100 values of the 200 looked at', async ({ h: s }) => {
    const created = Array.from({ length: 205 }, () => seed(s, {}));
    const { completion } = await complete(s, REFS[0], '');
    expect(completion).toEqual({ values: created.slice(-100).reverse().map((g) => g.id), total: 200, hasMore: true });
  });
});

describe('subscriptions', () => {
  async function subscribeBoth(s: Harness, id: string) {
    await s.client.subscribeResource({ uri: groupUri(id) });
    await s.client.subscribeResource({ uri: membersUri(id) });
  }
  const updated = (id: string): Notice[] => [{ updated: groupUri(id) }, { updated: membersUri(id) }];

  test('create_group sends list_changed (and no update of groups nobody subscribed to)', async ({ h: s }) => {
    const watched = seed(s, { name: 'Watched' });
    await subscribeBoth(s, watched.id);
    const group = await s.ok<Group>('create_group', { name: 'New', members: [number(0)] });
    expect(group.name).toBe('New');
    expect(s.notices).toEqual([{ listChanged: true }]);
  });

  test('list_changed reaches a client that subscribed to nothing', async ({ h: s }) => {
    await s.ok('create_group', {});
    expect(s.notices).toEqual([{ listChanged: true }]);
  });

  test('update_group sends updated for both URIs of that group, not for other groups', async ({ h: s }) => {
    const group = seed(s, { name: 'Mine', members: [number(0)] });
    const other = seed(s, { name: 'Other', members: [number(1)] });
    await subscribeBoth(s, group.id);
    await subscribeBoth(s, other.id);
    await s.ok('update_group', { group_id: group.id, add: [number(2)] });
    expect(s.notices).toEqual(updated(group.id));
  });

  test('only the subscribed URI is notified', async ({ h: s }) => {
    const group = seed(s, { members: [number(0)] });
    await s.client.subscribeResource({ uri: membersUri(group.id) });

    // The only member leaves, which needs the user's consent.
    await s.ok('update_group', { group_id: group.id, remove: [number(0)], confirm: true });
    expect(s.notices).toEqual([{ updated: membersUri(group.id) }]);
  });

  test('replace_group with confirm: true sends updated for both URIs and no list_changed', async ({ h: s }) => {
    const group = seed(s, { name: 'Mine', members: numbers(0, 3) });
    await subscribeBoth(s, group.id);
    await s.ok('replace_group', { group_id: group.id, members: [number(9)], confirm: true });
    expect(s.notices).toEqual(updated(group.id));
  });

  test('delete_group with confirm: true sends updated for both URIs, then list_changed', async ({ h: s }) => {
    const group = seed(s, { name: 'Doomed', members: numbers(0, 3) });
    await subscribeBoth(s, group.id);
    await s.ok('delete_group', { group_id: group.id, confirm: true });
    expect(s.notices).toEqual([...updated(group.id), { listChanged: true }]);
  });

  test('every mutating tool in a row, each heard once', async ({ h: s }) => {
    const group = seed(s, { name: 'Mine', members: numbers(0, 3) });
    await subscribeBoth(s, group.id);
    await s.ok('update_group', { group_id: group.id, name: 'Renamed' });
    await s.ok('replace_group', { group_id: group.id, members: [number(5)], confirm: true });
    await s.ok('create_group', { name: 'Another' });
    await s.ok('delete_group', { group_id: group.id, confirm: true });
    expect(s.notices).toEqual([...updated(group.id), ...updated(group.id), { listChanged: true }, ...updated(group.id), { listChanged: true }]);
  });

  test('unsubscribe stops the updates', async ({ h: s }) => {
    const group = seed(s, { members: [number(0)] });
    await subscribeBoth(s, group.id);
    await s.ok('update_group', { group_id: group.id, add: [number(1)] });
    expect(s.notices).toEqual(updated(group.id));
    await s.client.unsubscribeResource({ uri: groupUri(group.id) });
    await s.ok('update_group', { group_id: group.id, add: [number(2)] });
    expect(s.notices).toEqual([...updated(group.id), { updated: membersUri(group.id) }]);
    await s.client.unsubscribeResource({ uri: membersUri(group.id) });
    await s.ok('update_group', { group_id: group.id, add: [number(3)] });
    await s.ok('replace_group', { group_id: group.id, members: [], confirm: true });
    expect(s.notices).toEqual([...updated(group.id), { updated: membersUri(group.id) }]);
  });

  test('a dry run sends no notification', async ({ h: s }) => {
    const group = seed(s, { name: 'Mine', members: numbers(0, 3) });
    await subscribeBoth(s, group.id);
    await s.ok('update_group', { group_id: group.id, add: [number(7)], dry_run: true });
    await s.ok('replace_group', { group_id: group.id, members: [], dry_run: true });
    expect(s.notices).toEqual([]);
  });

  test('a change that was refused sends no notification', async ({ h: s }) => {
    const group = seed(s, { name: 'Mine', members: numbers(0, 3) });
    await subscribeBoth(s, group.id);
    await s.fails('delete_group', { group_id: group.id });
    await s.fails('replace_group', { group_id: group.id, members: [] });
    await s.fails('update_group', { group_id: group.id, add: [number(7)], expected_modified_at: '2001-01-01T00:00:00.000Z' });
    expect(s.notices).toEqual([]);
    expect(s.emulator.store.members(group.id)).toHaveLength(3);
  });

  test('a change Sinch refused sends no notification', async ({ h: s }) => {
    const group = seed(s, { name: 'Mine', members: numbers(0, 3) });
    await subscribeBoth(s, group.id);
    s.emulator.faults.push({ status: 400, body: '{"code":"syntax_constraint_violation","text":"no"}' });
    await s.fails('update_group', { group_id: group.id, add: [number(7)] });
    expect(s.notices).toEqual([]);
  });

  test('a change that was applied only in part is still announced', async ({ h: s }) => {
    const group = seed(s, { name: 'Mine', members: [number(0)] });
    await subscribeBoth(s, group.id);
    // The first of two requests lands, the second is refused (a 400, which no retry policy repeats).
    s.emulator.faults.push({ after: 1, status: 400, body: '{"code":"syntax_constraint_violation","text":"no"}' });
    const text = await s.fails('update_group', { group_id: group.id, add: numbers(1, 12_001) });
    expect(text).toContain('only partly applied');
    expect(s.emulator.store.members(group.id)).toHaveLength(10_001);
    expect(s.notices).toEqual(updated(group.id));
  });

  test('a create that was applied only in part still sends list_changed', async ({ h: s }) => {
    s.emulator.faults.push({ after: 1, status: 400, body: '{"code":"syntax_constraint_violation","text":"no"}' });
    const text = await s.fails('create_group', { name: 'Big', members: numbers(0, 12_000) });
    expect(text).toContain('Do not call create_group again');
    expect(s.emulator.store.list().count).toBe(1);
    expect(s.notices).toEqual([{ listChanged: true }]);
  });

  test('a subscription to something that is not a group resource is accepted and never notified', async ({ h: s }) => {
    const group = seed(s, { members: [number(0)] });
    expect(await s.client.subscribeResource({ uri: 'sinch://batches/123' })).toEqual({});
    await s.ok('update_group', { group_id: group.id, add: [number(1)] });
    await s.ok('create_group', { name: 'New' });
    expect(s.notices).toEqual([{ listChanged: true }]);
    expect(await s.client.unsubscribeResource({ uri: 'sinch://batches/123' })).toEqual({});
  });
});

describe('elicitation is independent of resources', () => {
  test('a client with elicitation still gets notifications after an accepted delete', async ({ harness }) => {
    const e = await harness({ elicit: () => ({ action: 'accept', content: { confirm: true } }) });
    const group = e.emulator.store.create({ name: 'Doomed', members: [number(0)] });
    await e.client.subscribeResource({ uri: groupUri(group.id) });
    await e.ok('delete_group', { group_id: group.id });
    expect(e.elicitations).toHaveLength(1);
    expect(e.notices).toEqual([{ updated: groupUri(group.id) }, { listChanged: true }]);
  });
});
