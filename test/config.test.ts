import { describe, expect } from 'vitest';
import { ConfigError, loadConfig, loadFileSettings, loadJournalSettings, loadNumberSettings, loadToolSelection } from '../src/config.js';
import { selectTools, ToolSelectionError } from '../src/mcp/tool-selection.js';
import { tools } from '../src/mcp/tools/index.js';
import { loadHttpSettings } from '../src/transports/http.js';
import { number, tempJournal, test, textOf, TOOL_NAMES, TOOL_NAMES_WITHOUT_JOURNAL, type Harness } from './harness.js';

const SECRET = 'tok-0123456789abcdef';

describe('configuration from the environment', () => {
  const DEFAULT_TRANSPORT = { timeoutMs: 30_000, retry: { maxRetries: 3, maxElapsedMs: 60_000 }, concurrency: 4, maxConnections: 64 };

  test('no Sinch variables at all means the built-in emulator', () => {
    expect(loadConfig({})).toEqual({ mode: 'emulator', notes: [], ...DEFAULT_TRANSPORT });
  });

  // As the Claude Desktop extension passes optional fields left blank: "" or the placeholder itself.
  test.each(['', '  ', '${user_config.service_plan_id}'])('credentials set to %o are unset: the emulator', (blank) => {
    expect(loadConfig({ SINCH_SERVICE_PLAN_ID: blank, SINCH_API_TOKEN: blank.replace('service_plan_id', 'api_token') })).toEqual({
      mode: 'emulator',
      notes: [],
      ...DEFAULT_TRANSPORT,
    });
  });

  test('an unfilled placeholder beside real credentials counts as unset, so the region defaults to us', () => {
    const config = loadConfig({ SINCH_SERVICE_PLAN_ID: 'p', SINCH_API_TOKEN: SECRET, SINCH_REGION: '${user_config.region}', SINCH_TIMEOUT_MS: '${user_config.timeout}' });
    expect(config).toMatchObject({ mode: 'sinch', baseUrl: 'https://us.sms.api.sinch.com', timeoutMs: 30_000 });
  });

  test('without credentials a region and a default country are ignored, with a note, even when they are wrong', () => {
    expect(loadConfig({ SINCH_REGION: 'mars', SINCH_DEFAULT_COUNTRY: 'XX' })).toEqual({
      mode: 'emulator',
      notes: ['no Sinch credentials are set, so SINCH_REGION and SINCH_DEFAULT_COUNTRY are ignored'],
      ...DEFAULT_TRANSPORT,
    });
    expect(loadConfig({ SINCH_REGION: 'eu' })).toMatchObject({ notes: ['no Sinch credentials are set, so SINCH_REGION is ignored'] });
    expect(loadNumberSettings({ SINCH_DEFAULT_COUNTRY: 'XX' }, { emulated: true })).toEqual({ maxPerCall: 200_000 });
    expect(() => loadNumberSettings({ SINCH_DEFAULT_COUNTRY: 'XX' })).toThrow(/SINCH_DEFAULT_COUNTRY must be a two-letter/);
    expect(loadNumberSettings({ SINCH_DEFAULT_COUNTRY: 'gb' })).toEqual({ defaultCountry: 'GB', maxPerCall: 200_000 });
  });

  test("the placeholders `config` prints, pasted unchanged, are refused at start-up rather than sent to Sinch", () => {
    expect(() => loadConfig({ SINCH_SERVICE_PLAN_ID: 'your-service-plan-id', SINCH_API_TOKEN: 'real-token' })).toThrow(
      'SINCH_SERVICE_PLAN_ID is still the placeholder "your-service-plan-id": put in your own, or remove SINCH_SERVICE_PLAN_ID and SINCH_API_TOKEN to use the built-in emulator',
    );
    expect(() => loadConfig({ SINCH_SERVICE_PLAN_ID: 'abc123', SINCH_API_TOKEN: 'your-api-token' })).toThrow(/SINCH_API_TOKEN is still the placeholder/);
  });

  test('service plan credentials default to the US region', () => {
    expect(loadConfig({ SINCH_SERVICE_PLAN_ID: 'plan1', SINCH_API_TOKEN: SECRET })).toEqual({
      mode: 'sinch',
      baseUrl: 'https://us.sms.api.sinch.com',
      credentials: { servicePlanId: 'plan1', apiToken: SECRET },
      notes: [],
      ...DEFAULT_TRANSPORT,
    });
  });

  test('OAuth credentials use the zt host of the region and Sinch\'s token endpoint', () => {
    expect(loadConfig({ SINCH_PROJECT_ID: 'proj', SINCH_KEY_ID: 'key', SINCH_KEY_SECRET: SECRET, SINCH_REGION: 'eu' })).toEqual({
      mode: 'sinch',
      baseUrl: 'https://zt.eu.sms.api.sinch.com',
      credentials: { projectId: 'proj', keyId: 'key', keySecret: SECRET, authUrl: 'https://auth.sinch.com/oauth2/token' },
      notes: [],
      ...DEFAULT_TRANSPORT,
    });
  });

  test('with both kinds of credentials the service plan is used, and a note says so', () => {
    const config = loadConfig({
      SINCH_SERVICE_PLAN_ID: 'plan1',
      SINCH_API_TOKEN: SECRET,
      SINCH_PROJECT_ID: 'proj',
      SINCH_KEY_ID: 'key',
      SINCH_KEY_SECRET: SECRET,
    });
    expect(config).toMatchObject({ baseUrl: 'https://us.sms.api.sinch.com', credentials: { servicePlanId: 'plan1' } });
    expect(config.mode === 'sinch' && config.notes).toEqual([
      'both service plan and OAuth credentials are set: using the service plan (SINCH_SERVICE_PLAN_ID)',
    ]);
  });

  test('timeout, retry bounds, concurrency and connections are configurable', () => {
    const env = { SINCH_TIMEOUT_MS: '500', SINCH_MAX_RETRIES: '0', SINCH_RETRY_MAX_ELAPSED_MS: '1000', SINCH_CONCURRENCY: '1', SINCH_MAX_CONNECTIONS: '8' };
    expect(loadConfig(env)).toEqual({
      mode: 'emulator',
      notes: [],
      timeoutMs: 500,
      retry: { maxRetries: 0, maxElapsedMs: 1000 },
      concurrency: 1,
      maxConnections: 8,
    });
  });

  test.each(['us', 'eu', 'au', 'br', 'ca', 'EU'])('SINCH_REGION=%s picks that region', (region) => {
    const config = loadConfig({ SINCH_SERVICE_PLAN_ID: 'p', SINCH_API_TOKEN: SECRET, SINCH_REGION: region });
    expect(config).toMatchObject({ baseUrl: `https://${region.toLowerCase()}.sms.api.sinch.com` });
  });

  test.each([
    [{ SINCH_PROJECT_ID: 'proj', SINCH_KEY_ID: 'key', SINCH_KEY_SECRET: SECRET, SINCH_AUTH_URL: 'http://127.0.0.1:9/oauth2/token' }, { credentials: { authUrl: 'http://127.0.0.1:9/oauth2/token' } }],
    [{ SINCH_SERVICE_PLAN_ID: 'p', SINCH_API_TOKEN: SECRET, SINCH_REGION: 'eu', SINCH_SMS_BASE_URL: 'http://127.0.0.1:8080/' }, { baseUrl: 'http://127.0.0.1:8080' }],
  ])('%o: SINCH_AUTH_URL overrides the token endpoint, SINCH_SMS_BASE_URL the region', (env, expected) => {
    expect(loadConfig(env)).toMatchObject(expected);
  });

  test.each([
    [{ SINCH_API_TOKEN: SECRET }, /SINCH_SERVICE_PLAN_ID/],
    [{ SINCH_SERVICE_PLAN_ID: 'p' }, /SINCH_API_TOKEN/],
    [{ SINCH_SERVICE_PLAN_ID: 'p', SINCH_API_TOKEN: SECRET, SINCH_REGION: 'mars' }, /SINCH_REGION must be one of us, eu, au, br, ca/],
    [{ SINCH_SERVICE_PLAN_ID: 'p', SINCH_API_TOKEN: SECRET, SINCH_SMS_BASE_URL: 'not a url' }, /SINCH_SMS_BASE_URL/],
    [{ SINCH_SERVICE_PLAN_ID: 'p', SINCH_API_TOKEN: SECRET, SINCH_SMS_BASE_URL: 'ftp://example.com' }, /http/],
    [{ SINCH_SMS_BASE_URL: 'http://127.0.0.1:1' }, /SINCH_SERVICE_PLAN_ID and SINCH_API_TOKEN/],
    [{ SINCH_AUTH_URL: 'http://127.0.0.1:1', SINCH_REGION: 'eu' }, /SINCH_AUTH_URL is set but no credentials are/],
    [{ SINCH_SERVICE_PLAN_ID: 'p', SINCH_API_TOKEN: '${user_config.api_token}' }, /SINCH_API_TOKEN must be set too/],
    [{ SINCH_PROJECT_ID: 'proj', SINCH_KEY_SECRET: SECRET }, /SINCH_KEY_ID must be set too/],
    [{ SINCH_KEY_ID: 'key' }, /SINCH_PROJECT_ID and SINCH_KEY_SECRET must be set too/],
    [{ SINCH_SERVICE_PLAN_ID: 'p', SINCH_PROJECT_ID: 'proj', SINCH_KEY_ID: 'k', SINCH_KEY_SECRET: SECRET }, /SINCH_API_TOKEN/],
    [{ SINCH_TIMEOUT_MS: '0' }, /SINCH_TIMEOUT_MS must be a whole number of at least 1/],
    [{ SINCH_MAX_RETRIES: 'many' }, /SINCH_MAX_RETRIES/],
    [{ SINCH_MAX_CONNECTIONS: '0' }, /SINCH_MAX_CONNECTIONS must be a whole number of at least 1/],
    [{ SINCH_RETRY_MAX_ELAPSED_MS: '0' }, /SINCH_RETRY_MAX_ELAPSED_MS must be a whole number of at least 1/],
  ])('%o is refused, naming the variable and never the token', (env, message) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain(SECRET);
  });
});

