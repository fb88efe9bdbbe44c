import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import * as z from 'zod';
import type { ToolDefinition } from './tool.js';

// Converted once per process: a stateless HTTP server is built anew for every request.
const described = new WeakMap<ToolDefinition, Tool>();

/**
 * The tool list as assistants receive it: the same schemas the SDK validates with, without what costs
 * context on every turn and tells an assistant nothing: $schema, the integer bounds every whole number
 * carries, a title given twice, the default task support, and descriptions and closedness inside output
 * schemas (a result's fields are named plainly, and the tool's description says what it returns). Input
 * schemas keep additionalProperties: false, which strict clients need and which the server enforces.
 */
export function describeTools(tools: readonly ToolDefinition[]): Tool[] {
  return tools.map((tool) => {
    let listed = described.get(tool);
    if (!listed) {
      listed = {
        name: tool.name,
        title: tool.title,
        description: tool.description,
        inputSchema: compact(z.toJSONSchema(tool.inputSchema, { io: 'input' })) as Tool['inputSchema'],
        outputSchema: compact(z.toJSONSchema(tool.outputSchema, { io: 'output' }), ['description', 'additionalProperties']) as Tool['outputSchema'],
        annotations: tool.annotations,
      };
      described.set(tool, listed);
    }
    return listed;
  });
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
        return !((key === 'minimum' && value === Number.MIN_SAFE_INTEGER) || (key === 'maximum' && value === Number.MAX_SAFE_INTEGER));
      })
      .map(([key, value]) => [key, key === 'properties' ? compactProperties(value, dropped) : compact(value, dropped)]),
  );
}

// Under "properties" the keys are field names, which must stay whatever they are called.
function compactProperties(properties: object, dropped: string[]): object {
  return Object.fromEntries(Object.entries(properties).map(([name, schema]) => [name, compact(schema, dropped)]));
}
