import * as z from 'zod';
import { log } from '../../log.js';
import { ChangeStoppedError } from '../../sinch/errors.js';
import { numberList } from '../../sinch/schemas.js';
import type { AppliedChange } from '../../journal/changes.js';
import { readBefore } from '../changes.js';
import { describeError } from '../errors.js';
import { findHolders, GroupRef, MAX_NUMBERS_FOUND, refOf, type Holder } from '../find.js';
import { label } from '../preview.js';
import { args, defineTool } from '../tool.js';

const NAME = 'remove_numbers_everywhere';

/** Groups a confirmation names one by one; the rest are counted. */
const NAMED_GROUPS = 20;

const plural = (count: number, one: string, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;

/** What the user agrees to: every group that changes, and how many numbers leave each. */
function consequence(holders: Holder[]): string {
  const leaving = new Set(holders.flatMap(({ numbers }) => numbers)).size;
  const named = holders.slice(0, NAMED_GROUPS).map(({ group, numbers }) => `${label(group)}: ${plural(numbers.length, 'number')}`);
  const more = holders.length > NAMED_GROUPS ? `; and ${plural(holders.length - NAMED_GROUPS, 'more group')}` : '';
  return `Removing ${plural(leaving, 'number')} from the ${plural(holders.length, 'group')} that ${holders.length === 1 ? 'holds' : 'hold'} them: ${named.join('; ')}${more}. Other members stay.`;
}

type Outcome = { changed: string[]; record: AppliedChange } | { failed: string } | { notStarted: true };

export default defineTool({
  name: NAME,
  title: 'Remove numbers everywhere',
  description:
    'Opt numbers out (e.g. after STOP): removes them from every group that holds them. dry_run shows which; needs confirmation. Repeat to finish after a failure.',
  inputSchema: z.strictObject({
    numbers: numberList('To remove.', MAX_NUMBERS_FOUND),
    dry_run: args.dryRun(),
    confirm: args.confirm(),
  }),
  outputSchema: z.object({
    searched: z.number().int().describe('Groups searched.'),
    would_change: z.array(GroupRef.extend({ remove: z.array(z.string()) })).optional().describe('With dry_run.'),
    changed: z.array(GroupRef.extend({ removed: z.array(z.string()) })).optional(),
    failed: z.array(GroupRef.extend({ error: z.string() })).optional().describe('Unchanged, or not known to have changed.'),
    not_started: z.array(GroupRef).optional().describe('Left alone: the call was stopped.'),
    message: z.string(),
  }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  handler: async ({ numbers, dry_run, confirm }, context) => {
    const { sinch, changes, caller, changed: notify, confirm: ask, signal } = context;
    const { searched, holders } = numbers.length === 0 ? { searched: 0, holders: [] } : await findHolders(numbers, context, NAME);
    if (holders.length === 0) {
      return { searched, changed: [], failed: [], message: `None of the numbers is in any of the ${plural(searched, 'group')}; nothing to remove.` };
    }
    if (dry_run) {
      return {
        searched,
        would_change: holders.map(({ group, numbers: held }) => ({ ...refOf(group), remove: held })),
        message: `Nothing was changed. ${consequence(holders)}`,
      };
    }
    await ask(async () => consequence(holders), confirm);

    // One outcome per group, in the plan's order whatever order the requests finish in.
    const outcomes: Outcome[] = holders.map(() => ({ notStarted: true }));
    await sinch.concurrently(
      holders,
      async ({ group, numbers: held }, index) => {
        try {
          // With the journal on, the members are read before each group's change; after it they are those
          // less the numbers removed (a read after could fail once the change is made, and wrongly report it failed).
          const before = await readBefore(context, group);
          const after = await sinch.updateGroup(group.id, { remove: held }, { signal });
          const leaving = new Set(held);
          const membersAfter = before.members?.filter((member) => !leaving.has(member));
          const record: AppliedChange = {
            tool: NAME,
            kind: 'update',
            groupId: group.id,
            before: group,
            after,
            keepMembersBefore: true,
            counts: { added: 0, removed: held.length },
            ...(before.members ? { membersBefore: before.members } : {}),
            ...(membersAfter ? { membersAfter } : {}),
          };
          outcomes[index] = { changed: held, record };
          await notify(group.id);
        } catch (error) {
          // Stopped before its request went out: the group was left as it was.
          if (!(error instanceof ChangeStoppedError)) outcomes[index] = { failed: describeError(error, NAME) };
        }
      },
      signal,
    );

    const changed: (GroupRef & { removed: string[] })[] = [];
    const failed: (GroupRef & { error: string })[] = [];
    const notStarted: GroupRef[] = [];
    for (const [index, { group }] of holders.entries()) {
      const outcome = outcomes[index]!;
      if ('changed' in outcome) changed.push({ ...refOf(group), removed: outcome.changed });
      else if ('failed' in outcome) failed.push({ ...refOf(group), error: outcome.failed });
      else notStarted.push(refOf(group));
    }
    // One journal entry and audit line per group changed, written together before the answer.
    await changes.record(
      outcomes.flatMap((outcome) => ('record' in outcome ? [outcome.record] : [])),
      caller,
    );
    const message = summary(changed.length, failed.length, notStarted.length, signal);
    if (notStarted.length > 0) log(`${NAME} stopped: ${message} Changed: ${changed.map(({ id }) => id).join(', ') || 'none'}.`);
    return { searched, changed, failed, ...(notStarted.length > 0 ? { not_started: notStarted } : {}), message };
  },
});

function summary(changed: number, failed: number, notStarted: number, signal: AbortSignal): string {
  const total = changed + failed + notStarted;
  if (changed === total) return `Removed from ${total === 1 ? 'the group' : `all ${total} groups`} that held them.`;
  const parts = [`Removed from ${changed} of ${plural(total, 'group')}`];
  if (failed > 0) parts.push(`${failed} failed (see failed)`);
  if (notStarted > 0) parts.push(`${notStarted} not started, as ${signal.reason instanceof Error ? signal.reason.message : 'the call was stopped'}`);
  return `${parts.join('; ')}. To finish, call ${NAME} again with the same numbers: it finds only the groups that still hold them.`;
}
