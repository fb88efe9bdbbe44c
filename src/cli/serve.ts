import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { loadConfig } from '../config.js';
import { startEmulator } from '../emulator/server.js';
import { seedExampleGroups } from '../emulator/seed.js';
import { log } from '../log.js';
import { createServer } from '../mcp/server.js';
import type { ToolSelection } from '../mcp/tool.js';
import { SinchGroupsClient } from '../sinch/client.js';

/** Serves MCP on stdio, against Sinch when credentials are set and on the built-in emulator otherwise. */
export async function serve(selection: ToolSelection): Promise<void> {
  const config = loadConfig();
  const cleanup: Array<() => Promise<void>> = [];
  let sinch: SinchGroupsClient;
  if (config.mode === 'sinch') {
    sinch = new SinchGroupsClient(config);
    log(`using Sinch at ${new URL(config.baseUrl).origin}`);
  } else {
    const emulator = await startEmulator();
    cleanup.push(() => emulator.close());
    seedExampleGroups(emulator);
    sinch = new SinchGroupsClient({
      baseUrl: emulator.url,
      servicePlanId: emulator.servicePlanId,
      apiToken: emulator.apiToken,
    });
    log(
      `no Sinch credentials set (SINCH_SERVICE_PLAN_ID, SINCH_API_TOKEN): running on the built-in emulator at ${emulator.url} ` +
        'with example groups; nothing reaches Sinch',
    );
  }
  cleanup.unshift(() => sinch.close());

  const server = createServer({ sinch, emulated: config.mode === 'emulator', ...selection });
  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    await server.close();
    for (const step of cleanup) await step();
    process.exit(0);
  };
  const transport = new StdioServerTransport();
  transport.onclose = shutdown;
  process.stdin.on('end', shutdown);
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  await server.connect(transport);
}
