import { GoogleGenAI, mcpToTool, type FunctionDeclaration, type ToolListUnion } from '@google/genai';
import { getAllMcpTools, setSensitiveDataLoggingEnabled, type MCPServer } from '@openai/agents';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { expect, vi } from 'vitest';
import { tools as definitions } from '../src/mcp/tools/index.js';
import { listen, test, type Harness } from './harness.js';

// The rules our tool schemas keep so that every client we know of takes them as they are: the SDK's own
// Client forgives almost anything, while Anthropic's API, OpenAI's strict mode, Gemini's declarations and
// LangChain's simplifier each drop or refuse something. Each rule lists every breach as
// "tool: JSON path: what is wrong", so one failing run says everything there is to fix.

/** What a model sees of a tool, on average: name, description and input schema. */
const MODEL_BYTES_PER_TOOL = 900;
/** The whole tools/list result (its tools array) divided by the number of tools. */
const LIST_BYTES_PER_TOOL = 1_500;
const TOOL_NAME = /^[a-z0-9_]{1,40}$/;
const COMBINATORS = ['anyOf', 'oneOf', 'allOf'] as const;
const GEMINI_TYPES = ['STRING', 'NUMBER', 'INTEGER', 'BOOLEAN', 'ARRAY', 'OBJECT', 'NULL'];

type Schema = Record<string, unknown>;
const isSchema = (value: unknown): value is Schema => typeof value === 'object' && value !== null && !Array.isArray(value);
const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));
const show = (value: unknown) => (value === undefined ? 'missing' : JSON.stringify(value));

/** `schema` and every schema inside it, each with its JSON path. */
function* subschemas(schema: unknown, path: string): Generator<{ schema: Schema; path: string }> {
  if (!isSchema(schema)) return;
  yield { schema, path };
  if (isSchema(schema.properties)) {
    for (const [name, field] of Object.entries(schema.properties)) yield* subschemas(field, `${path}.properties.${name}`);
  }
  for (const key of ['items', 'additionalProperties', 'not']) yield* subschemas(schema[key], `${path}.${key}`);
  for (const key of [...COMBINATORS, 'prefixItems']) {
    const branches = schema[key];
    if (Array.isArray(branches)) for (const [index, branch] of branches.entries()) yield* subschemas(branch, `${path}.${key}[${index}]`);
  }
  for (const key of ['$defs', 'definitions']) {
    const defined = schema[key];
    if (isSchema(defined)) for (const [name, branch] of Object.entries(defined)) yield* subschemas(branch, `${path}.${key}.${name}`);
  }
}

const typesOf = (schema: Schema): unknown[] => [schema.type].flat();

function inputSchemaProblems(tool: Tool): string[] {
  const root: Schema = tool.inputSchema;
  const at = `${tool.name}: inputSchema`;
  const problems: string[] = [];
  if (root.type !== 'object') problems.push(`${at}.type: is ${show(root.type)}, must be "object"`);
  for (const key of COMBINATORS) {
    if (key in root) problems.push(`${at}.${key}: no ${key} at the top level (Anthropic's API refuses it)`);
  }
  for (const { schema, path } of subschemas(root, at)) {
    if (schema.type === 'null') {
      problems.push(`${path}: a {"type":"null"} branch; leave the field out of "required" instead of making it nullable`);
    } else if (typesOf(schema).includes('null')) {
      problems.push(`${path}.type: the type array ${show(schema.type)} makes it nullable; give one type`);
    }
    if (typesOf(schema).includes('object') || 'properties' in schema) {
      const properties = isSchema(schema.properties) ? Object.keys(schema.properties) : [];
      if (properties.length === 0) problems.push(`${path}: an object without properties (clients see an empty object, or none)`);
      if (schema.additionalProperties !== false) problems.push(`${path}.additionalProperties: is ${show(schema.additionalProperties)}, must be false`);
    }
    if (typesOf(schema).includes('array') && !isSchema(schema.items)) problems.push(`${path}.items: an array must say what its items are`);
  }
  return problems;
}

