import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { Journal } from '../src/journal/journal.js';
import { startHarness, type Harness } from './harness.js';

// Every tool's schema is kept in test/toolsnaps/, so a change to what assistants see shows up as a diff
// in review. After an intended change: npx vitest run test/toolsnaps.test.ts -u
let h: Harness;
beforeAll(async () => {
  // With a journal, so that every tool is offered.
  h = await startHarness({ journal: new Journal(join(await mkdtemp(join(tmpdir(), 'sinch-journal-')), 'journal.jsonl')) });
});
afterAll(() => h.close());

test('tool schemas match their snapshots', async () => {
  const { tools } = await h.client.listTools();
  for (const tool of tools) {
    await expect(`${JSON.stringify(tool, null, 2)}\n`).toMatchFileSnapshot(`toolsnaps/${tool.name}.json`);
  }
});
