import type { Config } from '../config.js';
import { log } from '../log.js';
import { SinchGroupsClient } from '../sinch/client.js';

export interface Backend {
  /** The client for the configured account: Sinch, or the built-in emulator. */
  sinch: SinchGroupsClient;
  emulated: boolean;
  close(): Promise<void>;
}

/** Connects to the account the configuration names, starting the seeded emulator when it names none. */
export async function openBackend(config: Exclude<Config, { mode: 'per-request' }>): Promise<Backend> {
  const { timeoutMs, retry, concurrency, maxConnections } = config;
  if (config.mode === 'sinch') {
    for (const note of config.notes) log(note);
    const how = 'apiToken' in config.credentials ? 'service plan' : 'OAuth';
    log(`using Sinch at ${new URL(config.baseUrl).origin} with ${how} credentials`);
    const sinch = new SinchGroupsClient({ baseUrl: config.baseUrl, ...config.credentials, timeoutMs, retry, concurrency, maxConnections });
    return { sinch, emulated: false, close: () => sinch.close() };
  }
  const [{ startEmulator }, { seedExampleGroups }] = await Promise.all([
    import('../emulator/server.js'),
    import('../emulator/seed.js'),
  ]);
  const emulator = await startEmulator({ record: false });
  seedExampleGroups(emulator);
  const { url: baseUrl, servicePlanId, apiToken } = emulator;
  const sinch = new SinchGroupsClient({ baseUrl, servicePlanId, apiToken, timeoutMs, retry, concurrency, maxConnections });
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
