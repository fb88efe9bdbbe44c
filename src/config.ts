import { delimiter, isAbsolute } from 'node:path';
import type { FileSettings } from './files/folders.js';
import { defaultJournalPath } from './journal/location.js';
import { DEFAULT_AUTH_URL, type Credentials } from './sinch/auth.js';
import { DEFAULT_CONCURRENCY } from './sinch/client.js';
import { DEFAULT_MAX_CONNECTIONS, DEFAULT_RETRY, DEFAULT_TIMEOUT_MS } from './sinch/http.js';
import { countryCode, DEFAULT_MAX_NUMBERS_PER_CALL, type NumberSettings } from './sinch/numbers.js';

/** A setting is missing or wrong. Messages name the variable, never a secret's value. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export const REGIONS = ['us', 'eu', 'au', 'br', 'ca'] as const;
export type Region = (typeof REGIONS)[number];

export interface TransportSettings {
  /** Bound on each attempt of a request, reply included. */
  timeoutMs: number;
  /** maxElapsedMs bounds all attempts of one request together, waits included. */
  retry: { maxRetries: number; maxElapsedMs: number };
  /** Requests of one large change under way at once. */
  concurrency: number;
  /** Connections to Sinch open at once; further requests wait for one. */
  maxConnections: number;
}

export type Config = TransportSettings &
  (
    | {
        mode: 'sinch';
        baseUrl: string;
        credentials: Credentials;
        /** Worth telling whoever starts the server, such as which of two sets of credentials is used. */
        notes: string[];
      }
    /** Notes name the settings that are ignored because no account is configured. */
    | { mode: 'emulator'; notes: string[] }
    /** Every request brings its own service plan credentials (HTTP mode behind a trusted gateway). */
    | { mode: 'per-request'; baseUrl: string; notes: string[] }
  );

/** localhost, 127.0.0.0/8 and ::1, bracketed or not: the addresses only this machine reaches. */
export const isLoopbackHost = (host: string) => ['localhost', '::1', '[::1]'].includes(host) || /^127\.\d+\.\d+\.\d+$/.test(host);

/**
 * A variable's value, or undefined when it is not set. Empty counts as unset: a client configuration with an
 * optional field left blank (the Claude Desktop extension's) passes "". So does a value that is still a
 * `${user_config.name}` placeholder: the MCPB host (@anthropic-ai/mcpb, getMcpConfigForManifest) substitutes
 * only the fields the user filled in or that have a default, and leaves the placeholder as it was for the rest.
 */
export function setting(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value && !UNFILLED.test(value) ? value : undefined;
}

const UNFILLED = /^\$\{user_config\.[^}]*\}$/;

/**
 * What `sinch-groups-mcp config` prints where the credentials go: never values from the environment, which
 * could be secrets. A configuration pasted with them unchanged is refused at start-up, not at the first call.
 */
export const PLACEHOLDERS = {
  SINCH_SERVICE_PLAN_ID: 'your-service-plan-id',
  SINCH_API_TOKEN: 'your-api-token',
  SINCH_REGION: 'us',
} as const;

const SERVICE_PLAN = ['SINCH_SERVICE_PLAN_ID', 'SINCH_API_TOKEN'] as const;
const OAUTH = ['SINCH_PROJECT_ID', 'SINCH_KEY_ID', 'SINCH_KEY_SECRET'] as const;
/** Settings of a Sinch account, ignored on the emulator. */
const ACCOUNT_ONLY = ['SINCH_REGION', 'SINCH_DEFAULT_COUNTRY'] as const;

