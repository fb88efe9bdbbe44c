import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import { ConfigError, loadToolSelection } from '../src/config.js';
import type { RecordedRequest } from '../src/emulator/server.js';
import type { Preview } from '../src/mcp/preview.js';
import { createServer } from '../src/mcp/server.js';
import { SinchGroupsClient } from '../src/sinch/client.js';
import type { Group } from '../src/sinch/schemas.js';
import { startHarness, textOf, type Harness } from './harness.js';

let s: Harness;

beforeEach(async () => {
  s = await startHarness();
});

afterEach(async () => {
  await s.close();
});

type Previewed = Group & { preview: Preview };

/** The i-th of a run of distinct, possible US numbers in E.164: +16050000000, +16050000001, ... */
const number = (i: number) => `+1605${String(i).padStart(7, '0')}`;
const numbers = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => number(from + k));
const e164 = (bare: string) => `+${bare}`;

const groupsPath = () => `/xms/v1/${s.emulator.servicePlanId}/groups`;
const groupPath = (id: string) => `${groupsPath()}/${id}`;
const since = (mark: number): RecordedRequest[] => s.emulator.requests.slice(mark);
const summary = (requests: RecordedRequest[]) => requests.map(({ method, path }) => `${method} ${path}`);
/** Straight into the store: no request is recorded. */
const seed = (body: Record<string, unknown>): Group => s.emulator.store.create(body);
const stored = (id: string) => new Set(s.emulator.store.members(id).map(e164));

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
async function previewThenApply(tool: 'update_group' | 'replace_group', args: Record<string, unknown>): Promise<Preview> {
  const id = args.group_id as string;
  const before = stored(id);
  const group = s.emulator.store.get(id);
  const mark = s.emulator.requests.length;

  const dry = await s.ok<Previewed>(tool, { ...args, dry_run: true });

  expect(dry).toEqual({ ...group, preview: dry.preview });
  expect(since(mark).map((r) => r.method)).toEqual(since(mark).map(() => 'GET'));
  expect(s.emulator.store.get(id)).toEqual(group);
  expect(stored(id)).toEqual(before);

  const applied = await s.ok<Group>(tool, tool === 'replace_group' ? { ...args, confirm: true } : args);

  const after = stored(id);
  const { name, ...counts } = dry.preview;
  expect(counts).toEqual(diff(before, after));
  expect(applied.size).toBe(dry.preview.size_after);
  if (name) expect(name).toEqual({ from: group.name ?? null, to: applied.name ?? null });
  else expect(applied.name).toBe(group.name);
  return dry.preview;
}

