import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { createGate, type Access, type Gate } from '../auth/access.js';
import { AuthRefusal } from '../auth/refusals.js';
import { loadOAuthSettings, type OAuthSettings } from '../auth/settings.js';
import { openBackend, perRequestClients } from '../backend.js';
import {
  ConfigError,
  isLoopbackHost,
  loadConfig,
  loadFileSettings,
  loadJournalSettings,
  loadMaxBodyBytes,
  loadNumberSettings,
  loadToolSelection,
  setting,
  whole,
  type ToolFlags,
} from '../config.js';
import { openJournal } from '../journal/open.js';
import { log } from '../log.js';
import { ToolCalls } from '../mcp/calls.js';
import { createServer, JOURNAL_TOOLS } from '../mcp/server.js';
import { selectTools } from '../mcp/tool-selection.js';
import { tools } from '../mcp/tools/index.js';
import { keepSecret, redact } from '../secrets.js';
import { configureNumbers } from '../sinch/numbers.js';
import { stopOnSignals } from './shutdown.js';

export interface HttpSettings {
  host: string;
  port: number;
  /** Accepted on /mcp as a bearer token, with full access, when set. */
  authToken?: string;
  /** OAuth access tokens accepted on /mcp (MCP_OAUTH_ISSUER and the rest), when set. */
  oauth?: OAuthSettings;
  /** Host names (or host:port) accepted besides the loopback names. */
  allowedHosts: string[];
  maxBodyBytes: number;
  /** A client slower than this to send its headers gets 408 and is disconnected. */
  headersTimeoutMs: number;
  /** A client slower than this to send its whole request gets 408 and is disconnected. */
  requestTimeoutMs: number;
  /** Connections beyond this many open at once are closed as they arrive. */
  maxConnections: number;
}

/** A token anyone on the network may try to guess must be too long to guess. */
const MIN_PUBLIC_TOKEN_LENGTH = 32;

/**
 * The HTTP mode's settings. Listening beyond loopback with neither MCP_AUTH_TOKEN nor OAuth, or with a
 * token short enough to guess, is refused outright.
 */
export function loadHttpSettings(flags: { host?: string; port?: number }, env: NodeJS.ProcessEnv = process.env): HttpSettings {
  // An IPv6 address may come bracketed as in a URL; listen() wants it bare.
  const host = (flags.host ?? '127.0.0.1').replace(/^\[(.*)\]$/, '$1');
  const authToken = setting(env, 'MCP_AUTH_TOKEN');
  const oauth = loadOAuthSettings(env);
  if (!isLoopbackHost(host)) {
    if (!authToken && !oauth) {
      throw new ConfigError(
        `MCP_AUTH_TOKEN or MCP_OAUTH_ISSUER must be set to listen on ${host}: only loopback addresses may be served without authentication`,
      );
    }
    if (authToken && authToken.length < MIN_PUBLIC_TOKEN_LENGTH) {
      throw new ConfigError(
        `MCP_AUTH_TOKEN must be at least ${MIN_PUBLIC_TOKEN_LENGTH} characters to listen on ${host} (e.g. openssl rand -hex 32)`,
      );
    }
  }
  const headersTimeoutMs = whole(env, 'MCP_HEADERS_TIMEOUT_MS', 10_000, 1);
  const requestTimeoutMs = whole(env, 'MCP_REQUEST_TIMEOUT_MS', 60_000, 1);
  // Node refuses to start a server whose headers may take longer than the whole request.
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new ConfigError(`MCP_HEADERS_TIMEOUT_MS (${headersTimeoutMs}) must not be more than MCP_REQUEST_TIMEOUT_MS (${requestTimeoutMs})`);
  }
  // Host names are case-insensitive; the Host header is compared in lower case.
  const allowedHosts = (setting(env, 'MCP_ALLOWED_HOSTS') ?? '').split(',').map((name) => name.trim().toLowerCase()).filter(Boolean);
  // The public URL's host is where clients reach this server, so it needs no second mention.
  if (oauth) allowedHosts.push(new URL(oauth.resource).host);
  return {
    host,
    port: flags.port ?? 3000,
    ...(authToken ? { authToken } : {}),
    ...(oauth ? { oauth } : {}),
    allowedHosts,
    maxBodyBytes: loadMaxBodyBytes(env),
    headersTimeoutMs,
    requestTimeoutMs,
    maxConnections: whole(env, 'MCP_MAX_CONNECTIONS', 1_024, 1),
  };
}

/** How long SIGTERM waits for calls under way, as load balancers drain a replica. */
const SHUTDOWN_GRACE_MS = 10_000;
/** How long calls told to stop may take to finish the request they have under way and answer. */
const STOP_WAIT_MS = 5_000;

