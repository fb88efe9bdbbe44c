import type { AppliedChange } from '../journal/changes.js';
import type { Group } from '../sinch/schemas.js';
import type { ToolContext } from './tool.js';

/** A group as it was before a change: its members only when the journal needs them. */
export interface Before {
  group: Group;
  members?: string[];
}

/** What the journal needs to know of a group before a change: its members, read only when the journal is on (or `members`). */
export async function readBefore({ sinch, changes }: Pick<ToolContext, 'sinch' | 'changes'>, group: Group, members = false): Promise<Before> {
  return changes.recording || members ? { group, members: await sinch.listMembers(group.id) } : { group };
}

/** Numbers of `added` that were not members before, and not removed in the same change. */
export function newlyAdded(added: readonly string[] | undefined, before: readonly string[] | undefined, removed: readonly string[] = []): number {
  const present = new Set([...(before ?? []), ...removed]);
  return (added ?? []).filter((number) => !present.has(number)).length;
}

/**
 * Records a change that is applied: the audit line, and with the journal on an entry holding the numbers
 * added and removed, read from the members after the change. Returns the change id, if journaled.
 */
export async function recordApplied(
  { sinch, changes, caller }: Pick<ToolContext, 'sinch' | 'changes' | 'caller'>,
  change: Omit<AppliedChange, 'before' | 'membersBefore' | 'membersAfter'> & { before?: Before },
): Promise<string | undefined> {
  const { before, ...rest } = change;
  const membersAfter = changes.recording && change.after ? await sinch.listMembers(change.groupId) : undefined;
  const [id] = await changes.record(
    [{ ...rest, ...(before ? { before: before.group, membersBefore: before.members ?? [] } : {}), ...(membersAfter ? { membersAfter } : {}) }],
    caller,
  );
  return id;
}