function outputSchemaProblems(tool: Tool): string[] {
  const type = tool.outputSchema?.type;
  return type === 'object' ? [] : [`${tool.name}: outputSchema.type: is ${show(type)}, must be "object"`];
}

function nameProblems(tool: Tool): string[] {
  return TOOL_NAME.test(tool.name) ? [] : [`${JSON.stringify(tool.name)}: name: must match ${TOOL_NAME}`];
}

/** Fields of the listed input schema (nested ones included) that a converted declaration lost, or lost the type of. */
function droppedFields(listed: unknown, declared: unknown, path: string): string[] {
  if (!isSchema(listed)) return [];
  const converted = isSchema(declared) ? declared : {};
  const problems = droppedFields(listed.items, converted.items, `${path}.items`);
  if (isSchema(listed.properties)) {
    const convertedProperties = isSchema(converted.properties) ? converted.properties : {};
    for (const [name, field] of Object.entries(listed.properties)) {
      const at = `${path}.properties.${name}`;
      const there = convertedProperties[name];
      if (!isSchema(there)) {
        problems.push(`${at}: dropped`);
        continue;
      }
      if (typeof there.type !== 'string') problems.push(`${at}.type: declared without a type (${show(there.type)})`);
      problems.push(...droppedFields(field, there, at));
    }
  }
  return problems;
}

/** What Gemini's classic declarations (an OpenAPI 3.0 subset) cannot take, in a schema as genai sends it. */
function openApiSubsetProblems(parameters: unknown, path: string): string[] {
  const problems: string[] = [];
  for (const { schema, path: at } of subschemas(parameters, path)) {
    if (!('anyOf' in schema) && !GEMINI_TYPES.includes(String(schema.type))) problems.push(`${at}.type: ${show(schema.type)} is no Gemini type`);
    if (schema.type === 'ARRAY' && !isSchema(schema.items)) problems.push(`${at}.items: an ARRAY without items`);
    if (schema.type === 'OBJECT' && !(isSchema(schema.properties) && Object.keys(schema.properties).length > 0)) {
      problems.push(`${at}: an OBJECT without properties, which Gemini takes as an empty object`);
    }
    for (const key of ['additionalProperties', '$ref', '$defs']) if (key in schema) problems.push(`${at}.${key}: not in the OpenAPI subset`);
  }
  return problems;
}

const report = (problems: string[]) => `${problems.length} problem(s):\n  ${problems.join('\n  ')}\n`;

function expectNone(problems: string[]): void {
  expect(problems.length, report(problems)).toBe(0);
}

/** The tools as a client is given them. */
const list = async (h: Harness): Promise<Tool[]> => (await h.client.listTools()).tools;

test('the client lists every tool, so no rule below passes on an empty list', async ({ shared: h }) => {
  const tools = await list(h);
  expect(tools.map((tool) => tool.name).sort()).toEqual(definitions.map((tool) => tool.name).sort());
});

test('input schemas: an object at the top, no nullable unions, closed objects with properties, arrays with items', async ({ shared: h }) => {
  const tools = await list(h);
  expectNone(tools.flatMap(inputSchemaProblems));
});

test('output schemas are objects', async ({ shared: h }) => {
  const tools = await list(h);
  expectNone(tools.flatMap(outputSchemaProblems));
});

test('tool names are short snake_case', async ({ shared: h }) => {
  const tools = await list(h);
  expectNone(tools.flatMap(nameProblems));
});

