import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { CallToolResult, Progress } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, onTestFinished, test, vi } from 'vitest';
import { startEmulator, type Emulator, type EmulatorOptions } from '../src/emulator/server.js';
import type { SinchClientOptions } from '../src/sinch/client.js';
import type { RetrySettings } from '../src/sinch/http.js';
import type { Group } from '../src/sinch/schemas.js';
import { bare, connect as connectServer, listen, number, numbers, sent as sentTo, sinchOf, startHarness, textOf, TOOL_NAMES_WITHOUT_JOURNAL, until, type Connection, type Harness } from './harness.js';

// Sinch failing in the ways networks and gateways fail: rate limits, 5xx, cut connections, refused
// connections, hangs, expired tokens, replies that are not what Sinch documents. Every call goes
// through the SDK client to the real server, and the server to the emulator over HTTP; each test counts
// the requests Sinch received and checks what the store holds, so a retry too many or too few shows.

let h: Harness;
/** Every emulator of the current test; their credentials, and every token sent to them, are secrets. */
let emulators: Emulator[] = [];
/** Every gateway of the current test: tokens it received are secrets too (some never reach an emulator). */
let gateways: Gateway[] = [];
const cleanups: (() => Promise<void>)[] = [];
/** The text of every tool result (and resource error) in this file. */
const texts: string[] = [];
/** Every credential seen in this file, tokens issued by the emulators included. */
const secrets = new Set<string>();

/** Every tool result goes through here, so that the secrets check sees its text. */
const recorded = { onResult: (result: CallToolResult) => void texts.push(textOf(result)) };

beforeEach(async () => {
  h = await startHarness(recorded);
  emulators = [h.emulator];
  gateways = [];
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await h.close();
  for (const emulator of emulators) for (const secret of secretsOf(emulator)) secrets.add(secret);
  for (const { received } of gateways) {
    for (const token of received.map((r) => tokenIn(r.authorization))) if (token !== undefined) secrets.add(token);
  }
  expect(leaks(texts, secrets)).toEqual([]);
});

const base64 = (text: string) => Buffer.from(text).toString('base64');

/** An emulator's credentials, and every token any client sent it (Basic and Bearer alike). */
function secretsOf(emulator: Emulator): string[] {
  const found = [emulator.apiToken, emulator.keySecret, base64(`${emulator.keyId}:${emulator.keySecret}`)];
  for (const { headers } of emulator.requests) {
    const token = tokenIn(headers.authorization);
    if (token !== undefined) found.push(token);
  }
  return found;
}

const tokenIn = (authorization: string | undefined) => /^(?:Bearer|Basic) +(\S+)$/i.exec(authorization ?? '')?.[1];

/** Each secret found in a text, as "secret in text". */
function leaks(found: readonly string[], secretValues: Iterable<string>): string[] {
  const leaked: string[] = [];
  for (const secret of secretValues) {
    for (const text of found) if (text.includes(secret)) leaked.push(`${secret} in ${JSON.stringify(text.slice(0, 300))}`);
  }
  return leaked;
}

interface Settings {
  retry?: Partial<RetrySettings>;
  timeoutMs?: number;
  /** Default: the harness's emulator. */
  baseUrl?: string;
}

/** A server over a Sinch client with these settings, closed when the test ends. */
async function serve(options: SinchClientOptions): Promise<Connection> {
  const connection = await connectServer(options, recorded);
  cleanups.push(() => connection.close());
  return connection;
}

/** Another server over the harness's emulator (or `baseUrl`), with other retry or timeout settings. */
const open = (settings: Settings = {}) => serve(sinchOf(h.emulator, settings));

/** A server using OAuth2 project credentials against `emulator` (or through `baseUrl` to it). */
const openOAuth = ({ url, projectId, keyId, keySecret, tokenUrl: authUrl }: Emulator, secret = keySecret, baseUrl = url) =>
  serve({ baseUrl, projectId, keyId, keySecret: secret, authUrl });

async function anotherEmulator(options?: EmulatorOptions): Promise<Emulator> {
  const emulator = await startEmulator(options);
  emulators.push(emulator);
  cleanups.push(() => emulator.close());
  return emulator;
}

interface Scripted {
  status?: number;
  headers?: Record<string, string>;
  /** Sent as given; a function gets the request's Authorization header. */
  body?: string | ((authorization: string) => string);
  /** Pass the request on to the emulator first (so it takes effect), then answer as scripted. */
  forward?: true;
  /** Close the connection instead of answering. */
  drop?: true;
  /** With `forward`: send the emulator's status, headers and half its body, then close the connection. */
  partial?: true;
}

interface Gateway {
  url: string;
  /** Scripted answers, each used once, in order; when empty, requests pass through to the emulator. */
  script: Scripted[];
  /** Every request received, with when it arrived (performance.now()). */
  received: { method: string; path: string; authorization: string | undefined; range: string | undefined; at: number }[];
}

