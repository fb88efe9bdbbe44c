import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { SinchGroupsClient } from '../sinch/client.js';
import type { Group } from '../sinch/schemas.js';
import type { ToolContext } from './tool.js';

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

/**
 * The group a change is about, read at most once: refused if it is not as the assistant read it
 * (expected_modified_at), and checked again after the user was asked, since they may take a while.
 */
export class GroupCheck {
  #group: Promise<Group> | undefined;
  #known: Group | undefined;

  constructor(
    private readonly sinch: SinchGroupsClient,
    readonly groupId: string,
    private readonly expectedModifiedAt: string | undefined,
  ) {}

  read(): Promise<Group> {
    return (this.#group ??= this.sinch.getGroup(this.groupId).then((group) => {
      checkUnchanged(group, this.expectedModifiedAt);
      this.#known = group;
      return group;
    }));
  }

  /** The group as read, if it was. */
  get known(): Group | undefined {
    return this.#known;
  }

  /** Nothing read yet is read now only if the assistant said what it expects, so a stale group is refused first. */
  async checkExpected(): Promise<void> {
    if (this.expectedModifiedAt !== undefined) await this.read();
  }

  /** Gets the user's consent (see confirmChange); what they agreed to must still be what is there. */
  async consent(ask: ToolContext['confirm'], describe: (group: Group) => Promise<string>, confirm: boolean | undefined): Promise<void> {
    await this.checkExpected();
    await ask(async () => describe(await this.read()), confirm);
    if (this.#group) checkUnchanged(await this.sinch.getGroup(this.groupId), (await this.#group).modified_at);
  }
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
