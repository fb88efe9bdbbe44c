import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ListToolsRequestSchema, type CallToolResult, type Tool, type ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { OnProgress, SinchGroupsClient } from '../sinch/client.js';
import { PartialChangeError } from '../sinch/errors.js';
import { ConfigError } from '../config.js';
import { describeError } from './errors.js';
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

/**
 * The tool list as assistants receive it: the same schemas the SDK validates with, without what costs
 * context on every turn and tells an assistant nothing: $schema, the integer bounds every whole number
 * carries, a title given twice, the default task support, and descriptions inside output schemas
 * (a result's fields are named plainly, and the tool's description says what it returns).
 */
export function describeTools(tools: readonly ToolDefinition[]): Tool[] {
  return tools.map((tool) => ({
    name: tool.name,
    title: tool.title,
    description: tool.description,
    inputSchema: compact(z.toJSONSchema(tool.inputSchema, { io: 'input' })) as Tool['inputSchema'],
    outputSchema: compact(z.toJSONSchema(tool.outputSchema, { io: 'output' }), ['description']) as Tool['outputSchema'],
    annotations: tool.annotations,
  }));
}

function compact(schema: unknown, dropped: string[] = []): unknown {
  if (Array.isArray(schema)) return schema.map((item) => compact(item, dropped));
  if (schema === null || typeof schema !== 'object') return schema;
  if ('brief' in schema) {
    const { type, description, brief } = schema as { type?: string; description?: string; brief: string };
    return compact({ type, description: description ? `${description} ${brief}` : brief }, dropped);
  }
  return Object.fromEntries(
    Object.entries(schema)
      .filter(([key, value]) => {
        if (key === '$schema' || dropped.includes(key) || value === undefined) return false;
        if (key === 'additionalProperties' && value === false) return false;
        return !((key === 'minimum' && value === Number.MIN_SAFE_INTEGER) || (key === 'maximum' && value === Number.MAX_SAFE_INTEGER));
      })
      .map(([key, value]) => [key, key === 'properties' ? compactProperties(value, dropped) : compact(value, dropped)]),
  );
}

// Under "properties" the keys are field names, which must stay whatever they are called.
function compactProperties(properties: object, dropped: string[]): object {
  return Object.fromEntries(Object.entries(properties).map(([name, schema]) => [name, compact(schema, dropped)]));
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
  let listed: Tool[] | undefined;
  server.server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: (listed ??= describeTools(tools)) }));
}
