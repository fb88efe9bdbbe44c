import { execFile } from 'node:child_process';
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { build, type Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import pkg from '../package.json' with { type: 'json' };
import { cleanEnv, tempDir, TOOL_NAMES_WITHOUT_JOURNAL } from './harness.js';

// The package as a user gets it: packed from this checkout's dist/ (built by `npm test`), installed from the
// tarball into an empty folder with the registry out of reach, and run through its bin. And a checkout installed
// with --omit=dev, which has no esbuild to build with.

const ROOT = new URL('..', import.meta.url).pathname;
const run = promisify(execFile);

interface Packed {
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string }[];
}

let folder: string;
let packed: Packed;
let installed: string;
/** The installed bundle as esbuild sees it from its entry: the files it loads and what it imports from outside. */
let reached: Metafile;

/** npm in a clean environment: no settings from an npm that runs these tests, and a cache of its own. */
const runNpm = (command: 'npm' | 'npx', args: string[], cwd: string) =>
  run(command, args, {
    cwd,
    env: {
      ...Object.fromEntries(Object.entries(cleanEnv()).filter(([key]) => !/^npm_/i.test(key))),
      npm_config_cache: join(folder, 'npm-cache'),
      npm_config_update_notifier: 'false',
    },
  });

beforeAll(async () => {
  folder = await tempDir();
  // --ignore-scripts: prepare would rebuild dist/ while other test files run it.
  const { stdout } = await runNpm('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', folder], ROOT);
  packed = (JSON.parse(stdout) as [Packed])[0];
  // A package.json of its own, so that npm installs here and not into a node_modules found further up.
  installed = join(folder, 'project');
  await mkdir(installed);
  await writeFile(join(installed, 'package.json'), '{ "private": true }\n');
  await runNpm('npm', ['install', '--offline', '--no-audit', '--no-fund', join(folder, packed.filename)], installed);
  // esbuild follows the static and dynamic imports from the entry, and keeps any bare name as an external.
  const dist = join(installed, 'node_modules/sinch-groups-mcp/dist/cli');
  ({ metafile: reached } = await build({
    entryPoints: ['index.js'],
    absWorkingDir: dist,
    bundle: true,
    write: false,
    outdir: 'rebundled',
    platform: 'node',
    format: 'esm',
    packages: 'external',
    metafile: true,
    logLevel: 'silent',
  }));
}, 60_000);

afterAll(() => folder && rm(folder, { recursive: true, force: true }));