/** A gateway in front of the emulator that can answer with any status and headers (Retry-After) the emulator's faults cannot. */
async function startGateway(target: Emulator = h.emulator): Promise<Gateway> {
  const script: Scripted[] = [];
  const received: Gateway['received'] = [];
  const forward = (req: IncomingMessage, body: Buffer) =>
    new Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }>((resolve, reject) => {
      const upstream = httpRequest(`${target.url}${req.url}`, { method: req.method, headers: req.headers }, (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: Buffer.concat(chunks) }));
        answer.on('error', reject);
      });
      upstream.on('error', reject);
      upstream.end(body);
    });
  const handle = async (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const { method = '', url: path = '', headers } = req;
    received.push({ method, path, authorization: headers.authorization, range: headers.range, at: performance.now() });
    const scripted = script.shift();
    const passed = scripted === undefined || scripted.forward ? await forward(req, body) : undefined;
    if (scripted?.drop) return void res.destroy();
    if (scripted?.partial) {
      res.writeHead(passed!.status, passed!.headers);
      res.write(passed!.body.subarray(0, passed!.body.length >> 1));
      return void setTimeout(() => res.destroy(), 20);
    }
    if (scripted?.status !== undefined) {
      const text = typeof scripted.body === 'function' ? scripted.body(req.headers.authorization ?? '') : (scripted.body ?? '');
      res.writeHead(scripted.status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...scripted.headers });
      return void res.end(text);
    }
    res.writeHead(passed!.status, passed!.headers);
    res.end(passed!.body);
  };
  const server = await listen((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => void handle(req, res, Buffer.concat(chunks)).catch(() => res.destroy()));
  });
  cleanups.push(server.close);
  const gateway = { url: server.url, script, received };
  gateways.push(gateway);
  return gateway;
}

/** A gateway answering first as scripted, and a server that reaches the emulator through it. */
async function viaGateway(script: Scripted[], settings: Omit<Settings, 'baseUrl'> = {}) {
  const gateway = await startGateway();
  gateway.script.push(...script);
  return { gateway, server: await open({ baseUrl: gateway.url, ...settings }) };
}

/** The requests the emulator received, as "METHOD path" with the groups path shortened to "/groups". */
const sent = (emulator: Emulator = h.emulator) => sentTo(emulator);

/** A group made in the store directly, so the requests counted are only those of the call under test. */
const existingGroup = () => h.emulator.store.create({ name: 'Team', members: ['+14155550123'] });

const sinchError = (status: number, code: string, text: string) => ({ status, body: JSON.stringify({ code, text }) });
const SERVER_ERRORS = {
  500: sinchError(500, 'internal_error', 'Something went wrong.'),
  502: sinchError(502, 'bad_gateway', 'Upstream failed.'),
  503: sinchError(503, 'service_unavailable', 'Try again later.'),
} as const;
const TOO_MANY = sinchError(429, 'too_many_requests', 'Slow down.');

interface Operation {
  args: (groupId: string) => Record<string, unknown>;
  /** The one request the call makes, as in sent(). */
  request: (groupId: string) => string;
  /** What the store holds after the call succeeded. */
  check: (groupId: string, result: Record<string, unknown>) => void;
}

const READS_AND_CHANGES: Record<string, Operation> = {
  list_groups: { args: () => ({}), request: () => 'GET /groups', check: (id, result) => expect(result).toMatchObject({ count: 1, groups: [{ id }] }) },
  get_group: { args: (id) => ({ group_id: id }), request: (id) => `GET /groups/${id}`, check: (id, result) => expect(result).toMatchObject({ id, name: 'Team', size: 1 }) },
  list_group_members: {
    args: (id) => ({ group_id: id }),
    request: (id) => `GET /groups/${id}/members`,
    check: (id, result) => expect(result).toEqual({ group_id: id, total: 1, members: ['+14155550123'] }),
  },
  update_group: {
    args: (id) => ({ group_id: id, add: [number(1)] }),
    request: (id) => `POST /groups/${id}`,
    check: (id, result) => {
      expect(result).toMatchObject({ id, size: 2 });
      expect(h.emulator.store.members(id)).toEqual(['14155550123', bare(number(1))]);
    },
  },
  replace_group: {
    args: (id) => ({ group_id: id, name: 'Fresh', members: [number(2)], confirm: true }),
    request: (id) => `PUT /groups/${id}`,
    check: (id, result) => {
      expect(result).toMatchObject({ id, name: 'Fresh', size: 1 });
      expect(h.emulator.store.members(id)).toEqual([bare(number(2))]);
    },
  },
  delete_group: {
    args: (id) => ({ group_id: id, confirm: true }),
    request: (id) => `DELETE /groups/${id}`,
    check: (id, result) => {
      expect(result).toEqual({ group_id: id, deleted: true });
      expect(h.emulator.store.list().count).toBe(0);
    },
  },
};

const ALL_OPERATIONS: Record<string, Operation> = {
  ...READS_AND_CHANGES,
  create_group: {
    args: () => ({ name: 'New', members: [number(3)] }),
    request: () => 'POST /groups',
    check: (_id, result) => {
      const groups = h.emulator.store.list().groups;
      expect(groups.map((group) => group.name)).toEqual(['New', 'Team']);
      expect(result).toMatchObject({ id: groups[0]!.id, name: 'New', size: 1 });
    },
  },
};

describe('a fault a retry cures', () => {
  // A 429 is retried for every tool; a 5xx or a dropped connection for all but create_group.
  const cases = [
    ...Object.keys(ALL_OPERATIONS).map((tool) => [tool, 'HTTP 429', TOO_MANY] as const),
    ...Object.keys(READS_AND_CHANGES).flatMap((tool) => ([500, 502, 503] as const).map((status) => [tool, `HTTP ${status}`, SERVER_ERRORS[status]] as const)),
    ...Object.keys(READS_AND_CHANGES).map((tool) => [tool, 'a dropped connection', { drop: true }] as const),
  ];

  test.each(cases)('%s after %s is retried once and succeeds: exactly 2 requests', async (tool, _what, fault) => {
    const operation = ALL_OPERATIONS[tool]!;
    const group = existingGroup();
    h.emulator.faults.push(fault);
    const result = await h.ok(tool, operation.args(group.id));
    expect(sent()).toEqual([operation.request(group.id), operation.request(group.id)]);
    expect(h.emulator.faults).toEqual([]);
    operation.check(group.id, result);
  });
});

