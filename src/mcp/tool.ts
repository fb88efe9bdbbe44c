import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ListToolsRequestSchema, type CallToolResult, type ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import type { OnProgress, SinchGroupsClient } from '../sinch/client.js';
import { PartialChangeError } from '../sinch/errors.js';
import { ConfigError } from '../config.js';
import { describeError } from './errors.js';
import { describeTools } from './tool-list.js';
import type { ChangeNotifier } from './subscriptions.js';

export interface ToolContext extends ChangeNotifier {
  sinch: SinchGroupsClient;
  /** Resolves once the user agreed to the consequence; otherwise throws, and nothing may be changed. */
  confirm(describeConsequence: () => Promise<string>, confirmed: boolean | undefined): Promise<void>;
  /** Reports how far a change of several requests has got, when the caller asked for progress. */
  progress: OnProgress;
}

type Hints = Required<Pick<ToolAnnotations, 'readOnlyHint' | 'destructiveHint' | 'idempotentHint' | 'openWorldHint'>>;

/** Everything about a tool in one place: what the assistant sees, and what runs when it is called. */
export interface ToolDefinition<In extends z.ZodObject = z.ZodObject, Out extends z.ZodObject = z.ZodObject> {
  name: string;
  title: string;
  description: string;
  inputSchema: In;
  outputSchema: Out;
  annotations: Hints;
  // Method syntax keeps handlers of different tools assignable to one list.
  handler(args: z.output<In>, context: ToolContext): Promise<z.input<Out>>;
}

export const defineTool = <In extends z.ZodObject, Out extends z.ZodObject>(tool: ToolDefinition<In, Out>) => tool;

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

export function registerTools(server: McpServer, tools: readonly ToolDefinition[], context: Omit<ToolContext, 'progress'>): void {
  for (const tool of tools) {
    server.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: tool.inputSchema,
        outputSchema: tool.outputSchema,
        annotations: tool.annotations,
      },
      async (args: z.output<z.ZodObject>, extra): Promise<CallToolResult> => {
        const progressToken = extra._meta?.progressToken;
        const progress: OnProgress = (done, total) => {
          if (progressToken === undefined) return;
          const message = `${done} of ${total} requests to Sinch done`;
          void extra.sendNotification({ method: 'notifications/progress', params: { progressToken, progress: done, total, message } });
        };
        try {
          const result = await tool.handler(args, { ...context, progress });
          return { content: [{ type: 'text', text: JSON.stringify(result) }], structuredContent: result };
        } catch (error) {
          if (error instanceof PartialChangeError) {
            // Part of the change landed, so subscribers must hear of it; without a group id the
            // operation was a create, which added a group to the list.
            await context.changed(error.group.id, { listChanged: error.operation.groupId === undefined });
          }
          return { content: [{ type: 'text', text: describeError(error, tool.name) }], isError: true };
        }
      },
    );
  }
  server.server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: describeTools(tools) }));
}
