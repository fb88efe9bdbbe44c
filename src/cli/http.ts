import type { IncomingMessage } from 'node:http';
import { keepSecret } from '../secrets.js';
import { loadConfig, loadFileSettings, loadJournalSettings, loadNumberSettings, type HttpSettings } from '../config.js';
import { openJournal } from '../journal/open.js';
import { HttpRefusal, startHttpServer } from '../http/server.js';
import { log } from '../log.js';
import { ToolCalls } from '../mcp/calls.js';
import { createServer } from '../mcp/server.js';
import { selectTools, type ToolSelection } from '../mcp/tool.js';
import { tools } from '../mcp/tools/index.js';
import { SinchGroupsClient } from '../sinch/client.js';
import { createDispatcher } from '../sinch/http.js';
import { configureNumbers } from '../sinch/numbers.js';
import { openBackend } from './backend.js';

/** How long SIGTERM waits for calls under way, as load balancers drain a replica. */
const SHUTDOWN_GRACE_MS = 10_000;
/** How long calls told to stop may take to finish the request they have under way and answer. */
const STOP_WAIT_MS = 5_000;

export interface HttpCommandOptions extends ToolSelection {
  settings: HttpSettings;
  perRequestCredentials: boolean;
  files?: string[];
}

/** Serves MCP over Streamable HTTP, stateless, so that identical replicas can share any load. */
export async function serveHttp({ settings, perRequestCredentials, files: fileFolders, ...selection }: HttpCommandOptions): Promise<void> {
  if (settings.authToken) keepSecret(settings.authToken);
  // Servers are built per request, so a mistake in the tool selection must be found now, not then.
  selectTools(tools, selection);
  const config = loadConfig(process.env, { perRequestCredentials });
  configureNumbers(loadNumberSettings());
  const files = loadFileSettings({ files: fileFolders }, process.env, { http: true, perRequestCredentials });
  const journal = openJournal(loadJournalSettings(process.env, { http: true, perRequestCredentials }));
  const calls = new ToolCalls();
  let serverFor: (request: IncomingMessage) => ReturnType<typeof createServer>;
  let close: () => Promise<void>;
  if (config.mode === 'per-request') {
    for (const note of config.notes) log(note);
    // One pool of connections for every request's client, so the bound holds across all of them.
    const dispatcher = createDispatcher({ maxConnections: config.maxConnections });
    const { baseUrl, timeoutMs, retry, concurrency } = config;
    serverFor = (request) => {
      const sinch = new SinchGroupsClient({ baseUrl, ...credentialsOf(request), perRequest: true, timeoutMs, retry, concurrency, dispatcher });
      return createServer({ sinch, calls, files, ...selection });
    };
    close = () => dispatcher.destroy();
  } else {
    const backend = await openBackend(config);
    serverFor = () => createServer({ sinch: backend.sinch, emulated: backend.emulated, calls, files, journal, ...selection });
    close = () => backend.close();
  }

  const http = await startHttpServer({ ...settings, serverFor });
  log(`serving MCP at ${http.url}${settings.authToken ? ' (bearer token required)' : ''}`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    // The replica stops taking requests at once; calls under way get the grace period, then stop before
    // their next request to Sinch and answer with what they applied, before connections are closed.
    const drained = calls.drain(SHUTDOWN_GRACE_MS, STOP_WAIT_MS);
    const cutOff = await http.close(drained);
    const stopped = await drained;
    if (stopped > 0) log(`${signal}: ${stopped} call(s) still running after ${SHUTDOWN_GRACE_MS / 1000} s were stopped before their next request to Sinch`);
    if (cutOff > 0) log(`${signal}: ${cutOff} call(s) still waiting for Sinch were cut off; their effect is unknown`);
    await close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

/** A gateway's service plan credentials for this request only; they are never logged, nor kept past it. */
function credentialsOf(request: IncomingMessage): { servicePlanId: string; apiToken: string } {
  const servicePlanId = header(request, 'x-sinch-service-plan-id');
  const apiToken = header(request, 'x-sinch-api-token');
  if (!servicePlanId || !apiToken || !/^[A-Za-z0-9]{1,64}$/.test(servicePlanId)) {
    throw new HttpRefusal(401, 'Unauthorized: per-request credentials need X-Sinch-Service-Plan-Id and X-Sinch-Api-Token headers');
  }
  return { servicePlanId, apiToken };
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return (Array.isArray(value) ? value[0] : value)?.trim() || undefined;
}