describe('429 Too Many Requests', () => {
  // maxDelayMs caps the client's own backoff only: coming back before the time Sinch asked for is no
  // way to honour Retry-After, so it is waited out as asked, or the call gives up if it cannot be.
  test.each([5_000, 50])('Retry-After: 1 makes the retry wait a second, with the backoff capped at %i ms', async (maxDelayMs) => {
    const group = existingGroup();
    const { gateway, server } = await viaGateway([{ ...TOO_MANY, headers: { 'retry-after': '1' } }], { retry: { maxDelayMs } });
    expect(await server.ok('get_group', { group_id: group.id })).toMatchObject({ id: group.id });
    expect(gateway.received.map((r) => r.method)).toEqual(['GET', 'GET']);
    expect(gateway.received[1]!.at - gateway.received[0]!.at).toBeGreaterThanOrEqual(990);
    // Only the retry reached the emulator: the 429 came from the gateway.
    expect(sent()).toEqual([`GET /groups/${group.id}`]);
  });

  test('a 429 on every attempt of a create: 4 requests, the last status in the error, no group', async () => {
    h.emulator.faults.push(TOO_MANY, TOO_MANY, TOO_MANY, TOO_MANY, TOO_MANY);
    const error = await h.fails('create_group', { name: 'New' });
    expect(error).toMatch(/Sinch refused to create group after 4 attempts over \d+ ms \(HTTP 429 too_many_requests: Slow down\.\)/);
    expect(error).toMatch(/Sinch is limiting the request rate and did not process this; it still was over 4 attempts in \d+ ms and gave no time to wait/);
    expect(sent()).toEqual(Array(4).fill('POST /groups'));
    expect(h.emulator.faults).toHaveLength(1);
    expect(h.emulator.store.list().count).toBe(0);
  });
});

describe('5xx from Sinch', () => {
  test('500, 502 and 503 in a row, then success: 4 requests, within the 3 retries', async () => {
    const group = existingGroup();
    h.emulator.faults.push(SERVER_ERRORS[500], SERVER_ERRORS[502], SERVER_ERRORS[503]);
    const result = await h.ok('update_group', { group_id: group.id, add: [number(1)] });
    expect(result).toMatchObject({ size: 2 });
    expect(sent()).toEqual(Array(4).fill(`POST /groups/${group.id}`));
  });

  test.each([500, 502, 503] as const)('create_group after HTTP %i is not retried: 1 request, status and code in the error', async (status) => {
    h.emulator.faults.push(SERVER_ERRORS[status], SERVER_ERRORS[status]);
    const { code, text } = JSON.parse(SERVER_ERRORS[status].body) as { code: string; text: string };
    const error = await h.fails('create_group', { name: 'New', members: [number(1)] });
    expect(error).toContain(`Sinch refused to create group (HTTP ${status} ${code}: ${text})`);
    expect(error).not.toContain('attempts');
    expect(sent()).toEqual(['POST /groups']);
    expect(h.emulator.faults).toHaveLength(1);
    expect(h.emulator.store.list().count).toBe(0);
  });

  // A 5xx on create_group is not retried because Sinch may have made the group; advice to simply try
  // again later is how a second group gets made.
  test('a 5xx on create_group warns that the group may exist', async () => {
    h.emulator.faults.push(SERVER_ERRORS[502]);
    const error = await h.fails('create_group', { name: 'New' });
    expect(error).toContain('HTTP 502 bad_gateway');
    expect(error).toMatch(/may (already )?(exist|have been created|have (created|applied) it)/);
    expect(error).toContain('list_groups');
  });

});

describe('a create Sinch carried out whose answer was lost', () => {
  test.each([
    ['answered 502', { ...SERVER_ERRORS[502], forward: true }, () => 'Sinch refused to create group (HTTP 502 bad_gateway: Upstream failed.)'],
    ['cut off before its answer', { forward: true, drop: true }, (url: string) => `create group failed: the connection to Sinch at ${url} was cut after the request was sent`],
    [
      'cut off mid-reply',
      { forward: true, partial: true },
      (url: string) => `create group failed: the connection to Sinch at ${url} was cut while reading its reply (UND_ERR_SOCKET: other side closed)`,
    ],
  ] as const)('%s is not repeated: one request, exactly one group', async (_what, scripted, message) => {
    const { gateway, server } = await viaGateway([scripted]);
    const error = await server.fails('create_group', { name: 'Once', members: [number(1)] });
    expect(error).toContain(message(gateway.url));
    if (!('status' in scripted)) expect(error).toContain('Sinch may have created the group: check list_groups before creating it again.');
    expect(gateway.received.map((r) => r.method)).toEqual(['POST']);
    expect(sent()).toEqual(['POST /groups']);
    expect(h.emulator.store.list().groups.map((group) => group.name)).toEqual(['Once']);
  });
});

