import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Group } from '../sinch/schemas.js';

/** A change that was not made: the group changed since it was read, or the user did not confirm. */
export class NotAppliedError extends Error {
  override readonly name = 'NotAppliedError';
}

/** Refuses to act on a group that changed since the assistant read it. */
export function checkUnchanged(group: Group, expectedModifiedAt: string | undefined): void {
  if (expectedModifiedAt === undefined || sameInstant(group.modified_at, expectedModifiedAt)) return;
  throw new NotAppliedError(
    `Nothing was changed: group ${group.id} was modified since you read it (modified_at is now ${group.modified_at}, ` +
      `not ${expectedModifiedAt}). Read it again, check the change still makes sense, and retry with the new modified_at.`,
  );
}

const sameInstant = (a: string, b: string) => a === b || (!Number.isNaN(Date.parse(a)) && Date.parse(a) === Date.parse(b));

/**
 * Gets the user's consent for a destructive change: through the client (elicitation) when it can ask,
 * otherwise by the assistant passing confirm: true after asking the user itself. The consequence is
 * worked out only when someone will read it, since that can mean reading a whole group.
 */
export async function confirmChange(
  server: Server,
  describeConsequence: () => Promise<string>,
  confirm: boolean | undefined,
): Promise<void> {
  if (!server.getClientCapabilities()?.elicitation?.form) {
    if (confirm === true) return;
    const consequence = await describeConsequence();
    throw new NotAppliedError(`Nothing was changed. ${consequence} Ask the user; if they agree, call again with confirm: true.`);
  }
  const consequence = await describeConsequence();
  let answer: Awaited<ReturnType<Server['elicitInput']>>;
  try {
    answer = await server.elicitInput({
      message: `${consequence} Go ahead?`,
      requestedSchema: {
        type: 'object',
        properties: { confirm: { type: 'boolean', title: 'Yes, go ahead', description: 'Tick to make this change.' } },
        required: ['confirm'],
      },
    });
  } catch (error) {
    throw new NotAppliedError(`Nothing was changed: the user could not be asked (${error instanceof Error ? error.message : String(error)}).`);
  }
  if (answer.action === 'accept' && answer.content?.confirm === true) return;
  const how = answer.action === 'accept' ? 'did not confirm' : answer.action === 'decline' ? 'declined' : 'cancelled';
  throw new NotAppliedError(`Nothing was changed: the user ${how}. ${consequence}`);
}
