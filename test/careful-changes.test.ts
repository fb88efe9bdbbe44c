import type { ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect } from 'vitest';
import type { Preview } from '../src/mcp/preview.js';
import type { Group } from '../src/sinch/schemas.js';
import { groupPath, membersOf, number, numbers, since, summary, test, textOf, type Harness } from './harness.js';


type Previewed = Group & { preview: Preview };

/** Straight into the store: no request is recorded. */
const seed = (s: Harness, body: Record<string, unknown>): Group => s.emulator.store.create(body);
const stored = (s: Harness, id: string) => new Set(membersOf(s.emulator, id));

/** What a change did to a group, from the emulator's member sets before and after. */
function diff(before: Set<string>, after: Set<string>) {
  const added = [...after].filter((n) => !before.has(n)).sort();
  const removed = [...before].filter((n) => !after.has(n)).sort();
  return {
    added: { count: added.length, sample: added.slice(0, 20) },
    removed: { count: removed.length, sample: removed.slice(0, 20) },
    unchanged: before.size - removed.length,
    size_before: before.size,
    size_after: after.size,
  };
}

/**
 * Previews `args` with dry_run, checks the dry run changed nothing and sent only GETs, then applies the
 * same change and checks the preview's numbers against what the emulator then holds.
 */
async function previewThenApply(s: Harness, tool: 'update_group' | 'replace_group', args: Record<string, unknown>): Promise<Preview> {
  const id = args.group_id as string;
  const before = stored(s, id);
  const group = s.emulator.store.get(id);
  const mark = s.emulator.requests.length;

  const dry = await s.ok<Previewed>(tool, { ...args, dry_run: true });

  expect(dry).toEqual({ ...group, preview: dry.preview });
  expect(since(s.emulator, mark).map((r) => r.method)).toEqual(since(s.emulator, mark).map(() => 'GET'));
  expect(s.emulator.store.get(id)).toEqual(group);
  expect(stored(s, id)).toEqual(before);

  const applied = await s.ok<Group>(tool, tool === 'replace_group' ? { ...args, confirm: true } : args);

  const after = stored(s, id);
  const { name, ...counts } = dry.preview;
  expect(counts).toEqual(diff(before, after));
  expect(applied.size).toBe(dry.preview.size_after);
  if (name) expect(name).toEqual({ from: group.name ?? null, to: applied.name ?? null });
  else expect(applied.name).toBe(group.name);
  return dry.preview;
}