test('the rules catch what they are meant to', () => {
  const bad = {
    name: 'Bad-Tool',
    inputSchema: {
      type: 'object',
      anyOf: [{ required: ['a'] }],
      additionalProperties: false,
      properties: {
        a: { anyOf: [{ type: 'string' }, { type: 'null' }] },
        b: { type: ['integer', 'null'] },
        c: { type: 'object', description: 'anything' },
        d: { type: 'array' },
        e: { type: 'array', items: { type: 'object', properties: { f: { type: 'string' } } } },
      },
    },
    outputSchema: undefined,
  } as unknown as Tool;
  expect(inputSchemaProblems(bad)).toEqual([
    'Bad-Tool: inputSchema.anyOf: no anyOf at the top level (Anthropic\'s API refuses it)',
    'Bad-Tool: inputSchema.properties.a.anyOf[1]: a {"type":"null"} branch; leave the field out of "required" instead of making it nullable',
    'Bad-Tool: inputSchema.properties.b.type: the type array ["integer","null"] makes it nullable; give one type',
    'Bad-Tool: inputSchema.properties.c: an object without properties (clients see an empty object, or none)',
    'Bad-Tool: inputSchema.properties.c.additionalProperties: is missing, must be false',
    'Bad-Tool: inputSchema.properties.d.items: an array must say what its items are',
    'Bad-Tool: inputSchema.properties.e.items.additionalProperties: is missing, must be false',
  ]);
  expect(outputSchemaProblems(bad)).toEqual(['Bad-Tool: outputSchema.type: is missing, must be "object"']);
  expect(nameProblems(bad)).toEqual(['"Bad-Tool": name: must match /^[a-z0-9_]{1,40}$/']);
  const listed = { properties: { a: { type: 'string' }, b: { type: 'array', items: { properties: { c: { type: 'string' } } } } } };
  expect(droppedFields(listed, { properties: { a: { anyOf: [] }, b: { type: 'ARRAY', items: {} } } }, 'x')).toEqual([
    'x.properties.a.type: declared without a type (missing)',
    'x.properties.b.items.properties.c: dropped',
  ]);
  expect(openApiSubsetProblems({ type: 'OBJECT', properties: { a: { type: 'ARRAY' }, b: { type: 'TYPE_UNSPECIFIED', $ref: '#/x' } } }, 'x')).toEqual([
    'x.properties.a.items: an ARRAY without items',
    'x.properties.b.type: "TYPE_UNSPECIFIED" is no Gemini type',
    'x.properties.b.$ref: not in the OpenAPI subset',
  ]);
});

test('the OpenAI Agents SDK converts every tool to strict mode', async ({ shared: h }) => {
  const tools = await list(h);
  type Listed = Awaited<ReturnType<MCPServer['listTools']>>;
  type Content = Awaited<ReturnType<MCPServer['callTool']>>;
  // The SDK's own MCP servers hand it tools/list as received; this one does the same through our Client.
  const serverFor = (name: string): MCPServer => ({
    name: 'sinch_groups',
    cacheToolsList: false,
    toolFilter: { allowedToolNames: [name] },
    connect: async () => {},
    close: async () => {},
    invalidateToolsCache: async () => {},
    listTools: async () => (await h.client.listTools()).tools as Listed,
    callTool: async (tool, args) => (await h.client.callTool({ name: tool, arguments: args ?? {} })).content as Content,
  });
  // Without this the SDK logs only the typeof of the error that made it give up strict mode.
  setSensitiveDataLoggingEnabled(true);
  const problems: string[] = [];
  for (const { name } of tools) {
    const warnings: string[] = [];
    const warn = vi.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => {
      warnings.push(args.map((arg) => (arg instanceof Error ? arg.message : String(arg))).join(' '));
    });
    try {
      const converted = await getAllMcpTools({ mcpServers: [serverFor(name)], convertSchemasToStrict: true });
      const [tool] = converted;
      if (converted.length !== 1) problems.push(`${name}: ${converted.length} tools came out of its conversion, not 1`);
      else if (tool?.type !== 'function' || !tool.strict) problems.push(`${name}: inputSchema: not strict${warnings.length ? `: ${warnings.join('; ')}` : ''}`);
    } finally {
      warn.mockRestore();
    }
  }
  expectNone(problems);
});

