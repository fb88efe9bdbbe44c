import { expect, vi } from 'vitest';
import { numbers, test, until } from './harness.js';

// A cancelled call stops before its next request to Sinch, and what it applied is on record.

test('cancelling a 25,000-number update mid-way sends no further request and logs what was applied', async ({ h, onTestFinished }) => {
  const stderr: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => stderr.push(String(chunk)) > 0);
  onTestFinished(() => void vi.restoreAllMocks());
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