describe('dropped connections', () => {
  test('create_group: 1 request, a clear error that says to check before trying again, no group', async () => {
    h.emulator.faults.push({ drop: true }, { drop: true });
    const error = await h.fails('create_group', { name: 'New' });
    expect(error).toContain(
      `create group failed: the connection to Sinch at ${h.emulator.url} was cut after the request was sent, before Sinch answered (UND_ERR_SOCKET: other side closed)`,
    );
    expect(error).not.toContain('attempts');
    expect(error).not.toContain('could not reach');
    expect(error).toContain('Sinch may have created the group: check list_groups before creating it again.');
    expect(sent()).toEqual(['POST /groups']);
    expect(h.emulator.faults).toHaveLength(1);
    // The emulator drops before acting on the request.
    expect(h.emulator.store.list().count).toBe(0);
  });

  test('an update cut off after Sinch applied it is repeated harmlessly: the member is there once', async () => {
    const group = existingGroup();
    const { server } = await viaGateway([{ forward: true, drop: true }]);
    const result = await server.ok('update_group', { group_id: group.id, add: [number(1)] });
    expect(result).toMatchObject({ id: group.id, size: 2 });
    expect(sent()).toEqual([`POST /groups/${group.id}`, `POST /groups/${group.id}`]);
    expect(h.emulator.store.members(group.id)).toEqual(['14155550123', bare(number(1))]);
  });
});

describe('a connection cut in the middle of a reply', () => {
  // The Sinch API does not serve Range requests, so a reply cut after its headers cannot be resumed:
  // a harmless request is sent again whole.
  test('a read cut off mid-reply is repeated whole and succeeds', async () => {
    const group = existingGroup();
    const { gateway, server } = await viaGateway([{ forward: true, partial: true }]);
    const result = await server.call('get_group', { group_id: group.id });
    expect(textOf(result)).not.toContain('range header');
    expect(result.isError).toBeFalsy();
    expect(gateway.received.map((r) => [r.method, r.range])).toEqual([['GET', undefined], ['GET', undefined]]);
  });

});

describe('retries run out', () => {
  test('a fault on every attempt: "after 4 attempts" with the last status and code', async () => {
    const group = existingGroup();
    h.emulator.faults.push(SERVER_ERRORS[500], SERVER_ERRORS[502], SERVER_ERRORS[500], SERVER_ERRORS[503], SERVER_ERRORS[500]);
    const error = await h.fails('get_group', { group_id: group.id });
    expect(error).toMatch(new RegExp(`Sinch refused to get group ${group.id} after 4 attempts over \\d+ ms \\(HTTP 503 service_unavailable: Try again later\\.\\)`));
    expect(error).toContain('Sinch had a problem on its side; try again later.');
    expect(sent()).toEqual(Array(4).fill(`GET /groups/${group.id}`));
    expect(h.emulator.faults).toHaveLength(1);
  });

  test('maxRetries: 1 makes 2 attempts', async () => {
    const group = existingGroup();
    h.emulator.faults.push(SERVER_ERRORS[503], SERVER_ERRORS[502], SERVER_ERRORS[500]);
    const once = await open({ retry: { maxRetries: 1 } });
    const error = await once.fails('delete_group', { group_id: group.id, confirm: true });
    expect(error).toMatch(new RegExp(`Sinch refused to delete group ${group.id} after 2 attempts over \\d+ ms \\(HTTP 502 bad_gateway: Upstream failed\\.\\)`));
    expect(sent()).toEqual(Array(2).fill(`DELETE /groups/${group.id}`));
    expect(h.emulator.faults).toHaveLength(1);
    expect(h.emulator.store.list().count).toBe(1);
  });

  test('maxRetries: 0 makes 1 attempt', async () => {
    h.emulator.faults.push(TOO_MANY, TOO_MANY);
    const never = await open({ retry: { maxRetries: 0 } });
    const error = await never.fails('list_groups');
    expect(error).toContain('Sinch refused to list groups (HTTP 429 too_many_requests: Slow down.)');
    expect(sent()).toEqual(['GET /groups']);
  });

  test('a dropped connection on every attempt: the transport error counts the attempts', async () => {
    const group = existingGroup();
    h.emulator.faults.push({ drop: true }, { drop: true }, { drop: true }, { drop: true });
    const error = await h.fails('list_group_members', { group_id: group.id });
    expect(error).toContain(
      `list members of group ${group.id} failed: the connection to Sinch at ${h.emulator.url} was cut after the request was sent, before Sinch answered (UND_ERR_SOCKET: other side closed) after 4 attempts over `,
    );
    expect(sent()).toEqual(Array(4).fill(`GET /groups/${group.id}/members`));
  });

  test('a Retry-After past maxElapsedMs: gives up at once, after 1 attempt, saying how long Sinch asked to wait', async () => {
    const { gateway, server } = await viaGateway([{ ...TOO_MANY, headers: { 'retry-after': '5' } }], { retry: { maxDelayMs: 10_000, maxElapsedMs: 1_000 } });
    const error = await server.fails('list_groups');
    expect(error).toMatch(
      /^Sinch refused to list groups \(HTTP 429 too_many_requests: Slow down\.\); it asked to wait 5\.0 s, until \d{4}-\d\d-\d\dT[\d:.]+Z, and the retry limits \(SINCH_MAX_RETRIES, SINCH_RETRY_MAX_ELAPSED_MS\) leave no room for that wait/,
    );
    expect(error).not.toContain('attempts');
    expect(gateway.received).toHaveLength(1);
    expect(sent()).toEqual([]);
  });

  test('maxElapsedMs bounds the backoff: no retry would start past it', async () => {
    // Waits of 200 then 400 ms: the second would end at about 600 ms, past the 500 allowed.
    h.emulator.faults.push(SERVER_ERRORS[503], SERVER_ERRORS[503], SERVER_ERRORS[503], SERVER_ERRORS[503]);
    const bounded = await open({ retry: { minDelayMs: 200, maxDelayMs: 1_000, maxElapsedMs: 500 } });
    const started = performance.now();
    const error = await bounded.fails('list_groups');
    const elapsed = performance.now() - started;
    expect(error).toMatch(/Sinch refused to list groups after 2 attempts over \d+ ms \(HTTP 503 service_unavailable: Try again later\.\)/);
    expect(sent()).toEqual(['GET /groups', 'GET /groups']);
    expect(elapsed).toBeGreaterThanOrEqual(195);
  });
});