/**
 * Reads the Sinch settings. With no credentials at all the server runs on the embedded emulator, so it
 * can be tried without an account; half a set of credentials is a mistake worth stopping for.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, { perRequestCredentials = false } = {}): Config {
  const value = (name: string) => setting(env, name);
  const transport: TransportSettings = {
    timeoutMs: whole(env, 'SINCH_TIMEOUT_MS', DEFAULT_TIMEOUT_MS, 1),
    retry: {
      maxRetries: whole(env, 'SINCH_MAX_RETRIES', DEFAULT_RETRY.maxRetries, 0),
      maxElapsedMs: whole(env, 'SINCH_RETRY_MAX_ELAPSED_MS', DEFAULT_RETRY.maxElapsedMs, 1),
    },
    concurrency: whole(env, 'SINCH_CONCURRENCY', DEFAULT_CONCURRENCY, 1),
    maxConnections: whole(env, 'SINCH_MAX_CONNECTIONS', DEFAULT_MAX_CONNECTIONS, 1),
  };
  for (const name of SERVICE_PLAN) {
    if (value(name) === PLACEHOLDERS[name]) {
      throw new ConfigError(`${name} is still the placeholder "${PLACEHOLDERS[name]}": put in your own, or remove ${SERVICE_PLAN.join(' and ')} to use the built-in emulator`);
    }
  }
  const servicePlan = complete(SERVICE_PLAN, value, 'the service plan id and its API token');
  const oauth = complete(OAUTH, value, 'the project id, key id and key secret');
  if (perRequestCredentials) {
    const region = regionOf(value('SINCH_REGION'));
    return {
      mode: 'per-request',
      baseUrl: url('SINCH_SMS_BASE_URL', value('SINCH_SMS_BASE_URL')) ?? `https://${region}.sms.api.sinch.com`,
      notes: servicePlan || oauth ? ['credentials in the environment are not used: each request brings its own'] : [],
      ...transport,
    };
  }
  if (!servicePlan && !oauth) {
    // A URL names a server someone meant to reach, so running on the emulator instead would hide a mistake.
    const stray = ['SINCH_SMS_BASE_URL', 'SINCH_AUTH_URL'].find((name) => value(name));
    if (stray) {
      throw new ConfigError(
        `${stray} is set but no credentials are: set ${SERVICE_PLAN.join(' and ')} (or ${OAUTH.join(', ')}) to use Sinch, or unset ${stray} to use the built-in emulator`,
      );
    }
    // A region or a country is often filled in ahead of the credentials (the extension's settings ask for all
    // of them at once); it must not keep the emulator from starting.
    const ignored = ACCOUNT_ONLY.filter((name) => value(name));
    const notes = ignored.length > 0 ? [`no Sinch credentials are set, so ${ignored.join(' and ')} ${ignored.length > 1 ? 'are' : 'is'} ignored`] : [];
    return { mode: 'emulator', notes, ...transport };
  }
  const region = regionOf(value('SINCH_REGION'));
  const notes: string[] = [];
  let credentials: Credentials;
  if (servicePlan) {
    credentials = { servicePlanId: value('SINCH_SERVICE_PLAN_ID')!, apiToken: value('SINCH_API_TOKEN')! };
    // As Sinch's own SDKs do when given both.
    if (oauth) notes.push('both service plan and OAuth credentials are set: using the service plan (SINCH_SERVICE_PLAN_ID)');
  } else {
    credentials = {
      projectId: value('SINCH_PROJECT_ID')!,
      keyId: value('SINCH_KEY_ID')!,
      keySecret: value('SINCH_KEY_SECRET')!,
      authUrl: url('SINCH_AUTH_URL', value('SINCH_AUTH_URL')) ?? DEFAULT_AUTH_URL,
    };
  }
  const host = servicePlan ? `${region}.sms.api.sinch.com` : `zt.${region}.sms.api.sinch.com`;
  return {
    mode: 'sinch',
    baseUrl: url('SINCH_SMS_BASE_URL', value('SINCH_SMS_BASE_URL')) ?? `https://${host}`,
    credentials,
    notes,
    ...transport,
  };
}

/** True when every variable of a set is given, false when none is; a partial set is refused by name. */
function complete(names: readonly string[], value: (name: string) => string | undefined, what: string): boolean {
  const given = names.filter((name) => value(name));
  if (given.length === 0) return false;
  const missing = names.filter((name) => !value(name));
  if (missing.length > 0) {
    throw new ConfigError(`${missing.join(' and ')} must be set too (${given.join(' and ')} is set): Sinch needs ${what}`);
  }
  return true;
}

/** A whole-number setting of at least `min`, or `fallback` when it is not set. */
export function whole(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const given = setting(env, name);
  if (given === undefined) return fallback;
  const number = Number(given);
  if (!Number.isSafeInteger(number) || number < min) {
    throw new ConfigError(`${name} must be a whole number of at least ${min} (got "${given}")`);
  }
  return number;
}

function regionOf(setting = 'us'): Region {
  const region = setting.toLowerCase();
  if (!(REGIONS as readonly string[]).includes(region)) {
    throw new ConfigError(`SINCH_REGION must be one of ${REGIONS.join(', ')} (got "${setting}")`);
  }
  return region as Region;
}

