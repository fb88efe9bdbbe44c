// The Claude Desktop extension: `npm run pack:mcpb` (after the build) writes dist/sinch-groups-mcp.mcpb, or the
// file given with --out. Its tools and prompt are read from the server itself, so the manifest never drifts.
import { copyFile, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { packExtension } from '@anthropic-ai/mcpb';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import pkg from '../package.json' with { type: 'json' };
import { createServer } from '../src/mcp/server.js';
import { selectTools } from '../src/mcp/tool-selection.js';
import { tools } from '../src/mcp/tools/index.js';
import { SinchGroupsClient } from '../src/sinch/client.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const MCPB_FILE = join(ROOT, 'dist', 'sinch-groups-mcp.mcpb');
/** The version of the manifest format: the newest that `mcpb validate` and Claude Desktop document as current. */
export const MANIFEST_VERSION = '0.3';

/**
 * What the user is asked for when installing, and the variable each one becomes. Every field is optional:
 * with no credentials the server runs on its emulator. A field left empty comes through as "" or as its
 * unfilled `${user_config.x}` placeholder, both of which the server reads as unset (src/config.ts, setting).
 */
export const USER_CONFIG = {
  service_plan_id: {
    env: 'SINCH_SERVICE_PLAN_ID',
    type: 'string',
    title: 'Service plan ID',
    description: 'Sinch dashboard, SMS > APIs. Leave empty (with the token) to try the built-in emulator with example groups.',
  },
  api_token: {
    env: 'SINCH_API_TOKEN',
    type: 'string',
    title: 'API token',
    description: "The service plan's API token.",
    sensitive: true,
  },
  region: {
    env: 'SINCH_REGION',
    type: 'string',
    title: 'Region',
    description: 'us (when empty), eu, au, br or ca: where your service plan lives. Ignored without credentials.',
  },
  default_country: {
    env: 'SINCH_DEFAULT_COUNTRY',
    type: 'string',
    title: 'Default country',
    description: 'Two-letter code such as GB or US: national numbers are read as this country\'s. Empty: only international numbers (+44…).',
  },
  read_only: {
    env: 'SINCH_READ_ONLY',
    type: 'boolean',
    title: 'Read-only',
    description: 'Offer only the tools that change nothing.',
    default: false,
  },
  files_dir: {
    env: 'SINCH_FILES_DIR',
    type: 'directory',
    title: 'Folder for imports and exports',
    description: 'CSV and text files of numbers are read from and exports written to this folder. Empty: no file arguments.',
  },
  journal: {
    env: 'SINCH_JOURNAL',
    type: 'boolean',
    title: 'Keep the change journal',
    description: 'Record every change in a journal on this computer, so that it can be listed and undone.',
    default: true,
  },
} as const;

/** The prompts the server offers, as the manifest declares them: argument values are `${arguments.name}`. */
async function promptsOfServer() {
  // The server is asked in memory; the client is never used, since reading prompts sends nothing to Sinch.
  const sinch = new SinchGroupsClient({ baseUrl: 'http://127.0.0.1:9', servicePlanId: 'unused', apiToken: 'unused' });
  const server = createServer({ sinch, tools: selectTools(tools, { readOnly: false }) });
  const client = new Client({ name: 'pack-mcpb', version: pkg.version });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
  try {
    const { prompts } = await client.listPrompts();
    return await Promise.all(
      prompts.map(async ({ name, description, arguments: args = [] }) => {
        // Letters and digits pass any argument's check (a group id, say); each is then replaced by its placeholder.
        const sentinel = (i: number) => `ZqArgument${i}Zq`;
        const { messages } = await client.getPrompt({ name, arguments: Object.fromEntries(args.map((arg, i) => [arg.name, sentinel(i)])) });
        let text = messages.map((message) => (message.content.type === 'text' ? message.content.text : '')).join('\n\n');
        args.forEach((arg, i) => (text = text.replaceAll(sentinel(i), `\${arguments.${arg.name}}`)));
        return { name, ...(description ? { description } : {}), arguments: args.map((arg) => arg.name), text };
      }),
    );
  } finally {
    await client.close();
    await server.close();
    await sinch.close();
  }
}

export async function buildManifest() {
  const author = (pkg as { author?: string | { name: string } }).author;
  return {
    manifest_version: MANIFEST_VERSION,
    name: pkg.name,
    display_name: 'Sinch SMS Groups',
    version: pkg.version,
    description: pkg.description,
    long_description:
      'Lets Claude list, find, create, change and delete Sinch SMS groups, preview every change before it is made, ' +
      'import and export numbers as CSV files, and undo changes from a local journal. Without credentials it runs on a ' +
      'built-in emulator with example groups, so nothing reaches Sinch or any phone.',
    author: typeof author === 'string' ? { name: author } : (author ?? { name: 'sinch-groups-mcp contributors' }),
    license: pkg.license,
    keywords: ['sinch', 'sms', 'groups', 'mcp'],
    server: {
      type: 'node',
      entry_point: 'server/index.js',
      mcp_config: {
        command: 'node',
        args: ['${__dirname}/server/index.js'],
        env: Object.fromEntries(Object.entries(USER_CONFIG).map(([key, { env }]) => [env, `\${user_config.${key}}`])),
      },
    },
    tools: tools.map(({ name, description }) => ({ name, description })),
    prompts: await promptsOfServer(),
    compatibility: { platforms: ['darwin', 'win32', 'linux'], runtimes: { node: pkg.engines.node } },
    user_config: Object.fromEntries(Object.entries(USER_CONFIG).map(([key, { env: _, ...option }]) => [key, option])),
  };
}

/** Lays out the bundle's files in a new folder: the built server without source maps, the manifest, README, LICENSE. */
export async function stage(folder: string): Promise<void> {
  const from = join(ROOT, 'dist', 'cli');
  await stat(join(from, 'index.js')).catch(() => {
    throw new Error('dist/cli/index.js is missing: run npm run build first');
  });
  // Every build starts from an empty dist/, so its .js files are what runs; a development build's maps stay out.
  const files = (await readdir(from, { recursive: true })).map(String).filter((file) => file.endsWith('.js'));
  for (const file of files) {
    await mkdir(dirname(join(folder, 'server', file)), { recursive: true });
    await copyFile(join(from, file), join(folder, 'server', file));
  }
  // The bundle is ES modules; with no package.json beside it, Node before 20.19 would read it as CommonJS.
  await writeFile(join(folder, 'server', 'package.json'), `${JSON.stringify({ type: 'module' })}\n`);
  await writeFile(join(folder, 'manifest.json'), `${JSON.stringify(await buildManifest(), null, 2)}\n`);
  for (const file of ['README.md', 'LICENSE']) await copyFile(join(ROOT, file), join(folder, file));
}

export async function packMcpb(outputPath = MCPB_FILE): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'sinch-groups-mcpb-'));
  try {
    await stage(folder);
    await mkdir(dirname(outputPath), { recursive: true });
    if (!(await packExtension({ extensionPath: folder, outputPath, silent: true }))) throw new Error('mcpb pack failed');
    return outputPath;
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  const file = await packMcpb(values.out === undefined ? MCPB_FILE : resolve(values.out));
  console.log(`wrote ${file} (${((await stat(file)).size / 1024).toFixed(0)} KiB)`);
}
