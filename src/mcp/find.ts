import * as z from 'zod';
import { SinchApiError } from '../sinch/errors.js';
import type { Group } from '../sinch/schemas.js';
import { NotAppliedError } from './guards.js';
import type { ToolContext } from './tool.js';

/** Numbers one call looks for or removes: an opt-out list, not a member list. */
export const MAX_NUMBERS_FOUND = 1_000;

/** A group as a person picks it: its id, and its name if it has one. */
export const GroupRef = z.object({ id: z.string(), name: z.string().optional() });
export type GroupRef = z.infer<typeof GroupRef>;

export const refOf = ({ id, name }: Group): GroupRef => (name === undefined ? { id } : { id, name });

/** A group that holds some of the numbers looked for, and which (in the order they were given). */
export interface Holder {
  group: Group;
  numbers: string[];
}

export interface Holdings {
  /** How many groups were looked through. */
  searched: number;
  /** Newest group first. */
  holders: Holder[];
}

/**
 * Which groups hold which of `numbers`: every group is listed, then each group's members are read once,
 * SINCH_CONCURRENCY at a time. Progress counts pages listed, then groups read, so it only grows. A group
 * deleted while this runs holds nothing. Once the call is stopped no further group is read, and the
 * search fails, since a partial answer would say that a number is in fewer groups than it is.
 */
export async function findHolders(numbers: string[], { sinch, progress, signal }: ToolContext, tool: string): Promise<Holdings> {
  let listed = 0;
  let read = 0;
  let groups: Group[] = [];
  const holders: (Holder | undefined)[] = [];
  try {
    groups = await sinch.listAllGroups({
      signal,
      onProgress: (done, total) => {
        listed = total;
        progress(done, total, `${done} of ${total} groups listed`);
      },
    });
    await sinch.concurrently(
      groups,
      async (group, index) => {
        const members = new Set(await membersOf(sinch, group.id));
        const held = numbers.filter((number) => members.has(number));
        if (held.length > 0) holders[index] = { group, numbers: held };
        read++;
        progress(listed + read, listed + groups.length, `${read} of ${groups.length} groups read`);
      },
      signal,
    );
  } catch (error) {
    if (!signal.aborted) throw error;
  }
  if (signal.aborted) {
    const reason = signal.reason instanceof Error ? signal.reason.message : 'asked';
    throw new NotAppliedError(
      `${tool} was stopped, as ${reason}, after reading ${read} of ${groups.length || 'the'} groups and before changing anything; call it again to search every group.`,
    );
  }
  return { searched: groups.length, holders: holders.filter((holder) => holder !== undefined) };
}

async function membersOf(sinch: ToolContext['sinch'], groupId: string): Promise<string[]> {
  try {
    return await sinch.listMembers(groupId);
  } catch (error) {
    if (error instanceof SinchApiError && error.status === 404) return [];
    throw error;
  }
}
