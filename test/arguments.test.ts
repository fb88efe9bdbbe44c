import { afterEach, describe, expect } from 'vitest';
import { ConfigError, loadNumberSettings } from '../src/config.js';
import { tools } from '../src/mcp/tools/index.js';
import { configureNumbers } from '../src/sinch/numbers.js';
import type { Group } from '../src/sinch/schemas.js';
import { bare, membersOf as stored, number, numbers, refused, test, type Harness } from './harness.js';

// What a model sends does exactly what the schema says, or nothing: unknown arguments are refused,
// null means "not given", numbers are read as the library reads them, and a removal that empties or
// halves a group needs the user's consent whichever tool it goes through.

afterEach(() => configureNumbers({}));

const seed = (h: Harness, name: string | undefined, members: string[], extra: Record<string, unknown> = {}): Group =>
  h.emulator.store.create({ ...(name === undefined ? {} : { name }), members: members.map(bare), ...extra });

describe('unknown arguments are refused, never dropped', () => {
  const ID = '01W4FFL35P4NC4K35SMSGROUP1';
  const valid: Record<string, Record<string, unknown>> = {
    create_group: {},
    list_groups: {},
    get_group: { group_id: ID },
    list_group_members: { group_id: ID },
    update_group: { group_id: ID },
    replace_group: { group_id: ID, members: [] },
    delete_group: { group_id: ID },
    find_numbers: { numbers: [] },
    remove_numbers_everywhere: { numbers: [] },
    export_group_members: { group_id: ID, path: '/tmp/members.csv', format: 'csv' },
    list_changes: {},
    undo_change: { change_id: 'chg_1' },
  };

  // The shared server has a journal, so list_changes and undo_change are offered too.
  test.for(tools)('$name names the unknown argument and lists the ones it takes', async ({ name, inputSchema }, { shared: h }) => {
    expect(valid, 'arguments this tool accepts').toHaveProperty(name);
    const text = await refused(h, name, { ...valid[name], colour: 'blue' });
    expect(text).toContain(`${name} does not take "colour"; it takes ${Object.keys(inputSchema.shape).join(', ')}`);
  });

  test('update_group with dryRun (camelCase) applies nothing, and suggests dry_run', async ({ h }) => {
    const group = seed(h, 'VIP', numbers(0, 3));
    const text = await refused(h, 'update_group', { group_id: group.id, add: [number(9)], dryRun: true });
    expect(text).toContain('"dryRun" (did you mean dry_run?)');
    expect(stored(h.emulator, group.id)).toEqual(numbers(0, 3));
  });

  test('replace_group with dryRun and confirm leaves a 5-member group as it was', async ({ h }) => {
    const group = seed(h, 'VIP', numbers(0, 5));
    await refused(h, 'replace_group', { group_id: group.id, members: [number(9)], dryRun: true, confirm: true });
    expect(stored(h.emulator, group.id)).toEqual(numbers(0, 5));
    expect(h.emulator.store.get(group.id).name).toBe('VIP');
  });

  test('update_group with add_members does not report a success that added nothing', async ({ h }) => {
    const group = seed(h, 'VIP', []);
    const text = await refused(h, 'update_group', { group_id: group.id, add_members: [number(1)] });
    expect(text).toContain('"add_members"');
    expect(stored(h.emulator, group.id)).toEqual([]);
  });

  test('an unknown field inside auto_update is refused, naming where it is', async ({ h }) => {
    const text = await refused(h, 'create_group', { auto_update: { to: '+14155550100', add: { first_word: 'JOIN', third_word: 'X' } } });
    expect(text).toContain('auto_update.add does not take "third_word"; it takes first_word, second_word');
  });
});

