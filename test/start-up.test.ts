import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { getCountries } from 'libphonenumber-js/min';
import { expect } from 'vitest';
import { COUNTRIES } from '../src/sinch/countries.js';
import { bare, CLI, cleanEnv, number, sinchEnv, tempDir, test, until } from './harness.js';

// Starting over stdio loads only what answering initialize and tools/list needs; the rest comes with the
// first call that uses it. What the built server has loaded is read by a probe preloaded into it: on
// SIGUSR2 it says on stderr which of its own files (the bundle's chunks) and which Node built-ins it loaded.

const PROBE = `
import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
const { port1, port2 } = new MessageChannel();
const files = new Set();
port1.on('message', (url) => files.add(url));
port1.unref();
const hooks = 'let port; export function initialize(data) { port = data.port; } ' +
  'export async function load(url, context, next) { port.postMessage(url); return next(url, context); }';
register('data:text/javascript,' + encodeURIComponent(hooks), { data: { port: port2 }, transferList: [port2] });
process.on('SIGUSR2', () => {
  const builtins = process.moduleLoadList.filter((name) => name.startsWith('NativeModule ')).map((name) => name.slice(13));
  process.stderr.write('LOADED ' + JSON.stringify({ files: [...files], builtins }) + '\\n');
});
`;

interface Loaded {
  /** The bundle's files, by name: undici-*.js is undici, min-*.js the phone number library. */
  files: string[];
  /** What the bundle's files loaded so far weigh together, in bytes. */
  bytes: number;
  builtins: string[];
}

/**
 * The code loaded to answer initialize and tools/list may weigh this much: it was 2.8 MB with undici, the
 * phone number library and all of zod; about 470 KB without. Importing `{ z }` from zod rather than
 * `* as z` alone puts the whole of zod back (830 KB).
 */
const START_UP_BYTES = 600_000;

test('over stdio, start-up loads under 600 KB of code; node:crypto, undici and the phone number library come with the first call that needs each', async ({ defer, emulator }) => {
  const sinch = await emulator();
  const group = sinch.store.create({ name: 'Start-up', members: [bare(number(1))] });
  const folder = await tempDir();
  const probe = join(folder, 'probe.mjs');
  await writeFile(probe, PROBE);
  // The journal on, as stdio users have it: it must not load node:crypto at start-up either (undici loads it later).
  const env = cleanEnv({ ...sinchEnv(sinch), SINCH_JOURNAL: join(folder, 'journal.jsonl') });
  const transport = new StdioClientTransport({ command: process.execPath, args: ['--import', probe, CLI], env, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const client = new Client({ name: 'start-up-test', version: '1.0.0' });
  await client.connect(transport);
  defer(() => client.close());
  const loaded = async (): Promise<Loaded> => {
    const seen = stderr.length;
    const answer = () => /^LOADED (.*)$/m.exec(stderr.slice(seen))?.[1];
    process.kill(transport.pid!, 'SIGUSR2');
    await until(() => answer() !== undefined, 'the probe to answer');
    const { files, builtins } = JSON.parse(answer()!) as { files: string[]; builtins: string[] };
    const bundle = files.filter((url) => url.startsWith(new URL('../dist/cli/', import.meta.url).href)).map((url) => fileURLToPath(url));
    const sizes = await Promise.all(bundle.map(async (path) => (await stat(path)).size));
    return { files: bundle.map((path) => basename(path)), bytes: sizes.reduce((sum, size) => sum + size, 0), builtins };
  };
  const undici = (x: Loaded) => x.files.some((file) => file.startsWith('undici-'));
  const phoneNumbers = (x: Loaded) => x.files.some((file) => file.startsWith('min-'));
  const crypto = (x: Loaded) => x.builtins.includes('crypto');

  expect((await client.listTools()).tools.length).toBeGreaterThan(0);
  const started = await loaded();
  expect(started.files.some((file) => file.startsWith('stdio-')), 'the probe sees the chunks').toBe(true);
  expect({ undici: undici(started), phoneNumbers: phoneNumbers(started), crypto: crypto(started) }).toEqual({ undici: false, phoneNumbers: false, crypto: false });
  expect(started.bytes).toBeLessThan(START_UP_BYTES);

  expect((await client.callTool({ name: 'get_group', arguments: { group_id: group.id } })).isError).toBeFalsy();
  const read = await loaded();
  expect({ undici: undici(read), phoneNumbers: phoneNumbers(read) }).toEqual({ undici: true, phoneNumbers: false });

  const created = await client.callTool({ name: 'create_group', arguments: { name: 'Numbers', members: [number(2)] } });
  expect(created.isError).toBeFalsy();
  const changed = await loaded();
  expect(phoneNumbers(changed)).toBe(true);
});

test('SINCH_DEFAULT_COUNTRY is checked against the countries the phone number library knows, without loading it', () => {
  expect([...COUNTRIES].sort()).toEqual([...getCountries()].sort());
});

test('the built server is minified and carries no source maps (npm run build:dev makes the build with them)', async () => {
  const folder = new URL('../dist/cli/', import.meta.url).pathname;
  const files = [...(await readdir(folder, { recursive: true }))].filter((file) => file.endsWith('.js') || file.endsWith('.map'));
  expect(files.filter((file) => file.endsWith('.map')), 'dist/ is a development build: npm test builds the shipped one').toEqual([]);
  for (const file of files) {
    const code = await readFile(join(folder, file), 'utf8');
    expect(code, file).not.toContain('sourceMappingURL');
    // Unminified, esbuild heads each module's code with a comment naming its file; minified, it does not.
    expect(code, file).not.toMatch(/^\/\/ (src|node_modules)\//m);
  }
});
