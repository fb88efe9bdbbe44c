/** A setting is missing or wrong. Messages name the variable, never a secret's value. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export const REGIONS = ['us', 'eu', 'au', 'br', 'ca'] as const;
export type Region = (typeof REGIONS)[number];

export type Config =
  | { mode: 'sinch'; baseUrl: string; servicePlanId: string; apiToken: string }
  | { mode: 'emulator' };

const CREDENTIALS = ['SINCH_SERVICE_PLAN_ID', 'SINCH_API_TOKEN'] as const;

/**
 * Reads the Sinch settings. With no credentials at all the server runs on the embedded emulator, so it
 * can be tried without an account; half a set of credentials is a mistake worth stopping for.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const value = (name: string) => env[name]?.trim() || undefined;
  const given = CREDENTIALS.filter((name) => value(name));
  if (given.length === 0) {
    const stray = ['SINCH_REGION', 'SINCH_SMS_BASE_URL'].find((name) => value(name));
    if (stray) throw new ConfigError(`${stray} is set but ${CREDENTIALS.join(' and ')} are not: set both to use Sinch, or unset ${stray} to use the built-in emulator`);
    return { mode: 'emulator' };
  }
  const missing = CREDENTIALS.filter((name) => !value(name));
  if (missing.length > 0) {
    throw new ConfigError(`${missing.join(' and ')} must be set too (${given.join(' and ')} is set): Sinch needs both the service plan id and its API token`);
  }
  return {
    mode: 'sinch',
    baseUrl: baseUrl(value('SINCH_SMS_BASE_URL'), value('SINCH_REGION')),
    servicePlanId: value('SINCH_SERVICE_PLAN_ID')!,
    apiToken: value('SINCH_API_TOKEN')!,
  };
}

function baseUrl(override: string | undefined, regionSetting = 'us'): string {
  const region = regionSetting.toLowerCase();
  if (override) {
    let url: URL;
    try {
      url = new URL(override);
    } catch {
      throw new ConfigError('SINCH_SMS_BASE_URL is not a URL (expected e.g. https://us.sms.api.sinch.com)');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new ConfigError('SINCH_SMS_BASE_URL must be an http:// or https:// URL');
    }
    if (url.username || url.password || url.search || url.hash) {
      throw new ConfigError('SINCH_SMS_BASE_URL must be a plain origin (no credentials, query or fragment)');
    }
    return url.href.replace(/\/+$/, '');
  }
  if (!(REGIONS as readonly string[]).includes(region)) {
    throw new ConfigError(`SINCH_REGION must be one of ${REGIONS.join(', ')} (got "${regionSetting}")`);
  }
  return `https://${region}.sms.api.sinch.com`;
}

/** Which tools to serve, from flags first and then SINCH_READ_ONLY and SINCH_TOOLS. */
export function loadToolSelection(
  flags: { readOnly?: boolean; tools?: string },
  env: NodeJS.ProcessEnv = process.env,
): { readOnly: boolean; only?: string[] } {
  const tools = flags.tools ?? env.SINCH_TOOLS?.trim();
  return {
    readOnly: flags.readOnly || flag('SINCH_READ_ONLY', env.SINCH_READ_ONLY),
    ...(tools ? { only: tools.split(',').map((name) => name.trim()).filter(Boolean) } : {}),
  };
}

function flag(name: string, value: string | undefined): boolean {
  const setting = value?.trim().toLowerCase() ?? '';
  if (['', '0', 'false', 'no'].includes(setting)) return false;
  if (['1', 'true', 'yes'].includes(setting)) return true;
  throw new ConfigError(`${name} must be 1/true/yes or 0/false/no (got "${value}")`);
}
