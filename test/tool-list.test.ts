import { expect, test } from 'vitest';
import { z } from 'zod';
import { describeTools } from '../src/mcp/tool-list.js';
import { defineTool } from '../src/mcp/tool.js';

// What tools/list makes of a tool's zod schemas, on a tool made for the purpose.

const sample = defineTool({
  name: 'sample',
  title: 'Sample',
  description: 'A tool to list.',
  inputSchema: z.strictObject({
    count: z.number().int().describe('How many.'),
    description: z.string().optional().describe('A field called description.'),
    when: z.strictObject({ at: z.string() }).optional().describe('When.').meta({ brief: '{at}' }),
  }),
  outputSchema: z.object({ done: z.boolean().describe('Whether it is done.'), nested: z.object({ n: z.number() }) }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  handler: async () => ({ done: true, nested: { n: 1 } }),
});

test('tools/list drops $schema, the bounds of every integer, and output descriptions; inputs stay closed', () => {
  const [listed] = describeTools([sample]);
  expect(listed).toEqual({
    name: 'sample',
    title: 'Sample',
    description: 'A tool to list.',
    inputSchema: {
      type: 'object',
      properties: {
        count: { type: 'integer', description: 'How many.' },
        description: { type: 'string', description: 'A field called description.' },
        when: { type: 'object', description: 'When. {at}' },
      },
      required: ['count'],
      additionalProperties: false,
    },
    outputSchema: {
      type: 'object',
      properties: { done: { type: 'boolean' }, nested: { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] } },
      required: ['done', 'nested'],
    },
    annotations: sample.annotations,
  });
});

test('each tool is converted once: a second listing returns the same object', () => {
  expect(describeTools([sample])[0]).toBe(describeTools([sample])[0]);
});
