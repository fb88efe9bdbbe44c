import { loadConfig, loadFileSettings, loadJournalSettings, loadMaxBodyBytes, loadNumberSettings } from '../config.js';
import { openJournal } from '../journal/open.js';
import { log } from '../log.js';
import { describeUnfinished } from '../mcp/errors.js';
import { ToolCalls } from '../mcp/calls.js';
import { createServer } from '../mcp/server.js';
import { configureNumbers } from '../sinch/numbers.js';
import type { ToolSelection } from '../mcp/tool.js';
import { openBackend } from './backend.js';
import { StdioTransport } from './stdio-transport.js';

/** How long a stopping server waits for tool calls under way, then for the changes it stopped: a desktop
 * client that closes stdin waits a few seconds before it kills the process. */
const SHUTDOWN_GRACE_MS = 2_000;
const STOP_WAIT_MS = 1_000;

/** Serves MCP on stdio, against Sinch when credentials are set and on the built-in emulator otherwise. */
export async function serve({ files, ...selection }: ToolSelection & { files?: string[] }): Promise<void> {
  // stdout carries only protocol messages, whatever a dependency might print.
  console.log = console.info = console.debug = console.error;

  const config = loadConfig();
  // Settings mistakes stop the server before it connects to anything.
  loadFileSettings({ files });
  loadJournalSettings();
  configureNumbers(loadNumberSettings());
  const maxLineBytes = loadMaxBodyBytes();
  if (config.mode === 'per-request') throw new Error('per-request credentials need the HTTP mode');
  const backend = await openBackend(config);
  const { sinch } = backend;
  const calls = new ToolCalls();
  const fileSettings = loadFileSettings({ files });
  const journal = openJournal(loadJournalSettings());
  const server = createServer({ sinch, emulated: backend.emulated, calls, files: fileSettings, journal, ...selection });
  // Lines that are too long, not JSON or not JSON-RPC are answered by the transport itself.
  const transport = new StdioTransport({ maxLineBytes });
  transport.onerror = (error) => log(`stdio: ${error.message}`);

  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    process.stdin.pause();
    // Calls still running after the grace period stop before their next request and answer with what
    // they applied (on stdout, if the client still reads it, and on stderr); a request Sinch has not
    // answered by the end is reported as such.
    await calls.drain(SHUTDOWN_GRACE_MS, STOP_WAIT_MS);
    const unfinished = await sinch.settle(0);
    for (const progress of unfinished) log(`${why} before a change was complete: ${describeUnfinished(progress)}`);
    await server.close();
    await backend.close();
    process.exit(0);
  };
  process.stdin.on('end', () => void stop('stdin closed'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  await server.connect(transport);
}
