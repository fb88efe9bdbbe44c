import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ListRootsRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect } from 'vitest';
import { ConfigError, loadFileSettings, loadJournalSettings } from '../src/config.js';
import { Journal, type JournalEntry } from '../src/journal/journal.js';
import { defaultJournalPath } from '../src/journal/location.js';
import { configureNumbers } from '../src/sinch/numbers.js';
import type { Group } from '../src/sinch/schemas.js';
import { audited, bare, CLI, cleanEnv, membersOf as stored, number, numbers, refused, sinchEnv, tempDir, test as base, textOf, type Harness } from './harness.js';

// Files the server may touch, imports and exports, the change journal with undo, and the audit line,
// all through the SDK's client against the emulator, in temporary folders.

interface Files {
  /** A temporary folder holding `allowed` and the journal's folder. */
  dir: string;
  /** The one folder the server may use for files. */
  allowed: string;
  journalPath: string;
  /** The audit lines of the servers this test started in memory, parsed. */
  audit: Record<string, unknown>[];
  /** The server with a journal, and `allowed` open to it. */
  h: Harness;
}

const test = base.extend<Files>({
  dir: async ({}, use) => use(await tempDir()),
  allowed: async ({ dir }, use) => {
    await mkdir(join(dir, 'allowed'));
    await use(join(dir, 'allowed'));
  },
  journalPath: async ({ dir }, use) => use(join(dir, 'state', 'journal.jsonl')),
  audit: async ({}, use) => {
    audited.length = 0;
    await use(audited);
  },
  h: async ({ harness, allowed, journalPath }, use) => {
    await use(await harness({ journal: new Journal(journalPath), files: { folders: [allowed], roots: false } }));
  },
});

const read = (path: string): Promise<JournalEntry[]> => new Journal(path).read();

