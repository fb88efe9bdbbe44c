import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sameSecret } from '../secrets.js';
import { AccessTokens, answerTokenRequest, TOKEN_PATH } from './oauth.js';
import { EmulatorError, GroupStore, invalidFormat } from './store.js';

export interface EmulatorOptions {
  /** Default "127.0.0.1". */
  host?: string;
  /** Keep every request in `requests` (default true); the embedded emulator of a long session does not. */
  record?: boolean;
  /** Default 0: an ephemeral port. */
  port?: number;
  /** Default: 32 random lowercase hex characters. */
  servicePlanId?: string;
  /** Default: 32 random lowercase hex characters. */
  apiToken?: string;
  /** OAuth2 project auth: the project in `/xms/v1/{projectId}/groups`. Default: 32 random lowercase hex characters. */
  projectId?: string;
  /** OAuth2 client ID for the token endpoint (HTTP Basic user). Default: 32 random lowercase hex characters. */
  keyId?: string;
  /** OAuth2 client secret for the token endpoint (HTTP Basic password). Default: 32 random lowercase hex characters. */
  keySecret?: string;
  /** How long an access token lasts, and the `expires_in` the token endpoint reports. Default 3600. */
  tokenLifetimeSeconds?: number;
}

export interface RecordedRequest {
  method: string;
  /** Without the query string. */
  path: string;
  query: Record<string, string>;
  /** Lower-cased names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** Parsed JSON, or undefined when there was no body or it was not JSON. */
  body: unknown;
  /** Empty when there was no body, or it was over the size cap. */
  rawBody: string;
}

/**
 * A way the emulator misbehaves once, to show a client Sinch failing. In order of precedence:
 * `hang` never answers; `drop` closes the connection without an answer; `status` answers with that
 * status and `body`; otherwise the request is answered normally. `delayMs` waits before any of these
 * but `hang`. A fault served without `status` ignores `body` and `contentType`.
 */
export interface Fault {
  /** How many matching requests to answer normally first. */
  after?: number;
  /** Only requests whose path (without the query string) contains this count towards or receive the fault. */
  path?: string;
  status?: number;
  /** Sent exactly as given, with `status`. Default empty. */
  body?: string;
  /** Default "application/json". */
  contentType?: string;
  /** Milliseconds to wait before answering (or dropping); the request is recorded on arrival. */
  delayMs?: number;
  /** Destroys the connection without any answer (after `delayMs`, if given). */
  drop?: true;
  /** Never answers, keeping the connection open until the emulator closes. */
  hang?: true;
}

export interface Emulator {
  /** Origin, e.g. "http://127.0.0.1:43123": a client's base URL. */
  readonly url: string;
  readonly servicePlanId: string;
  readonly apiToken: string;
  /** OAuth2 project auth: `/xms/v1/{projectId}/groups...` accepts only access tokens from `tokenUrl`. */
  readonly projectId: string;
  readonly keyId: string;
  readonly keySecret: string;
  /** `${url}/oauth2/token`: client-credentials grant with HTTP Basic `keyId:keySecret`. */
  readonly tokenUrl: string;
  /** How many access tokens the token endpoint has issued so far. */
  readonly tokensIssued: number;
  /** Expires every access token issued so far (later ones are not affected). */
  expireTokens(): void;
  /** Every request received, refused ones included, in order. */
  readonly requests: RecordedRequest[];
  readonly store: GroupStore;
  /**
   * Queued faults. A request is matched against the first fault whose `path` it matches (or that has
   * none): that fault is served once its `after` matching requests have passed, then removed.
   */
  readonly faults: Fault[];
  /** Stops the server, dropping keep-alive and hanging connections and cancelling delays, so it does not linger. */
  close(): Promise<void>;
}

// 10,000 numbers are about 200 KB; this leaves ample room while bounding memory.
const MAX_BODY_BYTES = 16 * 1024 * 1024;

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

interface Call {
  groupId: string;
  query: URLSearchParams;
  body: unknown;
}

type Handler = (store: GroupStore, call: Call) => Reply;

const PLAN = '/xms/v1/([^/]+)/groups';
const GROUP_ID = '([A-Za-z0-9]{1,64})';

