import * as z from 'zod';
import { numberList } from '../../sinch/schemas.js';
import { findHolders, GroupRef, MAX_NUMBERS_FOUND, refOf } from '../find.js';
import { defineTool } from '../tool.js';

export default defineTool({
  name: 'find_numbers',
  title: 'Find numbers',
  description: 'Which groups hold each number: searches every group in one call. Use it for "is this number in any group?".',
  inputSchema: z.strictObject({
    numbers: numberList('To look for.', MAX_NUMBERS_FOUND),
  }),
  outputSchema: z.object({
    numbers: z.array(z.object({ number: z.string(), groups: z.array(GroupRef) })),
    searched: z.number().int().describe('Groups searched.'),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  handler: async ({ numbers }, context) => {
    if (numbers.length === 0) return { numbers: [], searched: 0 };
    const { searched, holders } = await findHolders(numbers, context, 'find_numbers');
    const groupsOf = new Map(numbers.map((number) => [number, [] as GroupRef[]]));
    for (const { group, numbers: held } of holders) {
      for (const number of held) groupsOf.get(number)!.push(refOf(group));
    }
    return { numbers: [...groupsOf].map(([number, groups]) => ({ number, groups })), searched };
  },
});