describe('update_group dry_run', () => {
  test('additions before removals: a number on both lists ends up out, whether it was in or not', async () => {
    const [a, b, c, d] = numbers(0, 4) as [string, string, string, string];
    const group = seed({ name: 'G', members: [a, b] });

    const preview = await previewThenApply('update_group', { group_id: group.id, add: [a, c, d], remove: [d, a] });

    expect(preview).toEqual({
      added: { count: 1, sample: [c] },
      removed: { count: 1, sample: [a] },
      unchanged: 1,
      size_before: 2,
      size_after: 2,
    });
    expect(stored(group.id)).toEqual(new Set([b, c]));
  });

  test('a dry run asks only for the group and its members, and returns the group as it is', async () => {
    const group = seed({ name: 'G', members: numbers(0, 3) });
    const mark = s.emulator.requests.length;

    const dry = await s.ok<Previewed>('update_group', { group_id: group.id, add: [number(5)], remove: [number(0)], name: 'H', dry_run: true });

    expect(summary(since(mark)).sort()).toEqual([`GET ${groupPath(group.id)}`, `GET ${groupPath(group.id)}/members`].sort());
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

  test('dry_run: false applies', async () => {
    const group = seed({ members: [number(0)] });
    const result = await s.ok<Group>('update_group', { group_id: group.id, add: [number(1)], dry_run: false });
    expect(result).not.toHaveProperty('preview');
    expect(stored(group.id)).toEqual(new Set([number(0), number(1)]));
  });

  test('add_from_group and remove_from_group are counted, copies before removals', async () => {
    const source = seed({ members: [number(0), number(1), number(2), number(9)] });
    const leavers = seed({ members: [number(1), number(8)] });
    const target = seed({ name: 'Target', members: [number(2), number(3), number(4), number(8)] });
    const mark = s.emulator.requests.length;

    const dry = await s.ok<Previewed>('update_group', {
      group_id: target.id,
      add: [number(5)],
      add_from_group: source.id,
      remove_from_group: leavers.id,
      dry_run: true,
    });

    expect(summary(since(mark)).sort()).toEqual(
      [
        `GET ${groupPath(target.id)}`,
        `GET ${groupPath(target.id)}/members`,
        `GET ${groupPath(source.id)}/members`,
        `GET ${groupPath(leavers.id)}/members`,
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

    await previewThenApply('update_group', { group_id: target.id, add: [number(5)], add_from_group: source.id, remove_from_group: leavers.id });
    expect(stored(target.id)).toEqual(new Set([number(0), number(2), number(3), number(4), number(5), number(9)]));
  });

  test('a group copying from and removing itself: all members leave, only the additions stay', async () => {
    const group = seed({ members: numbers(0, 3) });
    // Every member leaves, so applying it needs the user's consent; the dry run never asks.
    const preview = await previewThenApply('update_group', {
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

  test('duplicates and numbers already present are not counted as added; absent numbers not as removed', async () => {
    const group = seed({ name: 'G', members: [number(2), number(4)] });

    const preview = await previewThenApply('update_group', {
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

  test('a change that changes nothing previews nothing', async () => {
    const group = seed({ name: 'Same', members: [number(0)] });
    const preview = await previewThenApply('update_group', { group_id: group.id, add: [number(0)], remove: [number(5)], name: 'Same' });
    expect(preview).toEqual({ added: { count: 0, sample: [] }, removed: { count: 0, sample: [] }, unchanged: 1, size_before: 1, size_after: 1 });
  });

  test.each([
    ['a new name', 'Old', { name: 'New' }, { from: 'Old', to: 'New' }, 'New'],
    ['name: null keeps it, as not given', 'Old', { name: null }, undefined, 'Old'],
    ['remove_name: true removes it', 'Old', { remove_name: true }, { from: 'Old', to: null }, undefined],
    ['naming an unnamed group', undefined, { name: 'First' }, { from: null, to: 'First' }, 'First'],
    ['the same name', 'Old', { name: 'Old' }, undefined, 'Old'],
    ['no name given', 'Old', {}, undefined, 'Old'],
    ['null on an unnamed group', undefined, { name: null }, undefined, undefined],
    ['remove_name on an unnamed group', undefined, { remove_name: true }, undefined, undefined],
  ])('name: %s', async (_, current, change, expected, after) => {
    const group = seed({ ...(current !== undefined && { name: current }), members: [number(0)] });

    const preview = await previewThenApply('update_group', { group_id: group.id, ...change });

    if (expected === undefined) expect(preview).not.toHaveProperty('name');
    else expect(preview.name).toEqual(expected);
    expect(s.emulator.store.get(group.id).name).toBe(after);
  });

  test('large diffs give the full count and a sample of 20, sorted', async () => {
    const group = seed({ members: numbers(0, 3_000) });
    const add = [...numbers(2_000, 6_000)].reverse(); // 1,000 already present
    const remove = numbers(0, 1_500);

    // More than 1,000 members leave, so applying it needs the user's consent.
    const preview = await previewThenApply('update_group', { group_id: group.id, add, remove, confirm: true });

    expect(preview).toEqual({
      added: { count: 3_000, sample: numbers(3_000, 3_020) },
      removed: { count: 1_500, sample: numbers(0, 20) },
      unchanged: 1_500,
      size_before: 3_000,
      size_after: 4_500,
    });
  });

  test('the preview of a large dry run stays small', async () => {
    const group = seed({ members: numbers(0, 3_000) });
    const result = await s.call('update_group', { group_id: group.id, add: numbers(3_000, 6_000), remove: numbers(0, 3_000), dry_run: true });
    expect(result.isError).toBeFalsy();
    expect(textOf(result).length).toBeLessThan(2_000);
    const preview = (result.structuredContent as Previewed).preview;
    expect([preview.added.count, preview.added.sample.length, preview.removed.count, preview.removed.sample.length]).toEqual([3_000, 20, 3_000, 20]);
  });

  test('a dry run of a missing group is an error and changes nothing', async () => {
    const text = await s.fails('update_group', { group_id: '01MISSING0000000000000000X', add: [number(0)], dry_run: true });
    expect(text).toContain('HTTP 404');
    expect(s.emulator.requests.map((r) => r.method)).toEqual(['GET']);
  });
});

describe('replace_group dry_run', () => {
  test('the members become exactly the list; the name is cleared when not given', async () => {
    const group = seed({ name: 'Old', members: numbers(0, 3) });
    const mark = s.emulator.requests.length;

    const dry = await s.ok<Previewed>('replace_group', { group_id: group.id, members: [number(1), number(2), number(3), number(4)], dry_run: true });

    expect(summary(since(mark)).sort()).toEqual([`GET ${groupPath(group.id)}`, `GET ${groupPath(group.id)}/members`].sort());
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

  test.each([
    ['name cleared', 'Old', {}],
    ['name kept', 'Old', { name: 'Old' }],
    ['name changed', 'Old', { name: 'New' }],
    ['unnamed stays unnamed', undefined, {}],
  ])('applying gives what the preview said: %s', async (_, current, change) => {
    const group = seed({ ...(current !== undefined && { name: current }), members: numbers(0, 5) });
    const preview = await previewThenApply('replace_group', { group_id: group.id, members: [...numbers(3, 8), number(4)], ...change });
    expect([preview.added.count, preview.removed.count, preview.unchanged, preview.size_after]).toEqual([3, 3, 2, 5]);
  });

  test('replacing with nothing removes everyone; a large list is counted and sampled', async () => {
    const group = seed({ name: 'Big', members: numbers(0, 3_000) });
    expect(await previewThenApply('replace_group', { group_id: group.id, members: numbers(2_000, 5_000), name: 'Big' })).toEqual({
      added: { count: 2_000, sample: numbers(3_000, 3_020) },
      removed: { count: 2_000, sample: numbers(0, 20) },
      unchanged: 1_000,
      size_before: 3_000,
      size_after: 3_000,
    });
    expect(await previewThenApply('replace_group', { group_id: group.id, members: [] })).toMatchObject({
      removed: { count: 3_000 },
      size_after: 0,
      name: { from: 'Big', to: null },
    });
  });

  test('a dry run needs no confirmation and never asks the user', async () => {
    const e = await startHarness({ elicit: () => ({ action: 'decline' }) });
    try {
      const group = e.emulator.store.create({ name: 'G', members: numbers(0, 2) });
      const dry = await e.ok<Previewed>('replace_group', { group_id: group.id, members: [], dry_run: true });
      expect(dry.preview.removed.count).toBe(2);
      expect(e.elicitations).toEqual([]);
      expect(e.emulator.requests.map((r) => r.method)).toEqual(['GET', 'GET']);
    } finally {
      await e.close();
    }
  });
});

describe('confirmation without elicitation', () => {
  test('delete_group without confirm names the group, its size and what would be lost, and deletes nothing', async () => {
    const group = seed({ name: 'Doomed', members: numbers(0, 3) });

    for (const args of [{}, { confirm: false }]) {
      const mark = s.emulator.requests.length;
      const text = await s.fails('delete_group', { group_id: group.id, ...args });
      expect(text).toBe(
        `Nothing was changed. Deleting group "Doomed" (${group.id}) removes it and its 3 members for good; ` +
          'the numbers stay in any other groups that hold them. Ask the user; if they agree, call again with confirm: true.',
      );
      expect(summary(since(mark))).toEqual([`GET ${groupPath(group.id)}`]);
    }
    expect(s.emulator.store.get(group.id)).toEqual(group);
  });

  test('an unnamed group is named by its id', async () => {
    const group = seed({ members: [number(0)] });
    expect(await s.fails('delete_group', { group_id: group.id })).toBe(
      `Nothing was changed. Deleting group ${group.id} removes it and its 1 members for good; the numbers stay in any other groups that hold them. ` +
        'Ask the user; if they agree, call again with confirm: true.',
    );
  });

  test('delete_group with confirm: true deletes', async () => {
    const group = seed({ name: 'Doomed', members: numbers(0, 3) });

    expect(await s.ok('delete_group', { group_id: group.id, confirm: true })).toEqual({ group_id: group.id, deleted: true });

    // The assistant vouched for the user, so there is nothing to read first.
    expect(summary(s.emulator.requests)).toEqual([`DELETE ${groupPath(group.id)}`]);
    expect(s.emulator.store.list().count).toBe(0);
  });

  test('replace_group without confirm says what would be removed and replaces nothing', async () => {
    const group = seed({ name: 'Old', members: numbers(0, 3) });

    const text = await s.fails('replace_group', { group_id: group.id, members: [number(1), number(2), number(3), number(4)] });

    expect(text).toBe(
      `Nothing was changed. Replacing group "Old" (${group.id}): 1 of 3 members would be removed, 2 added, leaving 4, ` +
        'the name would change from "Old" to none. Ask the user; if they agree, call again with confirm: true.',
    );
    expect(s.emulator.requests.map((r) => r.method)).toEqual(['GET', 'GET']);
    expect(s.emulator.store.get(group.id)).toEqual(group);
    expect(stored(group.id)).toEqual(new Set(numbers(0, 3)));
  });

  test('replace_group with confirm: true replaces', async () => {
    const group = seed({ name: 'Old', members: numbers(0, 3) });

    const replaced = await s.ok<Group>('replace_group', { group_id: group.id, members: [number(7)], name: 'New', confirm: true });

    expect(replaced).toMatchObject({ id: group.id, name: 'New', size: 1 });
    expect(summary(s.emulator.requests)).toEqual([`PUT ${groupPath(group.id)}`]);
    expect(stored(group.id)).toEqual(new Set([number(7)]));
  });

  // BUG: replace_group clears auto_update (and child_groups) when they are not given, but neither the
  // confirmation nor the preview says so: the user is told only about members and the name.
  test('replace_group without confirm says keyword auto-update settings would be lost', async () => {
    const group = seed({ name: 'Keywords', members: [number(0)], auto_update: { to: '12345', add: { first_word: 'JOIN' } } });

    const text = await s.fails('replace_group', { group_id: group.id, members: [number(0)], name: 'Keywords' });

    expect(text).toContain('auto_update');
    expect(s.emulator.store.get(group.id).auto_update).toEqual({ to: '12345', add: { first_word: 'JOIN' } });
  });

  test('update_group that would empty the group says so and changes nothing; with confirm: true it applies', async () => {
    const group = seed({ members: numbers(0, 3) });

    for (const args of [{}, { confirm: false }]) {
      const text = await s.fails('update_group', { group_id: group.id, remove: numbers(0, 3), ...args });
      expect(text).toBe(
        `Nothing was changed. Updating group ${group.id}: 3 of 3 members would be removed, 0 added, leaving 0. ` +
          'Ask the user; if they agree, call again with confirm: true.',
      );
    }
    expect(s.emulator.requests.filter((r) => r.method !== 'GET')).toEqual([]);
    expect(stored(group.id)).toEqual(new Set(numbers(0, 3)));

    await s.ok('update_group', { group_id: group.id, remove: numbers(0, 3), confirm: true });
    expect(stored(group.id)).toEqual(new Set());
  });

  test('update_group removing one of three members needs no confirmation', async () => {
    const group = seed({ members: numbers(0, 3) });
    await s.ok('update_group', { group_id: group.id, remove: [number(0)] });
    expect(stored(group.id)).toEqual(new Set(numbers(1, 3)));
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

  test.each(ASKING)('%s: accepted with confirm true, it applies; the user saw name and size', async (tool) => {
    const e = await startHarness({ elicit: () => ({ action: 'accept', content: { confirm: true } }) });
    try {
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
    } finally {
      await e.close();
    }
  });

  test.each(ASKING)('%s: a group changed while the user was asked is left alone', async (tool) => {
    let groupId = '';
    const e = await startHarness({
      elicit: () => {
        e.emulator.store.update(groupId, { add: ['+16059999999'] });
        return { action: 'accept', content: { confirm: true } };
      },
    });
    try {
      groupId = e.emulator.store.create({ name: 'Doomed', members: numbers(0, 3) }).id;

      const text = await e.fails(tool, CHANGES[tool](groupId));

      expect(text).toContain(`Nothing was changed: group ${groupId} was modified since you read it`);
      expect(e.emulator.requests.filter((r) => r.method !== 'GET')).toEqual([]);
      expect(e.emulator.store.members(groupId)).toHaveLength(4);
    } finally {
      await e.close();
    }
  });

  test.each([
    ['delete_group', 'accepted without ticking', { action: 'accept', content: { confirm: false } }, 'did not confirm'],
    ['delete_group', 'declined', { action: 'decline' }, 'declined'],
    ['delete_group', 'cancelled', { action: 'cancel' }, 'cancelled'],
    ['replace_group', 'accepted without ticking', { action: 'accept', content: { confirm: false } }, 'did not confirm'],
    ['replace_group', 'declined', { action: 'decline' }, 'declined'],
    ['replace_group', 'cancelled', { action: 'cancel' }, 'cancelled'],
    ['update_group', 'accepted without ticking', { action: 'accept', content: { confirm: false } }, 'did not confirm'],
    ['update_group', 'declined', { action: 'decline' }, 'declined'],
    ['update_group', 'cancelled', { action: 'cancel' }, 'cancelled'],
  ] as const)('%s %s: nothing happens, and the result says so', async (tool, _, answer, how) => {
    const e = await startHarness({ elicit: () => structuredClone(answer) as ElicitResult });
    try {
      const group = e.emulator.store.create({ name: 'Doomed', members: numbers(0, 3) });

      // confirm: true in the arguments does not replace asking the user when the client can.
      const result = await e.call(tool, { ...CHANGES[tool](group.id), confirm: true });

      expect(result.isError).toBe(true);
      expect(textOf(result)).toBe(`Nothing was changed: the user ${how}. ${CONSEQUENCE[tool](group.id)}`);
      expect(e.elicitations).toHaveLength(1);
      expect(e.emulator.requests.map((r) => r.method)).toEqual(tool === 'delete_group' ? ['GET'] : ['GET', 'GET']);
      expect(e.emulator.store.get(group.id)).toEqual(group);
      expect(e.emulator.store.members(group.id)).toHaveLength(3);
    } finally {
      await e.close();
    }
  });

  test('a client whose elicitation fails: nothing is deleted, and the result is an error', async () => {
    const e = await startHarness({
      elicit: () => {
        throw new Error('no way to ask');
      },
    });
    try {
      const group = e.emulator.store.create({ name: 'Doomed', members: numbers(0, 3) });

      const result = await e.call('delete_group', { group_id: group.id, confirm: true });

      expect(result.isError).toBe(true);
      expect(textOf(result)).toContain('no way to ask');
      expect(e.elicitations).toHaveLength(1);
      expect(e.emulator.requests.map((r) => r.method)).toEqual(['GET']);
      expect(e.emulator.store.get(group.id)).toEqual(group);
    } finally {
      await e.close();
    }
  });

  test('a client that can only elicit by URL is treated as one that cannot ask: confirm: true is needed', async () => {
    const e = await startHarness({ capabilities: { elicitation: { url: {} } } });
    try {
      const group = e.emulator.store.create({ name: 'Doomed', members: numbers(0, 3) });

      expect(await e.fails('delete_group', { group_id: group.id })).toContain('call again with confirm: true');
      expect(e.emulator.store.list().count).toBe(1);
      expect(await e.ok('delete_group', { group_id: group.id, confirm: true })).toEqual({ group_id: group.id, deleted: true });
      expect(e.emulator.store.list().count).toBe(0);
    } finally {
      await e.close();
    }
  });

  test('update_group removing one of three members does not ask', async () => {
    const e = await startHarness({ elicit: () => ({ action: 'decline' }) });
    try {
      const group = e.emulator.store.create({ members: numbers(0, 3) });
      await e.ok('update_group', { group_id: group.id, remove: [number(0)] });
      expect(e.elicitations).toEqual([]);
      expect(e.emulator.store.members(group.id)).toHaveLength(2);
    } finally {
      await e.close();
    }
  });
});

describe('stale reads: expected_modified_at', () => {
  test.each([
    ['update_group', { add: [number(9)] }, 'POST'],
    ['replace_group', { members: [number(9)], confirm: true }, 'PUT'],
    ['delete_group', { confirm: true }, 'DELETE'],
  ] as const)('%s applies when the group is as read', async (tool, args, method) => {
    const group = seed({ name: 'G', members: numbers(0, 3) });

    await s.ok(tool, { group_id: group.id, expected_modified_at: group.modified_at, ...args });

    expect(s.emulator.requests.at(0)).toMatchObject({ method: 'GET', path: groupPath(group.id) });
    expect(s.emulator.requests.at(-1)).toMatchObject({ method, path: groupPath(group.id) });
  });

  test('the same instant written differently counts as unchanged', async () => {
    const group = seed({ members: [number(0)] });
    const sameInstant = group.modified_at.replace('Z', '+00:00');
    expect(sameInstant).not.toBe(group.modified_at);

    await s.ok('update_group', { group_id: group.id, add: [number(1)], expected_modified_at: sameInstant });

    expect(stored(group.id)).toEqual(new Set([number(0), number(1)]));
  });

  test.each([
    ['update_group', { add: [number(9)] }],
    ['update_group', { add: [number(9)], dry_run: true }],
    ['replace_group', { members: [number(9)], confirm: true }],
    ['replace_group', { members: [number(9)], dry_run: true }],
    ['delete_group', { confirm: true }],
  ] as const)('%s %o is refused after another change, reporting the new modified_at', async (tool, args) => {
    const group = seed({ name: 'G', members: numbers(0, 3) });
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
    expect(summary(since(mark))).toEqual([`GET ${groupPath(group.id)}`]);
    expect(s.emulator.store.get(group.id)).toEqual(now);
  });

  test('a stale delete is refused before the user is asked', async () => {
    const e = await startHarness({ elicit: () => ({ action: 'accept', content: { confirm: true } }) });
    try {
      const group = e.emulator.store.create({ name: 'G', members: [number(0)] });
      const text = await e.fails('delete_group', { group_id: group.id, expected_modified_at: '2001-01-01T00:00:00.000Z' });
      expect(text).toContain(`modified_at is now ${group.modified_at}, not 2001-01-01T00:00:00.000Z`);
      expect(e.elicitations).toEqual([]);
      expect(e.emulator.store.list().count).toBe(1);
    } finally {
      await e.close();
    }
  });
});

describe('read-only mode and tool selection', () => {
  const toolNames = async (session: Harness) => (await session.client.listTools()).tools.map((t) => t.name).sort();

  test('readOnly: true offers only the tools that change nothing', async () => {
    const ro = await startHarness({ readOnly: true });
    try {
      expect(await toolNames(ro)).toEqual(['get_group', 'list_group_members', 'list_groups']);
      const { tools } = await ro.client.listTools();
      expect(tools.every((t) => t.annotations?.readOnlyHint === true)).toBe(true);

      const group = ro.emulator.store.create({ name: 'G', members: [number(0)] });
      for (const tool of ['update_group', 'replace_group', 'delete_group', 'create_group']) {
        const result = await ro.call(tool, { group_id: group.id, members: [], confirm: true });
        expect(result.isError, tool).toBe(true);
        expect(textOf(result)).toBe(`There is no tool "${tool}"; the tools are list_groups, get_group, list_group_members.`);
      }
      expect(ro.emulator.requests).toEqual([]);
      expect(await ro.ok('get_group', { group_id: group.id })).toEqual(group);
    } finally {
      await ro.close();
    }
  });

  test("only: ['get_group', 'create_group'] offers those two", async () => {
    const some = await startHarness({ only: ['get_group', 'create_group'] });
    try {
      expect(await toolNames(some)).toEqual(['create_group', 'get_group']);
      expect((await some.call('list_groups', {})).isError).toBe(true);
    } finally {
      await some.close();
    }
  });

  test('read-only wins over only', async () => {
    const some = await startHarness({ readOnly: true, only: ['create_group', 'get_group'] });
    try {
      expect(await toolNames(some)).toEqual(['get_group']);
    } finally {
      await some.close();
    }
  });

  test('readOnly: false offers all eight (list_changes and undo_change need a journal)', async () => {
    const all = await startHarness({ readOnly: false });
    try {
      expect(await toolNames(all)).toHaveLength(8);
    } finally {
      await all.close();
    }
  });

  test('an unknown tool name is a ConfigError naming it', async () => {
    const sinch = new SinchGroupsClient({ baseUrl: 'http://127.0.0.1:9', servicePlanId: 'p', apiToken: 't' });
    try {
      expect(() => createServer({ sinch, only: ['nope'] })).toThrow(ConfigError);
      expect(() => createServer({ sinch, only: ['get_group', 'nope', 'nada'] })).toThrow(/unknown tool "nope", "nada"/);
      expect(() => createServer({ sinch, only: ['nope'] })).toThrow(/the tools are create_group, list_groups, get_group/);
      expect(() => createServer({ sinch, readOnly: true, only: ['create_group'] })).toThrow(ConfigError);
    } finally {
      await sinch.close();
    }
  });
});

describe('loadToolSelection', () => {
  test('nothing set: every tool, not read-only', () => {
    expect(loadToolSelection({}, {})).toEqual({ readOnly: false });
  });

  test.each(['1', 'true', 'yes', 'TRUE', ' Yes '])('SINCH_READ_ONLY=%o is read-only', (value) => {
    expect(loadToolSelection({}, { SINCH_READ_ONLY: value })).toEqual({ readOnly: true });
  });

  test.each(['0', 'false', 'no', '', 'No'])('SINCH_READ_ONLY=%o is not', (value) => {
    expect(loadToolSelection({}, { SINCH_READ_ONLY: value })).toEqual({ readOnly: false });
  });

  test.each(['maybe', 'on', '2'])('SINCH_READ_ONLY=%o is a ConfigError naming the variable and the value', (value) => {
    expect(() => loadToolSelection({}, { SINCH_READ_ONLY: value })).toThrow(ConfigError);
    expect(() => loadToolSelection({}, { SINCH_READ_ONLY: value })).toThrow(`SINCH_READ_ONLY must be 1/true/yes or 0/false/no (got "${value}")`);
  });

  test('--read-only wins over SINCH_READ_ONLY=0', () => {
    expect(loadToolSelection({ readOnly: true }, { SINCH_READ_ONLY: '0' })).toEqual({ readOnly: true });
  });

  test('SINCH_TOOLS is a comma-separated list, spaces and empty entries ignored', () => {
    expect(loadToolSelection({}, { SINCH_TOOLS: ' get_group , list_groups,, ' })).toEqual({ readOnly: false, only: ['get_group', 'list_groups'] });
  });

  test('--tools overrides SINCH_TOOLS', () => {
    expect(loadToolSelection({ tools: 'create_group,get_group' }, { SINCH_TOOLS: 'list_groups' })).toEqual({
      readOnly: false,
      only: ['create_group', 'get_group'],
    });
  });

  test('both together', () => {
    expect(loadToolSelection({ readOnly: true, tools: 'get_group' }, { SINCH_TOOLS: 'x', SINCH_READ_ONLY: 'no' })).toEqual({
      readOnly: true,
      only: ['get_group'],
    });
  });
});

describe('list_group_members contains', () => {
  interface MemberPage {
    group_id: string;
    total: number;
    matching?: number;
    members: string[];
    next_cursor?: string;
  }

  test('finds one number among 2,500 without paging', async () => {
    const group = seed({ members: numbers(0, 2_500).reverse() });

    const page = await s.ok<MemberPage>('list_group_members', { group_id: group.id, contains: '6050001234' });

    expect(page).toEqual({ group_id: group.id, total: 2_500, matching: 1, members: [number(1_234)] });
    expect(summary(s.emulator.requests)).toEqual([`GET ${groupPath(group.id)}/members`]);
  });

  test('separators and "+" are ignored: a number as people write it', async () => {
    const group = seed({ members: numbers(0, 2_500) });
    const page = await s.ok<MemberPage>('list_group_members', { group_id: group.id, contains: '+1 (605) 000-0042' });
    expect(page).toEqual({ group_id: group.id, total: 2_500, matching: 1, members: [number(42)] });
  });

  test('no match: matching 0, no members, no cursor', async () => {
    const group = seed({ members: numbers(0, 2_500) });
    const page = await s.ok<MemberPage>('list_group_members', { group_id: group.id, contains: '4155550123' });
    expect(page).toEqual({ group_id: group.id, total: 2_500, matching: 0, members: [] });
  });

  test('pages over the matches with the cursor', async () => {
    const group = seed({ members: numbers(0, 2_500) });
    const pages: MemberPage[] = [];
    let cursor: string | undefined;
    do {
      const page: MemberPage = await s.ok<MemberPage>('list_group_members', {
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

  test('without contains there is no matching', async () => {
    const group = seed({ members: numbers(0, 3) });
    expect(await s.ok<MemberPage>('list_group_members', { group_id: group.id })).toEqual({ group_id: group.id, total: 3, members: numbers(0, 3) });
  });

  test.each(['abc', '605abc', '', '1234567890123456'])('contains %o is refused, and nothing is asked of Sinch', async (contains) => {
    const group = seed({ members: numbers(0, 3) });

    const text = await s.fails('list_group_members', { group_id: group.id, contains });

    expect(text).toBe(`Nothing was changed: contains: must be 1 to 15 digits (got ${JSON.stringify(contains)}).`);
    expect(s.emulator.requests).toEqual([]);
  });
});