describe('allowed folders', () => {
  test('a path outside every allowed folder is refused, naming the folders, and nothing is created', async ({ h, dir, allowed }) => {
    await writeFile(join(dir, 'outside.csv'), `${number(1)}\n`);
    const text = await h.fails('create_group', { name: 'X', members_file: { path: join(dir, 'outside.csv') } });
    expect(text).toMatch(/^Nothing was changed: members_file\.path: .*outside\.csv" is outside the folders this server may use: ".*allowed"/);
    expect(h.emulator.store.list().count).toBe(0);
  });

  test('a symlink inside the folder that points out of it is refused, saying where it leads', async ({ h, dir, allowed }) => {
    await writeFile(join(dir, 'secret.csv'), `${number(1)}\n`);
    await symlink(join(dir, 'secret.csv'), join(allowed, 'link.csv'));
    const text = await h.fails('create_group', { members_file: { path: join(allowed, 'link.csv') } });
    expect(text).toContain('resolves to');
    expect(text).toContain('is outside the folders this server may use');
    expect(h.emulator.store.list().count).toBe(0);
  });

  test('a symlinked folder cannot be used to write outside either', async ({ h, dir, allowed }) => {
    await mkdir(join(dir, 'elsewhere'));
    await symlink(join(dir, 'elsewhere'), join(allowed, 'out'));
    const group = h.emulator.store.create({ members: [bare(number(1))] });
    const text = await h.fails('export_group_members', { group_id: group.id, path: join(allowed, 'out', 'm.csv'), format: 'csv' });
    expect(text).toContain('is outside the folders this server may use');
  });

  test('with no folder allowed, file arguments are refused with how to allow one', async ({ harness, allowed, journalPath }) => {
    const none = await harness({ journal: new Journal(journalPath) });
    const text = await none.fails('create_group', { members_file: { path: join(allowed, 'a.csv') } });
    expect(text).toContain('no folder is open to this server for files; start the server with --files DIR (or set SINCH_FILES_DIR)');
  });

  test("the client's roots are allowed, and refreshed when they change", async ({ harness, dir, allowed, journalPath }) => {
    const other = join(dir, 'root2');
    await mkdir(other);
    await writeFile(join(other, 'm.txt'), `${number(7)}\n`);
    let roots = [{ uri: pathToFileURL(allowed).href }];
    const client = await harness({ journal: new Journal(journalPath), capabilities: { roots: { listChanged: true } } });
    client.client.setRequestHandler(ListRootsRequestSchema, () => ({ roots }));
    // The roots are asked for once the session is initialized; the first call waits for them.
    await client.client.sendRootsListChanged();
    expect(await client.fails('create_group', { members_file: { path: join(other, 'm.txt') } })).toContain('is outside the folders');
    roots = [{ uri: pathToFileURL(other).href }];
    await client.client.sendRootsListChanged();
    const group = await client.ok<Group>('create_group', { members_file: { path: join(other, 'm.txt') } });
    expect(group.size).toBe(1);
  });
});

describe('import', () => {
  /** 5,000 rows with an id column of digits and three bad numbers, at known lines. */
  async function bigCsv(allowed: string): Promise<{ path: string; good: string[] }> {
    const lines = ['id,name,phone'];
    const good: string[] = [];
    for (let i = 0; i < 5_000; i++) {
      const bad = i === 10 || i === 2_000 || i === 4_999;
      const phone = bad ? `not-a-number-${i}` : number(i);
      if (!bad) good.push(phone);
      lines.push(`${100_000 + i},"Doe, J ${i}",${phone}`);
    }
    const path = join(allowed, 'contacts.csv');
    await writeFile(path, `\ufeff${lines.join('\r\n')}\r\n`);
    return { path, good };
  }

  test('a 5,000-row CSV with bad rows is refused whole, naming the rows by line', async ({ h, allowed }) => {
    const { path } = await bigCsv(allowed);
    const text = await h.fails('create_group', { name: 'Contacts', members_file: { path } });
    expect(text).toContain('members_file line 12: "not-a-number-10" is not a phone number');
    expect(text).toContain('members_file line 2002:');
    expect(text).toContain('members_file line 5001:');
    expect(h.emulator.store.list().count).toBe(0);
  });

  test('with skip_invalid the same file creates the group from the valid rows and reports the rest', async ({ h, allowed }) => {
    const { path, good } = await bigCsv(allowed);
    const group = await h.ok<Group & { numbers: Record<string, unknown> }>('create_group', { name: 'Contacts', members_file: { path }, skip_invalid: true });
    expect(stored(h.emulator, group.id)).toEqual([...good].sort());
    expect(group.numbers).toEqual({
      read: 5_000,
      valid: 4_997,
      invalid: 3,
      duplicates: 0,
      added: 4_997,
      skipped: [
        { at: 'members_file line 12', value: 'not-a-number-10', reason: expect.any(String) },
        { at: 'members_file line 2002', value: 'not-a-number-2000', reason: expect.any(String) },
        { at: 'members_file line 5001', value: 'not-a-number-4999', reason: expect.any(String) },
      ],
    });
  });

  test('two columns of numbers and no phone header are refused, naming both', async ({ h, allowed }) => {
    const path = join(allowed, 'two.csv');
    await writeFile(path, `a,b\n16050000001,16050000002\n16050000003,16050000004\n`);
    const text = await h.fails('create_group', { members_file: { path } });
    expect(text).toContain('more than one column could hold the numbers ("a" (column 0), "b" (column 1))');
    const group = await h.ok<Group>('create_group', { members_file: { path, column: '1' } });
    expect(stored(h.emulator, group.id)).toEqual([number(2), number(4)]);
    const byName = await h.ok<Group>('create_group', { members_file: { path, column: 'a' } });
    expect(stored(h.emulator, byName.id)).toEqual([number(1), number(3)]);
  });

  test('a plain text file, and quoted CSV fields holding commas and line breaks', async ({ h, allowed }) => {
    await writeFile(join(allowed, 'list.txt'), `${number(1)}\n\n${number(2)}\n${number(1)}\n`);
    await writeFile(join(allowed, 'q.csv'), `note,Mobile\n"a, ""b""\nc",${number(3)}\nx,"${number(4)}"\n`);
    const group = await h.ok<Group & { numbers: Record<string, unknown> }>('create_group', { members_file: { path: join(allowed, 'list.txt') } });
    expect(group.numbers).toMatchObject({ read: 3, valid: 2, duplicates: 1, invalid: 0 });
    const updated = await h.ok<Group & { numbers: Record<string, unknown> }>('update_group', {
      group_id: group.id,
      add_file: { path: join(allowed, 'q.csv') },
      remove: [number(1)],
    });
    expect(stored(h.emulator, group.id)).toEqual([number(2), number(3), number(4)]);
    expect(updated.numbers).toMatchObject({ added: 2 });
  });

  test('SINCH_DEFAULT_COUNTRY applies to files as to inline numbers', async ({ h, allowed }) => {
    configureNumbers({ defaultCountry: 'GB' });
    try {
      await writeFile(join(allowed, 'uk.txt'), '07700 900123\n');
      const group = await h.ok<Group>('create_group', { members_file: { path: join(allowed, 'uk.txt') } });
      expect(stored(h.emulator, group.id)).toEqual(['+447700900123']);
    } finally {
      configureNumbers({});
    }
  });

  test('skip_invalid on an inline list scans it all and applies the valid numbers', async ({ h }) => {
    const group = h.emulator.store.create({ name: 'G' });
    const add = [...Array.from({ length: 30 }, (_, i) => `bad${i}`), number(1)];
    const refused = await h.fails('update_group', { group_id: group.id, add });
    expect(refused).toContain('checking stopped after 25 bad entries');
    const result = await h.ok<{ numbers: { invalid: number; skipped: unknown[] } }>('update_group', { group_id: group.id, add, skip_invalid: true });
    expect(result.numbers.invalid).toBe(30);
    expect(result.numbers.skipped).toHaveLength(25);
    expect(stored(h.emulator, group.id)).toEqual([number(1)]);
  });

  test('bad inline numbers are refused with every other mistake in one round; skip_invalid relaxes only them', async ({ h }) => {
    const both = await refused(h, 'create_group', { name: 'x'.repeat(30), members: ['12', number(1)] });
    expect(both).toMatch(/^Nothing was changed: name: .*; members\[0\]: "12" is not a phone number/);
    const nameOnly = await refused(h, 'create_group', { name: 'x'.repeat(30), members: ['12'], skip_invalid: true });
    expect(nameOnly).toMatch(/^Nothing was changed: name: /);
    expect(nameOnly).not.toContain('members');
  });

  test('replace_group takes the new members as members or members_file: neither or both is refused', async ({ h, allowed }) => {
    const group = h.emulator.store.create({ name: 'G', members: [bare(number(1))] });
    await writeFile(join(allowed, 'm.txt'), `${number(2)}\n`);
    for (const members of [{}, { members: [number(3)], members_file: { path: join(allowed, 'm.txt') } }]) {
      const text = await refused(h, 'replace_group', { group_id: group.id, confirm: true, ...members });
      expect(text).toBe('Nothing was changed: give the new members as either members or members_file, not both (members: [] empties the group).');
    }
    expect(stored(h.emulator, group.id)).toEqual([number(1)]);
  });

  test('a 25,000-row file goes through the usual splitting into requests of 10,000', async ({ h, allowed }) => {
    await writeFile(join(allowed, 'big.txt'), `${numbers(0, 25_000).join('\n')}\n`);
    const group = await h.ok<Group>('create_group', { members_file: { path: join(allowed, 'big.txt') } });
    expect(group.size).toBe(25_000);
    const bodies = h.emulator.requests.filter((request) => request.method === 'POST').map((request) => request.body as { members?: string[]; add?: string[] });
    expect(bodies.map((body) => (body.members ?? body.add)!.length)).toEqual([10_000, 10_000, 5_000]);
  });
});

describe('export', () => {
  test("25,000 members are written atomically, checked against the emulator's members and the sha256", async ({ h, allowed }) => {
    const group = h.emulator.store.create({});
    for (let from = 0; from < 25_000; from += 10_000) h.emulator.store.update(group.id, { add: numbers(from, Math.min(from + 10_000, 25_000)).map(bare) });
    const path = join(allowed, 'members.csv');
    const result = await h.call('export_group_members', { group_id: group.id, path, format: 'csv' });
    expect(result.isError).toBeFalsy();
    const written = await readFile(path);
    const expected = `phone\n${stored(h.emulator, group.id).join('\n')}\n`;
    expect(written.toString()).toBe(expected);
    expect(result.structuredContent).toEqual({
      group_id: group.id,
      path,
      count: 25_000,
      bytes: written.length,
      sha256: createHash('sha256').update(written).digest('hex'),
    });
    expect(result.content).toContainEqual(expect.objectContaining({ type: 'resource_link', uri: `sinch://groups/${group.id}/members` }));
    // What the model reads of it: well under 200 tokens (about 4 bytes each).
    expect(Buffer.byteLength(JSON.stringify(result))).toBeLessThan(800);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  test('an existing file is kept unless overwrite is asked for', async ({ h, allowed }) => {
    const group = h.emulator.store.create({ members: [bare(number(1))] });
    const path = join(allowed, 'm.txt');
    await writeFile(path, 'keep me');
    expect(await h.fails('export_group_members', { group_id: group.id, path, format: 'txt' })).toContain('exists already; pass overwrite: true');
    expect(await readFile(path, 'utf8')).toBe('keep me');
    await h.ok('export_group_members', { group_id: group.id, path, format: 'txt', overwrite: true });
    expect(await readFile(path, 'utf8')).toBe(`${number(1)}\n`);
  });

  test('is not offered in read-only mode', async ({ harness, allowed, journalPath }) => {
    const readOnly = await harness({ journal: new Journal(journalPath), files: { folders: [allowed], roots: false }, readOnly: true });
    expect((await readOnly.client.listTools()).tools.map((tool) => tool.name)).not.toContain('export_group_members');
  });
});

describe('journal', () => {
  test('every change is journaled with the numbers added and removed, in a file only its owner may read', async ({ h, journalPath }) => {
    const group = await h.ok<Group & { change_id: string }>('create_group', { name: 'VIP', members: numbers(0, 3) });
    await h.ok('update_group', { group_id: group.id, add: [number(5)], remove: [number(0)], name: 'VIP2' });
    const entries = await read(journalPath);
    expect(entries.map((entry) => [entry.tool, entry.kind, entry.added, entry.removed])).toEqual([
      ['create_group', 'create', numbers(0, 3), []],
      ['update_group', 'update', [number(5)], [number(0)]],
    ]);
    expect(entries[0]!.id).toBe(group.change_id);
    expect(entries[1]).toMatchObject({ account: h.emulator.servicePlanId, group_id: group.id, name_before: 'VIP', name_after: 'VIP2' });
    expect((await stat(journalPath)).mode & 0o777).toBe(0o600);
  });

  test('the audit line goes to stderr for every applied change, without a phone number', async ({ h, audit }) => {
    const group = await h.ok<Group>('create_group', { members: numbers(0, 2) });
    expect(audit).toEqual([
      expect.objectContaining({ tool: 'create_group', account: h.emulator.servicePlanId, group_id: group.id, added: 2, removed: 0, outcome: 'applied' }),
    ]);
    expect(JSON.stringify(audit)).not.toContain('1605');
  });

  test('with the journal off the audit line is still written', async ({ harness, audit }) => {
    const off = await harness();
    await off.ok('create_group', { members: numbers(0, 2) });
    expect(audit).toEqual([expect.objectContaining({ tool: 'create_group', added: 2, outcome: 'applied' })]);
  });

  test('a journal that cannot be written is an error saying the change was applied', async ({ harness, dir, audit }) => {
    // A file where the journal's folder should be: no permission bits to rely on, even for root.
    await writeFile(join(dir, 'not-a-folder'), '');
    const broken = await harness({ journal: new Journal(join(dir, 'not-a-folder', 'journal.jsonl')) });
    const text = await broken.fails('create_group', { name: 'Saved' });
    expect(text).toMatch(/^The change was applied, but it could not be written to the change journal/);
    expect(broken.emulator.store.list().groups.map((group) => group.name)).toEqual(['Saved']);
    expect(audit).toEqual([expect.objectContaining({ outcome: 'applied, not journaled' })]);
  });

  test('two journals on one file append concurrently without losing or tearing an entry', async ({ journalPath }) => {
    const a = new Journal(journalPath);
    const b = new Journal(journalPath);
    const entry = (i: number, who: string): JournalEntry => ({
      id: `${who}${i}`,
      time: new Date().toISOString(),
      account: 'acct',
      tool: 'replace_group',
      kind: 'replace',
      group_id: 'G',
      added: [],
      removed: [],
      // Far longer than PIPE_BUF, so one write could interleave without the lock.
      members_before: numbers(0, 2_000),
    });
    await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).append([entry(i, i % 2 ? 'a' : 'b')])));
    const lines = (await readFile(journalPath, 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(40);
    expect((await a.read()).map((read) => read.id).sort()).toEqual(Array.from({ length: 40 }, (_, i) => `${i % 2 ? 'a' : 'b'}${i}`).sort());
  });

  test('pruning drops only old entries and keeps one appended meanwhile', async ({ dir, journalPath }) => {
    const old = new Date(Date.now() - 40 * 86_400_000).toISOString();
    const base = { account: 'acct', tool: 'update_group', kind: 'update' as const, group_id: 'G', added: [], removed: [] };
    await mkdir(join(dir, 'state'), { recursive: true });
    await writeFile(journalPath, `${JSON.stringify({ ...base, id: 'old', time: old })}\n`);
    const pruner = new Journal(journalPath, 30);
    const writer = new Journal(journalPath, 30);
    await Promise.all([pruner.prune(), writer.append([{ ...base, id: 'new', time: new Date().toISOString() }])]);
    expect((await pruner.read()).map((entry) => entry.id)).toEqual(['new']);
  });

  test('a lock left by a process that is gone is broken', async ({ dir, journalPath }) => {
    await mkdir(join(dir, 'state'), { recursive: true });
    await writeFile(`${journalPath}.lock`, JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), since: Date.now() }));
    await new Journal(journalPath).append([
      { id: 'x', time: new Date().toISOString(), account: 'a', tool: 't', kind: 'update', group_id: 'G', added: [], removed: [] },
    ]);
    expect((await read(journalPath)).map((entry) => entry.id)).toEqual(['x']);
  });

  test('remove_numbers_everywhere journals one entry and one audit line per group changed, journal on or off', async ({ h, harness, journalPath, audit }) => {
    const a = h.emulator.store.create({ name: 'A', members: numbers(0, 3).map(bare) });
    const b = h.emulator.store.create({ name: 'B', members: numbers(1, 2).map(bare) });
    h.emulator.store.create({ name: 'C', members: [bare(number(9))] });
    await h.ok('remove_numbers_everywhere', { numbers: [number(1)], confirm: true });
    const entries = await read(journalPath);
    const byGroup = (id: string) => entries.find((entry) => entry.group_id === id);
    expect(entries).toHaveLength(2);
    expect(byGroup(a.id)).toMatchObject({ tool: 'remove_numbers_everywhere', kind: 'update', group_name: 'A', added: [], removed: [number(1)] });
    expect([...byGroup(a.id)!.members_before!].sort()).toEqual(numbers(0, 3));
    expect(byGroup(b.id)).toMatchObject({ added: [], removed: [number(1)], members_before: [number(1)] });
    const lines = (tool: string) => audit.filter((line) => line.tool === tool).map(({ group_id, removed, outcome }) => [group_id, removed, outcome]);
    expect(lines('remove_numbers_everywhere').sort()).toEqual([[a.id, 1, 'applied'], [b.id, 1, 'applied']].sort());
    expect(await h.fails('undo_change', { change_id: byGroup(a.id)!.id, confirm: true })).toContain('opts them out');
    expect(stored(h.emulator, a.id)).toEqual([number(0), number(2)]);
    const off = await harness();
    off.emulator.store.create({ members: [bare(number(1))] });
    audit.length = 0;
    await off.ok('remove_numbers_everywhere', { numbers: [number(1)], confirm: true });
    expect(audit).toEqual([expect.objectContaining({ tool: 'remove_numbers_everywhere', added: 0, removed: 1, outcome: 'applied' })]);
  });

  test('two processes appending to one journal lose no entry and tear none', async ({ dir, journalPath }) => {
    // Each process appends 30 entries far longer than PIPE_BUF through the journal module, as two servers would.
    const writer = `
      const [path, who] = process.argv.slice(1);
      const { Journal } = await import(${JSON.stringify(new URL('../src/journal/journal.ts', import.meta.url).href)});
      const journal = new Journal(path);
      const members = Array.from({ length: 2000 }, (_, i) => '+1605' + String(i).padStart(7, '0'));
      for (let i = 0; i < 30; i++) {
        await journal.append([{ id: who + i, time: new Date().toISOString(), account: 'acct', tool: 'replace_group', kind: 'replace', group_id: 'G', added: [], removed: [], members_before: members }]);
      }`;
    await mkdir(join(dir, 'state'));
    const run = (who: string) => {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', writer, journalPath, who], {
        stdio: 'inherit',
        // Where tsx is installed, so that --import finds it.
        cwd: new URL('..', import.meta.url),
      });
      return once(child, 'exit').then(([code]) => code);
    };
    expect(await Promise.all([run('a'), run('b')])).toEqual([0, 0]);
    const lines = (await readFile(journalPath, 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(60);
    const ids = lines.map((line) => (JSON.parse(line) as JournalEntry).id);
    expect(ids.sort()).toEqual([...numbers(0, 30).map((_, i) => `a${i}`), ...numbers(0, 30).map((_, i) => `b${i}`)].sort());
  });

  test('list_changes lists this account’s changes newest first, as counts, and by group', async ({ h }) => {
    const a = await h.ok<Group>('create_group', { name: 'A', members: numbers(0, 2) });
    const b = await h.ok<Group>('create_group', { name: 'B' });
    await h.ok('update_group', { group_id: a.id, remove: [number(0)], name: 'A2', confirm: true });
    const { changes } = await h.ok<{ changes: Record<string, unknown>[] }>('list_changes', {});
    expect(changes.map((change) => [change.tool, change.group_id, change.added, change.removed])).toEqual([
      ['update_group', a.id, 0, 1],
      ['create_group', b.id, 0, 0],
      ['create_group', a.id, 2, 0],
    ]);
    expect(changes[0]).toMatchObject({ name_before: 'A', name_after: 'A2', group_name: 'A2' });
    const onlyA = await h.ok<{ changes: unknown[] }>('list_changes', { group_id: a.id, limit: 1 });
    expect(onlyA.changes).toHaveLength(1);
    const future = await h.ok<{ changes: unknown[] }>('list_changes', { since: '2999-01-01T00:00:00Z' });
    expect(future.changes).toEqual([]);
    const resource = await h.client.readResource({ uri: `sinch://groups/${b.id}/changes` });
    expect(JSON.parse((resource.contents[0] as { text: string }).text).changes).toHaveLength(1);
  });
});