describe('update_group dry_run', () => {
  test('additions before removals: a number on both lists ends up out, whether it was in or not', async ({ h: s }) => {
    const [a, b, c, d] = numbers(0, 4) as [string, string, string, string];
    const group = seed(s, { name: 'G', members: [a, b] });
    const preview = await previewThenApply(s, 'update_group', { group_id: group.id, add: [a, c, d], remove: [d, a] });
    expect(preview).toEqual({
      added: { count: 1, sample: [c] },
      removed: { count: 1, sample: [a] },
      unchanged: 1,
      size_before: 2,
      size_after: 2,
    });
    expect(stored(s, group.id)).toEqual(new Set([b, c]));
  });

  test('a dry run asks only for the group and its members, and returns the group as it is', async ({ h: s }) => {
    const group = seed(s, { name: 'G', members: numbers(0, 3) });
    const mark = s.emulator.requests.length;
    const dry = await s.ok<Previewed>('update_group', { group_id: group.id, add: [number(5)], remove: [number(0)], name: 'H', dry_run: true });
    expect(summary(since(s.emulator, mark)).sort()).toEqual([`GET ${groupPath(s.emulator, group.id)}`, `GET ${groupPath(s.emulator, group.id)}/members`].sort());
    expect(dry).toEqual({
      ...group,
      preview: {
        added: { count: 1, sample: [number(5)] },
        removed: { count: 1, sample: [number(0)] },
        unchanged: 2,
        size_before: 3,
        size_after: 3,
        name: { from: 'G', to: 'H' },
      },
    });
    expect(s.emulator.store.get(group.id)).toEqual(group);
    expect(s.emulator.store.get(group.id).modified_at).toBe(group.modified_at);
  });

  test('dry_run: false applies', async ({ h: s }) => {
    const group = seed(s, { members: [number(0)] });
    const result = await s.ok<Group>('update_group', { group_id: group.id, add: [number(1)], dry_run: false });
    expect(result).not.toHaveProperty('preview');
    expect(stored(s, group.id)).toEqual(new Set([number(0), number(1)]));
  });

  test('add_from_group and remove_from_group are counted, copies before removals', async ({ h: s }) => {
    const source = seed(s, { members: [number(0), number(1), number(2), number(9)] });
    const leavers = seed(s, { members: [number(1), number(8)] });
    const target = seed(s, { name: 'Target', members: [number(2), number(3), number(4), number(8)] });
    const mark = s.emulator.requests.length;
    const dry = await s.ok<Previewed>('update_group', {
      group_id: target.id,
      add: [number(5)],
      add_from_group: source.id,
      remove_from_group: leavers.id,
      dry_run: true,
    });
    expect(summary(since(s.emulator, mark)).sort()).toEqual(
      [
        `GET ${groupPath(s.emulator, target.id)}`,
        `GET ${groupPath(s.emulator, target.id)}/members`,
        `GET ${groupPath(s.emulator, source.id)}/members`,
        `GET ${groupPath(s.emulator, leavers.id)}/members`,
      ].sort(),
    );
    // number(1) is copied in and removed again; number(8) was a member and leaves.
    expect(dry.preview).toEqual({
      added: { count: 3, sample: [number(0), number(5), number(9)] },
      removed: { count: 1, sample: [number(8)] },
      unchanged: 3,
      size_before: 4,
      size_after: 6,
    });

    await previewThenApply(s, 'update_group', { group_id: target.id, add: [number(5)], add_from_group: source.id, remove_from_group: leavers.id });
    expect(stored(s, target.id)).toEqual(new Set([number(0), number(2), number(3), number(4), number(5), number(9)]));
  });

  test('a group copying from and removing itself: all members leave, only the additions stay', async ({ h: s }) => {
    const group = seed(s, { members: numbers(0, 3) });
    // Every member leaves, so applying it needs the user's consent; the dry run never asks.
    const preview = await previewThenApply(s, 'update_group', {
      group_id: group.id,
      add: [number(7)],
      add_from_group: group.id,
      remove_from_group: group.id,
      confirm: true,
    });
    expect(preview).toEqual({
      added: { count: 1, sample: [number(7)] },
      removed: { count: 3, sample: numbers(0, 3) },
      unchanged: 0,
      size_before: 3,
      size_after: 1,
    });
  });

  test('duplicates and numbers already present are not counted as added; absent numbers not as removed', async ({ h: s }) => {
    const group = seed(s, { name: 'G', members: [number(2), number(4)] });
    const preview = await previewThenApply(s, 'update_group', {
      group_id: group.id,
      add: [number(1), '1605 000 0001', '+1 (605) 000-0001', number(2), number(3)],
      remove: [number(7), '+1 605 000 0007', number(8)],
    });
    expect(preview).toEqual({
      added: { count: 2, sample: [number(1), number(3)] },
      removed: { count: 0, sample: [] },
      unchanged: 2,
      size_before: 2,
      size_after: 4,
    });
  });

  test('a change that changes nothing previews nothing', async ({ h: s }) => {
    const group = seed(s, { name: 'Same', members: [number(0)] });
    const preview = await previewThenApply(s, 'update_group', { group_id: group.id, add: [number(0)], remove: [number(5)], name: 'Same' });
    expect(preview).toEqual({ added: { count: 0, sample: [] }, removed: { count: 0, sample: [] }, unchanged: 1, size_before: 1, size_after: 1 });
  });

  test.for([
    ['a new name', 'Old', { name: 'New' }, { from: 'Old', to: 'New' }, 'New'],
    ['name: null keeps it, as not given', 'Old', { name: null }, undefined, 'Old'],
    ['remove_name: true removes it', 'Old', { remove_name: true }, { from: 'Old', to: null }, undefined],
    ['naming an unnamed group', undefined, { name: 'First' }, { from: null, to: 'First' }, 'First'],
    ['the same name', 'Old', { name: 'Old' }, undefined, 'Old'],
    ['no name given', 'Old', {}, undefined, 'Old'],
    ['null on an unnamed group', undefined, { name: null }, undefined, undefined],
    ['remove_name on an unnamed group', undefined, { remove_name: true }, undefined, undefined],
  ] as const)('name: %s', async ([_, current, change, expected, after], { h: s }) => {
    const group = seed(s, { ...(current !== undefined && { name: current }), members: [number(0)] });
    const preview = await previewThenApply(s, 'update_group', { group_id: group.id, ...change });
    if (expected === undefined) expect(preview).not.toHaveProperty('name');
    else expect(preview.name).toEqual(expected);
    expect(s.emulator.store.get(group.id).name).toBe(after);
  });

  test('large diffs give the full count and a sample of 20, sorted', async ({ h: s }) => {
    const group = seed(s, { members: numbers(0, 3_000) });
    const add = [...numbers(2_000, 6_000)].reverse(); // 1,000 already present
    const remove = numbers(0, 1_500);
    // More than 1,000 members leave, so applying it needs the user's consent.
    const preview = await previewThenApply(s, 'update_group', { group_id: group.id, add, remove, confirm: true });
    expect(preview).toEqual({
      added: { count: 3_000, sample: numbers(3_000, 3_020) },
      removed: { count: 1_500, sample: numbers(0, 20) },
      unchanged: 1_500,
      size_before: 3_000,
      size_after: 4_500,
    });
  });

  test('the preview of a large dry run stays small', async ({ h: s }) => {
    const group = seed(s, { members: numbers(0, 3_000) });
    const result = await s.call('update_group', { group_id: group.id, add: numbers(3_000, 6_000), remove: numbers(0, 3_000), dry_run: true });
    expect(result.isError).toBeFalsy();
    expect(textOf(result).length).toBeLessThan(2_000);
    const preview = (result.structuredContent as Previewed).preview;
    expect([preview.added.count, preview.added.sample.length, preview.removed.count, preview.removed.sample.length]).toEqual([3_000, 20, 3_000, 20]);
  });

  test('a dry run of a missing group is an error and changes nothing', async ({ h: s }) => {
    const text = await s.fails('update_group', { group_id: '01MISSING0000000000000000X', add: [number(0)], dry_run: true });
    expect(text).toContain('HTTP 404');
    expect(s.emulator.requests.map((r) => r.method)).toEqual(['GET']);
  });
});

