import type { Progress } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { Group } from '../src/sinch/schemas.js';
import { connect, startHarness, textOf, until, type Connection, type Harness } from './harness.js';

// The jobs people ask of an assistant, each in one call: find a group by a fragment of its name, find
// which groups hold a number, and take a number out of every group (an opt-out), safely.

let h: Harness;

beforeEach(async () => {
  h = await startHarness();
});

afterEach(async () => {
  await h.close();
});

const number = (i: number) => `+1605${String(i).padStart(7, '0')}`;
const numbers = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => number(from + k));
const bare = (e164: string) => e164.slice(1);

function seed(name: string | undefined, members: string[] = [], extra: Record<string, unknown> = {}): Group {
  return h.emulator.store.create({ ...(name === undefined ? {} : { name }), members: members.map(bare), ...extra });
}

const groupsPath = () => `/xms/v1/${h.emulator.servicePlanId}/groups`;
const requestsSince = (mark: number) => h.emulator.requests.slice(mark).map(({ method, path, query }) => ({ method, path, query }));
const membersOf = (id: string) => h.emulator.store.members(id).map((digits) => `+${digits}`).sort();

/** A tool call that must be refused before anything reaches Sinch; returns the refusal. */
async function refused(connection: Connection, tool: string, args: Record<string, unknown>): Promise<string> {
  const before = h.emulator.requests.length;
  const text = await connection.fails(tool, args);
  expect(h.emulator.requests.length, 'requests sent to Sinch').toBe(before);
  expect(text).toMatch(/^Nothing was changed/);
  return text;
}

interface Listed {
  groups: Record<string, unknown>[];
  searched?: number;
  truncated?: true;
}

describe('list_groups finds groups by name', () => {
  test('a fragment in any case finds the group among 300 in one call, reading every page of 100', async () => {
    const created = Array.from({ length: 300 }, (_, i) => seed(i === 42 ? 'Loyalty gold' : i === 250 ? 'GOLDEN oldies' : `Group ${i}`));

    const result = await h.ok<Listed>('list_groups', { name: 'gOlD' });

    expect(result).toEqual({
      groups: [created[250]!, created[42]!].map(({ id, name, size, modified_at }) => ({ id, name, size, modified_at })),
      searched: 300,
    });
    expect(requestsSince(0).map(({ query }) => query).sort((a, b) => Number(a.page) - Number(b.page))).toEqual([
      { page: '0', page_size: '100' },
      { page: '1', page_size: '100' },
      { page: '2', page_size: '100' },
    ]);
  });

  test('no match: no groups, and how many were searched', async () => {
    seed('VIP');
    seed(undefined);
    expect(await h.ok<Listed>('list_groups', { name: 'newsletter' })).toEqual({ groups: [], searched: 2 });
  });

  test('more than 100 matches: the newest 100, and truncated', async () => {
    const created = Array.from({ length: 130 }, (_, i) => seed(`Store ${i}`));
    const result = await h.ok<Listed>('list_groups', { name: 'store' });
    expect(result.truncated).toBe(true);
    expect(result.searched).toBe(130);
    expect(result.groups.map((group) => group.id)).toEqual(created.slice(30).reverse().map((group) => group.id));
  });

  test('refuses name with page or page_size, sending nothing', async () => {
    const text = await refused(h, 'list_groups', { name: 'vip', page: 1 });
    expect(text).toBe('Nothing was changed: name: searches every page, so it takes no page or page_size; leave those out.');
    await refused(h, 'list_groups', { name: 'vip', page_size: 10 });
    expect(await refused(h, 'list_groups', { name: '' })).toContain('name:');
  });

  test('a long walk reports "N of M groups read" as it goes, always growing', async () => {
    for (let i = 0; i < 250; i++) seed(`G${i}`);
    const seen: Progress[] = [];

    const result = await h.call('list_groups', { name: 'G1' }, (progress) => seen.push(progress));

    expect(result.isError).toBeFalsy();
    expect(seen.length).toBe(3);
    expect(seen.map(({ progress }) => progress)).toEqual([...seen.map(({ progress }) => progress)].sort((a, b) => a - b));
    expect(seen.at(-1)).toEqual({ progress: 250, total: 250, message: '250 of 250 groups read' });
    expect(seen[0]).toEqual({ progress: 100, total: 250, message: '100 of 250 groups read' });
  });

  test('a group deleted during the walk, which shifts the pages, does not hide another: the walk is made again', async () => {
    const created = Array.from({ length: 200 }, (_, i) => seed(i === 99 ? 'Hidden' : `G${i}`));
    // Page 1 is answered late; meanwhile the newest group goes, so the oldest group of page 1
    // ("Hidden") moves onto page 0, which was already read.
    h.emulator.faults.push({ path: '/groups', after: 1, delayMs: 300 });
    const call = h.ok<Listed>('list_groups', { name: 'hidden' });
    await until(() => h.emulator.requests.length === 2, 'page 1 was asked for');
    h.emulator.store.delete(created[199]!.id);

    const result = await call;

    expect(result.groups.map((group) => group.id)).toEqual([created[99]!.id]);
    expect(result.searched).toBe(199);
    expect(h.emulator.requests.map(({ query }) => query.page)).toEqual(['0', '1', '0', '1']);
  });
});

