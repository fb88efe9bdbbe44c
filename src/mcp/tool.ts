import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import type { SinchGroupsClient } from '../sinch/client.js';
import { describeError } from './errors.js';

export interface ToolContext {
  sinch: SinchGroupsClient;
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

export function registerTools(server: McpServer, tools: readonly ToolDefinition[], context: ToolContext): void {
  for (const tool of tools) {
    server.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: tool.inputSchema,
        outputSchema: tool.outputSchema,
        annotations: { title: tool.title, ...tool.annotations },
      },
      async (args: z.output<z.ZodObject>): Promise<CallToolResult> => {
        try {
          const result = await tool.handler(args, context);
          return { content: [{ type: 'text', text: JSON.stringify(result) }], structuredContent: result };
        } catch (error) {
          return { content: [{ type: 'text', text: describeError(error, tool.name) }], isError: true };
        }
      },
    );
  }
}