describe('replace_group dry_run', () => {
  test('the members become exactly the list; the name is cleared when not given', async ({ h: s }) => {
    const group = seed(s, { name: 'Old', members: numbers(0, 3) });
    const mark = s.emulator.requests.length;
    const dry = await s.ok<Previewed>('replace_group', { group_id: group.id, members: [number(1), number(2), number(3), number(4)], dry_run: true });
    expect(summary(since(s.emulator, mark)).sort()).toEqual([`GET ${groupPath(s.emulator, group.id)}`, `GET ${groupPath(s.emulator, group.id)}/members`].sort());
    expect(dry).toEqual({
      ...group,
      preview: {
        added: { count: 2, sample: [number(3), number(4)] },
        removed: { count: 1, sample: [number(0)] },
        unchanged: 2,
        size_before: 3,
        size_after: 4,
        name: { from: 'Old', to: null },
      },
    });
    expect(s.emulator.store.get(group.id)).toEqual(group);
  });

  test.for([
    ['name cleared', 'Old', {}],
    ['name kept', 'Old', { name: 'Old' }],
    ['name changed', 'Old', { name: 'New' }],
    ['unnamed stays unnamed', undefined, {}],
  ] as const)('applying gives what the preview said: %s', async ([_, current, change], { h: s }) => {
    const group = seed(s, { ...(current !== undefined && { name: current }), members: numbers(0, 5) });
    const preview = await previewThenApply(s, 'replace_group', { group_id: group.id, members: [...numbers(3, 8), number(4)], ...change });
    expect([preview.added.count, preview.removed.count, preview.unchanged, preview.size_after]).toEqual([3, 3, 2, 5]);
  });

  test('replacing with nothing removes everyone; a large list is counted and sampled', async ({ h: s }) => {
    const group = seed(s, { name: 'Big', members: numbers(0, 3_000) });
    expect(await previewThenApply(s, 'replace_group', { group_id: group.id, members: numbers(2_000, 5_000), name: 'Big' })).toEqual({
      added: { count: 2_000, sample: numbers(3_000, 3_020) },
      removed: { count: 2_000, sample: numbers(0, 20) },
      unchanged: 1_000,
      size_before: 3_000,
      size_after: 3_000,
    });
    expect(await previewThenApply(s, 'replace_group', { group_id: group.id, members: [] })).toMatchObject({
      removed: { count: 3_000 },
      size_after: 0,
      name: { from: 'Big', to: null },
    });
  });

  test('a dry run needs no confirmation and never asks the user', async ({ harness }) => {
    const e = await harness({ elicit: () => ({ action: 'decline' }) });
    const group = e.emulator.store.create({ name: 'G', members: numbers(0, 2) });
    const dry = await e.ok<Previewed>('replace_group', { group_id: group.id, members: [], dry_run: true });
    expect(dry.preview.removed.count).toBe(2);
    expect(e.elicitations).toEqual([]);
    expect(e.emulator.requests.map((r) => r.method)).toEqual(['GET', 'GET']);
  });
});

