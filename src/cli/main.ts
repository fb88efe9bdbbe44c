import { parseArgs } from 'node:util';
import pkg from '../../package.json' with { type: 'json' };
import { ConfigError } from '../config.js';
import { log } from '../log.js';
import { ToolSelectionError } from '../mcp/tool-selection.js';
import { VERSION } from '../version.js';

const USAGE = `Usage:
  sinch-groups-mcp [--read-only] [--tools a,b] [--files DIR]...
                                   serve MCP on stdio (Sinch credentials from the environment,
                                   or the built-in emulator when none are set); --read-only serves
                                   only the tools that change nothing, --tools only those named,
                                   --files a folder file arguments may name (repeatable)
  sinch-groups-mcp --http [--host 127.0.0.1] [--port 3000] [--per-request-credentials] [--read-only] [--tools a,b] [--files DIR]...
                                   serve MCP over Streamable HTTP at /mcp (stateless), with GET /healthz
  sinch-groups-mcp emulator [--host 127.0.0.1] [--port 0] [--seed]
                           [--service-plan-id ID] [--api-token TOKEN] [--project-id ID] [--key-id ID] [--key-secret SECRET]
                                   run the Sinch Groups API emulator on its own
  sinch-groups-mcp config [--client claude-desktop|claude-code|cursor|vscode]
                                   print a client configuration that starts this installation
                                   (default claude-desktop); where it goes is said on stderr
  sinch-groups-mcp --help | --version

Needs Node ${pkg.engines.node}.

Environment: SINCH_SERVICE_PLAN_ID and SINCH_API_TOKEN, or SINCH_PROJECT_ID, SINCH_KEY_ID and SINCH_KEY_SECRET;
             SINCH_REGION (us, eu, au, br, ca), SINCH_SMS_BASE_URL, SINCH_AUTH_URL, SINCH_TIMEOUT_MS,
             SINCH_MAX_RETRIES, SINCH_RETRY_MAX_ELAPSED_MS, SINCH_CONCURRENCY, SINCH_MAX_CONNECTIONS,
             SINCH_DEFAULT_COUNTRY, SINCH_MAX_NUMBERS_PER_CALL, SINCH_READ_ONLY, SINCH_TOOLS;
             SINCH_FILES_DIR, SINCH_JOURNAL (a path, on or off), SINCH_JOURNAL_DAYS (default 30);
             MCP_MAX_BODY_BYTES (longest request body or stdio line, default 4 MiB);
             for --http: MCP_AUTH_TOKEN (at least 32 characters beyond loopback), MCP_ALLOWED_HOSTS,
             MCP_HEADERS_TIMEOUT_MS (default 10000), MCP_REQUEST_TIMEOUT_MS (default 60000),
             MCP_MAX_CONNECTIONS (default 1024); OAuth: MCP_OAUTH_ISSUER (issuer URLs, comma-separated),
             MCP_PUBLIC_URL (public URL of /mcp), MCP_OAUTH_INTROSPECTION_URL, MCP_OAUTH_CLIENT_ID, MCP_OAUTH_CLIENT_SECRET`;

class UsageError extends Error {}

const FLAGS_OF = {
  config: ['client'],
  emulator: ['service-plan-id', 'api-token', 'project-id', 'key-id', 'key-secret', 'seed', 'host', 'port'],
  http: ['per-request-credentials', 'read-only', 'tools', 'host', 'port', 'files'],
  stdio: ['read-only', 'tools', 'files'],
} as const;

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean' },
      http: { type: 'boolean' },
      host: { type: 'string' },
      port: { type: 'string' },
      'per-request-credentials': { type: 'boolean' },
      'service-plan-id': { type: 'string' },
      'api-token': { type: 'string' },
      'project-id': { type: 'string' },
      'key-id': { type: 'string' },
      'key-secret': { type: 'string' },
      seed: { type: 'boolean' },
      'read-only': { type: 'boolean' },
      tools: { type: 'string' },
      files: { type: 'string', multiple: true },
      client: { type: 'string' },
    },
  });
  if (values.help) return void process.stdout.write(`${USAGE}\n`);
  if (values.version) return void process.stdout.write(`${VERSION}\n`);
  const [command, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  if (command !== undefined && command !== 'emulator' && command !== 'config') throw new UsageError(`unknown command "${command}"`);
  const mode = command ?? (values.http ? 'http' : 'stdio');
  const stray = Object.keys(values).find((name) => (name === 'http' ? mode === 'config' : !(FLAGS_OF[mode] as readonly string[]).includes(name)));
  if (stray) throw new UsageError(`--${stray} does not apply ${command ? `to the ${command} command` : `in ${mode} mode`}`);

  // Each mode is loaded only when it is used, so starting the stdio server reads as little code as it can.
  if (mode === 'config') {
    const { CLIENTS, printClientConfig } = await import('./config.js');
    const client = values.client ?? 'claude-desktop';
    if (!(CLIENTS as readonly string[]).includes(client)) throw new UsageError(`--client must be one of ${CLIENTS.join(', ')} (got "${client}")`);
    // argv[1] is the entry file node was started with; the code running here is in a chunk beside it.
    return printClientConfig(client as (typeof CLIENTS)[number], process.argv[1]!);
  }
  if (mode === 'emulator') {
    const { runEmulator } = await import('./emulator.js');
    return runEmulator({
      host: values.host,
      port: port(values.port),
      servicePlanId: values['service-plan-id'],
      apiToken: values['api-token'],
      projectId: values['project-id'],
      keyId: values['key-id'],
      keySecret: values['key-secret'],
      seed: values.seed ?? false,
    });
  }
  if (mode === 'http') {
    const { serveHttp } = await import('../transports/http.js');
    return serveHttp({
      host: values.host,
      port: port(values.port),
      perRequestCredentials: values['per-request-credentials'] ?? false,
      readOnly: values['read-only'],
      tools: values.tools,
      files: values.files,
    });
  }
  const { serveStdio } = await import('../transports/stdio.js');
  return serveStdio({ readOnly: values['read-only'], tools: values.tools, files: values.files });
}

function port(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0 || number > 65_535) throw new UsageError(`--port must be 0 to 65535 (got "${value}")`);
  return number;
}

// Whatever escapes is reported on stderr through log(), which masks credentials, never as a raw trace.
for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
  process.on(event, (error: unknown) => {
    log(`stopping after an unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  });
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof ToolSelectionError) {
    log(error.message);
    process.exit(1);
  }
  if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    log(`${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  log(`failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