describe('the npm package', () => {
  test('holds the built command line without source maps, README.md, LICENSE and package.json, and nothing else', async () => {
    const paths = packed.files.map((file) => file.path).sort();
    expect(paths).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'dist/cli/index.js', 'package.json']));
    expect(paths.filter((path) => !/^(LICENSE|README\.md|package\.json|dist\/cli\/.+\.js)$/.test(path))).toEqual([]);
    expect(paths.some((path) => path.startsWith('dist/cli/chunks/'))).toBe(true);
    // No chunk left over from an earlier build: the entry loads every file.
    expect(paths.filter((path) => path.startsWith('dist/'))).toEqual(Object.keys(reached.inputs).map((path) => `dist/cli/${path}`).sort());
  });

  test('installs nothing but itself: the libraries it uses are inside the bundle', async () => {
    const lock = JSON.parse(await readFile(join(installed, 'package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
    expect(Object.keys(lock.packages).sort()).toEqual(['', 'node_modules/sinch-groups-mcp']);
    expect((await readdir(join(installed, 'node_modules'))).filter((name) => !name.startsWith('.'))).toEqual(['sinch-groups-mcp']);
    const manifest = JSON.parse(await readFile(join(installed, 'node_modules/sinch-groups-mcp/package.json'), 'utf8'));
    expect(manifest.dependencies ?? {}).toEqual({});
    expect(manifest.mcpName).toBe('io.github.sinch-groups-mcp/sinch-groups-mcp');
  });

  test('loads no package at run time: every import and require left in the bundle is a Node built-in', async () => {
    const dist = join(installed, 'node_modules/sinch-groups-mcp/dist/cli');
    const imported = Object.values(reached.outputs).flatMap((output) => output.imports.filter((i) => i.external).map((i) => i.path));
    // It cannot see require(): the bundle calls it as esbuild's __require, which the banner's createRequire backs.
    const required: string[] = [];
    for (const file of await readdir(dist, { recursive: true })) {
      if (!file.endsWith('.js')) continue;
      const code = await readFile(join(dist, file), 'utf8');
      for (const [, name] of code.matchAll(/\b__require\(\s*["']([^"']+)["']\s*\)/g)) required.push(name!);
    }
    expect(imported.length + required.length).toBeGreaterThan(0);
    // A node: name is a built-in even where this Node lacks it: undici probes for node:sqlite, absent on 20, in a try.
    expect([...imported, ...required].filter((name) => !name.startsWith('node:') && !isBuiltin(name))).toEqual([]);
  });

  test('`npx sinch-groups-mcp --version` prints the version in package.json', async () => {
    const { stdout } = await runNpm('npx', ['-y', '--offline', 'sinch-groups-mcp', '--version'], installed);
    expect(stdout).toBe(`${pkg.version}\n`);
  });

  test('the installed bin answers initialize over stdio, on the emulator without credentials', async () => {
    const transport = new StdioClientTransport({
      command: join(installed, 'node_modules/.bin/sinch-groups-mcp'),
      cwd: installed,
      env: cleanEnv(),
      stderr: 'pipe',
    });
    const client = new Client({ name: 'package-test', version: '1.0.0' });
    try {
      await client.connect(transport);
      expect(client.getServerVersion()).toMatchObject({ name: pkg.name, version: pkg.version });
      expect(client.getInstructions()).toMatch(/emulator/);
      expect((await client.listTools()).tools.map((tool) => tool.name).sort()).toEqual(TOOL_NAMES_WITHOUT_JOURNAL);
    } finally {
      await client.close();
    }
  });
});

describe('a checkout installed without its dev dependencies', () => {
  /** package.json, the lockfile and the prepare script, in a folder of their own: a checkout without esbuild. */
  async function checkout(name: string) {
    const dir = join(folder, name);
    await mkdir(join(dir, '.ci'), { recursive: true });
    for (const file of ['package.json', 'package-lock.json', '.ci/prepare.mjs']) await copyFile(join(ROOT, file), join(dir, file));
    return dir;
  }
  /** npm's own banner lines ("> name@version script", "> command") and blank lines: nothing else may reach stdout. */
  const notNpms = (stdout: string) => stdout.split('\n').filter((line) => line !== '' && !line.startsWith('> '));

  test('npm ci --omit=dev succeeds without a build, says how to get one, and npm start then says it too', async () => {
    const dir = await checkout('no-build');
    const { stderr } = await runNpm('npm', ['ci', '--omit=dev', '--offline', '--no-audit', '--no-fund'], dir);
    expect(stderr).toMatch(/^sinch-groups-mcp: esbuild is not installed \(dev dependencies omitted\), so dist\/ was not built: run `npm install` with the dev dependencies and `npm run build`/m);
    expect(await readdir(dir)).not.toContain('dist');
    const start = await runNpm('npm', ['start'], dir).then(
      () => ({ code: 0, stdout: '', stderr: '' }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(start.code).toBe(1);
    expect(start.stderr).toMatch(/^sinch-groups-mcp: dist\/cli\/index\.js is missing: run npm install \(with the dev dependencies\) and npm run build first$/m);
    expect(notNpms(start.stdout)).toEqual([]);
  });

  test('npm ci --omit=dev keeps a build that is already there', async () => {
    const dir = await checkout('built');
    await mkdir(join(dir, 'dist/cli'), { recursive: true });
    await writeFile(join(dir, 'dist/cli/index.js'), '');
    const { stderr } = await runNpm('npm', ['ci', '--omit=dev', '--offline', '--no-audit', '--no-fund'], dir);
    expect(stderr).toMatch(/^sinch-groups-mcp: esbuild is not installed \(dev dependencies omitted\), so dist\/ was not rebuilt: the build already there is kept$/m);
    expect(await readFile(join(dir, 'dist/cli/index.js'), 'utf8')).toBe('');
  });
});