const ROUTES: { pattern: RegExp; methods: Record<string, Handler> }[] = [
  {
    pattern: new RegExp(`^${PLAN}$`),
    methods: {
      GET: (store, { query }) => ({
        status: 200,
        body: store.list(pagingParameter(query, 'page'), pagingParameter(query, 'page_size')),
      }),
      POST: (store, { body }) => ({ status: 201, body: store.create(body) }),
    },
  },
  {
    pattern: new RegExp(`^${PLAN}/${GROUP_ID}$`),
    methods: {
      GET: (store, { groupId }) => ({ status: 200, body: store.get(groupId) }),
      POST: (store, { groupId, body }) => ({ status: 200, body: store.update(groupId, body) }),
      PUT: (store, { groupId, body }) => ({ status: 200, body: store.replace(groupId, body) }),
      DELETE: (store, { groupId }) => {
        store.delete(groupId);
        return { status: 200 };
      },
    },
  },
  {
    pattern: new RegExp(`^${PLAN}/${GROUP_ID}/members$`),
    methods: {
      GET: (store, { groupId }) => ({ status: 200, body: store.members(groupId) }),
    },
  },
];

function pagingParameter(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name);
  if (raw === null) return undefined;
  if (!/^\d+$/.test(raw)) throw invalidFormat(name, `value '${raw}' is not a non-negative integer`);
  return Number(raw);
}

function randomHex(): string {
  return randomBytes(16).toString('hex');
}

function bearerToken(header: string | undefined): string | undefined {
  return /^Bearer +(\S+) *$/i.exec(header ?? '')?.[1];
}

function isJsonContentType(header: string | undefined): boolean {
  return header?.split(';')[0]?.trim().toLowerCase() === 'application/json';
}

function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).flatMap(([name, value]) =>
      value === undefined ? [] : [[name, Array.isArray(value) ? value.join(', ') : value]],
    ),
  );
}

type ParsedBody = { value: unknown } | { error: string };

function parseJson(raw: string): ParsedBody {
  try {
    return { value: JSON.parse(raw) };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

/** Reads the whole body; past the cap it keeps draining (so the client still gets its answer) but stops keeping. */
async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    else chunks.length = 0;
  }
  return size <= MAX_BODY_BYTES ? Buffer.concat(chunks).toString('utf8') : undefined;
}

function refusal(status: number, code: string, text: string, headers?: Record<string, string>): Reply {
  return { status, body: { code, text }, headers };
}

function findRoute(path: string) {
  for (const { pattern, methods } of ROUTES) {
    const match = pattern.exec(path);
    if (match) return { planId: match[1], groupId: match[2] ?? '', methods };
  }
  return undefined;
}

function send(res: ServerResponse, { status, body, headers }: Reply): void {
  // Sinch documents no body for 404, and none for a successful delete.
  const json = body === undefined || status === 404 ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...(json && { 'content-type': 'application/json' }),
    'content-length': String(Buffer.byteLength(json)),
    ...headers,
  });
  res.end(json);
}

function sendFault(res: ServerResponse, status: number, { body = '', contentType = 'application/json' }: Fault): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}

const UNAUTHORIZED = refusal(401, 'unauthorized', 'Invalid or missing credentials.', { 'www-authenticate': 'Bearer' });