describe('list_groups is compact', () => {
  test('per group only id, name, size, modified_at, and child_groups and auto_update when set', async () => {
    const child = seed('Child', [number(1)]);
    const parent = seed('Parent', [], { child_groups: [child.id], auto_update: { to: '12345', add: { first_word: 'JOIN' } } });

    const page = await h.ok<Listed>('list_groups', {});

    expect(page.groups).toEqual([
      { id: parent.id, name: 'Parent', size: 0, modified_at: parent.modified_at, child_groups: [child.id], auto_update: { to: '12345', add: { first_word: 'JOIN' } } },
      { id: child.id, name: 'Child', size: 1, modified_at: child.modified_at },
    ]);
    const full = await h.ok('get_group', { group_id: child.id });
    expect(full).toHaveProperty('created_at', child.created_at);
  });
});

interface Found {
  numbers: { number: string; groups: { id: string; name?: string }[] }[];
  searched: number;
}

describe('find_numbers', () => {
  test('finds a number across 30 groups in one call: each group read once, a small result', async () => {
    const groups = Array.from({ length: 30 }, (_, i) => seed(`Group ${i}`, numbers(i * 1_100, i * 1_100 + 1_100)));
    const unnamed = seed(undefined, [number(5)]);
    h.emulator.store.update(groups[3]!.id, { add: [bare(number(50_000))] });
    h.emulator.store.update(groups[17]!.id, { add: [bare(number(50_000))] });

    const result = await h.call('find_numbers', { numbers: ['+1 605 005 0000', number(5), '+1 605 999 9999'] });

    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual({
      numbers: [
        { number: number(50_000), groups: [{ id: groups[17]!.id, name: 'Group 17' }, { id: groups[3]!.id, name: 'Group 3' }] },
        { number: number(5), groups: [{ id: unnamed.id }, { id: groups[0]!.id, name: 'Group 0' }] },
        { number: '+16059999999', groups: [] },
      ],
      searched: 31,
    });
    // About 400 bytes for three numbers, where reading the groups' members takes megabytes.
    expect(Buffer.byteLength(textOf(result))).toBeLessThan(600);
    const reads = requestsSince(0).filter(({ path }) => path.endsWith('/members')).map(({ path }) => path);
    expect(reads.sort()).toEqual([...groups, unnamed].map((group) => `${groupsPath()}/${group.id}/members`).sort());
    expect(h.emulator.requests.filter(({ path }) => path === groupsPath())).toHaveLength(1);
  });

  test('an invalid entry refuses the call, naming it, before anything is sent', async () => {
    const text = await refused(h, 'find_numbers', { numbers: [number(1), '12'] });
    expect(text).toMatch(/^Nothing was changed: numbers\[1\]: "12" is not a phone number/);
  });

  test('more than 1,000 numbers are refused unread', async () => {
    const text = await refused(h, 'find_numbers', { numbers: Array.from({ length: 1_001 }, () => 'x') });
    expect(text).toBe('Nothing was changed: numbers: has 1001 numbers; this takes at most 1000.');
  });

  test('no numbers: nothing to search, nothing sent', async () => {
    seed('A', [number(1)]);
    expect(await h.ok('find_numbers', { numbers: [] })).toEqual({ numbers: [], searched: 0 });
    expect(h.emulator.requests).toEqual([]);
  });

  test('reports "N of M groups read" as it goes, always growing', async () => {
    for (let i = 0; i < 5; i++) seed(`G${i}`, [number(i)]);
    const seen: Progress[] = [];
    await h.call('find_numbers', { numbers: [number(1)] }, (progress) => seen.push(progress));
    expect(seen.map(({ message }) => message)).toEqual([1, 2, 3, 4, 5].map((n) => `${n} of 5 groups read`));
    expect(seen.map(({ progress }) => progress)).toEqual([1, 2, 3, 4, 5]);
  });

  test('a group deleted before its members are read holds nothing, and is no error', async () => {
    const gone = seed('Gone', [number(1)]);
    const kept = seed('Kept', [number(1)]);
    h.emulator.faults.push({ path: `/groups/${gone.id}/members`, status: 404, body: JSON.stringify({ code: 'not_found', text: 'Group not found' }) });
    const found = await h.ok<Found>('find_numbers', { numbers: [number(1)] });
    expect(found.numbers).toEqual([{ number: number(1), groups: [{ id: kept.id, name: 'Kept' }] }]);
  });

  test('reads at most SINCH_CONCURRENCY groups at a time', async () => {
    for (let i = 0; i < 6; i++) seed(`G${i}`, [number(i)]);
    for (let i = 0; i < 6; i++) h.emulator.faults.push({ path: '/members', delayMs: 1_000 });
    const two = await connect({ baseUrl: h.emulator.url, servicePlanId: h.emulator.servicePlanId, apiToken: h.emulator.apiToken, concurrency: 2 });
    try {
      const reads = () => h.emulator.requests.filter(({ path }) => path.endsWith('/members')).length;
      const call = two.ok<Found>('find_numbers', { numbers: [number(0)] });
      await until(() => reads() === 2, 'two reads under way');
      // Each read is held for a second, so a third started now would be a third at once.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(reads()).toBe(2);
      expect((await call).searched).toBe(6);
    } finally {
      await two.close();
    }
  });

  test('a failing read fails the call, saying what Sinch answered', async () => {
    const group = seed('Broken', [number(1)]);
    h.emulator.faults.push({ path: `/groups/${group.id}/members`, status: 403, body: JSON.stringify({ code: 'forbidden', text: 'No access' }) });
    const text = await h.fails('find_numbers', { numbers: [number(1)] });
    expect(text).toContain(`Sinch refused to list members of group ${group.id} (HTTP 403 forbidden: No access)`);
  });
});

