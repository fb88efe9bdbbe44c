import { describe, expect } from 'vitest';
import { number, refused, test } from './harness.js';

// Bad input must be refused by the server itself: Sinch is never asked, and the refusal names the field
// and the value so the assistant can correct it.

/** A well-formed id: nothing is sent, so it need not exist. */
const ID = '01W4FFL35P4NC4K35SMSGROUP1';

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
    test.for(BAD_NUMBERS)('refuses %j', async ([bad, reason], { h }) => {
      const text = await refused(h, tool, { ...rest, [field]: ['+14058961234', bad] });
      expect(text).toContain(`${JSON.stringify(bad)} is not a phone number`);
      expect(text).toContain(reason);
      expect(text).toContain(`${field}[1]`);
      expect(text).not.toContain('+14058961234');
    });
  });

  test('several bad entries in one list are each named, with their place', async ({ h }) => {
    const text = await refused(h, 'create_group', { members: ['+14058961234', ...BAD_NUMBERS.map(([bad]) => bad), '+447911123456'] });
    BAD_NUMBERS.forEach(([bad], index) => {
      expect(text).toContain(`${JSON.stringify(bad)} is not a phone number`);
      expect(text).toContain(`members[${index + 1}]`);
    });
    expect(text).not.toContain('members[0]');
    expect(text).not.toContain(`members[${BAD_NUMBERS.length + 1}]`);
  });

  test('bad entries in both add and remove are all named', async ({ h }) => {
    const text = await refused(h, 'update_group', { group_id: ID, add: ['abc'], remove: ['+14058961234', '0701234567'] });
    expect(text).toContain('"abc" is not a phone number');
    expect(text).toContain('add[0]');
    expect(text).toContain('"0701234567" is not a phone number');
    expect(text).toContain('remove[1]');
  });

  test('a bad entry among 25,000 good numbers sends nothing', async ({ h }) => {
    const members = Array.from({ length: 25_000 }, (_, i) => number(i));
    members.splice(12_345, 0, '+1 (605) CALL-NOW');
    const text = await refused(h, 'create_group', { name: 'Big', members });
    expect(text).toContain('"+1 (605) CALL-NOW" is not a phone number');
    expect(text).toContain('members[12345]');
    expect(text.length).toBeLessThan(1_000);
  });

  test('a flood of bad entries is reported one by one up to 25, then checking stops', async ({ h }) => {
    const text = await refused(h, 'create_group', { members: Array.from({ length: 30 }, (_, i) => `bad${i}`) });
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

  test.for(NAME_PLACES)('%s refuses a 21-character name', async ([tool, rest], { h }) => {
    expect(await refused(h, tool, { ...rest, name: 'Customers of the year' })).toBe(
      'Nothing was changed: name: "Customers of the year" is 21 characters; Sinch allows at most 20.',
    );
  });

  test.for(NAME_PLACES)('%s refuses an empty name', async ([tool, rest], { h }) => {
    expect(await refused(h, tool, { ...rest, name: '' })).toBe('Nothing was changed: name: "" is empty; leave the name out instead.');
  });

  test('a 20-character name is accepted', async ({ h }) => {
    expect(await h.ok('create_group', { name: 'Customers of the yea' })).toMatchObject({ name: 'Customers of the yea' });
  });
});

describe('group ids', () => {
  const notAnId = (field: string, id: string) =>
    `Nothing was changed: ${field}: ${JSON.stringify(id)} is not a group id: ids are letters and digits only (see list_groups).`;
  const ID_TOOLS: [string, Record<string, unknown>][] = [
    ['get_group', {}],
    ['list_group_members', {}],
    ['update_group', {}],
    ['replace_group', { members: [] }],
    ['delete_group', {}],
  ];

  describe.each(ID_TOOLS)('%s', (tool, rest) => {
    test.for(['a/b', '..', '%2F', 'abc?x=1', 'my group', ''])('refuses group_id %j', async (id, { h }) => {
      expect(await refused(h, tool, { ...rest, group_id: id })).toBe(notAnId('group_id', id));
    });
  });

  test.for(['add_from_group', 'remove_from_group'])('update_group refuses %s "../x"', async (field, { h }) => {
    expect(await refused(h, 'update_group', { group_id: ID, [field]: '../x' })).toBe(notAnId(field, '../x'));
  });

  test('create_group refuses a child group id with a slash', async ({ h }) => {
    expect(await refused(h, 'create_group', { child_groups: [ID, 'a/b'] })).toBe(notAnId('child_groups[1]', 'a/b'));
  });
});

test.for([
  ['create_group', {}],
  ['replace_group', { group_id: ID, members: [] }],
] as const)('%s refuses 11 child groups', async ([tool, rest], { h }) => {
  const text = await refused(h, tool, { ...rest, child_groups: Array.from({ length: 11 }, (_, i) => `CHILD${i}`) });
  expect(text).toBe('Nothing was changed: child_groups: has 11 ids; Sinch allows at most 10.');
});

describe('paging', () => {
  const pageSize = 'page_size: must be a whole number from 1 to 100';
  const page = 'page: must be a whole number 0 or more';
  const limit = 'limit: must be a whole number from 1 to 10000';
  test.for([
    ['list_groups', { page_size: 101 }, `${pageSize} (got 101)`],
    ['list_groups', { page_size: 0 }, `${pageSize} (got 0)`],
    ['list_groups', { page: -1 }, `${page} (got -1)`],
    ['list_groups', { page: 1.5 }, `${page} (got 1.5)`],
    ['list_group_members', { group_id: ID, limit: 0 }, `${limit} (got 0)`],
    ['list_group_members', { group_id: ID, limit: 10_001 }, `${limit} (got 10001)`],
  ] as const)('%s refuses %o, naming the field, the range and the value', async ([tool, args, message], { h }) => {
    expect(await refused(h, tool, args)).toBe(`Nothing was changed: ${message}.`);
  });
});

describe('auto_update', () => {
  test.for([
    ['create_group', {}, 'add', 'first_word'],
    ['create_group', {}, 'remove', 'second_word'],
    ['update_group', { group_id: ID }, 'add', 'first_word'],
    ['replace_group', { group_id: ID, members: [] }, 'remove', 'first_word'],
  ] as const)('%s refuses a two-word keyword in %s.%s', async ([tool, rest, list, word], { h }) => {
    const keywords = word === 'first_word' ? { first_word: 'JOIN NOW' } : { first_word: 'BRAND', second_word: 'JOIN NOW' };
    const text = await refused(h, tool, { ...rest, auto_update: { to: '12345', [list]: keywords } });
    expect(text).toBe(`Nothing was changed: auto_update.${list}.${word}: "JOIN NOW" is not one word (letters, digits, _).`);
  });

  test.for([
    [{ to: '12345', add: { first_word: 'SUBSCRIBEMENOWPLS' } }, 'auto_update.add.first_word: "SUBSCRIBEMENOWPLS" is longer than 15 characters'],
    [{ to: 'SINCH', add: { first_word: 'JOIN' } }, 'auto_update.to: "SINCH" is not a short code or number'],
  ] as const)('refuses %o', async ([autoUpdate, message], { h }) => {
    expect(await refused(h, 'create_group', { auto_update: autoUpdate })).toBe(`Nothing was changed: ${message}.`);
  });
});