describe('undo_change', () => {
  const lastChange = async (journalPath: string) => (await read(journalPath)).at(-1)!.id;

  test('undoes an update exactly: numbers, name and settings', async ({ h, journalPath }) => {
    const group = h.emulator.store.create({ name: 'VIP', members: numbers(0, 4).map(bare) });
    await h.ok('update_group', { group_id: group.id, add: [number(9)], remove: [number(1)], name: 'New', auto_update: { to: '14155550100' } });
    const preview = await h.ok<{ added: number; removed: number }>('undo_change', { change_id: await lastChange(journalPath), dry_run: true });
    expect(preview).toMatchObject({ added: 1, removed: 1 });
    expect(stored(h.emulator, group.id)).toContain(number(9));
    await h.ok('undo_change', { change_id: await lastChange(journalPath), confirm: true });
    expect(stored(h.emulator, group.id)).toEqual(numbers(0, 4));
    const after = h.emulator.store.get(group.id);
    expect(after.name).toBe('VIP');
    expect(after.auto_update).toBeUndefined();
  });

  test('undoes a replace exactly, members, name and settings', async ({ h, journalPath }) => {
    const auto_update = { to: '14155550100', add: { first_word: 'JOIN' } };
    const group = h.emulator.store.create({ name: 'Old', members: numbers(0, 30).map(bare), auto_update });
    await h.ok('replace_group', { group_id: group.id, members: [number(100)], confirm: true });
    const change = await lastChange(journalPath);
    expect(await h.fails('undo_change', { change_id: change })).toContain('call again with confirm: true');
    await h.ok('undo_change', { change_id: change, confirm: true });
    expect(stored(h.emulator, group.id)).toEqual(numbers(0, 30));
    expect(h.emulator.store.get(group.id)).toMatchObject({ name: 'Old', auto_update });
    expect(await h.fails('undo_change', { change_id: change, confirm: true })).toContain('was undone already');
  });

  test('re-creates a deleted group with its members, name and settings, under a new id', async ({ h, journalPath }) => {
    const group = h.emulator.store.create({ name: 'Gone', members: numbers(0, 5).map(bare), auto_update: { to: '14155550100' } });
    await h.ok('delete_group', { group_id: group.id, confirm: true });
    const result = await h.ok<{ group_id: string; action: string }>('undo_change', { change_id: await lastChange(journalPath), confirm: true });
    expect(result.action).toBe('create');
    expect(result.group_id).not.toBe(group.id);
    expect(stored(h.emulator, result.group_id)).toEqual(numbers(0, 5));
    expect(h.emulator.store.get(result.group_id)).toMatchObject({ name: 'Gone', auto_update: { to: '14155550100' } });
  });

  test('refuses when the group changed since, naming the change', async ({ h, journalPath }) => {
    const group = h.emulator.store.create({ name: 'G', members: numbers(0, 2).map(bare) });
    await h.ok('update_group', { group_id: group.id, add: [number(5)] });
    const first = await lastChange(journalPath);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await h.ok('update_group', { group_id: group.id, add: [number(6)] });
    const text = await h.fails('undo_change', { change_id: first, confirm: true });
    expect(text).toMatch(/^Nothing was changed: group "G" .* changed after change/);
    expect(text).toContain(`update_group ${await lastChange(journalPath)}`);
    expect(stored(h.emulator, group.id)).toEqual([...numbers(0, 2), number(5), number(6)]);
  });

  test('never undoes an opt-out of remove_numbers_everywhere', async ({ h, journalPath }) => {
    await new Journal(journalPath).append([
      {
        id: 'chg_optout',
        time: new Date().toISOString(),
        account: h.emulator.servicePlanId,
        tool: 'remove_numbers_everywhere',
        kind: 'update',
        group_id: 'G1',
        added: [],
        removed: [number(1)],
        members_before: [number(1)],
      },
    ]);
    const before = h.emulator.requests.length;
    const text = await h.fails('undo_change', { change_id: 'chg_optout', confirm: true });
    expect(text).toContain('opts them out');
    expect(h.emulator.requests.length).toBe(before);
  });

  test("another account's change is not found", async ({ h, journalPath }) => {
    await new Journal(journalPath).append([
      { id: 'chg_other', time: new Date().toISOString(), account: 'someone-else', tool: 'update_group', kind: 'update', group_id: 'G1', added: [], removed: [] },
    ]);
    expect(await h.fails('undo_change', { change_id: 'chg_other' })).toContain("this account's journal has no change");
    expect((await h.ok<{ changes: unknown[] }>('list_changes', {})).changes).toEqual([]);
  });
});

