import { isDeepStrictEqual } from 'node:util';
import * as z from 'zod';
import type { JournalEntry } from '../../journal/journal.js';
import { SinchApiError } from '../../sinch/errors.js';
import type { Group, ReplaceGroupBody, UpdateGroupBody } from '../../sinch/schemas.js';
import { recordApplied } from '../changes.js';
import { NotAppliedError } from '../guards.js';
import { label } from '../preview.js';
import { args, defineTool, type ToolContext } from '../tool.js';

/** Its removals are opt-outs: people asked to get no more texts, and an undo must never re-add them. */
const OPT_OUT_TOOL = 'remove_numbers_everywhere';

/** How an undo puts a group back: the inverse of what the change did. */
type Plan =
  | { action: 'delete'; group: Group; members: string[] }
  | { action: 'create'; body: ReplaceGroupBody }
  | { action: 'update'; group: Group; members: string[]; body: UpdateGroupBody }
  | { action: 'replace'; group: Group; members: string[]; body: ReplaceGroupBody };

export default defineTool({
  name: 'undo_change',
  title: 'Undo change',
  description:
    'Apply the inverse of a change from list_changes; a deleted group is re-created under a new id. Needs confirmation; dry_run previews.',
  inputSchema: z.strictObject({
    change_id: z.string().min(1).max(64).describe('id from list_changes.'),
    dry_run: args.dryRun(),
    confirm: args.confirm(),
  }),
  outputSchema: z.object({
    undone: z.string(),
    group_id: z.string().describe('The group now; a re-created group has a new id.'),
    action: z.enum(['delete', 'create', 'update', 'replace']),
    added: z.number().int(),
    removed: z.number().int(),
    dry_run: z.boolean().optional(),
    change_id: z.string().optional(),
  }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
  handler: async ({ change_id, dry_run, confirm }, context) => {
    const { sinch, changed, confirm: ask, progress, signal, changes } = context;
    const entries = (await changes.journal!.read()).filter((entry) => entry.account === changes.account);
    const entry = entries.find((candidate) => candidate.id === change_id);
    if (!entry) throw new NotAppliedError(`Nothing was changed: this account's journal has no change ${JSON.stringify(change_id)}; list_changes lists them.`);
    if (entry.tool === OPT_OUT_TOOL) {
      throw new NotAppliedError(
        `Nothing was changed: change ${change_id} removed numbers with ${OPT_OUT_TOOL}, which opts them out; an undo would text people who asked not to be texted, so it is refused.`,
      );
    }
    const undoneBy = entries.find((candidate) => candidate.undoes === change_id);
    if (undoneBy) throw new NotAppliedError(`Nothing was changed: change ${change_id} was undone already, by ${undoneBy.id} at ${undoneBy.time}.`);

    const plan = await planUndo(context, entry, entries);
    const counts = countsOf(plan, entry);
    const result = { undone: change_id, action: plan.action, ...counts };
    if (dry_run) return { ...result, group_id: entry.group_id, dry_run: true };
    await ask(async () => describe(entry, plan, counts), confirm);
    // The user may have taken a while: what they agreed to must still be what is there.
    if (plan.action !== 'create') await planUndo(context, entry, entries);

    let group: Group | undefined;
    if (plan.action === 'delete') {
      await sinch.deleteGroup(entry.group_id, { signal });
      await changed(entry.group_id, { listChanged: true });
    } else if (plan.action === 'create') {
      group = await sinch.createGroup(plan.body, { onProgress: progress, signal });
      await changed(group.id, { listChanged: true });
    } else {
      group =
        plan.action === 'update'
          ? await sinch.updateGroup(entry.group_id, plan.body, { onProgress: progress, signal })
          : await sinch.replaceGroup(entry.group_id, plan.body, { onProgress: progress, signal });
      await changed(entry.group_id);
    }
    const before = plan.action === 'create' ? undefined : { group: plan.group, members: plan.members };
    const recorded = await recordApplied(context, {
      tool: 'undo_change',
      kind: plan.action,
      groupId: group?.id ?? entry.group_id,
      ...(before ? { before } : {}),
      ...(group ? { after: group } : {}),
      counts,
      undoes: change_id,
    });
    return { ...result, group_id: group?.id ?? entry.group_id, ...(recorded ? { change_id: recorded } : {}) };
  },
});

/** What the undo will do, read from the group as it is now; refused if the group changed since the entry. */
async function planUndo({ sinch }: Pick<ToolContext, 'sinch'>, entry: JournalEntry, entries: JournalEntry[]): Promise<Plan> {
  if (entry.kind === 'delete') {
    return {
      action: 'create',
      body: { members: entry.members_before ?? [], ...(entry.name_before ? { name: entry.name_before } : {}), ...entry.settings_before },
    };
  }
  let group: Group;
  try {
    group = await sinch.getGroup(entry.group_id);
  } catch (error) {
    if (error instanceof SinchApiError && error.status === 404) {
      throw new NotAppliedError(`Nothing was changed: group ${entry.group_id} of change ${entry.id} no longer exists${changedSince(entry, entries)}.`);
    }
    throw error;
  }
  if (entry.modified_at !== undefined && Date.parse(group.modified_at) !== Date.parse(entry.modified_at)) {
    throw new NotAppliedError(
      `Nothing was changed: group ${label(group)} changed after change ${entry.id} (modified_at is ${group.modified_at}, not ${entry.modified_at})${changedSince(entry, entries)}; undoing it now would undo those too.`,
    );
  }
  const members = await sinch.listMembers(group.id);
  if (entry.kind === 'create') return { action: 'delete', group, members };
  if (entry.kind === 'replace') {
    return { action: 'replace', group, members, body: { members: entry.members_before ?? [], ...nameOf(entry), ...entry.settings_before } };
  }
  if (isDeepStrictEqual(entry.settings_before ?? {}, entry.settings_after ?? {})) {
    const body: UpdateGroupBody = {
      ...(entry.removed.length > 0 ? { add: entry.removed } : {}),
      ...(entry.added.length > 0 ? { remove: entry.added } : {}),
      ...(entry.name_before !== entry.name_after ? { name: entry.name_before ?? null } : {}),
    };
    return { action: 'update', group, members, body };
  }
  // Sinch's update cannot take a setting away, so settings are put back by replacing the group whole.
  const added = new Set(entry.added);
  const target = [...new Set([...members.filter((number) => !added.has(number)), ...entry.removed])];
  return { action: 'replace', group, members, body: { members: target, ...nameOf(entry), ...entry.settings_before } };
}

const nameOf = (entry: JournalEntry) => (entry.name_before === undefined ? {} : { name: entry.name_before });

/** The journal's later changes to the group, named, for a refusal. */
function changedSince(entry: JournalEntry, entries: JournalEntry[]): string {
  const later = entries.filter((candidate) => candidate.group_id === entry.group_id && candidate.time >= entry.time && candidate.id !== entry.id);
  if (later.length === 0) return ', by something other than these tools';
  return `: since then ${later.map((change) => `${change.tool} ${change.id} at ${change.time} (+${change.added.length} −${change.removed.length})`).join(', ')}`;
}

function countsOf(plan: Plan, entry: JournalEntry): { added: number; removed: number } {
  switch (plan.action) {
    case 'delete':
      return { added: 0, removed: plan.group.size };
    case 'create':
      return { added: plan.body.members?.length ?? 0, removed: 0 };
    default: {
      const now = new Set(plan.members);
      const added = new Set(entry.added);
      const after = new Set(plan.action === 'update' ? [...plan.members.filter((number) => !added.has(number)), ...entry.removed] : plan.body.members);
      return { added: [...after].filter((number) => !now.has(number)).length, removed: [...now].filter((number) => !after.has(number)).length };
    }
  }
}

function describe(entry: JournalEntry, plan: Plan, { added, removed }: { added: number; removed: number }): string {
  const what = `Undoing ${entry.tool} ${entry.id} of ${entry.time} on group ${entry.group_name ? `${JSON.stringify(entry.group_name)} (${entry.group_id})` : entry.group_id}`;
  if (plan.action === 'delete') return `${what} deletes the group and its ${plan.group.size} members.`;
  if (plan.action === 'create') return `${what} re-creates the deleted group with its ${added} members, name and settings, under a new id.`;
  return `${what} re-adds ${added} numbers and removes ${removed}${entry.name_before !== entry.name_after ? `, and restores the name ${JSON.stringify(entry.name_before ?? null)}` : ''}.`;
}
