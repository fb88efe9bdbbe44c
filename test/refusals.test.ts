import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { startHarness, type Harness } from './harness.js';

// Bad input must be refused by the server itself: Sinch is never asked, and the refusal names the field
// and the value so the assistant can correct it.

let h: Harness;

beforeEach(async () => {
  h = await startHarness();
});

afterEach(async () => {
  await h.close();
});

/** A well-formed id: nothing is sent, so it need not exist. */
const ID = '01W4FFL35P4NC4K35SMSGROUP1';
const number = (i: number) => `+1605${String(i).padStart(7, '0')}`;

/** Calls a tool that must be refused before any request reaches Sinch; returns the refusal text. */
async function refused(tool: string, args: Record<string, unknown>): Promise<string> {
  const before = h.emulator.requests.length;
  const text = await h.fails(tool, args);
  expect(h.emulator.requests.length, 'requests sent to Sinch').toBe(before);
  expect(h.emulator.store.list().count, 'groups in Sinch').toBe(0);
  return text;
}

const BAD_NUMBERS: [string, string][] = [
  ['+1', 'too short for its country code'],
  ['abc', 'only digits'],
  ['12', 'too short'],
  ['+12345678901234567', 'too long'],
  ['0701234567', 'not in international format'],
  ['', 'is not a phone number'],
];

describe('phone numbers', () => {
  // Where a list of numbers goes in each tool.
  const PLACES: [string, string, Record<string, unknown>][] = [
    ['create_group', 'members', {}],
    ['update_group', 'add', { group_id: ID }],
    ['update_group', 'remove', { group_id: ID }],
    ['replace_group', 'members', { group_id: ID }],
  ];

  describe.each(PLACES)('%s %s', (tool, field, rest) => {
    test.each(BAD_NUMBERS)('refuses %j', async (bad, reason) => {
      const text = await refused(tool, { ...rest, [field]: ['+14058961234', bad] });

      expect(text).toContain(`${JSON.stringify(bad)} is not a phone number`);
      expect(text).toContain(reason);
      expect(text).toContain(`${field}[1]`);
      expect(text).not.toContain('+14058961234');
    });
  });

  test('several bad entries in one list are each named, with their place', async () => {
    const members = ['+14058961234', ...BAD_NUMBERS.map(([bad]) => bad), '+447911123456'];

    const text = await refused('create_group', { members });

    BAD_NUMBERS.forEach(([bad], index) => {
      expect(text).toContain(`${JSON.stringify(bad)} is not a phone number`);
      expect(text).toContain(`members[${index + 1}]`);
    });
    expect(text).not.toContain('members[0]');
    expect(text).not.toContain(`members[${BAD_NUMBERS.length + 1}]`);
  });

  test('bad entries in both add and remove are all named', async () => {
    const text = await refused('update_group', { group_id: ID, add: ['abc'], remove: ['+14058961234', '0701234567'] });

    expect(text).toContain('"abc" is not a phone number');
    expect(text).toContain('add[0]');
    expect(text).toContain('"0701234567" is not a phone number');
    expect(text).toContain('remove[1]');
  });

  test('a bad entry among 25,000 good numbers sends nothing', async () => {
    const members = Array.from({ length: 25_000 }, (_, i) => number(i));
    members.splice(12_345, 0, '+1 (605) CALL-NOW');

    const text = await refused('create_group', { name: 'Big', members });

    expect(text).toContain('"+1 (605) CALL-NOW" is not a phone number');
    expect(text).toContain('members[12345]');
    expect(text.length).toBeLessThan(1_000);
  });

  test('a flood of bad entries is reported one by one up to 25, then checking stops', async () => {
    const members = Array.from({ length: 30 }, (_, i) => `bad${i}`);

    const text = await refused('create_group', { members });

    expect(text).toContain('members[0]: "bad0" is not a phone number');
    expect(text).toContain('members[24]: "bad24" is not a phone number');
    expect(text).not.toContain('"bad25"');
    expect(text).toMatch(/; members: checking stopped after 25 bad entries; the 5 after \[24\] were not examined\.$/);
  });
});

describe('names', () => {
  const NAME_PLACES: [string, Record<string, unknown>][] = [
    ['create_group', {}],
    ['update_group', { group_id: ID }],
    ['replace_group', { group_id: ID, members: [] }],
  ];

  test.each(NAME_PLACES)('%s refuses a 21-character name', async (tool, rest) => {
    const name = 'Customers of the year';
    expect(name).toHaveLength(21);

    const text = await refused(tool, { ...rest, name });

    expect(text).toBe(`Nothing was changed: name: "${name}" is 21 characters; Sinch allows at most 20.`);
  });

  test.each(NAME_PLACES)('%s refuses an empty name', async (tool, rest) => {
    const text = await refused(tool, { ...rest, name: '' });

    expect(text).toBe('Nothing was changed: name: "" is empty; leave the name out instead.');
  });

  test('a 20-character name is accepted', async () => {
    const group = await h.ok('create_group', { name: 'Customers of the yea' });
    expect(group).toMatchObject({ name: 'Customers of the yea' });
  });
});