const TOKEN_EXPIRED = refusal(401, 'unauthorized', 'The access token expired.', {
  'www-authenticate': 'Bearer error="invalid_token", error_description="The access token expired"',
});

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const host = options.host ?? '127.0.0.1';
  const servicePlanId = options.servicePlanId ?? randomHex();
  const apiToken = options.apiToken ?? randomHex();
  const projectId = options.projectId ?? randomHex();
  const keyId = options.keyId ?? randomHex();
  const keySecret = options.keySecret ?? randomHex();
  const tokenLifetimeSeconds = options.tokenLifetimeSeconds ?? 3600;
  if (!Number.isFinite(tokenLifetimeSeconds) || tokenLifetimeSeconds < 0) {
    throw new RangeError(`tokenLifetimeSeconds must be a non-negative number, not ${tokenLifetimeSeconds}`);
  }
  const accessTokens = new AccessTokens(tokenLifetimeSeconds);
  const store = new GroupStore();
  const requests: RecordedRequest[] = [];
  const faults: Fault[] = [];

  // Delays and hangs in progress; close() ends them all so no timer outlives the server.
  const waits = new Set<() => void>();
  let closed = false;
  /** Resolves true after `ms`, or false as soon as the emulator closes; without `ms`, only then. */
  function wait(ms?: number): Promise<boolean> {
    if (closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(() => finish(true), ms);
      const cancel = () => finish(false);
      function finish(elapsed: boolean) {
        clearTimeout(timer);
        waits.delete(cancel);
        resolve(elapsed);
      }
      waits.add(cancel);
    });
  }

  /** The service plan accepts only its api token, the project only unexpired access tokens. */
  function authenticate(planId: string | undefined, token: string | undefined): Reply | undefined {
    if (token === undefined) return UNAUTHORIZED;
    // Both comparisons always run, so timing does not tell which kind of credential was close.
    const isApiToken = sameSecret(token, apiToken);
    const accessToken = accessTokens.check(token);
    if (planId === servicePlanId && isApiToken) return undefined;
    if (planId === projectId && accessToken === 'valid') return undefined;
    if (planId === projectId && accessToken === 'expired') return TOKEN_EXPIRED;
    return UNAUTHORIZED;
  }

  // The checks run in the order a gateway would: route, credentials, method, then the body.
  function answer(req: IncomingMessage, url: URL, rawBody: string | undefined, parsed: ParsedBody | undefined): Reply {
    if (url.pathname === TOKEN_PATH) {
      return answerTokenRequest(
        {
          method: req.method ?? 'GET',
          authorization: req.headers.authorization,
          contentType: req.headers['content-type'],
          rawBody,
        },
        { keyId, keySecret },
        accessTokens,
      );
    }

    const route = findRoute(url.pathname);
    if (!route) return { status: 404 };

    const denied = authenticate(route.planId, bearerToken(req.headers.authorization));
    if (denied) return denied;

    const method = req.method ?? 'GET';
    const handler = route.methods[method];
    if (!handler) {
      return refusal(405, 'method_not_allowed', `Method ${method} is not allowed here.`, {
        allow: Object.keys(route.methods).join(', '),
      });
    }

    let body: unknown;
    if (method === 'POST' || method === 'PUT') {
      if (!isJsonContentType(req.headers['content-type'])) {
        return refusal(415, 'unsupported_media_type', "The request body must be sent as 'application/json'.");
      }
      if (parsed === undefined) {
        return refusal(413, 'request_too_large', `The request body exceeds ${MAX_BODY_BYTES} bytes.`);
      }
      if ('error' in parsed) {
        return refusal(400, 'syntax_invalid_json', `The request body is not valid JSON: ${parsed.error}`);
      }
      body = parsed.value;
    }

    try {
      return handler(store, { groupId: route.groupId, query: url.searchParams, body });
    } catch (error) {
      if (!(error instanceof EmulatorError)) throw error;
      return refusal(error.status, error.code, error.text);
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const rawBody = await readBody(req);
    const parsed = rawBody === undefined ? undefined : parseJson(rawBody);
    if (options.record !== false) requests.push({
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: flattenHeaders(req.headers),
      body: parsed && 'value' in parsed ? parsed.value : undefined,
      rawBody: rawBody ?? '',
    });
    const index = faults.findIndex(({ path }) => path === undefined || url.pathname.includes(path));
    const fault = faults[index];
    if (fault && (fault.after ?? 0) > 0) fault.after = (fault.after ?? 0) - 1;
    else if (fault) {
      faults.splice(index, 1);
      if (fault.hang) {
        await wait();
        res.destroy();
        return;
      }
      if (fault.delayMs !== undefined && !(await wait(fault.delayMs))) {
        res.destroy();
        return;
      }
      if (fault.drop) {
        res.destroy();
        return;
      }
      if (fault.status !== undefined) return sendFault(res, fault.status, fault);
    }
    send(res, answer(req, url, rawBody, parsed));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) return res.destroy();
      send(res, refusal(500, 'internal_error', String(error)));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const origin = host.includes(':') ? `[${host}]` : host;

  const url = `http://${origin}:${port}`;
  return {
    url,
    servicePlanId,
    apiToken,
    projectId,
    keyId,
    keySecret,
    tokenUrl: `${url}${TOKEN_PATH}`,
    get tokensIssued() {
      return accessTokens.issued;
    },
    expireTokens: () => accessTokens.expireAll(),
    requests,
    store,
    faults,
    close: () =>
      new Promise<void>((resolve, reject) => {
        closed = true;
        for (const cancel of [...waits]) cancel();
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive and hanging sockets would otherwise hold close() open until they time out.
        server.closeAllConnections();
      }),
  };
}
