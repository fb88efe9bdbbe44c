import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { startHarness, until, type Harness } from './harness.js';

// A cancelled call stops before its next request to Sinch, and what it applied is on record.

let h: Harness;
let stderr: string[];

beforeEach(async () => {
  h = await startHarness();
  stderr = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr.push(String(chunk));
    return true;
  });
});

afterEach(async () => {
  vi.restoreAllMocks();
  await h.close();
});

const numbers = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => `+1605${String(from + k).padStart(7, '0')}`);

test('cancelling a 25,000-number update mid-way sends no further request and logs what was applied', async () => {
  const group = h.emulator.store.create({ name: 'Big' });
  const path = `/groups/${group.id}`;
  h.emulator.faults.push({ path, delayMs: 300 });
  const posts = () => h.emulator.requests.filter((request) => request.method === 'POST' && request.path.endsWith(path));
  const cancel = new AbortController();
  const call = h.client.callTool({ name: 'update_group', arguments: { group_id: group.id, add: numbers(0, 25_000) } }, undefined, {
    signal: cancel.signal,
  });
  await until(() => posts().length === 1, 'the first request reached Sinch');
  cancel.abort();
  await expect(call).rejects.toThrow();
  await until(() => stderr.some((line) => line.includes('update_group stopped')), 'the stop was logged');

  expect(posts()).toHaveLength(1);
  expect(h.emulator.store.members(group.id)).toHaveLength(10_000);
  const logged = stderr.find((line) => line.includes('update_group stopped'))!;
  expect(logged).toContain('as the client cancelled the call');
  expect(logged).toMatch(/applied/);
  expect(logged).toMatch(/not sent/);
  expect(logged).toContain(group.id);
});
