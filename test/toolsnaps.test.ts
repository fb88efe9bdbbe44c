import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { expect } from 'vitest';
import { test, TOOL_NAMES } from './harness.js';

// Every tool's schema is kept in test/toolsnaps/, so a change to what assistants see shows up as a diff
// in review. A missing or different snapshot fails; after an intended change: UPDATE_TOOLSNAPS=1 npx vitest run test/toolsnaps.test.ts
const DIR = new URL('toolsnaps/', import.meta.url);
const UPDATE = process.env.UPDATE_TOOLSNAPS === '1';

test('there is one snapshot for each tool, and none for a tool that is gone', async ({ shared: h }) => {
  const { tools } = await h.client.listTools();
  expect(tools.map((tool) => tool.name).sort()).toEqual(TOOL_NAMES);
  if (UPDATE) for (const tool of tools) writeFileSync(new URL(`${tool.name}.json`, DIR), `${JSON.stringify(tool, null, 2)}\n`);
  expect(readdirSync(DIR).sort()).toEqual(TOOL_NAMES.map((name) => `${name}.json`));
});

test.for(TOOL_NAMES)('%s matches its snapshot', async (name, { shared: h }) => {
  const tool = (await h.client.listTools()).tools.find((candidate) => candidate.name === name);
  const file = new URL(`${name}.json`, DIR);
  expect(existsSync(file), `test/toolsnaps/${name}.json is missing; write it with UPDATE_TOOLSNAPS=1`).toBe(true);
  expect(`${JSON.stringify(tool, null, 2)}\n`).toBe(readFileSync(file, 'utf8'));
});