describe('confirmation without elicitation', () => {
  test('delete_group without confirm names the group, its size and what would be lost, and deletes nothing', async ({ h: s }) => {
    const group = seed(s, { name: 'Doomed', members: numbers(0, 3) });
    for (const args of [{}, { confirm: false }]) {
      const mark = s.emulator.requests.length;
      const text = await s.fails('delete_group', { group_id: group.id, ...args });
      expect(text).toBe(
        `Nothing was changed. Deleting group "Doomed" (${group.id}) removes it and its 3 members for good; ` +
          'the numbers stay in any other groups that hold them. Ask the user; if they agree, call again with confirm: true.',
      );
      expect(summary(since(s.emulator, mark))).toEqual([`GET ${groupPath(s.emulator, group.id)}`]);
    }
    expect(s.emulator.store.get(group.id)).toEqual(group);
  });

  test('an unnamed group is named by its id', async ({ h: s }) => {
    const group = seed(s, { members: [number(0)] });
    expect(await s.fails('delete_group', { group_id: group.id })).toBe(
      `Nothing was changed. Deleting group ${group.id} removes it and its 1 members for good; the numbers stay in any other groups that hold them. ` +
        'Ask the user; if they agree, call again with confirm: true.',
    );
  });

  test('delete_group with confirm: true deletes', async ({ h: s }) => {
    const group = seed(s, { name: 'Doomed', members: numbers(0, 3) });
    expect(await s.ok('delete_group', { group_id: group.id, confirm: true })).toEqual({ group_id: group.id, deleted: true });

    // The assistant vouched for the user, so there is nothing to read first.
    expect(summary(s.emulator.requests)).toEqual([`DELETE ${groupPath(s.emulator, group.id)}`]);
    expect(s.emulator.store.list().count).toBe(0);
  });

  test('replace_group without confirm says what would be removed and replaces nothing', async ({ h: s }) => {
    const group = seed(s, { name: 'Old', members: numbers(0, 3) });
    const text = await s.fails('replace_group', { group_id: group.id, members: [number(1), number(2), number(3), number(4)] });
    expect(text).toBe(
      `Nothing was changed. Replacing group "Old" (${group.id}): 1 of 3 members would be removed, 2 added, leaving 4, ` +
        'the name would change from "Old" to none. Ask the user; if they agree, call again with confirm: true.',
    );
    expect(s.emulator.requests.map((r) => r.method)).toEqual(['GET', 'GET']);
    expect(s.emulator.store.get(group.id)).toEqual(group);
    expect(stored(s, group.id)).toEqual(new Set(numbers(0, 3)));
  });

  test('replace_group with confirm: true replaces', async ({ h: s }) => {
    const group = seed(s, { name: 'Old', members: numbers(0, 3) });
    const replaced = await s.ok<Group>('replace_group', { group_id: group.id, members: [number(7)], name: 'New', confirm: true });
    expect(replaced).toMatchObject({ id: group.id, name: 'New', size: 1 });
    expect(summary(s.emulator.requests)).toEqual([`PUT ${groupPath(s.emulator, group.id)}`]);
    expect(stored(s, group.id)).toEqual(new Set([number(7)]));
  });

  test('replace_group without confirm says keyword auto-update settings would be lost', async ({ h: s }) => {
    const group = seed(s, { name: 'Keywords', members: [number(0)], auto_update: { to: '12345', add: { first_word: 'JOIN' } } });
    const text = await s.fails('replace_group', { group_id: group.id, members: [number(0)], name: 'Keywords' });
    expect(text).toContain('auto_update');
    expect(s.emulator.store.get(group.id).auto_update).toEqual({ to: '12345', add: { first_word: 'JOIN' } });
  });

  test('update_group that would empty the group says so and changes nothing; with confirm: true it applies', async ({ h: s }) => {
    const group = seed(s, { members: numbers(0, 3) });
    for (const args of [{}, { confirm: false }]) {
      const text = await s.fails('update_group', { group_id: group.id, remove: numbers(0, 3), ...args });
      expect(text).toBe(
        `Nothing was changed. Updating group ${group.id}: 3 of 3 members would be removed, 0 added, leaving 0. ` +
          'Ask the user; if they agree, call again with confirm: true.',
      );
    }
    expect(s.emulator.requests.filter((r) => r.method !== 'GET')).toEqual([]);
    expect(stored(s, group.id)).toEqual(new Set(numbers(0, 3)));
    await s.ok('update_group', { group_id: group.id, remove: numbers(0, 3), confirm: true });
    expect(stored(s, group.id)).toEqual(new Set());
  });

  test('update_group removing one of three members needs no confirmation', async ({ h: s }) => {
    const group = seed(s, { members: numbers(0, 3) });
    await s.ok('update_group', { group_id: group.id, remove: [number(0)] });
    expect(stored(s, group.id)).toEqual(new Set(numbers(1, 3)));
  });
});

