import { startEmulator, type EmulatorOptions } from '../emulator/server.js';
import { seedExampleGroups } from '../emulator/seed.js';

export interface EmulatorCommandOptions extends Pick<EmulatorOptions, 'host' | 'port' | 'servicePlanId' | 'apiToken' | 'projectId' | 'keyId' | 'keySecret'> {
  seed: boolean;
}

/** Runs the emulator on its own, for manual testing or for any other Sinch client, until interrupted. */
export async function runEmulator(options: EmulatorCommandOptions): Promise<void> {
  const emulator = await startEmulator({ ...options, record: false });
  if (options.seed) seedExampleGroups(emulator);
  process.stdout.write(
    [
      `Sinch Groups emulator listening on ${emulator.url}`,
      `Groups API: ${emulator.url}/xms/v1/${emulator.servicePlanId}/groups (Authorization: Bearer <token>)`,
      '',
      'Point sinch-groups-mcp (or any Sinch client) at it with service plan credentials:',
      `  SINCH_SMS_BASE_URL=${emulator.url}`,
      `  SINCH_SERVICE_PLAN_ID=${emulator.servicePlanId}`,
      `  SINCH_API_TOKEN=${emulator.apiToken}`,
      'or with OAuth2 (token endpoint included):',
      `  SINCH_SMS_BASE_URL=${emulator.url}`,
      `  SINCH_AUTH_URL=${emulator.tokenUrl}`,
      `  SINCH_PROJECT_ID=${emulator.projectId}`,
      `  SINCH_KEY_ID=${emulator.keyId}`,
      `  SINCH_KEY_SECRET=${emulator.keySecret}`,
      '',
    ].join('\n'),
  );
  const stop = async () => {
    await emulator.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