describe('HTTP settings from the environment', () => {
  /** What loadHttpSettings throws, or undefined. */
  const refusal = (flags: { host?: string }, env: NodeJS.ProcessEnv) => {
    try {
      loadHttpSettings(flags, env);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    return undefined;
  };

  test('defaults: loopback, port 3000, 4 MiB bodies, 10 s for headers, 60 s for a request, 1,024 connections', () => {
    expect(loadHttpSettings({}, {})).toEqual({
      host: '127.0.0.1',
      port: 3000,
      allowedHosts: [],
      maxBodyBytes: 4_194_304,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 60_000,
      maxConnections: 1_024,
    });
  });

  test('timeouts and the connection cap are configurable', () => {
    const env = { MCP_HEADERS_TIMEOUT_MS: '500', MCP_REQUEST_TIMEOUT_MS: '500', MCP_MAX_CONNECTIONS: '3' };
    expect(loadHttpSettings({}, env)).toMatchObject({ headersTimeoutMs: 500, requestTimeoutMs: 500, maxConnections: 3 });
  });

  test.each([
    [{ MCP_HEADERS_TIMEOUT_MS: '0' }, /MCP_HEADERS_TIMEOUT_MS must be a whole number of at least 1/],
    [{ MCP_REQUEST_TIMEOUT_MS: 'soon' }, /MCP_REQUEST_TIMEOUT_MS must be a whole number/],
    [{ MCP_MAX_CONNECTIONS: '0' }, /MCP_MAX_CONNECTIONS must be a whole number of at least 1/],
    [{ MCP_MAX_CONNECTIONS: '1.5' }, /MCP_MAX_CONNECTIONS/],
    [{ MCP_REQUEST_TIMEOUT_MS: '5000' }, /MCP_HEADERS_TIMEOUT_MS \(10000\) must not be more than MCP_REQUEST_TIMEOUT_MS \(5000\)/],
  ])('%o is refused, naming the variable', (env, message) => {
    expect(refusal({}, env)).toMatch(message);
  });

  test('beyond loopback MCP_AUTH_TOKEN must be at least 32 characters, and the error never shows it', () => {
    for (const token of ['x', 'short-secret-value', 'a'.repeat(31), ` ${'b'.repeat(31)} `]) {
      const message = refusal({ host: '0.0.0.0' }, { MCP_AUTH_TOKEN: token });
      expect(message).toMatch(/^MCP_AUTH_TOKEN must be at least 32 characters to listen on 0\.0\.0\.0/);
      if (token.length > 1) expect(message).not.toContain(token.trim());
    }
    expect(refusal({ host: '::' }, {})).toMatch(/MCP_AUTH_TOKEN or MCP_OAUTH_ISSUER must be set to listen on ::/);
    const token = 'c'.repeat(32);
    expect(loadHttpSettings({ host: '0.0.0.0' }, { MCP_AUTH_TOKEN: token })).toMatchObject({ host: '0.0.0.0', authToken: token });
  });

  test('on loopback any token, however short, is accepted as before', () => {
    for (const host of ['127.0.0.1', 'localhost', '[::1]']) {
      expect(loadHttpSettings({ host }, { MCP_AUTH_TOKEN: 'x' })).toMatchObject({ authToken: 'x' });
    }
  });
});

describe('read-only mode and tool selection', () => {
  const toolNames = async (session: Harness) => (await session.client.listTools()).tools.map((t) => t.name).sort();

  test('readOnly: true offers only the tools that change nothing', async ({ harness }) => {
    const ro = await harness({ readOnly: true });
    expect(await toolNames(ro)).toEqual(['find_numbers', 'get_group', 'list_group_members', 'list_groups']);
    const { tools } = await ro.client.listTools();
    expect(tools.every((t) => t.annotations?.readOnlyHint === true)).toBe(true);
    const group = ro.emulator.store.create({ name: 'G', members: [number(0)] });
    for (const tool of ['update_group', 'replace_group', 'delete_group', 'create_group', 'remove_numbers_everywhere']) {
      const result = await ro.call(tool, { group_id: group.id, members: [], confirm: true });
      expect(result.isError, tool).toBe(true);
      expect(textOf(result)).toBe(`There is no tool "${tool}"; the tools are list_groups, get_group, list_group_members, find_numbers.`);
    }
    expect(ro.emulator.requests).toEqual([]);
    expect(await ro.ok('get_group', { group_id: group.id })).toEqual(group);
  });

  test("only: ['get_group', 'create_group'] offers those two", async ({ harness }) => {
    const some = await harness({ only: ['get_group', 'create_group'] });
    expect(await toolNames(some)).toEqual(['create_group', 'get_group']);
    expect((await some.call('list_groups', {})).isError).toBe(true);
  });

  test('read-only wins over only', async ({ harness }) => {
    const some = await harness({ readOnly: true, only: ['create_group', 'get_group'] });
    expect(await toolNames(some)).toEqual(['get_group']);
  });

  test('readOnly: false offers every tool; list_changes and undo_change only with a journal', async ({ harness }) => {
    expect(await toolNames(await harness({ readOnly: false, journal: await tempJournal() }))).toEqual(TOOL_NAMES);
    expect(await toolNames(await harness({ readOnly: false }))).toEqual(TOOL_NAMES_WITHOUT_JOURNAL);
  });

  test('an unknown tool name is a ToolSelectionError naming it', () => {
    expect(() => selectTools(tools, { only: ['nope'] })).toThrow(ToolSelectionError);
    expect(() => selectTools(tools, { only: ['get_group', 'nope', 'nada'] })).toThrow(/unknown tool "nope", "nada"/);
    expect(() => selectTools(tools, { only: ['nope'] })).toThrow(/the tools are create_group, list_groups, get_group/);
    expect(() => selectTools(tools, { readOnly: true, only: ['create_group'] })).toThrow(ToolSelectionError);
  });
});

describe('loadToolSelection', () => {
  test('nothing set: every tool, not read-only', () => {
    expect(loadToolSelection({}, {})).toEqual({ readOnly: false });
  });

  test.each(['1', 'true', 'yes', 'on', 'TRUE', ' Yes '])('SINCH_READ_ONLY=%o is read-only', (value) => {
    expect(loadToolSelection({}, { SINCH_READ_ONLY: value })).toEqual({ readOnly: true });
  });

  test.each(['0', 'false', 'no', 'off', '', 'No', '${user_config.read_only}'])('SINCH_READ_ONLY=%o is not', (value) => {
    expect(loadToolSelection({}, { SINCH_READ_ONLY: value })).toEqual({ readOnly: false });
  });

  test.each(['maybe', 'enabled', '2'])('SINCH_READ_ONLY=%o is a ConfigError naming the variable and the value', (value) => {
    expect(() => loadToolSelection({}, { SINCH_READ_ONLY: value })).toThrow(ConfigError);
    expect(() => loadToolSelection({}, { SINCH_READ_ONLY: value })).toThrow(`SINCH_READ_ONLY must be 1/true/yes/on or 0/false/no/off (got "${value}")`);
  });

  test('--read-only wins over SINCH_READ_ONLY=0', () => {
    expect(loadToolSelection({ readOnly: true }, { SINCH_READ_ONLY: '0' })).toEqual({ readOnly: true });
  });

  test('SINCH_TOOLS is a comma-separated list, spaces and empty entries ignored', () => {
    expect(loadToolSelection({}, { SINCH_TOOLS: ' get_group , list_groups,, ' })).toEqual({ readOnly: false, only: ['get_group', 'list_groups'] });
  });

  test('--tools overrides SINCH_TOOLS', () => {
    expect(loadToolSelection({ tools: 'create_group,get_group' }, { SINCH_TOOLS: 'list_groups' })).toEqual({
      readOnly: false,
      only: ['create_group', 'get_group'],
    });
  });

  test('both together', () => {
    expect(loadToolSelection({ readOnly: true, tools: 'get_group' }, { SINCH_TOOLS: 'x', SINCH_READ_ONLY: 'no' })).toEqual({
      readOnly: true,
      only: ['get_group'],
    });
  });
});

describe('the journal and folders, as a client passes them', () => {
  const STATE = '/home/u/.local/state/sinch-groups-mcp/journal.jsonl';

  test.each(['on', 'true', 'TRUE', 'yes', '1'])('SINCH_JOURNAL=%o keeps the journal in the state folder, over HTTP too', (value) => {
    expect(loadJournalSettings({ HOME: '/home/u', SINCH_JOURNAL: value })).toEqual({ path: STATE, retentionDays: 30 });
    expect(loadJournalSettings({ HOME: '/home/u', SINCH_JOURNAL: value }, { http: true })).toEqual({ path: STATE, retentionDays: 30 });
  });

  test.each(['off', 'false', 'no', '0', 'Off'])('SINCH_JOURNAL=%o turns it off', (value) => {
    expect(loadJournalSettings({ HOME: '/home/u', SINCH_JOURNAL: value })).toEqual({ retentionDays: 30 });
    expect(loadJournalSettings({ SINCH_JOURNAL: value }, { http: true, perRequestCredentials: true })).toEqual({ retentionDays: 30 });
  });

  test.each(['', '${user_config.journal}'])('SINCH_JOURNAL=%o is unset: the default of the transport', (value) => {
    expect(loadJournalSettings({ HOME: '/home/u', SINCH_JOURNAL: value, SINCH_JOURNAL_DAYS: '${user_config.days}' })).toEqual({ path: STATE, retentionDays: 30 });
    expect(loadJournalSettings({ SINCH_JOURNAL: value }, { http: true })).toEqual({ retentionDays: 30 });
  });

  test('on is still refused with per-request credentials, and a relative path names the choices', () => {
    expect(() => loadJournalSettings({ SINCH_JOURNAL: 'on' }, { http: true, perRequestCredentials: true })).toThrow(/cannot be used with --per-request-credentials/);
    expect(() => loadJournalSettings({ SINCH_JOURNAL: 'journal.jsonl' })).toThrow('SINCH_JOURNAL must be an absolute path, on or off (got "journal.jsonl")');
  });

  test.each(['', '${user_config.files_dir}'])('SINCH_FILES_DIR=%o names no folder', (value) => {
    expect(loadFileSettings({}, { SINCH_FILES_DIR: value })).toEqual({ folders: [], roots: true });
  });
});
