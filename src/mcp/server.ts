import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { SinchGroupsClient } from '../sinch/client.js';
import { NAME, VERSION } from '../version.js';
import { registerTools } from './tool.js';
import { tools } from './tools/index.js';

export interface ServerOptions {
  sinch: SinchGroupsClient;
  /** True when `sinch` talks to the built-in emulator rather than a Sinch account. */
  emulated?: boolean;
}

const INSTRUCTIONS =
  'Manages Sinch SMS groups: named lists of phone numbers used as SMS recipients. Numbers are in E.164 (e.g. +14155550123). ' +
  'Read a group (get_group, list_group_members) before changing it, and prefer update_group to replace_group, which overwrites every member.';

const EMULATED =
  ' No Sinch credentials are configured, so this server runs on a local emulator with example groups: nothing reaches Sinch or any phone. ' +
  'Set SINCH_SERVICE_PLAN_ID and SINCH_API_TOKEN to use a real account.';

export function createServer({ sinch, emulated = false }: ServerOptions): McpServer {
  const server = new McpServer(
    { name: NAME, version: VERSION },
    { instructions: emulated ? INSTRUCTIONS + EMULATED : INSTRUCTIONS },
  );
  registerTools(server, tools, { sinch });
  return server;
}