describe('connection refused', () => {
  async function closedPort(): Promise<Emulator> {
    const gone = await startEmulator();
    emulators.push(gone);
    await gone.close();
    return gone;
  }

  test('is retried, even for a create, with backoff, then reported with the attempt count', async () => {
    const gone = await closedPort();
    const refused = await open({ baseUrl: gone.url, retry: { minDelayMs: 50, maxDelayMs: 1_000 } });
    const started = performance.now();
    const error = await refused.fails('create_group', { name: 'New' });
    const elapsed = performance.now() - started;
    expect(error).toMatch(
      new RegExp(`^create group failed: could not reach Sinch at ${gone.url} \\(ECONNREFUSED: [^)]*\\) after 4 attempts over \\d+ ms\\. Nothing reached Sinch, so nothing changed\\. Check the network`),
    );
    // Three waits of 50, 100 and 200 ms: the retries did happen.
    expect(elapsed).toBeGreaterThanOrEqual(345);
  });

  test('maxRetries: 1 reports 2 attempts, and the server keeps serving', async () => {
    const gone = await closedPort();
    const refused = await open({ baseUrl: gone.url, retry: { maxRetries: 1 } });
    expect(await refused.fails('list_groups')).toContain(`could not reach Sinch at ${gone.url} (ECONNREFUSED`);
    const error = await refused.fails('get_group', { group_id: 'abc123' });
    expect(error).toContain(`get group abc123 failed: could not reach Sinch at ${gone.url}`);
    expect(error).toMatch(/\) after 2 attempts over \d+ ms\. Nothing reached Sinch/);
    expect((await refused.client.listTools()).tools).toHaveLength(TOOL_NAMES_WITHOUT_JOURNAL.length);
  });
});

describe('a Sinch that does not answer', () => {
  test('a hang past timeoutMs ends as a clear error after 1 request (timeouts are not retried)', async () => {
    const group = existingGroup();
    h.emulator.faults.push({ hang: true });
    const impatient = await open({ timeoutMs: 300 });
    const started = performance.now();
    const error = await impatient.fails('get_group', { group_id: group.id });
    const elapsed = performance.now() - started;
    expect(error).toContain(`get group ${group.id} failed: Sinch at ${h.emulator.url} did not answer within 300 ms (SINCH_TIMEOUT_MS)`);
    expect(error).not.toContain('attempts');
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(sent()).toEqual([`GET /groups/${group.id}`]);
  });

  test('a hanging create ends the same way, and is not repeated', async () => {
    h.emulator.faults.push({ hang: true });
    const impatient = await open({ timeoutMs: 300 });
    const error = await impatient.fails('create_group', { name: 'New' });
    expect(error).toContain('create group failed: Sinch at');
    expect(error).toContain('did not answer within 300 ms (SINCH_TIMEOUT_MS)');
    expect(error).toContain('Sinch may have created the group: check list_groups before creating it again.');
    expect(sent()).toEqual(['POST /groups']);
  });

  test('while one call hangs, another on the same connection completes first', async () => {
    const group = existingGroup();
    h.emulator.faults.push({ path: `/groups/${group.id}`, hang: true });
    const impatient = await open({ timeoutMs: 300 });
    const finished: string[] = [];
    const slow = impatient.call('get_group', { group_id: group.id }).then((result) => {
      finished.push('get_group');
      return result;
    });
    await until(() => h.emulator.requests.length === 1, 'the hanging request');
    const list = await impatient.ok('list_groups');
    finished.push('list_groups');
    const hung = await slow;
    expect(finished).toEqual(['list_groups', 'get_group']);
    expect(list).toMatchObject({ count: 1, groups: [{ id: group.id }] });
    expect(hung.isError).toBe(true);
    expect(textOf(hung)).toContain('did not answer within 300 ms (SINCH_TIMEOUT_MS)');
    expect(sent()).toEqual([`GET /groups/${group.id}`, 'GET /groups']);
  });
});

