import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import type { jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js';
import { RootsListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { FileAccess, type FileSettings } from '../files/folders.js';
import { ChangeLog } from '../journal/changes.js';
import type { Journal } from '../journal/journal.js';
import type { SinchGroupsClient } from '../sinch/client.js';
import { NAME, VERSION } from '../version.js';
import { ToolCalls } from './calls.js';
import { confirmChange } from './guards.js';
import { carefulChangePrompt } from './prompts/careful-change.js';
import { registerChangeResources } from './resources/changes.js';
import { registerGroupResources } from './resources/groups.js';
import { NO_NOTICES, trackSubscriptions, withoutResourceNotices } from './subscriptions.js';
import { registerTools } from './tool-calls.js';
import type { ToolSets } from './tool-selection.js';

export interface ServerOptions {
  sinch: SinchGroupsClient;
  /** The tools the process may offer, selected once at start-up (selectTools). */
  tools: ToolSets;
  /** This session gets only the tools that change nothing (--read-only/SINCH_READ_ONLY). */
  readOnly?: boolean;
  /** True when `sinch` talks to the built-in emulator rather than a Sinch account. */
  emulated?: boolean;
  /** The process's tool calls, which stopping waits for; a server of its own by default. */
  calls?: ToolCalls;
  /** The change journal; without it list_changes and undo_change are not offered. */
  journal?: Journal;
  /** Which folders file arguments may name; by default only the client's roots. */
  files?: FileSettings;
  /**
   * Whether resources/subscribe and resource list changes are offered (the default); false for stateless HTTP,
   * where no later request reaches this server and no stream outlives the request that opened it.
   */
  subscriptions?: boolean;
  /** Where the audit line of each applied change goes; stderr unless told otherwise. */
  audit?: (line: string) => void;
}

/** Tools that read or undo the journal, offered only with one. */
export const JOURNAL_TOOLS = ['list_changes', 'undo_change'];

const INSTRUCTIONS =
  'Manages Sinch SMS groups: named lists of phone numbers used as SMS recipients. Numbers are in E.164 (e.g. +14155550123). ' +
  'To find a group by name, call list_groups with name (one call searches every page); to find which groups hold a number, find_numbers; ' +
  'to opt a number out of every group (e.g. after STOP), remove_numbers_everywhere. ' +
  'Read a group (get_group, list_group_members, or the sinch://groups/{group_id} resources) before changing it, preview changes with dry_run, ' +
  'and prefer update_group to replace_group, which overwrites every member.';

const EMULATED =
  ' No Sinch credentials are configured, so this server runs on a local emulator with example groups: nothing reaches Sinch or any phone. ' +
  'Set SINCH_SERVICE_PLAN_ID and SINCH_API_TOKEN to use a real account.';

const PROMPTS = [carefulChangePrompt];

// Shared by every server: building Ajv costs more than all the rest of a stateless HTTP request. It
// checks only the answers to confirmations (elicitation), so it is built with the first one, not at start-up.
let ajv: AjvJsonSchemaValidator | undefined;
const validator: jsonSchemaValidator = { getValidator: (schema) => (ajv ??= new AjvJsonSchemaValidator()).getValidator(schema) };

/** One MCP server (one session) over a Sinch client: tools, group resources (with subscriptions unless told not), and a prompt. */
export function createServer({
  sinch,
  tools,
  readOnly = false,
  emulated = false,
  calls = new ToolCalls(),
  journal,
  files: fileSettings = { folders: [], roots: true },
  subscriptions = true,
  audit,
}: ServerOptions): McpServer {
  const offered = (readOnly ? tools.readOnly : tools.all).filter((tool) => journal || !JOURNAL_TOOLS.includes(tool.name));
  const server = new McpServer(
    { name: NAME, version: VERSION },
    // logging lets a client set the level it wants (logging/setLevel), as MCP clients expect to.
    {
      instructions: emulated ? INSTRUCTIONS + EMULATED : INSTRUCTIONS,
      capabilities: { logging: {} },
      jsonSchemaValidator: validator,
    },
  );
  const notifier = subscriptions ? trackSubscriptions(server) : NO_NOTICES;
  registerGroupResources(server, sinch);
  const changes = new ChangeLog(sinch.accountId, journal, audit);
  if (journal) registerChangeResources(server, changes);
  if (!subscriptions) withoutResourceNotices(server);
  const files = new FileAccess(fileSettings);
  const readRoots = () => files.useRoots(async () => (await server.server.listRoots()).roots.map((root) => root.uri));
  server.server.oninitialized = () => {
    if (server.server.getClientCapabilities()?.roots) readRoots();
  };
  server.server.setNotificationHandler(RootsListChangedNotificationSchema, () => readRoots());
  registerTools(server, offered, calls, {
    sinch,
    changes,
    files,
    changed: notifier.changed,
    confirm: (consequence, confirmed) => confirmChange(server.server, consequence, confirmed),
  });
  for (const prompt of PROMPTS) {
    if (offered.some((tool) => tool.name === prompt.requires)) prompt.register(server, sinch);
  }
  return server;
}