describe('group ids', () => {
  const BAD_IDS = ['a/b', '..', '%2F', 'abc?x=1', 'my group', ''];
  const ID_TOOLS: [string, Record<string, unknown>][] = [
    ['get_group', {}],
    ['list_group_members', {}],
    ['update_group', {}],
    ['replace_group', { members: [] }],
    ['delete_group', {}],
  ];

  describe.each(ID_TOOLS)('%s', (tool, rest) => {
    test.each(BAD_IDS)('refuses group_id %j', async (id) => {
      const text = await refused(tool, { ...rest, group_id: id });

      expect(text).toBe(`Nothing was changed: group_id: ${JSON.stringify(id)} is not a group id: ids are letters and digits only (see list_groups).`);
    });
  });

  test.each(['add_from_group', 'remove_from_group'])('update_group refuses %s "../x"', async (field) => {
    const text = await refused('update_group', { group_id: ID, [field]: '../x' });

    expect(text).toBe(`Nothing was changed: ${field}: "../x" is not a group id: ids are letters and digits only (see list_groups).`);
  });

  test('create_group refuses a child group id with a slash', async () => {
    const text = await refused('create_group', { child_groups: [ID, 'a/b'] });

    expect(text).toBe('Nothing was changed: child_groups[1]: "a/b" is not a group id: ids are letters and digits only (see list_groups).');
  });
});

describe('child_groups', () => {
  const eleven = Array.from({ length: 11 }, (_, i) => `CHILD${i}`);

  test('create_group refuses 11 child groups', async () => {
    const text = await refused('create_group', { child_groups: eleven });

    expect(text).toBe('Nothing was changed: child_groups: has 11 ids; Sinch allows at most 10.');
  });

  test('replace_group refuses 11 child groups', async () => {
    const text = await refused('replace_group', { group_id: ID, members: [], child_groups: eleven });

    expect(text).toBe('Nothing was changed: child_groups: has 11 ids; Sinch allows at most 10.');
  });
});

describe('paging', () => {
  test('list_groups refuses page_size 101, naming the field, the range and the value', async () => {
    const text = await refused('list_groups', { page_size: 101 });

    expect(text).toBe('Nothing was changed: page_size: must be a whole number from 1 to 100 (got 101).');
  });

  test('list_groups refuses page -1, naming the field and the value', async () => {
    const text = await refused('list_groups', { page: -1 });

    expect(text).toBe('Nothing was changed: page: must be a whole number 0 or more (got -1).');
  });

  test('list_groups refuses page_size 0 and a fractional page', async () => {
    expect(await refused('list_groups', { page_size: 0 })).toBe('Nothing was changed: page_size: must be a whole number from 1 to 100 (got 0).');
    expect(await refused('list_groups', { page: 1.5 })).toBe('Nothing was changed: page: must be a whole number 0 or more (got 1.5).');
  });

  test('list_group_members refuses limit 0 and a limit over 10,000', async () => {
    const range = 'Nothing was changed: limit: must be a whole number from 1 to 10000';
    expect(await refused('list_group_members', { group_id: ID, limit: 0 })).toBe(`${range} (got 0).`);
    expect(await refused('list_group_members', { group_id: ID, limit: 10_001 })).toBe(`${range} (got 10001).`);
  });
});

describe('auto_update', () => {
  test.each([
    ['create_group', {}, 'add', 'first_word'],
    ['create_group', {}, 'remove', 'second_word'],
    ['update_group', { group_id: ID }, 'add', 'first_word'],
    ['replace_group', { group_id: ID, members: [] }, 'remove', 'first_word'],
  ] as const)('%s refuses a two-word keyword in %s.%s', async (tool, rest, list, word) => {
    const keywords = word === 'first_word' ? { first_word: 'JOIN NOW' } : { first_word: 'BRAND', second_word: 'JOIN NOW' };

    const text = await refused(tool, { ...rest, auto_update: { to: '12345', [list]: keywords } });

    expect(text).toBe(`Nothing was changed: auto_update.${list}.${word}: "JOIN NOW" is not one word (letters, digits, _).`);
  });

  test('refuses a keyword longer than 15 characters', async () => {
    const text = await refused('create_group', { auto_update: { to: '12345', add: { first_word: 'SUBSCRIBEMENOWPLS' } } });

    expect(text).toBe('Nothing was changed: auto_update.add.first_word: "SUBSCRIBEMENOWPLS" is longer than 15 characters.');
  });

  test('refuses a `to` that is not a number or short code', async () => {
    const text = await refused('create_group', { auto_update: { to: 'SINCH', add: { first_word: 'JOIN' } } });

    expect(text).toBe('Nothing was changed: auto_update.to: "SINCH" is not a short code or number.');
  });
});
