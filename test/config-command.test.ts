import { mkdir, realpath, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { describe, expect } from 'vitest';
import { launchOf } from '../src/cli/config.js';
import { PLACEHOLDERS } from '../src/config.js';
import { VERSION } from '../src/version.js';
import { CLI, cleanEnv, spawnCli, tempDir, test } from './harness.js';

const SECRET = 'tok-from-the-environment-0123456789';

/** Runs `config` with credentials in the environment, which must never reach the output. */
async function config(...args: string[]) {
  const cli = spawnCli(['config', ...args], cleanEnv({ SINCH_SERVICE_PLAN_ID: 'plan-in-env', SINCH_API_TOKEN: SECRET }));
  const code = await cli.exited;
  expect(cli.stdout() + cli.stderr()).not.toContain(SECRET);
  expect(cli.stdout()).not.toContain('plan-in-env');
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}

describe('sinch-groups-mcp config', () => {
  const launch = async () => ({ command: process.execPath, args: [await realpath(CLI)] });

  test('claude-desktop by default: mcpServers with this Node, the real entry file and placeholders only; the hint on stderr', async () => {
    const { code, stdout, stderr } = await config();
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ mcpServers: { 'sinch-groups': { ...(await launch()), env: PLACEHOLDERS } } });
    expect(stderr).toContain('~/Library/Application Support/Claude/claude_desktop_config.json');
    expect(stderr).toContain('%APPDATA%\\Claude\\claude_desktop_config.json');
    expect(stderr).toContain('quit Claude Desktop completely');
  });

  test('cursor: the same mcpServers block, with where Cursor keeps it', async () => {
    const { stdout, stderr } = await config('--client', 'cursor');
    expect(JSON.parse(stdout)).toEqual({ mcpServers: { 'sinch-groups': { ...(await launch()), env: PLACEHOLDERS } } });
    expect(stderr).toContain('~/.cursor/mcp.json');
  });

  test('vscode: servers with type stdio, the credentials asked for as inputs, the token masked', async () => {
    const { stdout, stderr } = await config('--client', 'vscode');
    expect(JSON.parse(stdout)).toEqual({
      inputs: [
        { type: 'promptString', id: 'sinch-service-plan-id', description: 'Sinch service plan id (leave empty for the emulator)' },
        { type: 'promptString', id: 'sinch-api-token', description: 'Sinch API token', password: true },
      ],
      servers: {
        'sinch-groups': {
          type: 'stdio',
          ...(await launch()),
          env: { SINCH_SERVICE_PLAN_ID: '${input:sinch-service-plan-id}', SINCH_API_TOKEN: '${input:sinch-api-token}', SINCH_REGION: 'us' },
        },
      },
    });
    expect(stderr).toContain('.vscode/mcp.json');
  });

  test('claude-code: one claude mcp add command line', async () => {
    const { stdout, stderr } = await config('--client', 'claude-code');
    const { command, args } = await launch();
    expect(stdout).toBe(
      `claude mcp add sinch-groups --scope user -e SINCH_SERVICE_PLAN_ID=your-service-plan-id -e SINCH_API_TOKEN=your-api-token -e SINCH_REGION=us -- ${command} ${args[0]}\n`,
    );
    expect(stderr).toContain('claude mcp list');
  });

  test('an unknown client is a usage error naming the choices', async () => {
    const { code, stdout, stderr } = await config('--client', 'emacs');
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('--client must be one of claude-desktop, claude-code, cursor, vscode (got "emacs")');
    expect(stderr).toContain('Usage:');
  });

  test('the printed command starts the server from another folder; without the printed variables, on the emulator', async () => {
    const { stdout } = await config();
    const { command, args, env: printed } = JSON.parse(stdout).mcpServers['sinch-groups'];
    const env = Object.fromEntries(Object.entries(cleanEnv()).filter(([name]) => !(name in printed)));
    const transport = new StdioClientTransport({ command, args, env, cwd: await tempDir(), stderr: 'ignore' });
    const client = new Client({ name: 'elsewhere', version: '1.0.0' });
    await client.connect(transport);
    try {
      expect(client.getServerVersion()).toMatchObject({ name: 'sinch-groups-mcp', version: VERSION });
      expect(client.getInstructions()).toContain('runs on a local emulator');
    } finally {
      await client.close();
    }
  });

  test("run from npx's cache it prints npx with this version, through cmd on Windows", async () => {
    const folder = join(await tempDir(), '_npx', '1a2b', 'node_modules', 'sinch-groups-mcp', 'dist', 'cli');
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'index.js'), '');
    expect(launchOf(join(folder, 'index.js'), { platform: 'linux' })).toEqual({ command: 'npx', args: ['-y', `sinch-groups-mcp@${VERSION}`] });
    expect(launchOf(join(folder, 'index.js'), { platform: 'win32' })).toEqual({ command: 'cmd', args: ['/c', 'npx', '-y', `sinch-groups-mcp@${VERSION}`] });
  });

  test('installed by npx from a tarball, it prints npx with that tarball, which the registry would not have', async () => {
    const cache = join(await tempDir(), '_npx', '3c4d');
    const folder = join(cache, 'node_modules', 'sinch-groups-mcp', 'dist', 'cli');
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'index.js'), '');
    await writeFile(
      join(cache, 'package.json'),
      JSON.stringify({ dependencies: { 'sinch-groups-mcp': 'file:../../../tmp/x/sinch-groups-mcp-1.0.0.tgz' }, _npx: { packages: ['/tmp/x/sinch-groups-mcp-1.0.0.tgz'] } }),
    );
    expect(launchOf(join(folder, 'index.js'), { platform: 'linux' })).toEqual({
      command: 'npx',
      args: ['-y', '--package', '/tmp/x/sinch-groups-mcp-1.0.0.tgz', 'sinch-groups-mcp'],
    });
  });

  test('a link to the entry file is followed to the file itself', async () => {
    const { symlink } = await import('node:fs/promises');
    const link = join(await tempDir(), 'sinch-groups-mcp');
    await symlink(CLI, link);
    expect(launchOf(link, { execPath: '/opt/node/bin/node' })).toEqual({ command: '/opt/node/bin/node', args: [await realpath(CLI)] });
  });
});