export interface HttpFlags extends ToolFlags {
  host?: string;
  port?: number;
  perRequestCredentials: boolean;
  /** Folders file arguments may name (--files). */
  files?: string[];
}

/** Serves MCP over Streamable HTTP, stateless, so that identical replicas can share any load. */
export async function serveHttp({ host, port, perRequestCredentials, files: fileFolders, ...toolFlags }: HttpFlags): Promise<void> {
  const settings = loadHttpSettings({ host, port });
  if (settings.authToken) keepSecret(settings.authToken);
  const selection = loadToolSelection(toolFlags);
  // Servers are built per request, from tool sets made once, now.
  const toolSets = selectTools(tools, selection);
  const config = loadConfig(process.env, { perRequestCredentials });
  configureNumbers(loadNumberSettings(process.env, { emulated: config.mode === 'emulator' }));
  const files = loadFileSettings({ files: fileFolders }, process.env, { http: true, perRequestCredentials });
  const journal = openJournal(loadJournalSettings(process.env, { http: true, perRequestCredentials }));
  const calls = new ToolCalls();
  // Over HTTP no later request reaches the server that saw a subscription, and no stream outlives its request.
  const common = { tools: toolSets, calls, files, subscriptions: false };
  let serverFor: HttpOptions['serverFor'];
  let closeBackend: () => Promise<void>;
  if (config.mode === 'per-request') {
    const clients = perRequestClients(config);
    serverFor = (request, access) =>
      createServer({ ...common, sinch: clients.clientFor(credentialsOf(request)), readOnly: selection.readOnly || access.readOnly });
    closeBackend = () => clients.close();
  } else {
    const backend = await openBackend(config);
    serverFor = (_request, access) =>
      createServer({ ...common, sinch: backend.sinch, readOnly: selection.readOnly || access.readOnly, emulated: backend.emulated, journal });
    closeBackend = () => backend.close();
  }
  const served = selection.readOnly ? [] : toolSets.all.filter((tool) => journal || !JOURNAL_TOOLS.includes(tool.name));
  const gate = createGate({
    ...(settings.authToken ? { staticToken: settings.authToken } : {}),
    // Loaded here only, so that jose stays out of the stdio mode and of HTTP without OAuth.
    ...(settings.oauth ? { oauth: { settings: settings.oauth, verifier: (await import('../auth/verifier.js')).createVerifier(settings.oauth) } } : {}),
    writeTools: new Set(served.filter((tool) => !tool.annotations.readOnlyHint).map((tool) => tool.name)),
  });

  const http = await startHttpServer({ ...settings, gate, serverFor });
  const required = [settings.authToken && 'bearer token', settings.oauth && `OAuth for ${settings.oauth.resource}`].filter(Boolean);
  // Only loopback may be served without authentication, and there it is open to every local program and user.
  const access = required.length > 0 ? `${required.join(' or ')} required` : 'no authentication: every program and user on this machine can call it';
  log(`serving MCP at ${http.url} (${access})`);
  stopOnSignals(calls, {
    graceMs: SHUTDOWN_GRACE_MS,
    stopMs: STOP_WAIT_MS,
    // The replica stops taking requests at once; calls under way get the grace period, then stop before
    // their next request to Sinch and answer with what they applied, before connections are closed.
    async close(drained, signal) {
      const cutOff = await http.close(drained);
      const stopped = await drained;
      if (stopped > 0) log(`${signal}: ${stopped} call(s) still running after ${SHUTDOWN_GRACE_MS / 1000} s were stopped before their next request to Sinch`);
      if (cutOff > 0) log(`${signal}: ${cutOff} call(s) still waiting for Sinch were cut off; their effect is unknown`);
      await closeBackend();
    },
  });
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

export interface HttpOptions extends HttpSettings {
  /** Authentication and scopes, and the OAuth discovery documents. */
  gate: Gate;
  /** A fresh MCP server for one request and what it may do; it may throw an HttpRefusal (e.g. for missing credentials). */
  serverFor(request: IncomingMessage, access: Access): McpServer;
}

export interface HttpServer {
  /** The MCP endpoint, e.g. http://127.0.0.1:3000/mcp. */
  readonly url: string;
  /** Stops accepting, lets requests under way finish until `deadline` settles, then ends the rest and says how many. */
  close(deadline: Promise<unknown>): Promise<number>;
}

/** A request refused before it reaches MCP. */
export class HttpRefusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The client hung up, or was cut off for sending too slowly (Node answered 408), before its body was read. */
class ClientGone extends Error {}

/**
 * Streamable HTTP in stateless mode: every request gets its own server and transport, so any replica
 * behind a load balancer can answer any request, and nothing is kept between requests but Sinch's state.
 */
export async function startHttpServer(options: HttpOptions): Promise<HttpServer> {
  const inFlight = new Set<Promise<void>>();
  let closing = false;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://host').pathname;
    // A draining replica fails its health check, so the load balancer stops sending it work.
    if (path === '/healthz') return closing ? reply(res, 503, { status: 'shutting down' }) : reply(res, 200, { status: 'ok' });
    const document = options.gate.document(path);
    if (document) return reply(res, document.status, document.body);
    if (path !== '/mcp') return reply(res, 404, { error: 'not found: MCP is served at /mcp' });
    if (closing) {
      res.setHeader('connection', 'close');
      throw new HttpRefusal(503, 'Service unavailable: this replica is shutting down; retry on another');
    }
    refuseForeignHost(req, options.allowedHosts);
    const access = await options.gate.admit(req);
    // Stateless: there is no session to stream notifications on or to end.
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      throw new HttpRefusal(405, 'Method not allowed: this server is stateless, send POST');
    }
    const body = await readJson(req, options.maxBodyBytes);
    options.gate.checkCalls(access, body);
    const server = options.serverFor(req, access);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    // The SDK hands `auth` to tool calls as extra.authInfo, which the audit line reads the caller from.
    await transport.handleRequest(Object.assign(req, access.auth && { auth: access.auth }), res, body);
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const done = handle(req, res)
      .catch((error: unknown) => {
        if (error instanceof ClientGone) return;
        if (res.headersSent) return void res.destroy();
        if (error instanceof AuthRefusal && error.challenge) res.setHeader('www-authenticate', error.challenge);
        if (error instanceof AuthRefusal && error.retryAfter !== undefined) res.setHeader('retry-after', String(error.retryAfter));
        if (error instanceof HttpRefusal || error instanceof AuthRefusal) return jsonRpcError(res, error.status, error.message);
        const message = `Internal error: ${error instanceof Error ? error.message : String(error)}`;
        log(message);
        jsonRpcError(res, 500, redact(message));
      })
      .finally(() => inFlight.delete(done));
    inFlight.add(done);
  };
  const http = createHttpServer(
    {
      headersTimeout: options.headersTimeoutMs,
      requestTimeout: options.requestTimeoutMs,
      // Node looks for overdue requests every 30 s by default, which would let a slow client stay that much longer.
      connectionsCheckingInterval: Math.min(1_000, options.headersTimeoutMs),
    },
    onRequest,
  );
  http.maxConnections = options.maxConnections;
  let dropped = 0;
  let droppedSince = 0;
  // Refusals are counted and reported at most once a minute, so that a flood of them does not flood stderr too.
  http.on('drop', () => {
    dropped += 1;
    if (Date.now() - droppedSince < 60_000) return;
    log(`refused ${dropped} connection(s): ${options.maxConnections} were open already (MCP_MAX_CONNECTIONS)`);
    dropped = 0;
    droppedSince = Date.now();
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port, options.host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const { port } = http.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}/mcp`,
    async close(deadline) {
      closing = true;
      const stopped = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeIdleConnections();
      await Promise.race([Promise.allSettled(inFlight), deadline]);
      const cutOff = inFlight.size;
      http.closeAllConnections();
      await stopped;
      return cutOff;
    },
  };
}

/** DNS-rebinding protection: a page elsewhere must not reach this server through a name that resolves here. */
function refuseForeignHost(req: IncomingMessage, allowedHosts: string[]): void {
  const allowed = (host: string) => {
    const name = new URL(`http://${host}`).hostname;
    return isLoopbackHost(name) || allowedHosts.includes(name) || allowedHosts.includes(host.toLowerCase());
  };
  const host = req.headers.host;
  if (!host || !safely(() => allowed(host))) throw new HttpRefusal(403, `Forbidden: Host ${JSON.stringify(host ?? '')} is not allowed (MCP_ALLOWED_HOSTS)`);
  const origin = req.headers.origin;
  if (origin !== undefined && !safely(() => allowed(new URL(origin).host))) {
    throw new HttpRefusal(403, `Forbidden: Origin ${JSON.stringify(origin)} is not allowed (MCP_ALLOWED_HOSTS)`);
  }
}

function safely(check: () => boolean): boolean {
  try {
    return check();
  } catch {
    return false;
  }
}

async function readJson(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) throw new HttpRefusal(413, `Request body larger than ${maxBytes} bytes (MCP_MAX_BODY_BYTES)`);
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof HttpRefusal || req.complete) throw error;
    throw new ClientGone();
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpRefusal(400, 'Parse error: the body is not JSON');
  }
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}

function jsonRpcError(res: ServerResponse, status: number, message: string): void {
  const code = status === 400 ? ErrorCode.ParseError : status >= 500 ? ErrorCode.InternalError : ErrorCode.InvalidRequest;
  reply(res, status, { jsonrpc: '2.0', id: null, error: { code, message } });
}