describe('confirmation with elicitation', () => {
  // update_group asks only when its removals are drastic: here every member leaves.
  const CHANGES = {
    delete_group: (id: string) => ({ group_id: id }),
    replace_group: (id: string) => ({ group_id: id, members: [number(7)] }),
    update_group: (id: string) => ({ group_id: id, add: [number(7)], remove: numbers(0, 3) }),
  } as const;
  const CONSEQUENCE = {
    delete_group: (id: string) =>
      `Deleting group "Doomed" (${id}) removes it and its 3 members for good; the numbers stay in any other groups that hold them.`,
    replace_group: (id: string) => `Replacing group "Doomed" (${id}): 3 of 3 members would be removed, 1 added, leaving 1, the name would change from "Doomed" to none.`,
    update_group: (id: string) => `Updating group "Doomed" (${id}): 3 of 3 members would be removed, 1 added, leaving 1.`,
  } as const;
  const WRITE = { delete_group: 'DELETE', replace_group: 'PUT', update_group: 'POST' } as const;
  const ASKING = ['delete_group', 'replace_group', 'update_group'] as const;

  test.for(ASKING)('%s: accepted with confirm true, it applies; the user saw name and size', async (tool, { harness }) => {
    const e = await harness({ elicit: () => ({ action: 'accept', content: { confirm: true } }) });
    const group = e.emulator.store.create({ name: 'Doomed', members: numbers(0, 3) });
    const result = await e.ok(tool, CHANGES[tool](group.id));
    expect(e.elicitations).toHaveLength(1);
    const asked = e.elicitations[0]!;
    expect(asked.message).toBe(`${CONSEQUENCE[tool](group.id)} Go ahead?`);
    expect(asked).toMatchObject({
      requestedSchema: { type: 'object', properties: { confirm: { type: 'boolean' } }, required: ['confirm'] },
    });
    expect(e.emulator.requests.filter((r) => r.method !== 'GET').map((r) => r.method)).toEqual([WRITE[tool]]);
    if (tool === 'delete_group') {
      expect(result).toEqual({ group_id: group.id, deleted: true });
      expect(e.emulator.store.list().count).toBe(0);
    } else {
      expect(result).toMatchObject({ id: group.id, size: 1 });
      expect(new Set(e.emulator.store.members(group.id))).toEqual(new Set(['16050000007']));
    }
  });

  test.for(ASKING)('%s: a group changed while the user was asked is left alone', async (tool, { harness }) => {
    let groupId = '';
    const e = await harness({
      elicit: () => {
        e.emulator.store.update(groupId, { add: ['+16059999999'] });
        return { action: 'accept', content: { confirm: true } };
      },
    });
    groupId = e.emulator.store.create({ name: 'Doomed', members: numbers(0, 3) }).id;
    const text = await e.fails(tool, CHANGES[tool](groupId));
    expect(text).toContain(`Nothing was changed: group ${groupId} was modified since you read it`);
    expect(e.emulator.requests.filter((r) => r.method !== 'GET')).toEqual([]);
    expect(e.emulator.store.members(groupId)).toHaveLength(4);
  });

  test.for([
    ['delete_group', 'accepted without ticking', { action: 'accept', content: { confirm: false } }, 'did not confirm'],
    ['delete_group', 'declined', { action: 'decline' }, 'declined'],
    ['delete_group', 'cancelled', { action: 'cancel' }, 'cancelled'],
    ['replace_group', 'accepted without ticking', { action: 'accept', content: { confirm: false } }, 'did not confirm'],
    ['replace_group', 'declined', { action: 'decline' }, 'declined'],
    ['replace_group', 'cancelled', { action: 'cancel' }, 'cancelled'],
    ['update_group', 'accepted without ticking', { action: 'accept', content: { confirm: false } }, 'did not confirm'],
    ['update_group', 'declined', { action: 'decline' }, 'declined'],
    ['update_group', 'cancelled', { action: 'cancel' }, 'cancelled'],
  ] as const)('%s %s: nothing happens, and the result says so', async ([tool, _, answer, how], { harness }) => {
    const e = await harness({ elicit: () => structuredClone(answer) as ElicitResult });
    const group = e.emulator.store.create({ name: 'Doomed', members: numbers(0, 3) });

    // confirm: true in the arguments does not replace asking the user when the client can.
    const result = await e.call(tool, { ...CHANGES[tool](group.id), confirm: true });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe(`Nothing was changed: the user ${how}. ${CONSEQUENCE[tool](group.id)}`);
    expect(e.elicitations).toHaveLength(1);
    expect(e.emulator.requests.map((r) => r.method)).toEqual(tool === 'delete_group' ? ['GET'] : ['GET', 'GET']);
    expect(e.emulator.store.get(group.id)).toEqual(group);
    expect(e.emulator.store.members(group.id)).toHaveLength(3);
  });

  test('a client whose elicitation fails: nothing is deleted, and the result is an error', async ({ harness }) => {
    const e = await harness({
      elicit: () => {
        throw new Error('no way to ask');
      },
    });
    const group = e.emulator.store.create({ name: 'Doomed', members: numbers(0, 3) });
    const result = await e.call('delete_group', { group_id: group.id, confirm: true });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('no way to ask');
    expect(e.elicitations).toHaveLength(1);
    expect(e.emulator.requests.map((r) => r.method)).toEqual(['GET']);
    expect(e.emulator.store.get(group.id)).toEqual(group);
  });

  test('a client that can only elicit by URL is treated as one that cannot ask: confirm: true is needed', async ({ harness }) => {
    const e = await harness({ capabilities: { elicitation: { url: {} } } });
    const group = e.emulator.store.create({ name: 'Doomed', members: numbers(0, 3) });
    expect(await e.fails('delete_group', { group_id: group.id })).toContain('call again with confirm: true');
    expect(e.emulator.store.list().count).toBe(1);
    expect(await e.ok('delete_group', { group_id: group.id, confirm: true })).toEqual({ group_id: group.id, deleted: true });
    expect(e.emulator.store.list().count).toBe(0);
  });

  test('update_group removing one of three members does not ask', async ({ harness }) => {
    const e = await harness({ elicit: () => ({ action: 'decline' }) });
    const group = e.emulator.store.create({ members: numbers(0, 3) });
    await e.ok('update_group', { group_id: group.id, remove: [number(0)] });
    expect(e.elicitations).toEqual([]);
    expect(e.emulator.store.members(group.id)).toHaveLength(2);
  });
});