function url(name: string, setting: string | undefined): string | undefined {
  if (!setting) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(setting);
  } catch {
    throw new ConfigError(`${name} is not a URL`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new ConfigError(`${name} must be an http:// or https:// URL`);
  if (parsed.username || parsed.password || parsed.search || parsed.hash) {
    throw new ConfigError(`${name} must be a plain URL (no credentials, query or fragment)`);
  }
  return parsed.href.replace(/\/+$/, '');
}

/** --read-only and --tools, as given on the command line. */
export interface ToolFlags {
  readOnly?: boolean;
  tools?: string;
}

/** Which tools to serve, from flags first and then SINCH_READ_ONLY and SINCH_TOOLS. */
export function loadToolSelection(
  flags: ToolFlags,
  env: NodeJS.ProcessEnv = process.env,
): { readOnly: boolean; only?: string[] } {
  const readOnlyEnv = flag('SINCH_READ_ONLY', setting(env, 'SINCH_READ_ONLY')) ?? false;
  const tools = flags.tools ?? setting(env, 'SINCH_TOOLS');
  return {
    readOnly: flags.readOnly === true || readOnlyEnv,
    ...(tools === undefined ? {} : { only: tools.split(',').map((name) => name.trim()).filter(Boolean) }),
  };
}

const YES = ['1', 'true', 'yes', 'on'];
const NO = ['0', 'false', 'no', 'off'];

/** A yes-or-no setting (a checkbox comes as "true" or "false"); undefined when it is not set. */
function flag(name: string, value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  const answer = value.toLowerCase();
  if (YES.includes(answer)) return true;
  if (NO.includes(answer)) return false;
  throw new ConfigError(`${name} must be 1/true/yes/on or 0/false/no/off (got "${value}")`);
}

/** The largest request either transport reads: an HTTP body, or one line on stdin. */
export const loadMaxBodyBytes = (env: NodeJS.ProcessEnv = process.env) => whole(env, 'MCP_MAX_BODY_BYTES', 4 * 1024 * 1024, 1);

/**
 * How phone numbers are read: SINCH_DEFAULT_COUNTRY for national numbers (a setting of the account, ignored
 * on the emulator as loadConfig notes), SINCH_MAX_NUMBERS_PER_CALL.
 */
export function loadNumberSettings(env: NodeJS.ProcessEnv = process.env, { emulated = false } = {}): NumberSettings {
  const country = emulated ? undefined : setting(env, 'SINCH_DEFAULT_COUNTRY');
  const defaultCountry = country ? countryCode(country) : undefined;
  if (country && !defaultCountry) {
    throw new ConfigError(`SINCH_DEFAULT_COUNTRY must be a two-letter ISO 3166 country code such as GB or US (got "${country}")`);
  }
  return {
    ...(defaultCountry ? { defaultCountry } : {}),
    maxPerCall: whole(env, 'SINCH_MAX_NUMBERS_PER_CALL', DEFAULT_MAX_NUMBERS_PER_CALL, 1),
  };
}

/** Where file arguments may point: --files (repeatable) and SINCH_FILES_DIR, and over stdio the client's roots. */
export function loadFileSettings(
  flags: { files?: string[] },
  env: NodeJS.ProcessEnv = process.env,
  { http = false, perRequestCredentials = false } = {},
): FileSettings {
  const folders = [...(flags.files ?? []), ...(setting(env, 'SINCH_FILES_DIR') ?? '').split(delimiter)].map((folder) => folder.trim()).filter(Boolean);
  if (perRequestCredentials) {
    if (folders.length > 0) {
      throw new ConfigError('--files/SINCH_FILES_DIR cannot be used with --per-request-credentials: one folder must never serve several Sinch accounts');
    }
    return { folders: [], roots: false, refusal: 'file arguments are not served with --per-request-credentials' };
  }
  for (const folder of folders) {
    if (!isAbsolute(folder)) throw new ConfigError(`--files/SINCH_FILES_DIR must name absolute folders (got "${folder}")`);
  }
  // Over HTTP the roots would be one client's, but the server is every client's: only --files counts.
  return { folders, roots: !http };
}

export interface JournalSettings {
  /** The journal file; none when it is off. */
  path?: string;
  retentionDays: number;
}

/**
 * The change journal: SINCH_JOURNAL (a path; on/true/yes/1 for the platform's state folder; off/false/no/0)
 * and SINCH_JOURNAL_DAYS. Over stdio it is on by default, in the platform's state folder; over HTTP only when
 * asked for (replicas must not share a file), and never with per-request credentials.
 */
export function loadJournalSettings(env: NodeJS.ProcessEnv = process.env, { http = false, perRequestCredentials = false } = {}): JournalSettings {
  const given = setting(env, 'SINCH_JOURNAL');
  const retentionDays = whole(env, 'SINCH_JOURNAL_DAYS', 30, 1);
  const answer = given?.toLowerCase();
  const off = answer !== undefined && NO.includes(answer);
  if (perRequestCredentials) {
    if (given && !off) throw new ConfigError('SINCH_JOURNAL cannot be used with --per-request-credentials: one journal must never serve several Sinch accounts');
    return { retentionDays };
  }
  if (off) return { retentionDays };
  if (given === undefined) return http ? { retentionDays } : { path: defaultJournalPath(env), retentionDays };
  if (YES.includes(answer!)) return { path: defaultJournalPath(env), retentionDays };
  if (!isAbsolute(given)) throw new ConfigError(`SINCH_JOURNAL must be an absolute path, on or off (got "${given}")`);
  return { path: given, retentionDays };
}