interface Removal {
  searched: number;
  would_change?: { id: string; name?: string; remove: string[] }[];
  changed?: { id: string; name?: string; removed: string[] }[];
  failed?: { id: string; name?: string; error: string }[];
  not_started?: { id: string; name?: string }[];
  message: string;
}

describe('remove_numbers_everywhere', () => {
  const STOP = number(7);
  const OTHER = number(8);

  function threeGroups() {
    const a = seed('Loyalty gold', [STOP, OTHER, number(1)]);
    const b = seed('Newsletter', [number(2)]);
    const c = seed(undefined, [STOP, number(3)]);
    return { a, b, c };
  }

  test('dry_run shows which groups would change, and changes nothing', async () => {
    const { a, c } = threeGroups();

    const plan = await h.ok<Removal>('remove_numbers_everywhere', { numbers: [STOP, OTHER], dry_run: true });

    expect(plan.would_change).toEqual([
      { id: c.id, remove: [STOP] },
      { id: a.id, name: 'Loyalty gold', remove: [STOP, OTHER] },
    ]);
    expect(plan.searched).toBe(3);
    expect(plan.message).toBe(
      `Nothing was changed. Removing 2 numbers from the 2 groups that hold them: ${c.id}: 1 number; "Loyalty gold" (${a.id}): 2 numbers. Other members stay.`,
    );
    expect(h.emulator.requests.filter(({ method }) => method !== 'GET')).toEqual([]);
  });

  test('without elicitation and confirm, it refuses with the groups affected, and changes nothing', async () => {
    const { a, c } = threeGroups();

    const text = await h.fails('remove_numbers_everywhere', { numbers: [STOP] });

    expect(text).toBe(
      `Nothing was changed. Removing 1 number from the 2 groups that hold them: ${c.id}: 1 number; "Loyalty gold" (${a.id}): 1 number. Other members stay. ` +
        'Ask the user; if they agree, call again with confirm: true.',
    );
    expect(membersOf(a.id)).toContain(STOP);
    expect(h.emulator.requests.filter(({ method }) => method !== 'GET')).toEqual([]);
  });

  test('with confirm: true it removes the numbers from every group holding them, and says where', async () => {
    const { a, b, c } = threeGroups();
    await h.client.subscribeResource({ uri: `sinch://groups/${a.id}` });
    await h.client.subscribeResource({ uri: `sinch://groups/${b.id}` });
    const mark = h.emulator.requests.length;

    const result = await h.ok<Removal>('remove_numbers_everywhere', { numbers: [STOP, OTHER], confirm: true });

    expect(result).toEqual({
      searched: 3,
      changed: [
        { id: c.id, removed: [STOP] },
        { id: a.id, name: 'Loyalty gold', removed: [STOP, OTHER] },
      ],
      failed: [],
      message: 'Removed from all 2 groups that held them.',
    });
    expect(membersOf(a.id)).toEqual([number(1)]);
    expect(membersOf(b.id)).toEqual([number(2)]);
    expect(membersOf(c.id)).toEqual([number(3)]);
    const posts = h.emulator.requests.slice(mark).filter(({ method }) => method === 'POST');
    expect(posts.map(({ path, body }) => ({ path, body })).sort((x, y) => x.path.localeCompare(y.path))).toEqual(
      [
        { path: `${groupsPath()}/${a.id}`, body: { remove: [STOP, OTHER] } },
        { path: `${groupsPath()}/${c.id}`, body: { remove: [STOP] } },
      ].sort((x, y) => x.path.localeCompare(y.path)),
    );
    await until(() => h.notices.length > 0, 'subscribers were told');
    expect(h.notices).toEqual([{ updated: `sinch://groups/${a.id}` }]);
  });

  test('asks through elicitation, naming the groups, and applies only on consent', async () => {
    let answer: 'accept' | 'decline' = 'decline';
    const e = await startHarness({ elicit: () => (answer === 'accept' ? { action: 'accept', content: { confirm: true } } : { action: 'decline' }) });
    try {
      const group = e.emulator.store.create({ name: 'Loyalty gold', members: [bare(STOP), bare(number(1))] });

      const declined = await e.fails('remove_numbers_everywhere', { numbers: [STOP] });
      expect(declined).toMatch(/^Nothing was changed: the user declined\. Removing 1 number from the 1 group that holds them/);
      expect(e.emulator.store.members(group.id)).toContain(bare(STOP));

      answer = 'accept';
      const done = await e.ok<Removal>('remove_numbers_everywhere', { numbers: [STOP] });
      expect(done.changed).toEqual([{ id: group.id, name: 'Loyalty gold', removed: [STOP] }]);
      expect(e.elicitations.map(({ message }) => message)).toEqual(
        Array(2).fill(`Removing 1 number from the 1 group that holds them: "Loyalty gold" (${group.id}): 1 number. Other members stay. Go ahead?`),
      );
      expect(e.emulator.store.members(group.id)).toEqual([bare(number(1))]);
    } finally {
      await e.close();
    }
  });

  test('names the first 20 groups and counts the rest', async () => {
    const created = Array.from({ length: 23 }, (_, i) => seed(`G${i}`, [STOP]));
    const text = await h.fails('remove_numbers_everywhere', { numbers: [STOP] });
    expect(text).toContain(`"G22" (${created[22]!.id}): 1 number`);
    expect(text).toContain(`"G3" (${created[3]!.id}): 1 number; and 3 more groups. Other members stay.`);
    expect(text).not.toContain('"G2"');
  });

  test('a number in no group: nothing to remove, nothing asked, nothing sent but reads', async () => {
    threeGroups();
    const result = await h.ok<Removal>('remove_numbers_everywhere', { numbers: [number(99)] });
    expect(result).toEqual({ searched: 3, changed: [], failed: [], message: 'None of the numbers is in any of the 3 groups; nothing to remove.' });
    expect(h.emulator.requests.every(({ method }) => method === 'GET')).toBe(true);
  });

  test('a group whose update fails does not stop the others; the result says which changed, and repeating finishes', async () => {
    const groups = Array.from({ length: 5 }, (_, i) => seed(`Campaign ${i}`, [STOP, number(i)]));
    const broken = groups[2]!;
    // Its members are read first, then every attempt of its update fails.
    h.emulator.faults.push({ path: `/groups/${broken.id}`, after: 1, status: 503 }, ...Array.from({ length: 3 }, () => ({ path: `/groups/${broken.id}`, status: 503 })));

    const first = await h.ok<Removal>('remove_numbers_everywhere', { numbers: [STOP], confirm: true });

    expect(first.changed?.map(({ id }) => id)).toEqual(groups.filter((g) => g !== broken).reverse().map((g) => g.id));
    expect(first.failed).toEqual([{ id: broken.id, name: 'Campaign 2', error: expect.stringContaining(`update group ${broken.id}`) }]);
    expect(first.failed![0]!.error).toContain('HTTP 503');
    expect(first.message).toBe(
      'Removed from 4 of 5 groups; 1 failed (see failed). To finish, call remove_numbers_everywhere again with the same numbers: it finds only the groups that still hold them.',
    );
    for (const group of groups) expect(membersOf(group.id).includes(STOP), group.name).toBe(group === broken);

    const again = await h.ok<Removal>('remove_numbers_everywhere', { numbers: [STOP], confirm: true });

    expect(again).toEqual({ searched: 5, changed: [{ id: broken.id, name: 'Campaign 2', removed: [STOP] }], failed: [], message: 'Removed from the group that held them.' });
    for (const group of groups) expect(membersOf(group.id)).not.toContain(STOP);
  });

  test('a cancelled call lets the update under way finish and starts no further group', async () => {
    const groups = Array.from({ length: 4 }, (_, i) => seed(`G${i}`, [STOP]));
    const one = await connect({ baseUrl: h.emulator.url, servicePlanId: h.emulator.servicePlanId, apiToken: h.emulator.apiToken, concurrency: 1 });
    try {
      // The first update is held, so the cancellation arrives while it is under way.
      h.emulator.faults.push({ path: '/groups/', after: 4, delayMs: 300 });
      const controller = new AbortController();
      const call = one.client.callTool({ name: 'remove_numbers_everywhere', arguments: { numbers: [STOP], confirm: true } }, undefined, { signal: controller.signal });
      await until(() => h.emulator.requests.some(({ method }) => method === 'POST'), 'the first update was sent');
      controller.abort();
      await expect(call).rejects.toThrow();
      await until(() => h.emulator.requests.at(-1)?.method === 'POST' && h.emulator.store.members(groups[3]!.id).length === 0, 'the first update landed', 2_000);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(h.emulator.requests.filter(({ method }) => method === 'POST')).toHaveLength(1);
      expect(groups.filter((group) => h.emulator.store.members(group.id).length > 0)).toHaveLength(3);
    } finally {
      await one.close();
    }
  });
});

describe('where people pick and what models read', () => {
  test('each group resource carries its name as title, so a person sees "Loyalty gold"', async () => {
    const named = seed('Loyalty gold', [number(1)]);
    const unnamed = seed(undefined);
    const { resources } = await h.client.listResources();
    expect(resources.map(({ title }) => title)).toEqual([`Unnamed group ${unnamed.id}`, 'Loyalty gold']);
    expect(resources[1]).toMatchObject({ name: 'Loyalty gold', description: `SMS group ${named.id}, 1 member` });
  });

  test('the instructions say how to find a group by name, a number across groups, and opt a number out', () => {
    const instructions = h.client.getInstructions() ?? '';
    expect(instructions).toContain('list_groups with name');
    expect(instructions).toContain('find_numbers');
    expect(instructions).toContain('remove_numbers_everywhere');
  });
});