describe('progress', () => {
  const progressOf = (done: number, total: number): Progress => ({ progress: done, total, message: `${done} of ${total} requests to Sinch done` });

  test.each([
    ['create_group', 25_000, 3, (id: string) => ['POST /groups', ...Array(2).fill(`POST /groups/${id}`)], 25_000],
    ['update_group', 25_000, 3, (id: string) => Array(3).fill(`POST /groups/${id}`), 25_001],
    ['replace_group', 15_000, 2, (id: string) => [`PUT /groups/${id}`, `POST /groups/${id}`], 15_000],
  ] as const)('%s with %i numbers reports each of its %i requests', async (tool, count, requests, expected, size) => {
    const group = existingGroup();
    const seen: Progress[] = [];
    const args = {
      create_group: { name: 'Big', members: numbers(0, count) },
      update_group: { group_id: group.id, add: numbers(0, count) },
      replace_group: { group_id: group.id, members: numbers(0, count), confirm: true },
    };
    const result = await h.call(tool, args[tool], (progress) => seen.push(progress));
    expect(result.isError).toBeFalsy();
    expect(seen).toEqual(Array.from({ length: requests }, (_, i) => progressOf(i + 1, requests)));
    const id = (result.structuredContent as Group).id;
    expect(sent()).toEqual(expected(id));
    expect(h.emulator.store.get(id)).toMatchObject({ size, ...(tool === 'create_group' && { name: 'Big' }) });
  });

  test('a call of a single request sends no progress', async () => {
    const group = existingGroup();
    const seen: Progress[] = [];
    await h.call('create_group', { name: 'Small', members: numbers(0, 10_000) }, (progress) => seen.push(progress));
    await h.call('update_group', { group_id: group.id, add: numbers(0, 10) }, (progress) => seen.push(progress));
    expect(seen).toEqual([]);
    expect(sent()).toEqual(['POST /groups', `POST /groups/${group.id}`]);
  });

  test('a create that fails part-way has told of the requests that were done', async () => {
    // Every attempt after the first request fails: 4 for each of the two follow-ups, whether they are
    // sent one after the other or at the same time.
    h.emulator.faults.push({ after: 1, ...SERVER_ERRORS[500] }, ...Array<typeof SERVER_ERRORS[500]>(7).fill(SERVER_ERRORS[500]));
    const seen: Progress[] = [];
    const result = await h.call('create_group', { name: 'Big', members: numbers(0, 25_000) }, (progress) => seen.push(progress));
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('It was only partly applied: 1 of 3 requests succeeded');
    expect(textOf(result)).toMatch(/after 4 attempts over \d+ ms \(HTTP 500 internal_error: Something went wrong\.\)/);
    expect(seen).toEqual([progressOf(1, 3)]);
    expect(h.emulator.store.list().groups).toMatchObject([{ name: 'Big', size: 10_000 }]);
  });
});

