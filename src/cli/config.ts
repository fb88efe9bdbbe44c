import { readFileSync, realpathSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { PLACEHOLDERS } from '../config.js';
import { log } from '../log.js';
import { NAME, VERSION } from '../version.js';

export const CLIENTS = ['claude-desktop', 'claude-code', 'cursor', 'vscode'] as const;
export type Client = (typeof CLIENTS)[number];

/** The command that starts this server, as a client should spawn it (no shell). */
export interface Launch {
  command: string;
  args: string[];
}

const SERVER = 'sinch-groups';

/**
 * How a client starts this installation from any folder: its own Node and the real path of the entry file
 * (argv[1]: the chunk this code runs from is not an entry), or, when that lies in npx's cache, which is
 * emptied at will, `npx` with this very version.
 */
export function launchOf(entry: string, { execPath = process.execPath, platform = process.platform } = {}): Launch {
  const real = realpathSync(entry);
  const cache = /^(.*[\\/]_npx[\\/][^\\/]+)[\\/]node_modules[\\/]/.exec(real)?.[1];
  if (cache === undefined) return { command: execPath, args: [real] };
  const local = localSpec(cache);
  const npx = local ? ['-y', '--package', local, NAME] : ['-y', `${NAME}@${VERSION}`];
  // npx is a .cmd script on Windows, which clients spawn without a shell cannot start by itself.
  return platform === 'win32' ? { command: 'cmd', args: ['/c', 'npx', ...npx] } : { command: 'npx', args: npx };
}

/**
 * The tarball or folder npx installed this copy from, when it was not the registry (npx records what it was
 * asked for in its cache folder's package.json): `sinch-groups-mcp@VERSION` would not be found there.
 */
function localSpec(cache: string): string | undefined {
  try {
    const manifest = JSON.parse(readFileSync(join(cache, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; _npx?: { packages?: string[] } };
    if (!manifest.dependencies?.[NAME]?.startsWith('file:')) return undefined;
    return manifest._npx?.packages?.find((spec) => isAbsolute(spec));
  } catch {
    return undefined;
  }
}

/** The configuration block for a client, in its own format, and a hint on where it goes. */
export function clientConfig(client: Client, launch: Launch, platform: NodeJS.Platform = process.platform): { block: string; hint: string } {
  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  const server = { command: launch.command, args: launch.args, env: { ...PLACEHOLDERS } };
  switch (client) {
    case 'claude-desktop':
    case 'cursor':
      return { block: json({ mcpServers: { [SERVER]: server } }), hint: HINTS[client] };
    case 'vscode':
      return {
        block: json({
          // VS Code asks for these once and keeps them in its secret storage; the token is typed masked.
          inputs: [
            { type: 'promptString', id: 'sinch-service-plan-id', description: 'Sinch service plan id (leave empty for the emulator)' },
            { type: 'promptString', id: 'sinch-api-token', description: 'Sinch API token', password: true },
          ],
          servers: {
            [SERVER]: {
              type: 'stdio',
              command: launch.command,
              args: launch.args,
              env: { SINCH_SERVICE_PLAN_ID: '${input:sinch-service-plan-id}', SINCH_API_TOKEN: '${input:sinch-api-token}', SINCH_REGION: PLACEHOLDERS.SINCH_REGION },
            },
          },
        }),
        hint: HINTS[client],
      };
    case 'claude-code': {
      const env = Object.entries(PLACEHOLDERS).flatMap(([name, value]) => ['-e', `${name}=${value}`]);
      const words = ['claude', 'mcp', 'add', SERVER, '--scope', 'user', ...env, '--', launch.command, ...launch.args];
      return { block: `${words.map((word) => quote(word, platform)).join(' ')}\n`, hint: HINTS[client] };
    }
  }
}

/** Quotes a word for the shell the user will paste the command into, when it needs quoting. */
function quote(word: string, platform: NodeJS.Platform): string {
  if (/^[\w@%+=:,./-]+$/.test(word)) return word;
  return platform === 'win32' ? `"${word.replaceAll('"', '""')}"` : `'${word.replaceAll("'", `'\\''`)}'`;
}

const CREDENTIALS =
  'Replace the placeholders with your service plan id and API token (Sinch dashboard, SMS > APIs) and your region ' +
  '(us, eu, au, br or ca), or remove them to try the built-in emulator. Other settings: README, "Configuration".';

const HINTS: Record<Client, string> = {
  'claude-desktop': [
    'add "sinch-groups" under "mcpServers" in claude_desktop_config.json (Settings > Developer > Edit Config):',
    '  macOS:   ~/Library/Application Support/Claude/claude_desktop_config.json',
    '  Windows: %APPDATA%\\Claude\\claude_desktop_config.json',
    '  Linux:   ~/.config/Claude/claude_desktop_config.json',
    'then quit Claude Desktop completely (not just its window) and start it again.',
    CREDENTIALS,
  ].join('\n'),
  'claude-code': [
    'run the command above once: it adds the server for every project of this user (~/.claude.json);',
    'use --scope project to share it through the project\'s .mcp.json instead. Check it with `claude mcp list`,',
    'and in a running session reconnect with /mcp.',
    CREDENTIALS,
  ].join('\n'),
  cursor: [
    'add "sinch-groups" under "mcpServers" in ~/.cursor/mcp.json (every project; %USERPROFILE%\\.cursor\\mcp.json on Windows)',
    'or .cursor/mcp.json in a project, then turn the server on (or refresh it) in Cursor Settings > MCP.',
    CREDENTIALS,
  ].join('\n'),
  vscode: [
    'save this as .vscode/mcp.json in a workspace, or merge it into your user configuration (command "MCP: Open User Configuration"):',
    '  macOS:   ~/Library/Application Support/Code/User/mcp.json',
    '  Windows: %APPDATA%\\Code\\User\\mcp.json',
    '  Linux:   ~/.config/Code/User/mcp.json',
    'then start it with "MCP: List Servers" (or the Start link above the entry); VS Code asks for the inputs once.',
    'Leave both inputs empty to try the built-in emulator. Other settings: README, "Configuration".',
  ].join('\n'),
};

/** `sinch-groups-mcp config`: the block on stdout, nothing else there; the hint on stderr. */
export function printClientConfig(client: Client, entry: string): void {
  const { block, hint } = clientConfig(client, launchOf(entry));
  process.stdout.write(block);
  log(`${client} configuration for this installation (${VERSION}):\n${hint}`);
}
