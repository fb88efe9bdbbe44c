import type { ResourceLink, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import * as z from 'zod';
import type { OnProgress, SinchGroupsClient } from '../sinch/client.js';
import { GroupId } from '../sinch/schemas.js';
import type { Caller, ChangeLog } from '../journal/changes.js';
import type { FileAccess } from '../files/folders.js';

/** Kept by each session (subscriptions.ts); declared with the tool model, which imports nothing else of the MCP surface. */
export interface ChangeNotifier {
  /** Tells subscribers that a group changed, and everyone listing resources when groups came or went; never throws. */
  changed(groupId: string, options?: { listChanged?: boolean }): Promise<void>;
}

export interface ToolContext extends ChangeNotifier {
  sinch: SinchGroupsClient;
  /** Resolves once the user agreed to the consequence; otherwise throws, and nothing may be changed. */
  confirm(describeConsequence: () => Promise<string>, confirmed: boolean | undefined): Promise<void>;
  /** Reports how far a change of several requests has got, when the caller asked for progress. */
  progress: OnProgress;
  /** Fires when the client cancels the call or the server is stopping: send nothing more to Sinch. */
  signal: AbortSignal;
  /** Every applied change goes here, once applied and before the tool answers: audit line and journal. */
  changes: ChangeLog;
  /** The folders file arguments may name. */
  files: FileAccess;
  /** The authenticated caller, when one is known. */
  caller?: Caller;
}

type Hints = Required<Pick<ToolAnnotations, 'readOnlyHint' | 'destructiveHint' | 'idempotentHint' | 'openWorldHint'>>;

/** Everything about a tool in one place: what the assistant sees, and what runs when it is called. */
export interface ToolDefinition<In extends z.ZodObject = z.ZodObject, Out extends z.ZodObject = z.ZodObject> {
  name: string;
  title: string;
  description: string;
  /** Strict: an argument the tool does not know is refused, never dropped. */
  inputSchema: In;
  outputSchema: Out;
  annotations: Hints;
  // Method syntax keeps handlers of different tools assignable to one list.
  handler(args: z.output<In>, context: ToolContext): Promise<z.input<Out>>;
  /** Links to resources, sent with the result besides its text. */
  links?(result: z.input<Out>): ResourceLink[];
}

export const defineTool = <In extends z.ZodObject, Out extends z.ZodObject>(tool: ToolDefinition<In, Out>) => tool;

/** Arguments several tools take, described once. */
export const args = {
  groupId: (what?: string) => (what ? GroupId.describe(what) : GroupId),
  dryRun: () => z.boolean().optional().describe('Preview only; changes nothing.'),
  confirm: () => z.boolean().optional().describe('true only after the user saw the consequence and agreed.'),
  expectedModifiedAt: () =>
    z.string().optional().describe('modified_at you read; always pass it when applying a previewed change.'),
};