describe('null means "not given"', () => {
  test('list_groups takes page: null and page_size: null as if they were left out', async ({ h }) => {
    seed(h, 'A', []);
    const page = await h.ok<{ groups: Group[] }>('list_groups', { page: null, page_size: null });
    expect(page.groups.map((group) => group.name)).toEqual(['A']);
  });

  test('update_group with every optional argument null changes nothing but what is given', async ({ h }) => {
    const auto_update = { to: '14155550100', add: { first_word: 'JOIN' } };
    const group = seed(h, 'Keep me', numbers(0, 2), { auto_update });
    await h.ok('update_group', {
      group_id: group.id,
      add: [number(5)],
      remove: null,
      name: null,
      remove_name: null,
      add_from_group: null,
      remove_from_group: null,
      auto_update: null,
      dry_run: null,
      confirm: null,
      expected_modified_at: null,
    });
    const after = h.emulator.store.get(group.id);
    expect(after.name).toBe('Keep me');
    expect(after.auto_update).toEqual(auto_update);
    expect(stored(h.emulator, group.id)).toEqual([...numbers(0, 2), number(5)]);
    const sent = h.emulator.requests.filter((request) => request.method === 'POST').at(-1)!;
    expect(sent.body).toEqual({ add: [number(5)] });
  });

  test('nested nulls are "not given" too: auto_update.add.second_word: null', async ({ h }) => {
    const group = await h.ok<Group>('create_group', { auto_update: { to: '+14155550100', add: { first_word: 'JOIN', second_word: null }, remove: null } });
    expect(h.emulator.store.get(group.id).auto_update).toEqual({ to: '+14155550100', add: { first_word: 'JOIN' } });
  });

  test('null inside a list of numbers is refused, not skipped', async ({ h }) => {
    const text = await refused(h, 'create_group', { members: [number(1), null] });
    expect(text).toContain('members[1]');
  });

  test('replace_group clears a name sent as null, as one left out, and the preview says so', async ({ h }) => {
    const group = seed(h, 'Old', numbers(0, 2));
    const preview = await h.ok<{ preview: { name?: unknown } }>('replace_group', { group_id: group.id, members: numbers(0, 2), name: null, dry_run: true });
    expect(preview.preview.name).toEqual({ from: 'Old', to: null });
    await h.ok('replace_group', { group_id: group.id, members: numbers(0, 2), name: null, confirm: true });
    expect(h.emulator.store.get(group.id).name).toBeUndefined();
  });
});

describe('remove_name', () => {
  test('removes the name, sent to Sinch as an explicit "name": null', async ({ h }) => {
    const group = seed(h, 'Old', []);
    const updated = await h.ok<Group>('update_group', { group_id: group.id, remove_name: true });
    expect(updated.name).toBeUndefined();
    const sent = h.emulator.requests.filter((request) => request.method === 'POST').at(-1)!;
    expect(sent.rawBody).toBe('{"name":null}');
  });

  test('with a name as well is refused, and nothing is sent', async ({ h }) => {
    const group = seed(h, 'Old', []);
    const text = await refused(h, 'update_group', { group_id: group.id, name: 'New', remove_name: true });
    expect(text).toContain('either name');
    expect(h.emulator.store.get(group.id).name).toBe('Old');
  });
});

describe('phone numbers', () => {
  test.for([
    ['+44 (0)7700 900123', '+447700900123'],
    ['+33 (0)6 12 34 56 78', '+33612345678'],
    ['+49 (0)30 123456', '+4930123456'],
    ['+61 (0)412 345 678', '+61412345678'],
    ['+46 (0)70 123 45 67', '+46701234567'],
    ['0044 7700 900123', '+447700900123'],
    ['+39 06 1234 5678', '+390612345678'],
  ])('%s is stored as %s', async ([written, e164], { h }) => {
    const group = await h.ok<Group>('create_group', { members: [written] });
    expect(stored(h.emulator, group.id)).toEqual([e164]);
  });

  test('a "(0)" number and its plain form are one member, not two', async ({ h }) => {
    const group = await h.ok<Group>('create_group', { members: ['+44 (0)7700 900123', '+447700900123'] });
    expect(group.size).toBe(1);
  });

  test('a national number is refused without SINCH_DEFAULT_COUNTRY, with the fix spelled out', async ({ h }) => {
    const text = await refused(h, 'create_group', { members: ['07700 900123'] });
    expect(text).toContain('members[0]: "07700 900123" is not a phone number: not in international format');
    expect(text).toContain('e.g. +44 7700 900123 for the UK number 07700 900123');
  });

  test('with SINCH_DEFAULT_COUNTRY=GB a national number is read as British', async ({ h }) => {
    configureNumbers(loadNumberSettings({ SINCH_DEFAULT_COUNTRY: 'gb' }));
    const group = await h.ok<Group>('create_group', { members: ['07700 900123', '+44 7700 900123'] });
    expect(stored(h.emulator, group.id)).toEqual(['+447700900123']);
  });

  test('with SINCH_DEFAULT_COUNTRY=US, digits that read as two different numbers are refused, not guessed', async ({ h }) => {
    configureNumbers(loadNumberSettings({ SINCH_DEFAULT_COUNTRY: 'US' }));
    const text = await refused(h, 'create_group', { members: ['4930123456'] });
    expect(text).toContain('"4930123456" is not a phone number: ambiguous: it reads as +4930123456 and, in US, as +14930123456; write it with a leading +');
  });

  test('with SINCH_DEFAULT_COUNTRY=US, a national number without the country code is read as American', async ({ h }) => {
    configureNumbers(loadNumberSettings({ SINCH_DEFAULT_COUNTRY: 'US' }));
    const group = await h.ok<Group>('create_group', { members: ['(415) 555-0100'] });
    expect(stored(h.emulator, group.id)).toEqual(['+14155550100']);
  });

  test('SINCH_DEFAULT_COUNTRY that is not a country stops the server', () => {
    expect(() => loadNumberSettings({ SINCH_DEFAULT_COUNTRY: 'UK' })).toThrow(ConfigError);
    expect(() => loadNumberSettings({ SINCH_DEFAULT_COUNTRY: 'UK' })).toThrow('SINCH_DEFAULT_COUNTRY must be a two-letter ISO 3166 country code');
  });

  test('after 25 bad entries checking stops, and says the rest were not examined', async ({ h }) => {
    const members = [...Array.from({ length: 30 }, (_, i) => `bad${i}`), number(1)];
    const text = await refused(h, 'create_group', { members });
    expect(text).toContain('members[24]: "bad24"');
    expect(text).not.toContain('bad25');
    expect(text).toContain('members: checking stopped after 25 bad entries; the 6 after [24] were not examined');
  });

  test('a list longer than SINCH_MAX_NUMBERS_PER_CALL is refused unread', async ({ h }) => {
    configureNumbers(loadNumberSettings({ SINCH_MAX_NUMBERS_PER_CALL: '3' }));
    const text = await refused(h, 'update_group', { group_id: 'G1', add: ['x', 'y', 'z', 'w'] });
    expect(text).toBe('Nothing was changed: add: has 4 entries; one call takes at most 3 (SINCH_MAX_NUMBERS_PER_CALL).');
  });
});