describe('settings', () => {
  test('the journal is on by default over stdio, in the state folder; off unless given over HTTP', () => {
    expect(loadJournalSettings({ HOME: '/home/u' })).toEqual({ path: '/home/u/.local/state/sinch-groups-mcp/journal.jsonl', retentionDays: 30 });
    expect(defaultJournalPath({ HOME: '/Users/u' }, 'darwin')).toBe('/Users/u/Library/Application Support/sinch-groups-mcp/journal.jsonl');
    expect(defaultJournalPath({ XDG_STATE_HOME: '/s' }, 'linux')).toBe('/s/sinch-groups-mcp/journal.jsonl');
    expect(loadJournalSettings({ SINCH_JOURNAL: 'off' })).toEqual({ retentionDays: 30 });
    expect(loadJournalSettings({}, { http: true })).toEqual({ retentionDays: 30 });
    expect(loadJournalSettings({ SINCH_JOURNAL: '/j.jsonl', SINCH_JOURNAL_DAYS: '7' }, { http: true })).toEqual({ path: '/j.jsonl', retentionDays: 7 });
  });

  test('per-request credentials refuse a journal and folders, and refuse file arguments', () => {
    expect(() => loadJournalSettings({ SINCH_JOURNAL: '/j.jsonl' }, { http: true, perRequestCredentials: true })).toThrow(ConfigError);
    expect(() => loadFileSettings({ files: ['/tmp'] }, {}, { http: true, perRequestCredentials: true })).toThrow(ConfigError);
    expect(loadFileSettings({}, {}, { http: true, perRequestCredentials: true }).refusal).toContain('--per-request-credentials');
    expect(loadFileSettings({}, { SINCH_FILES_DIR: ['/a', '/b'].join(':') }, { http: true })).toEqual({ folders: ['/a', '/b'], roots: false });
  });
});

