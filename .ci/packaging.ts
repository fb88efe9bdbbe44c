// What the packaging checks (.ci/check-packaging.sh) and their tests share: server.json against the registry's
// schema, the variables the source reads, and the extension started exactly as its manifest says.
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { getMcpConfigForManifest, type McpbManifestAny } from '@anthropic-ai/mcpb';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { ROOT } from './mcpb.js';

/**
 * The registry's schema for server.json, kept in the repository: $id
 * https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json (sha256 3fba0959…4114de0).
 */
export const SERVER_SCHEMA = join(ROOT, '.ci', 'server.schema.json');

/** Why server.json does not match the registry's schema; empty when it does. */
export async function schemaErrors(serverJson: unknown): Promise<string[]> {
  // The schema uses "example", which is no JSON Schema keyword: strict mode would refuse the schema itself.
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats.default(ajv);
  const validate = ajv.compile(JSON.parse(await readFile(SERVER_SCHEMA, 'utf8')));
  if (validate(serverJson)) return [];
  return (validate.errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message}`);
}

/** Every SINCH_* and MCP_* variable named in src/. */
export async function variablesInSource(): Promise<string[]> {
  const names = new Set<string>();
  for (const entry of await readdir(join(ROOT, 'src'), { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const code = await readFile(join(entry.parentPath, entry.name), 'utf8');
    for (const [name] of code.matchAll(/\b(?:SINCH|MCP)_[A-Z0-9_]+\b/g)) names.add(name);
  }
  return [...names].sort();
}

export interface Started {
  client: Client;
  instructions: string | undefined;
  stderr: () => string;
  close(): Promise<void>;
}

/**
 * Starts an unpacked extension as an MCPB host does: its mcp_config with ${__dirname} and the user's settings
 * substituted by the mcpb library's own getMcpConfigForManifest (what was left empty stays a placeholder),
 * and its env laid over `baseEnv`. Connects an SDK client, which sends initialize.
 */
export async function startAsManifestSays(folder: string, userConfig: Record<string, string | number | boolean | string[]>, baseEnv: Record<string, string>): Promise<Started> {
  const manifest = JSON.parse(await readFile(join(folder, 'manifest.json'), 'utf8')) as McpbManifestAny;
  const config = await getMcpConfigForManifest({ manifest, extensionPath: folder, systemDirs: {}, userConfig, pathSeparator: '/' });
  if (!config) throw new Error('the manifest gives no server configuration for these settings');
  // Claude Desktop runs node-type extensions on a Node of its own; here the one running this script stands in.
  const command = config.command === 'node' ? process.execPath : config.command;
  const transport = new StdioClientTransport({ command, args: config.args ?? [], env: { ...baseEnv, ...config.env }, cwd: folder, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const client = new Client({ name: 'mcpb-host', version: '1.0.0' });
  try {
    await client.connect(transport);
  } catch (error) {
    throw new Error(`the extension did not answer initialize: ${(error as Error).message}\n${stderr}`);
  }
  return { client, instructions: client.getInstructions(), stderr: () => stderr, close: () => client.close() };
}

/** Runs a child process to its end, with its output. */
export function run(command: string, args: string[], cwd = ROOT): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}