describe('OAuth2 project credentials', () => {
  /** Fakes only Date, so that a token's lifetime passes at once while HTTP and timers run as usual. */
  const fakeClock = () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    onTestFinished(() => void vi.useRealTimers());
    return Date.now();
  };
  const TOKEN_PATH = '/oauth2/token';
  const authorizationsOf = (emulator: Emulator) =>
    emulator.requests.filter((r) => r.path !== TOKEN_PATH).map((r) => r.headers.authorization);

  test('one token, fetched with Basic auth and a form body, is reused for several calls', async () => {
    const emulator = h.emulator;
    const project = await openOAuth(emulator);
    const group = await project.ok<Group>('create_group', { name: 'Project' });
    await project.ok('list_groups');
    await project.ok('get_group', { group_id: group.id });
    expect(emulator.tokensIssued).toBe(1);
    expect(sent()).toEqual([`POST ${TOKEN_PATH}`, 'POST /groups', 'GET /groups', `GET /groups/${group.id}`]);
    const [tokenRequest, ...calls] = emulator.requests;
    const form = { authorization: `Basic ${base64(`${emulator.keyId}:${emulator.keySecret}`)}`, 'content-type': 'application/x-www-form-urlencoded' };
    expect(tokenRequest).toMatchObject({ headers: form, rawBody: 'grant_type=client_credentials' });
    const bearer = calls[0]!.headers.authorization!;
    expect(bearer).toMatch(/^Bearer [A-Za-z0-9_-]{43}$/);
    expect(bearer).not.toContain(emulator.apiToken);
    const projectPaths = calls.map((r) => [r.path.startsWith(`/xms/v1/${emulator.projectId}/groups`), r.headers.authorization]);
    expect(projectPaths).toEqual(Array(3).fill([true, bearer]));
  });

  test('10 concurrent calls on a fresh client share one token request', async () => {
    const project = await openOAuth(h.emulator);
    const results = await Promise.all(Array.from({ length: 10 }, () => project.ok('list_groups')));
    expect(results).toHaveLength(10);
    expect(h.emulator.tokensIssued).toBe(1);
    expect(sent()).toEqual([`POST ${TOKEN_PATH}`, ...Array(10).fill('GET /groups')]);
    expect(new Set(authorizationsOf(h.emulator)).size).toBe(1);
  });

  test('an expired token: the 401 is answered by one refresh and one retry', async () => {
    const project = await openOAuth(h.emulator);
    const group = await project.ok<Group>('create_group', { name: 'Project' });
    h.emulator.expireTokens();
    const result = await project.ok('get_group', { group_id: group.id });
    expect(result).toMatchObject({ id: group.id });
    expect(h.emulator.tokensIssued).toBe(2);
    expect(sent()).toEqual([`POST ${TOKEN_PATH}`, 'POST /groups', `GET /groups/${group.id}`, `POST ${TOKEN_PATH}`, `GET /groups/${group.id}`]);
    const [first, failed, retried] = authorizationsOf(h.emulator);
    expect(failed).toBe(first);
    expect(retried).not.toBe(failed);
    // The fresh token is kept: the next call needs no refresh.
    await project.ok('list_groups');
    expect(h.emulator.tokensIssued).toBe(2);
    expect(authorizationsOf(h.emulator).at(-1)).toBe(retried);
  });

  test('10 concurrent calls all refused as expired share one refresh', async () => {
    const project = await openOAuth(h.emulator);
    await project.ok('list_groups');
    h.emulator.expireTokens();
    await Promise.all(Array.from({ length: 10 }, () => project.ok('list_groups')));
    expect(h.emulator.tokensIssued).toBe(2);
    const calls = sent().slice(2);
    expect(calls.filter((call) => call === `POST ${TOKEN_PATH}`)).toHaveLength(1);
    // Each call was sent with the old token and at most once more with the new one.
    expect(calls.filter((call) => call === 'GET /groups').length).toBeGreaterThanOrEqual(10);
    expect(calls.filter((call) => call === 'GET /groups').length).toBeLessThanOrEqual(20);
    const [first] = authorizationsOf(h.emulator);
    expect(new Set(authorizationsOf(h.emulator)).size).toBe(2);
    expect(authorizationsOf(h.emulator).filter((authorization) => authorization !== first)).toHaveLength(
      calls.filter((call) => call === 'GET /groups').length - 10,
    );
  });

  test('an expired token on a create: the refused create is repeated once, making one group', async () => {
    const project = await openOAuth(h.emulator);
    await project.ok('list_groups');
    h.emulator.expireTokens();
    await project.ok('create_group', { name: 'Once' });
    expect(sent()).toEqual([`POST ${TOKEN_PATH}`, 'GET /groups', 'POST /groups', `POST ${TOKEN_PATH}`, 'POST /groups']);
    expect(h.emulator.store.list().groups.map((group) => group.name)).toEqual(['Once']);
  });

  // Past half the lifetime (the refresh margin for a 2 s token) a new token is fetched, before the old one expires.
  test.each([
    [999, 1],
    [1_100, 2],
  ])('a 2 s token, %i ms on: %i token(s) issued, and never a 401', async (later, issued) => {
    const emulator = await anotherEmulator({ tokenLifetimeSeconds: 2 });
    const project = await openOAuth(emulator);
    const start = fakeClock();
    await project.ok('list_groups');
    vi.setSystemTime(start + later);
    await project.ok('list_groups');
    expect(emulator.tokensIssued).toBe(issued);
    const token = `POST ${TOKEN_PATH}`;
    expect(sent(emulator)).toEqual(issued === 1 ? [token, 'GET /groups', 'GET /groups'] : [token, 'GET /groups', token, 'GET /groups']);
    expect(new Set(authorizationsOf(emulator)).size).toBe(issued);
  });

  test('a wrong key secret: HTTP 401 invalid_client with advice, no API request, and the secret nowhere', async () => {
    const wrongSecret = 'wrong-key-secret-0123456789abcdef';
    secrets.add(wrongSecret);
    secrets.add(base64(`${h.emulator.keyId}:${wrongSecret}`));
    const project = await openOAuth(h.emulator, wrongSecret);
    const error = await project.fails('list_groups');
    expect(error).toContain(
      'Sinch refused to get an OAuth access token (HTTP 401 invalid_client: Client authentication failed: unknown key ID or wrong key secret.)',
    );
    expect(error).toContain('SINCH_PROJECT_ID, SINCH_KEY_ID and SINCH_KEY_SECRET');
    expect(error).not.toContain(wrongSecret);
    expect(error).not.toContain(base64(`${h.emulator.keyId}:${wrongSecret}`));
    expect(sent()).toEqual([`POST ${TOKEN_PATH}`]);
    expect(h.emulator.tokensIssued).toBe(0);
    // A failed token request is not cached: the next call asks again.
    expect(await project.fails('create_group', { name: 'Nope' })).toContain('HTTP 401 invalid_client');
    expect(sent()).toEqual([`POST ${TOKEN_PATH}`, `POST ${TOKEN_PATH}`]);
    expect(h.emulator.store.list().count).toBe(0);
  });

  test('the token endpoint failing with 503 is retried like any read', async () => {
    h.emulator.faults.push({ path: TOKEN_PATH, ...SERVER_ERRORS[503] });
    const project = await openOAuth(h.emulator);
    await project.ok('list_groups');
    expect(sent()).toEqual([`POST ${TOKEN_PATH}`, `POST ${TOKEN_PATH}`, 'GET /groups']);
    expect(h.emulator.tokensIssued).toBe(1);
  });
});

