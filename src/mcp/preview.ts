import * as z from 'zod';
import type { SinchGroupsClient } from '../sinch/client.js';
import { SinchApiError } from '../sinch/errors.js';
import type { Group, ReplaceGroupBody, UpdateGroupBody } from '../sinch/schemas.js';
import { NotAppliedError } from './guards.js';

/** Numbers shown per list in a preview: enough to check by eye, never enough to flood a context. */
const SAMPLE_SIZE = 20;

const NumberChange = z.object({
  count: z.number().int(),
  sample: z.array(z.string()).describe(`Up to ${SAMPLE_SIZE} of them, sorted.`),
});

export const Preview = z
  .object({
    added: NumberChange.describe('Numbers that would join (not members now).'),
    removed: NumberChange.describe('Numbers that would leave (members now).'),
    unchanged: z.number().int().describe('Members now who would stay.'),
    size_before: z.number().int(),
    size_after: z.number().int(),
    name: z.object({ from: z.string().nullable(), to: z.string().nullable() }).optional().describe('Present if the name would change.'),
    cleared: z.array(z.enum(['auto_update', 'child_groups'])).optional().describe('Settings the replace would remove.'),
  })
  // Tool lists show this line (the tools' descriptions name the fields) instead of the nested schema.
  .meta({ brief: 'added, removed: {count, sample}; unchanged; size_before; size_after; name?: {from, to}; cleared?' });
export type Preview = z.infer<typeof Preview>;

/** What an update would do, by Sinch's rules: additions (add, add_from_group) before removals. */
export async function previewUpdate(sinch: SinchGroupsClient, group: Group, body: UpdateGroupBody): Promise<Preview> {
  const [members, copied, leavers] = await Promise.all([
    sinch.listMembers(group.id),
    membersOf(sinch, 'add_from_group', body.add_from_group),
    membersOf(sinch, 'remove_from_group', body.remove_from_group),
  ]);
  const after = new Set([...members, ...(body.add ?? []), ...copied]);
  for (const number of [...(body.remove ?? []), ...leavers]) after.delete(number);
  return preview(group, members, after, 'name' in body ? (body.name ?? null) : undefined);
}

/** The members of a group another argument names; a missing one is that argument's mistake. */
async function membersOf(sinch: SinchGroupsClient, field: string, groupId: string | undefined): Promise<string[]> {
  if (groupId === undefined) return [];
  try {
    return await sinch.listMembers(groupId);
  } catch (error) {
    if (error instanceof SinchApiError && error.status === 404) {
      throw new NotAppliedError(`Nothing was changed: ${field} names group ${groupId}, which does not exist; check the id with list_groups.`);
    }
    throw error;
  }
}

/** What a replace would do: the members become exactly the given list, and a missing name is cleared. */
export async function previewReplace(sinch: SinchGroupsClient, group: Group, body: ReplaceGroupBody): Promise<Preview> {
  const members = await sinch.listMembers(group.id);
  const cleared = (['auto_update', 'child_groups'] as const).filter((setting) => group[setting] !== undefined && body[setting] === undefined);
  return { ...preview(group, members, new Set(body.members), body.name ?? null), ...(cleared.length > 0 ? { cleared } : {}) };
}

function preview(group: Group, before: string[], after: Set<string>, newName: string | null | undefined): Preview {
  const current = new Set(before);
  const added = [...after].filter((number) => !current.has(number));
  const removed = before.filter((number) => !after.has(number));
  const from = group.name ?? null;
  return {
    added: change(added),
    removed: change(removed),
    unchanged: current.size - removed.length,
    size_before: current.size,
    size_after: after.size,
    ...(newName !== undefined && newName !== from ? { name: { from, to: newName } } : {}),
  };
}

const change = (numbers: string[]) => ({ count: numbers.length, sample: numbers.sort().slice(0, SAMPLE_SIZE) });

/** One sentence on a preview, for confirmations and refusals. */
export function summarize(preview: Preview): string {
  const parts = [
    `${preview.removed.count} of ${preview.size_before} members would be removed`,
    `${preview.added.count} added`,
    `leaving ${preview.size_after}`,
  ];
  if (preview.name) parts.push(`the name would change from ${quote(preview.name.from)} to ${quote(preview.name.to)}`);
  if (preview.cleared) parts.push(`and its ${preview.cleared.join(' and ')} settings would be removed`);
  return `${parts.join(', ')}.`;
}

const quote = (name: string | null | undefined) => (name ? JSON.stringify(name) : 'none');

/** A group as a person would name it: its name and id. */
export const label = (group: Group) => (group.name ? `${JSON.stringify(group.name)} (${group.id})` : group.id);