test('results carry text the client can read', async ({ h }) => {
  const result = await h.call('list_changes', {});
  expect(textOf(result)).toBe('{"changes":[]}');
});

test('over stdio, the built command line imports a CSV, lists the change and undoes it', async ({ defer, emulator, allowed, journalPath }) => {
  const sinch = await emulator();
  await writeFile(join(allowed, 'vip.csv'), `name,phone\nA,${number(1)}\nB,${number(2)}\n`);
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, '--files', allowed],
    env: cleanEnv({ ...sinchEnv(sinch), SINCH_JOURNAL: journalPath }),
    stderr: 'pipe',
  });
  const client = new Client({ name: 'journal-e2e', version: '1.0.0' });
  await client.connect(transport);
  defer(() => client.close());
  const call = async (name: string, args: Record<string, unknown>) => {
    const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
    expect(result.isError, textOf(result)).toBeFalsy();
    return result.structuredContent as Record<string, unknown>;
  };
  const group = await call('create_group', { name: 'VIP', members_file: { path: join(allowed, 'vip.csv') } });
  expect(stored(sinch, group.id as string)).toEqual([number(1), number(2)]);
  const { changes } = (await call('list_changes', {})) as { changes: Record<string, unknown>[] };
  expect(changes).toEqual([expect.objectContaining({ id: group.change_id, tool: 'create_group', group_id: group.id, added: 2, removed: 0 })]);
  await call('update_group', { group_id: group.id, add: [number(3)] });
  const [latest] = (await read(journalPath)).slice(-1);
  await call('undo_change', { change_id: latest!.id, confirm: true });
  expect(stored(sinch, group.id as string)).toEqual([number(1), number(2)]);
  expect((await stat(journalPath)).mode & 0o777).toBe(0o600);
});