/** The function declarations genai sends to a Gemini stand-in for one generateContent call with `tools`. */
async function declarationsSent(offered: ToolListUnion): Promise<FunctionDeclaration[]> {
  const bodies: { tools?: { functionDeclarations?: FunctionDeclaration[] }[] }[] = [];
  const gemini = await listen((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      bodies.push(JSON.parse(body));
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ candidates: [{ content: { role: 'model', parts: [{ text: 'done' }] }, finishReason: 'STOP' }] }));
    });
  });
  try {
    const ai = new GoogleGenAI({ apiKey: 'test-key', httpOptions: { baseUrl: gemini.url } });
    await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'List my groups.', config: { tools: offered } });
  } finally {
    await gemini.close();
  }
  expect(bodies).toHaveLength(1);
  return (bodies[0]!.tools ?? []).flatMap((tool) => tool.functionDeclarations ?? []);
}

test('genai mcpToTool declares every field of every tool, with its type', async ({ shared: h }) => {
  const tools = await list(h);
  const declared = await declarationsSent([mcpToTool(h.client)]);
  const problems = tools.flatMap((tool) => {
    const declaration = declared.find((candidate) => candidate.name === tool.name);
    if (!declaration) return [`${tool.name}: not declared`];
    return droppedFields(tool.inputSchema, declaration.parametersJsonSchema, `${tool.name}: inputSchema → parametersJsonSchema`);
  });
  expectNone(problems);
});

// genai exports no function for this conversion (processJsonSchema, applied by its request path to a
// declaration's `parameters`), so it is reached the public way: a request, read off the wire.
test("genai's classic parameters (Gemini's OpenAPI subset) take every tool and drop nothing", async ({ shared: h }) => {
  const tools = await list(h);
  const problems: string[] = [];
  for (const tool of tools) {
    const at = `${tool.name}: inputSchema → parameters`;
    let sent: unknown;
    try {
      // One request a tool, so that a schema genai refuses is named. genai's types want its own Type enum
      // here; at run time it converts JSON Schema, which is what is tested.
      const parameters = structuredClone(tool.inputSchema) as unknown as FunctionDeclaration['parameters'];
      sent = (await declarationsSent([{ functionDeclarations: [{ name: tool.name, description: tool.description, parameters }] }]))[0]?.parameters;
    } catch (error) {
      problems.push(`${at}: refused: ${error instanceof Error ? error.message : String(error)}`);
      continue;
    }
    if (sent === undefined) {
      problems.push(`${at}: genai did not send it as parameters`);
      continue;
    }
    problems.push(...droppedFields(tool.inputSchema, sent, at), ...openApiSubsetProblems(sent, at));
  }
  expectNone(problems);
});

function budget(what: string, perTool: { name: string; bytes: number }[], total: number, limit: number) {
  const average = total / perTool.length;
  const largest = [...perTool].sort((a, b) => b.bytes - a.bytes).slice(0, 3);
  const message =
    `${what}: ${Math.round(average)} bytes a tool (${total} bytes / ${perTool.length} tools), ` +
    `limit ${limit} (${(average / limit).toFixed(2)}× the limit); largest: ${largest.map((tool) => `${tool.name} ${tool.bytes}`).join(', ')}`;
  expect(average, `${message}\n`).toBeLessThanOrEqual(limit);
}

// Both with the journal (the shared server: every tool) and without it (list_changes and undo_change not offered).
const BOTH = [['with the journal', true], ['without it', false]] as const;

test.for(BOTH)(`what a model sees of a tool averages at most ${MODEL_BYTES_PER_TOOL} bytes, %s`, async ([, journal], { shared, h }) => {
  const tools = await list(journal ? shared : h);
  const perTool = tools.map(({ name, description, inputSchema }) => ({ name, bytes: bytes({ name, description, inputSchema }) }));
  budget('name, description and inputSchema', perTool, perTool.reduce((sum, tool) => sum + tool.bytes, 0), MODEL_BYTES_PER_TOOL);
});

test.for(BOTH)(`tools/list takes at most ${LIST_BYTES_PER_TOOL} bytes a tool, %s`, async ([, journal], { shared, h }) => {
  const tools = await list(journal ? shared : h);
  budget('tools/list', tools.map((tool) => ({ name: tool.name, bytes: bytes(tool) })), bytes(tools), LIST_BYTES_PER_TOOL);
});
