// The packaging checks: one line per check, "ok:" or "FAILED:" with the reason; exits 1 when any failed.
// Expects dist/sinch-groups-mcp.mcpb (check-packaging.sh packs it first).
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { unpackExtension } from '@anthropic-ai/mcpb';
import pkg from '../package.json' with { type: 'json' };
import { tools } from '../src/mcp/tools/index.js';
import { MCPB_FILE, ROOT, USER_CONFIG } from './mcpb.js';
import { run, schemaErrors, startAsManifestSays, variablesInSource } from './packaging.js';

const checks: [string, () => Promise<string | void>][] = [];
const check = (what: string, body: () => Promise<string | void>) => checks.push([what, body]);

const folder = await mkdtemp(join(tmpdir(), 'sinch-groups-mcpb-check-'));
const serverJson = JSON.parse(await readFile(join(ROOT, 'server.json'), 'utf8'));
const manifest = async () => JSON.parse(await readFile(join(folder, 'manifest.json'), 'utf8'));

check('the extension unpacks', async () => {
  if (!(await unpackExtension({ mcpbPath: MCPB_FILE, outputDir: folder, silent: true }))) throw new Error(`cannot unpack ${MCPB_FILE}`);
  return `${relative(ROOT, MCPB_FILE)}, ${((await stat(MCPB_FILE)).size / 1024).toFixed(0)} KiB`;
});

check('the manifest passes `mcpb validate`', async () => {
  const { code, output } = await run(join(ROOT, 'node_modules', '.bin', 'mcpb'), ['validate', join(folder, 'manifest.json')]);
  if (code !== 0) throw new Error(output.trim());
});

check("the manifest's version, tools and settings are the package's", async () => {
  const { version, tools: declared, user_config } = await manifest();
  if (version !== pkg.version) throw new Error(`version ${version}, package.json ${pkg.version}`);
  const names = declared.map((tool: { name: string }) => tool.name).join(',');
  if (names !== tools.map((tool) => tool.name).join(',')) throw new Error(`tools ${names} are not src/mcp/tools/index.ts's`);
  if (Object.keys(user_config).join(',') !== Object.keys(USER_CONFIG).join(',')) throw new Error('user_config differs from .ci/mcpb.ts');
});

check('started as its manifest says with nothing filled in, it answers initialize on the emulator', async () => {
  const state = await mkdtemp(join(tmpdir(), 'sinch-groups-mcpb-state-'));
  const env = { PATH: process.env.PATH ?? '', HOME: state, XDG_STATE_HOME: state, LOCALAPPDATA: state };
  const server = await startAsManifestSays(folder, {}, env);
  try {
    if (!server.instructions?.includes('runs on a local emulator')) throw new Error(`instructions do not say so: ${server.instructions}`);
    const { tools: offered } = await server.client.listTools();
    return `${offered.length} tools`;
  } finally {
    await server.close();
    await rm(state, { recursive: true, force: true });
  }
});

check('server.json is valid against the registry schema (.ci/server.schema.json, 2025-12-11)', async () => {
  const errors = await schemaErrors(serverJson);
  if (errors.length > 0) throw new Error(errors.join('; '));
});

check("server.json's name and versions are package.json's", async () => {
  const mcpName = (pkg as { mcpName?: string }).mcpName;
  if (serverJson.name !== mcpName) throw new Error(`name ${serverJson.name}, mcpName ${mcpName}`);
  const stale = [serverJson, ...serverJson.packages.filter((entry: { registryType: string }) => entry.registryType === 'npm')].filter((entry) => entry.version !== pkg.version);
  if (stale.length > 0) throw new Error(`version ${stale[0].version}, package.json ${pkg.version}`);
});

check('server.json declares every SINCH_* and MCP_* variable the source reads', async () => {
  const declared = new Set(serverJson.packages.flatMap((entry: { environmentVariables?: { name: string }[] }) => (entry.environmentVariables ?? []).map((variable) => variable.name)));
  const missing = (await variablesInSource()).filter((name) => !declared.has(name));
  if (missing.length > 0) throw new Error(`missing ${missing.join(', ')}`);
});

let failed = 0;
for (const [what, body] of checks) {
  try {
    const detail = await body();
    console.log(`ok: ${what}${detail ? ` (${detail})` : ''}`);
  } catch (error) {
    failed++;
    console.log(`FAILED: ${what}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
await rm(folder, { recursive: true, force: true });
process.exit(failed > 0 ? 1 : 0);
