import { mkdtemp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { unpackExtension, v0_3 } from '@anthropic-ai/mcpb';
import { beforeAll, describe, expect } from 'vitest';
import { buildManifest, packMcpb, USER_CONFIG } from '../.ci/mcpb.js';
import { schemaErrors, startAsManifestSays, variablesInSource } from '../.ci/packaging.js';
import { mcpbUrl, releasedServerJson, releaseOf } from '../.ci/release.js';
import pkg from '../package.json' with { type: 'json' };
import { tools } from '../src/mcp/tools/index.js';
import { cleanEnv, tempDir, test } from './harness.js';

const serverJson = JSON.parse(await readFile(new URL('../server.json', import.meta.url), 'utf8'));
type Variable = { name: string; description: string; isSecret?: boolean; isRequired?: boolean };
const variablesOf = (entry: { environmentVariables?: Variable[] }) => (entry.environmentVariables ?? []).map((variable) => variable.name);
const [stdio, http] = serverJson.packages as { transport: { type: string }; environmentVariables: Variable[] }[];
const HTTP_ONLY = /^MCP_(?!MAX_BODY_BYTES$)/;

describe('server.json', () => {
  test("is valid against the registry's schema, which refuses a broken copy", async () => {
    expect(await schemaErrors(serverJson)).toEqual([]);
    expect(await schemaErrors({ ...serverJson, name: 'no namespace', version: 1 })).toEqual([
      '/name must match pattern "^[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+$"',
      '/version must be string',
    ]);
  });

  test("its name is package.json's mcpName, its versions package.json's", () => {
    expect(serverJson.name).toBe('io.github.sinch-groups-mcp/sinch-groups-mcp');
    expect(serverJson.name).toBe(pkg.mcpName);
    expect([serverJson.version, stdio!, http!].map((entry) => (typeof entry === 'string' ? entry : (entry as { version: string }).version))).toEqual([pkg.version, pkg.version, pkg.version]);
  });

  test('the --http entry declares every SINCH_* and MCP_* variable the source reads; the stdio entry all but the HTTP ones', async () => {
    const source = await variablesInSource();
    expect(source).toContain('SINCH_SERVICE_PLAN_ID');
    expect(source).toContain('MCP_AUTH_TOKEN');
    expect(variablesOf(http!).sort()).toEqual([...source].sort());
    expect(variablesOf(stdio!).sort()).toEqual(source.filter((name) => !HTTP_ONLY.test(name)).sort());
  });

  test('the --http entry reaches the server on the port it is given, with the token it was started with', () => {
    const { transport, packageArguments } = http as unknown as {
      transport: { url: string; headers: { name: string; value: string; isSecret?: boolean }[] };
      packageArguments: { name?: string; valueHint?: string; default?: string }[];
    };
    expect(transport.url).toBe('http://127.0.0.1:{port}/mcp');
    expect(packageArguments).toContainEqual(expect.objectContaining({ name: '--port', valueHint: 'port', default: '3000' }));
    expect(transport.headers).toEqual([expect.objectContaining({ name: 'Authorization', value: 'Bearer {MCP_AUTH_TOKEN}', isSecret: true })]);
    expect(variablesOf(http!)).toContain('MCP_AUTH_TOKEN');
  });

  test('tokens and secrets are secret, nothing is required, HTTP-mode variables say so', () => {
    const all = [...stdio!.environmentVariables, ...http!.environmentVariables];
    expect([...new Set(all.filter((variable) => variable.isSecret).map((variable) => variable.name))].sort()).toEqual([
      'MCP_AUTH_TOKEN',
      'MCP_OAUTH_CLIENT_SECRET',
      'SINCH_API_TOKEN',
      'SINCH_KEY_SECRET',
    ]);
    expect(all.filter((variable) => variable.isRequired)).toEqual([]);
    for (const variable of http!.environmentVariables.filter((variable) => HTTP_ONLY.test(variable.name))) {
      expect(variable.description).toMatch(/^HTTP mode: /);
    }
  });
});

describe('a release', () => {
  const release = { owner: 'sinch-groups-mcp', tag: 'v1.2.3', version: '1.2.3', sha256: 'a'.repeat(64) };

  test('adds the extension with its release URL and sha256, sets the version everywhere, and stays valid', async () => {
    const released = releasedServerJson(serverJson, release);
    expect(await schemaErrors(released)).toEqual([]);
    expect(released.version).toBe('1.2.3');
    expect(released.packages.map((entry: { registryType: string; version?: string }) => [entry.registryType, entry.version])).toEqual([
      ['npm', '1.2.3'],
      ['npm', '1.2.3'],
      ['mcpb', '1.2.3'],
    ]);
    expect(released.packages[2]).toEqual({
      registryType: 'mcpb',
      identifier: 'https://github.com/sinch-groups-mcp/sinch-groups-mcp/releases/download/v1.2.3/sinch-groups-mcp.mcpb',
      version: '1.2.3',
      fileSha256: 'a'.repeat(64),
      transport: { type: 'stdio' },
    });
    // A second release replaces the extension's entry rather than adding one.
    expect(releasedServerJson(released, { ...release, tag: 'v1.2.4', version: '1.2.4' }).packages.map((entry: { identifier: string }) => entry.identifier)).toEqual([
      'sinch-groups-mcp',
      'sinch-groups-mcp',
      mcpbUrl('sinch-groups-mcp', 'v1.2.4'),
    ]);
  });

  test.each([
    [{ owner: 'sinch-groups-mcp', tag: '1.2.3' }, '--tag must be v and a version, such as v1.2.3 (got "1.2.3")'],
    [{ tag: 'v1.2.3' }, '--owner must be the GitHub user or organisation that owns the repository'],
    [{ owner: 'someone', tag: 'v1.2.3' }, 'mcpName in package.json is io.github.sinch-groups-mcp/sinch-groups-mcp, but a release by someone publishes io.github.someone/sinch-groups-mcp'],
  ])('%o is refused before anything changes', (args, message) => {
    expect(() => releaseOf(args, pkg.mcpName)).toThrow(message);
  });

  test('a pre-release tag is a version', () => {
    expect(releaseOf({ owner: 'sinch-groups-mcp', tag: 'v2.0.0-rc.1' }, pkg.mcpName)).toEqual({ owner: 'sinch-groups-mcp', tag: 'v2.0.0-rc.1', version: '2.0.0-rc.1' });
  });
});

describe('the Claude Desktop extension', () => {
  let folder: string;
  beforeAll(async () => {
    const out = join(await tempDir(), 'sinch-groups-mcp.mcpb');
    await packMcpb(out);
    folder = await tempDir();
    expect(await unpackExtension({ mcpbPath: out, outputDir: folder, silent: true })).toBe(true);
  }, 60_000);

  test("the manifest passes the mcpb schema and declares the server's tools and its prompt with placeholders", async () => {
    const manifest = await buildManifest();
    expect(v0_3.McpbManifestSchema.safeParse(manifest).success).toBe(true);
    expect(manifest.tools).toEqual(tools.map(({ name, description }) => ({ name, description })));
    expect(manifest.prompts.map(({ name, arguments: args }) => [name, args])).toEqual([['careful_membership_change', ['group_id', 'change']]]);
    expect(manifest.prompts[0]!.text).toMatch(/^I want to change SMS group \$\{arguments\.group_id\}: \$\{arguments\.change\}\n/);
    expect(manifest.prompts[0]!.text).toContain('Read sinch://groups/${arguments.group_id} and note its modified_at');
    expect(manifest.compatibility.runtimes.node).toBe(pkg.engines.node);
    expect(manifest.user_config).toMatchObject({ api_token: { type: 'string', sensitive: true }, files_dir: { type: 'directory' }, journal: { type: 'boolean', default: true } });
    expect(manifest.server.mcp_config.env).toEqual(Object.fromEntries(Object.entries(USER_CONFIG).map(([key, { env }]) => [env, `\${user_config.${key}}`])));
  });

  test('holds the bundle, its package.json, the manifest, README and LICENSE, and no source maps', async () => {
    const { readdir } = await import('node:fs/promises');
    const files = (await readdir(folder, { recursive: true })).map(String).sort();
    expect(files.filter((file) => !file.startsWith('server/chunks/'))).toEqual(['LICENSE', 'README.md', 'manifest.json', 'server', 'server/chunks', 'server/index.js', 'server/package.json']);
    expect(files.filter((file) => !file.endsWith('.js') && file.startsWith('server/chunks/'))).toEqual([]);
  });

  /** The environment Claude Desktop would give it, with a state folder of the test's own. */
  const hostEnv = async () => {
    const state = await tempDir();
    return { ...cleanEnv(), HOME: state, XDG_STATE_HOME: state, LOCALAPPDATA: state };
  };

  test('with nothing filled in it answers initialize on the emulator, says so, and keeps the journal', async () => {
    const server = await startAsManifestSays(folder, {}, await hostEnv());
    try {
      expect(server.instructions).toContain('No Sinch credentials are configured, so this server runs on a local emulator');
      expect(server.stderr()).toContain('no Sinch credentials set (SINCH_SERVICE_PLAN_ID, SINCH_API_TOKEN): running on the built-in emulator');
      expect((await server.client.listTools()).tools.map((tool) => tool.name)).toContain('undo_change');
    } finally {
      await server.close();
    }
  });

  test('empty credentials, read-only, no journal, and a region and country without credentials: started, the two ignored', async () => {
    const settings = { service_plan_id: '', api_token: '', region: 'eu', default_country: 'GB', read_only: true, journal: false, files_dir: await tempDir() };
    const server = await startAsManifestSays(folder, settings, await hostEnv());
    try {
      expect(server.instructions).toContain('runs on a local emulator');
      expect(server.stderr()).toContain('no Sinch credentials are set, so SINCH_REGION and SINCH_DEFAULT_COUNTRY are ignored');
      const offered = (await server.client.listTools()).tools;
      expect(offered.map((tool) => tool.name).sort()).toEqual(tools.filter((tool) => tool.annotations.readOnlyHint && tool.name !== 'list_changes').map((tool) => tool.name).sort());
    } finally {
      await server.close();
    }
  });

  test('a service plan id without its token stops it, naming what is missing', async () => {
    await expect(startAsManifestSays(folder, { service_plan_id: 'plan1' }, await hostEnv())).rejects.toThrow('SINCH_API_TOKEN must be set too (SINCH_SERVICE_PLAN_ID is set)');
  });
});
