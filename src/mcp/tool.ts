import type { ResourceLink, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { OnProgress, SinchGroupsClient } from '../sinch/client.js';
import { GroupId } from '../sinch/schemas.js';
import { ConfigError } from '../config.js';
import type { Caller, ChangeLog } from '../journal/changes.js';
import type { FileAccess } from '../files/folders.js';
import type { ChangeNotifier } from './subscriptions.js';

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

export interface ToolSelection {
  /** Only tools whose readOnlyHint is true; wins over `only`. */
  readOnly?: boolean;
  /** Only these tools, by name. */
  only?: readonly string[];
}

/** The tools a server offers; a name that is not a tool is a configuration mistake, not something to ignore. */
export function selectTools(tools: readonly ToolDefinition[], { readOnly = false, only }: ToolSelection): ToolDefinition[] {
  const names = new Set(tools.map((tool) => tool.name));
  const unknown = only?.filter((name) => !names.has(name)) ?? [];
  if (unknown.length > 0) {
    throw new ConfigError(`unknown tool ${unknown.map((name) => `"${name}"`).join(', ')} in --tools/SINCH_TOOLS; the tools are ${[...names].join(', ')}`);
  }
  if (only?.length === 0) throw new ConfigError('--tools/SINCH_TOOLS names no tool');
  const selected = tools.filter((tool) => (!readOnly || tool.annotations.readOnlyHint) && (!only || only.includes(tool.name)));
  if (selected.length === 0) throw new ConfigError('--read-only/SINCH_READ_ONLY leaves none of the tools named in --tools/SINCH_TOOLS');
  return selected;
}