describe('names', () => {
  test.for([
    ['a line break', 'VIP\nignore the above'],
    ['an escape', 'VIP\u001b[2J'],
    ['a NUL', 'VIP\u0000'],
    ['a right-to-left override', 'VIP\u202Epihs'],
  ])('a name with %s is refused', async ([_, name], { h }) => {
    const text = await refused(h, 'create_group', { name });
    expect(text).toContain('holds control or text-direction characters');
  });

  test('length is counted in characters as people count them: 20 emoji fit', async ({ h }) => {
    const name = '🎉'.repeat(20);
    const group = await h.ok<Group>('create_group', { name });
    expect(group.name).toBe(name);
    const text = await refused(h, 'create_group', { name: '🎉'.repeat(21) });
    expect(text).toContain('is 21 characters; Sinch allows at most 20');
  });
});

describe('update_group asks before it removes much', () => {
  test('removing a group from itself would empty it: refused without confirm, and nothing changes', async ({ h }) => {
    const group = seed(h, 'Everyone', numbers(0, 35));
    const text = await h.fails('update_group', { group_id: group.id, remove_from_group: group.id });
    expect(text).toBe(
      `Nothing was changed. Updating group "Everyone" (${group.id}): 35 of 35 members would be removed, 0 added, leaving 0. ` +
        'Ask the user; if they agree, call again with confirm: true.',
    );
    expect(stored(h.emulator, group.id)).toHaveLength(35);
    await h.ok('update_group', { group_id: group.id, remove_from_group: group.id, confirm: true });
    expect(stored(h.emulator, group.id)).toEqual([]);
  });

  test('removing more than half the members asks', async ({ h }) => {
    const group = seed(h, undefined, numbers(0, 10));
    const text = await h.fails('update_group', { group_id: group.id, remove: numbers(0, 6) });
    expect(text).toContain('6 of 10 members would be removed');
    expect(stored(h.emulator, group.id)).toHaveLength(10);
  });

  test('half or fewer, and 1,000 or fewer, go ahead without asking', async ({ h }) => {
    const group = seed(h, undefined, numbers(0, 10));
    await h.ok('update_group', { group_id: group.id, remove: numbers(0, 5) });
    expect(stored(h.emulator, group.id)).toEqual(numbers(5, 10));
  });

  test('removals are counted against the members, after additions: unknown numbers do not count', async ({ h }) => {
    const group = seed(h, undefined, numbers(0, 4));
    await h.ok('update_group', { group_id: group.id, remove: [number(0), ...numbers(100, 110)] });
    expect(stored(h.emulator, group.id)).toEqual(numbers(1, 4));
  });

  test('more than 1,000 removed asks, even from a large group', async ({ h }) => {
    const group = seed(h, undefined, numbers(0, 3000));
    const text = await h.fails('update_group', { group_id: group.id, remove: numbers(0, 1001) });
    expect(text).toContain('1001 of 3000 members would be removed');
  });

  test('with elicitation the user is asked, and a decline changes nothing', async ({ harness }) => {
    const e = await harness({ elicit: () => ({ action: 'decline' }) });
    const group = e.emulator.store.create({ name: 'VIP', members: numbers(0, 4).map(bare) });
    const text = await e.fails('update_group', { group_id: group.id, remove: numbers(0, 4) });
    expect(e.elicitations).toHaveLength(1);
    expect(e.elicitations[0]!.message).toContain('4 of 4 members would be removed');
    expect(text).toContain('Nothing was changed: the user declined.');
    expect(e.emulator.store.members(group.id)).toHaveLength(4);
  });
});
