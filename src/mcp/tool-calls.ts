import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import * as z from 'zod';
import type { OnProgress } from '../sinch/client.js';
import { log } from '../log.js';
import { maxNumbersPerCall } from '../sinch/numbers.js';
import { ChangeStoppedError, PartialChangeError, type ChangeProgress } from '../sinch/errors.js';
import type { ToolCalls } from './calls.js';
import { describeError } from './errors.js';
import type { Caller } from '../journal/changes.js';
import type { ToolContext, ToolDefinition } from './tool.js';
import { describeTools } from './tool-list.js';

/**
 * Serves tools/list and tools/call for these tools. Arguments are read here rather than by the SDK so
 * that a refusal says what to correct, in words an assistant can act on, and says that nothing changed.
 */
export function registerTools(
  server: McpServer,
  tools: readonly ToolDefinition[],
  calls: ToolCalls,
  context: Omit<ToolContext, 'progress' | 'signal' | 'caller'>,
): void {
  const byName = new Map(tools.map((tool) => [tool.name, tool]));
  server.server.registerCapabilities({ tools: { listChanged: false } });
  server.server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: describeTools(tools) }));
  server.server.setRequestHandler(CallToolRequestSchema, async ({ params }, extra): Promise<CallToolResult> => {
    const tool = byName.get(params.name);
    if (!tool) return failure(`There is no tool ${JSON.stringify(params.name)}; the tools are ${[...byName.keys()].join(', ')}.`);
    const args = withoutNulls(params.arguments ?? {});
    const tooLong = longList(args, maxNumbersPerCall());
    if (tooLong) return failure(`Nothing was changed: ${tooLong}.`);
    const parsed = await tool.inputSchema.safeParseAsync(args);
    if (!parsed.success) return failure(refusal(tool, parsed.error));

    const progressToken = params._meta?.progressToken;
    const progress: OnProgress = (done, total, message = `${done} of ${total} requests to Sinch done`) => {
      if (progressToken === undefined) return;
      void extra.sendNotification({ method: 'notifications/progress', params: { progressToken, progress: done, total, message } });
    };
    const caller = callerOf(extra.authInfo);
    // Tracked until the result is ready to send, so that a stopping server waits for it.
    return calls.run(extra.signal, !tool.annotations.readOnlyHint, async (signal) => {
      try {
        const result = await tool.handler(parsed.data, { ...context, progress, signal, ...(caller && { caller }) });
        const links = tool.links?.(result) ?? [];
        return { content: [{ type: 'text', text: JSON.stringify(result) }, ...links], structuredContent: result };
      } catch (error) {
        const progress = error instanceof PartialChangeError || error instanceof ChangeStoppedError ? error.progress : undefined;
        if (progress) await notifyApplied(context, progress, tool.name, caller);
        const text = describeError(error, tool.name);
        // A cancelled call's result goes nowhere, and a stopping server's may not arrive: what it did
        // to a group must still be on record.
        if (error instanceof ChangeStoppedError) log(`${tool.name} stopped, as ${reasonOf(signal)}: ${text}`);
        return failure(text);
      }
    });
  });
}

/**
 * Part of a change landed, so subscribers must hear of it (a create added a group to the list), and the
 * audit log gets its line; the journal does not, since what the group holds now is not known.
 */
async function notifyApplied(
  { changed, changes }: Pick<ToolContext, 'changed' | 'changes'>,
  { operation, groupId, requests }: ChangeProgress,
  tool: string,
  caller: Caller | undefined,
): Promise<void> {
  if (groupId === undefined || !requests.some((request) => request.state === 'applied')) return;
  changes.auditPartial(tool, groupId, caller);
  await changed(groupId, { listChanged: operation.groupId === undefined });
}

/** The authenticated caller, as an authorization layer in front of the HTTP mode describes it. */
function callerOf(authInfo: AuthInfo | undefined): Caller | undefined {
  if (!authInfo) return undefined;
  const text = (value: unknown) => (typeof value === 'string' && value ? value : undefined);
  const iss = text(authInfo.extra?.iss);
  const sub = text(authInfo.extra?.sub);
  const caller = { ...(iss && { iss }), ...(sub && { sub }), ...(authInfo.clientId && { client_id: authInfo.clientId }) };
  return Object.keys(caller).length > 0 ? caller : undefined;
}

const reasonOf = (signal: AbortSignal) => (signal.reason instanceof Error ? signal.reason.message : 'asked');

const failure = (text: string): CallToolResult => ({ content: [{ type: 'text', text }], isError: true });

/**
 * Strict-mode clients send null for every argument not given, so null means "not given" throughout.
 * Inside lists it stays, and is refused: a null phone number is a mistake, not an absence.
 */
function withoutNulls(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, field]) => field !== null)
      .map(([key, field]) => [key, withoutNulls(field)]),
  );
}

/**
 * A list longer than one call may carry, found before any entry is read: checking each entry of an
 * oversized list would hold the server for everyone.
 */
function longList(value: unknown, limit: number, path: PropertyKey[] = []): string | undefined {
  if (Array.isArray(value)) {
    return value.length > limit ? `${pathOf(path)}: has ${value.length} entries; one call takes at most ${limit} (SINCH_MAX_NUMBERS_PER_CALL)` : undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, field] of Object.entries(value)) {
    const found = longList(field, limit, [...path, key]);
    if (found) return found;
  }
  return undefined;
}

/** Every problem with the arguments, each led by its field, e.g. `add[3]: "12" is not a phone number: too short`. */
function refusal(tool: ToolDefinition, error: z.ZodError): string {
  const problems = error.issues.map((issue) => {
    const at = pathOf(issue.path);
    if (issue.code === 'unrecognized_keys') return unknownArguments(tool, issue.path, issue.keys);
    return at ? `${at}: ${issue.message}` : issue.message;
  });
  return `Nothing was changed: ${problems.join('; ')}.`;
}

function unknownArguments(tool: ToolDefinition, path: PropertyKey[], keys: string[]): string {
  const known = Object.keys(shapeAt(tool.inputSchema, path));
  const where = path.length === 0 ? tool.name : pathOf(path);
  const named = keys.map((key) => {
    const near = known.find((name) => loose(name) === loose(key));
    return `${JSON.stringify(key)}${near ? ` (did you mean ${near}?)` : ''}`;
  });
  return `${where} does not take ${named.join(', ')}; it takes ${known.join(', ')}`;
}

/** dryRun, dry-run and DRY_RUN all mean dry_run to a reader, if not to the schema. */
const loose = (name: string) => name.toLowerCase().replace(/[_-]/g, '');

function shapeAt(schema: z.ZodType, path: PropertyKey[]): Record<string, unknown> {
  let current: z.ZodType | undefined = schema;
  for (const key of path) current = fieldOf(current, key);
  const object = unwrap(current);
  return object instanceof z.ZodObject ? object.shape : {};
}

function fieldOf(schema: z.ZodType | undefined, key: PropertyKey): z.ZodType | undefined {
  const object = unwrap(schema);
  return object instanceof z.ZodObject ? (object.shape as Record<PropertyKey, z.ZodType>)[key] : undefined;
}

function unwrap(schema: z.ZodType | undefined): z.ZodType | undefined {
  if (schema instanceof z.ZodOptional) return unwrap(schema.unwrap() as z.ZodType);
  if (schema instanceof z.ZodPipe) return unwrap(schema.in as z.ZodType);
  return schema;
}

const pathOf = (path: PropertyKey[]) =>
  path.map((key, index) => (typeof key === 'number' ? `[${key}]` : `${index === 0 ? '' : '.'}${String(key)}`)).join('');