describe("replies that are not what Sinch documents", () => {
  test.each([
    ['get_group', 'not json', (id: string) => `get group ${id} failed: Sinch answered HTTP 200 with a body that is not JSON.`, (id: string) => `GET /groups/${id}`],
    ['get_group', '{"unexpected": true}', (id: string) => `get group ${id} failed: Sinch's reply did not have the documented shape (`, (id: string) => `GET /groups/${id}`],
    ['create_group', '', () => "create group failed: Sinch's reply did not have the documented shape (", () => 'POST /groups'],
  ] as const)('%s answered HTTP 200 with %j is an error', async (tool, body, message, request) => {
    const group = existingGroup();
    h.emulator.faults.push({ status: 200, body });
    const error = await h.fails(tool, tool === 'create_group' ? { name: 'New' } : { group_id: group.id });
    expect(error).toContain(message(group.id));
    expect(sent()).toEqual([request(group.id)]);
  });

  test("a proxy's HTML 502 page on a read: retried, then HTTP 502 without the page", async () => {
    const page = { status: 502, contentType: 'text/html', body: '<html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>' };
    h.emulator.faults.push(page, page, page, page);
    const error = await h.fails('list_groups');
    expect(error).toMatch(/^Sinch refused to list groups after 4 attempts over \d+ ms \(HTTP 502\)\. Sinch had a problem on its side; try again later\.$/);
    expect(sent()).toEqual(Array(4).fill('GET /groups'));
  });

  test("a proxy's HTML 502 page on a create: once, then HTTP 502", async () => {
    h.emulator.faults.push({ status: 502, contentType: 'text/html', body: '<html>Bad Gateway</html>' });
    const error = await h.fails('create_group', { name: 'New' });
    expect(error).toContain('Sinch refused to create group (HTTP 502)');
    expect(error).not.toContain('<html>');
    expect(sent()).toEqual(['POST /groups']);
  });

  test('a reply over 32 MiB is refused unread, and the server keeps working', async () => {
    const group = existingGroup();
    h.emulator.faults.push({ status: 200, body: `{"id":"${'x'.repeat(33 * 1024 * 1024)}"}` });
    const error = await h.fails('get_group', { group_id: group.id });
    expect(error).toContain(`get group ${group.id} failed: Sinch's reply was larger than 32 MiB, so it was not read.`);
    expect(sent()).toEqual([`GET /groups/${group.id}`]);
    expect(await h.ok('get_group', { group_id: group.id })).toMatchObject({ id: group.id, name: 'Team' });
    expect(await h.ok('list_groups')).toMatchObject({ count: 1 });
  });

  test('after every kind of bad reply, the next calls succeed', async () => {
    const group = existingGroup();
    h.emulator.faults.push({ status: 200, body: 'not json' }, { status: 200, body: '[1,2' }, { status: 200, body: '{"groups": "nope"}' });
    await h.fails('get_group', { group_id: group.id });
    await h.fails('list_group_members', { group_id: group.id });
    await h.fails('list_groups');
    expect(await h.ok('list_group_members', { group_id: group.id })).toMatchObject({ total: 1 });
    expect(sent()).toEqual([`GET /groups/${group.id}`, `GET /groups/${group.id}/members`, 'GET /groups', `GET /groups/${group.id}/members`]);
  });
});

describe('secrets', () => {
  const echo = (authorization: string) => JSON.stringify({ code: 'bad_request', text: `Rejected Authorization: ${authorization}` });

  test('a Sinch error quoting the api token back is redacted', async () => {
    const group = existingGroup();
    const { server } = await viaGateway([{ status: 400, body: echo }]);
    const error = await server.fails('get_group', { group_id: group.id });
    expect(error).toContain('(HTTP 400 bad_request: Rejected Authorization: Bearer [redacted])');
    expect(error).not.toContain(h.emulator.apiToken);
  });

  test('a Sinch error quoting an access token back is redacted, in a tool result and a resource error', async () => {
    const project = await openOAuth(h.emulator);
    const group = await project.ok<Group>('create_group', { name: 'Project' });
    const gateway = await startGateway();
    // Proxy the API through the gateway with the same credentials: its errors echo the access token.
    const connection = await openOAuth(h.emulator, h.emulator.keySecret, gateway.url);
    gateway.script.push({ status: 400, body: echo }, { status: 400, body: echo });
    const error = await connection.fails('get_group', { group_id: group.id });
    const resourceError = await connection.client.readResource({ uri: `sinch://groups/${group.id}` }).then(
      () => 'read succeeded',
      (failure: unknown) => (failure instanceof Error ? failure.message : String(failure)),
    );
    texts.push(resourceError);
    expect(error).toContain('Rejected Authorization: Bearer [redacted]');
    expect(resourceError).toContain('Rejected Authorization: Bearer [redacted]');
    const echoed = gateway.received.map((r) => tokenIn(r.authorization)!);
    expect(echoed).toEqual([expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), expect.anything()]);
    expect(leaks([error, resourceError], echoed)).toEqual([]);
  });

  test('a token endpoint error quoting the key secret and the Basic credentials back is redacted', async () => {
    const gateway = await startGateway();
    const { keyId, keySecret } = h.emulator;
    gateway.script.push({
      status: 401,
      body: (authorization) => JSON.stringify({ error: 'invalid_client', error_description: `Got ${authorization} (${keyId}:${keySecret})` }),
    });
    const connection = await serve({ baseUrl: h.emulator.url, projectId: h.emulator.projectId, keyId, keySecret, authUrl: `${gateway.url}/oauth2/token` });
    const error = await connection.fails('list_groups');
    expect(error).toContain(`(HTTP 401 invalid_client: Got Basic [redacted] (${keyId}:[redacted]))`);
    expect(leaks([error], [keySecret, base64(`${keyId}:${keySecret}`)])).toEqual([]);
    expect(gateway.received.map((r) => r.authorization)).toEqual([`Basic ${base64(`${keyId}:${keySecret}`)}`]);
  });

  test('the leak check finds each kind of secret (it guards every test in this file)', async () => {
    const project = await openOAuth(h.emulator);
    await project.ok('list_groups');
    const found = secretsOf(h.emulator);
    const [apiToken, keySecret, basic, ...tokens] = found;
    expect([apiToken, keySecret, basic]).toEqual([h.emulator.apiToken, h.emulator.keySecret, base64(`${h.emulator.keyId}:${h.emulator.keySecret}`)]);
    expect(tokens).toEqual([basic, h.emulator.requests[1]!.headers.authorization!.slice('Bearer '.length)]);
    for (const secret of found) expect(leaks([`text with ${secret} inside`], [secret])).toHaveLength(1);
    expect(leaks(['nothing to see'], found)).toEqual([]);
  });
});
