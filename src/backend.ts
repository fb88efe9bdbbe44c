import type { Config, TransportSettings } from './config.js';
import { log } from './log.js';
import type { Credentials, ServicePlanCredentials } from './sinch/auth.js';
import { SinchGroupsClient } from './sinch/client.js';
import { createDispatcher, type Connections } from './sinch/http.js';

export interface Backend {
  /** The client for the configured account: Sinch, or the built-in emulator. */
  sinch: SinchGroupsClient;
  emulated: boolean;
  close(): Promise<void>;
}

/** Connects to the account the configuration names, starting the seeded emulator when it names none. */
export async function openBackend(config: Exclude<Config, { mode: 'per-request' }>): Promise<Backend> {
  for (const note of config.notes) log(note);
  if (config.mode === 'sinch') {
    const how = 'apiToken' in config.credentials ? 'service plan' : 'OAuth';
    log(`using Sinch at ${new URL(config.baseUrl).origin} with ${how} credentials`);
    const sinch = sinchClient(config, { baseUrl: config.baseUrl, ...config.credentials });
    return { sinch, emulated: false, close: () => sinch.close() };
  }
  const [{ startEmulator }, { seedExampleGroups }] = await Promise.all([
    import('./emulator/server.js'),
    import('./emulator/seed.js'),
  ]);
  const emulator = await startEmulator({ record: false });
  seedExampleGroups(emulator);
  const { url: baseUrl, servicePlanId, apiToken } = emulator;
  const sinch = sinchClient(config, { baseUrl, servicePlanId, apiToken });
  log(
    `no Sinch credentials set (SINCH_SERVICE_PLAN_ID, SINCH_API_TOKEN): running on the built-in emulator at ${baseUrl} ` +
      'with example groups; nothing reaches Sinch',
  );
  return {
    sinch,
    emulated: true,
    async close() {
      await sinch.close();
      await emulator.close();
    },
  };
}

export interface PerRequestClients {
  /** A client for one request's credentials, which it masks in its errors but does not keep. */
  clientFor(credentials: ServicePlanCredentials): SinchGroupsClient;
  close(): Promise<void>;
}

/** Clients for the credentials each request brings, on one pool of connections so that the bound holds across all of them. */
export function perRequestClients(config: Extract<Config, { mode: 'per-request' }>): PerRequestClients {
  for (const note of config.notes) log(note);
  const dispatcher = createDispatcher({ maxConnections: config.maxConnections });
  return {
    clientFor: (credentials) => sinchClient(config, { baseUrl: config.baseUrl, ...credentials }, dispatcher),
    close: () => dispatcher.destroy(),
  };
}

/** The one place the configured deadlines, retries, concurrency and connections are handed to a client. */
function sinchClient(settings: TransportSettings, account: { baseUrl: string } & Credentials, shared?: Connections): SinchGroupsClient {
  const { timeoutMs, retry, concurrency, maxConnections } = settings;
  const connections = shared ? { dispatcher: shared, perRequest: true } : { maxConnections };
  return new SinchGroupsClient({ ...account, timeoutMs, retry, concurrency, ...connections });
}