describe('stale reads: expected_modified_at', () => {
  test.for([
    ['update_group', { add: [number(9)] }, 'POST'],
    ['replace_group', { members: [number(9)], confirm: true }, 'PUT'],
    ['delete_group', { confirm: true }, 'DELETE'],
  ] as const)('%s applies when the group is as read', async ([tool, args, method], { h: s }) => {
    const group = seed(s, { name: 'G', members: numbers(0, 3) });
    await s.ok(tool, { group_id: group.id, expected_modified_at: group.modified_at, ...args });
    expect(s.emulator.requests.at(0)).toMatchObject({ method: 'GET', path: groupPath(s.emulator, group.id) });
    expect(s.emulator.requests.at(-1)).toMatchObject({ method, path: groupPath(s.emulator, group.id) });
  });

  test('the same instant written differently counts as unchanged', async ({ h: s }) => {
    const group = seed(s, { members: [number(0)] });
    const sameInstant = group.modified_at.replace('Z', '+00:00');
    await s.ok('update_group', { group_id: group.id, add: [number(1)], expected_modified_at: sameInstant });
    expect(stored(s, group.id)).toEqual(new Set([number(0), number(1)]));
  });

  test.for([
    ['update_group', { add: [number(9)] }],
    ['update_group', { add: [number(9)], dry_run: true }],
    ['replace_group', { members: [number(9)], confirm: true }],
    ['replace_group', { members: [number(9)], dry_run: true }],
    ['delete_group', { confirm: true }],
  ] as const)('%s %o is refused after another change, reporting the new modified_at', async ([tool, args], { h: s }) => {
    const group = seed(s, { name: 'G', members: numbers(0, 3) });
    const read = group.modified_at;
    await s.ok('update_group', { group_id: group.id, add: [number(5)] });
    const now = s.emulator.store.get(group.id);
    expect(now.modified_at).not.toBe(read);
    const mark = s.emulator.requests.length;
    const text = await s.fails(tool, { group_id: group.id, expected_modified_at: read, ...args });
    expect(text).toBe(
      `Nothing was changed: group ${group.id} was modified since you read it (modified_at is now ${now.modified_at}, not ${read}). ` +
        'Read it again, check the change still makes sense, and retry with the new modified_at.',
    );
    expect(summary(since(s.emulator, mark))).toEqual([`GET ${groupPath(s.emulator, group.id)}`]);
    expect(s.emulator.store.get(group.id)).toEqual(now);
  });

  test('a stale delete is refused before the user is asked', async ({ harness }) => {
    const e = await harness({ elicit: () => ({ action: 'accept', content: { confirm: true } }) });
    const group = e.emulator.store.create({ name: 'G', members: [number(0)] });
    const text = await e.fails('delete_group', { group_id: group.id, expected_modified_at: '2001-01-01T00:00:00.000Z' });
    expect(text).toContain(`modified_at is now ${group.modified_at}, not 2001-01-01T00:00:00.000Z`);
    expect(e.elicitations).toEqual([]);
    expect(e.emulator.store.list().count).toBe(1);
  });
});
