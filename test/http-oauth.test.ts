import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import Provider, { errors as oidcErrors } from 'oidc-provider';
import { afterEach, describe, expect, vi } from 'vitest';
import { AuthServerUnavailable, InvalidToken } from '../src/auth/refusals.js';
import { loadOAuthSettings } from '../src/auth/settings.js';
import { createVerifier } from '../src/auth/verifier.js';
import { ConfigError } from '../src/config.js';
import { startEmulator } from '../src/emulator/server.js';
import { redact } from '../src/secrets.js';
import { cleanEnv, listen, sinchEnv, spawnCli, test, textOf, TOOL_NAMES_WITHOUT_JOURNAL, until } from './harness.js';

// The HTTP mode as an OAuth protected resource, against a real authorization server (oidc-provider) on
// loopback, and a second, hand-made issuer whose tokens the tests mint with jose: expired ones, ones for
// another audience, ones signed with a key it publishes later.

// export_group_members writes a file, so it is no read-only tool.
const READ_TOOLS = ['find_numbers', 'get_group', 'list_group_members', 'list_groups'];
const STATIC_TOKEN = 'static-token-0123456789abcdef0123456789';

async function freePort(): Promise<number> {
  const server = createNetServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** oidc-provider with dynamic registration, PKCE and JWT access tokens for `resource`; whoever asks is logged in as `login.sub`. */
async function authorizationServer(resource: string) {
  const login = { sub: 'alice', refuseWrite: false };
  let provider: Provider | undefined;
  const site = await listen((req, res) => {
    if (!provider) return void res.writeHead(503).end();
    if (!req.url?.startsWith('/interaction/')) return void provider.callback()(req, res);
    // The user's login and consent, given without a browser: the grant holds the scopes this user allows.
    void (async () => {
      const details = await provider!.interactionDetails(req, res);
      const grant = new provider!.Grant({ accountId: login.sub, clientId: String(details.params.client_id) });
      const allowed = login.refuseWrite ? 'groups:read' : 'groups:read groups:write';
      // The scopes are the provider's too (dynamic registration checks a client's scope against those), so
      // they are granted, or refused, in both roles.
      grant.addOIDCScope(allowed);
      grant.addResourceScope(resource, allowed);
      if (login.refuseWrite) {
        grant.rejectOIDCScope('groups:write');
        grant.rejectResourceScope(resource, 'groups:write');
      }
      const grantId = await grant.save();
      await provider!.interactionFinished(req, res, { login: { accountId: login.sub }, consent: { grantId } }, { mergeWithLastSubmission: false });
    })().catch((error: unknown) => res.writeHead(500).end(String(error)));
  });
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  provider = new Provider(site.url, {
    clients: [],
    jwks: { keys: [{ ...(await exportJWK(privateKey)), kid: 'as-key', alg: 'RS256', use: 'sig' }] as never },
    cookies: { keys: ['cookie-key-0123456789'] },
    scopes: ['openid', 'offline_access', 'groups:read', 'groups:write'],
    pkce: { required: () => true },
    ttl: { Interaction: 600, Grant: 600, Session: 600, AuthorizationCode: 60, AccessToken: 600 },
    findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resource,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => {
          if (indicator !== resource) throw new oidcErrors.InvalidTarget();
          return { scope: 'groups:read groups:write', audience: resource, accessTokenFormat: 'jwt', accessTokenTTL: 600, jwt: { sign: { alg: 'RS256' } } };
        },
      },
    },
  });
  return { issuer: site.url, login, close: () => site.close() };
}

/**
 * A minimal issuer with a path (RFC 8414 metadata at /.well-known/oauth-authorization-server/tenant) and a
 * JWKS it can rotate; `mint` signs tokens with any of its keys, published or not. `site` says how its
 * endpoints answer, and counts what they are asked.
 */
async function handMadeIssuer() {
  const keys = new Map<string, { privateKey: CryptoKey; jwk: JWK }>();
  const published = new Set<string>();
  const site = {
    metadataStatus: 200,
    jwksStatus: 200,
    /** Overrides of the metadata document. */
    metadata: {} as Record<string, unknown>,
    jwksFetches: 0,
    requests: 0,
  };
  const server = await listen((req, res) => {
    site.requests += 1;
    const json = (body: unknown, status = 200) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.url === '/.well-known/oauth-authorization-server/tenant') {
      return json({ issuer: `${server.url}/tenant`, jwks_uri: `${server.url}/tenant/jwks`, ...site.metadata }, site.metadataStatus);
    }
    if (req.url === '/tenant/jwks') {
      site.jwksFetches += 1;
      return json({ keys: [...published].map((kid) => keys.get(kid)!.jwk) }, site.jwksStatus);
    }
    res.writeHead(404).end();
  });
  const issuer = `${server.url}/tenant`;
  async function addKey(kid: string, publish = true) {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    keys.set(kid, { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } });
    if (publish) published.add(kid);
  }
  await addKey('k1');
  return {
    issuer,
    site,
    addKey,
    publish: (kid: string) => void published.add(kid),
    jwksFetches: () => site.jwksFetches,
    /** The public key `kid` as the JWKS publishes it. */
    jwk: (kid: string) => keys.get(kid)!.jwk,
    close: () => server.close(),
    /** A JWT access token; claims override the defaults (a valid token for `audience` with both scopes, living 10 minutes). */
    mint(audience: string, claims: Record<string, unknown> = {}, { kid = 'k1', lifetime = 600, typ = 'at+jwt' as string | undefined } = {}) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ iss: issuer, aud: audience, sub: 'bob', client_id: 'script-1', scope: 'groups:read groups:write', iat: now, exp: now + lifetime, ...claims })
        .setProtectedHeader({ alg: 'ES256', kid, ...(typ !== undefined && { typ }) })
        .sign(keys.get(kid)!.privateKey);
    },
  };
}

/** A JWT with any header and claims, and `signature` (none by default) as its third part. */
const unsigned = (header: Record<string, unknown>, claims: Record<string, unknown>, signature = '') =>
  `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;

/** The claims of a valid token of `issuer` for `audience`, for tokens made by hand. */
const claimsFor = (issuer: string, audience: string) => ({ iss: issuer, aud: audience, sub: 'mallory', scope: 'groups:read groups:write', exp: Math.floor(Date.now() / 1000) + 600 });

/** HS256 keyed with the issuer's public key (as its JWKS publishes it), which anyone can read: the algorithm confusion attack. */
function hs256WithPublicKey(jwk: JWK, claims: Record<string, unknown>): string {
  const input = unsigned({ alg: 'HS256', kid: jwk.kid, typ: 'at+jwt' }, claims).slice(0, -1);
  return `${input}.${createHmac('sha256', JSON.stringify(jwk)).update(input).digest('base64url')}`;
}

/** An OAuth client as an MCP host keeps one: in memory, its redirect never served; the test follows the authorization URL itself. */
class TestOAuthClient implements OAuthClientProvider {
  registered?: OAuthClientInformationMixed;
  saved?: OAuthTokens;
  verifier = '';
  authorizationUrl?: URL;
  readonly redirectUrl = 'http://127.0.0.1:1/callback';
  get clientMetadata(): OAuthClientMetadata {
    return { client_name: 'test host', redirect_uris: [this.redirectUrl], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' };
  }
  clientInformation = () => this.registered;
  saveClientInformation = (info: OAuthClientInformationMixed) => void (this.registered = info);
  tokens = () => this.saved;
  saveTokens = (tokens: OAuthTokens) => void (this.saved = tokens);
  redirectToAuthorization = (url: URL) => void (this.authorizationUrl = url);
  saveCodeVerifier = (verifier: string) => void (this.verifier = verifier);
  codeVerifier = () => this.verifier;
}

/** Follows the authorization URL through login and consent, carrying cookies, to the code sent to the redirect URI. */
async function authorize(url: URL, redirectUri: string): Promise<string> {
  const cookies = new Map<string, string>();
  let next = url.href;
  for (let hop = 0; hop < 10; hop += 1) {
    const response = await fetch(next, { redirect: 'manual', headers: { cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; ') } });
    for (const line of response.headers.getSetCookie()) {
      const pair = line.split(';')[0]!;
      cookies.set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1));
    }
    const location = response.headers.get('location');
    if (!location) throw new Error(`authorization stopped at ${next}: HTTP ${response.status} ${await response.text()}`);
    next = new URL(location, next).href;
    if (next.startsWith(redirectUri)) {
      const code = new URL(next).searchParams.get('code');
      if (!code) throw new Error(`no code in ${next}`);
      return code;
    }
  }
  throw new Error('authorization went round in circles');
}

/** Connects an SDK client the way an MCP host does: the 401 starts OAuth, the user authorizes, the client connects again. */
async function connectWithOAuth(url: string, oauth = new TestOAuthClient()) {
  const first = new Client({ name: 'oauth-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: oauth });
  await expect(first.connect(transport)).rejects.toThrow(/Unauthorized/);
  await transport.finishAuth(await authorize(oauth.authorizationUrl!, oauth.redirectUrl));
  const client = new Client({ name: 'oauth-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { authProvider: oauth }));
  return { client, oauth, token: oauth.saved!.access_token };
}

/** The parts of a WWW-Authenticate Bearer challenge. */
function challenge(header: string | null): Record<string, string> {
  expect(header).toMatch(/^Bearer /);
  return Object.fromEntries([...header!.matchAll(/(\w+)="([^"]*)"/g)].map(([, key, value]) => [key!, value!]));
}

const rpc = (method: string, params: Record<string, unknown> = {}, id = 1) => ({ jsonrpc: '2.0', id, method, params });

/** A POST to /mcp with `token` (if any) as a bearer token. */
async function post(url: string, token: string | undefined, body: unknown) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...(token && { authorization: `Bearer ${token}` }) },
    body: JSON.stringify(body),
  });
  return { status: response.status, challenge: response.headers.get('www-authenticate'), text: await response.text() };
}

interface Setup {
  /** The server's /mcp, which is also its MCP_PUBLIC_URL. */
  url: string;
  as: Awaited<ReturnType<typeof authorizationServer>>;
  other: Awaited<ReturnType<typeof handMadeIssuer>>;
  /** A configured issuer whose keys cannot be fetched. */
  down: Awaited<ReturnType<typeof handMadeIssuer>>;
  stderr(): string;
}

// One server process for the file, accepting tokens from both issuers and the static token; tests run one
// after another, since the authorization server's login is shared.
const it = test.extend<{ setup: Setup }>({
  setup: [
    async ({}, use) => {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}/mcp`;
      const as = await authorizationServer(url);
      const other = await handMadeIssuer();
      const down = await handMadeIssuer();
      down.site.jwksStatus = 502;
      const sinch = await startEmulator();
      const env = cleanEnv({ ...sinchEnv(sinch), MCP_OAUTH_ISSUER: `${as.issuer}, ${other.issuer}, ${down.issuer}`, MCP_PUBLIC_URL: url, MCP_AUTH_TOKEN: STATIC_TOKEN });
      const server = spawnCli(['--http', '--port', String(port)], env);
      let code: number | null | undefined;
      void server.exited.then((value) => (code = value));
      await until(() => code !== undefined || /serving MCP at/.test(server.stderr()), 'the server', 10_000);
      if (code !== undefined) throw new Error(`the server exited with ${code}: ${server.stderr()}`);
      await use({ url, as, other, down, stderr: server.stderr });
      server.child.kill('SIGKILL');
      await server.exited;
      await Promise.all([as.close(), other.close(), down.close(), sinch.close()]);
    },
    { scope: 'file' },
  ],
});

describe('the HTTP mode with OAuth (MCP_OAUTH_ISSUER)', { timeout: 20_000 }, () => {
  it('publishes its protected resource metadata at both well-known paths', async ({ setup: { url, as, other, down } }) => {
    const origin = new URL(url).origin;
    for (const path of ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp']) {
      const response = await fetch(origin + path);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({
        resource: url,
        authorization_servers: [as.issuer, other.issuer, down.issuer],
        scopes_supported: ['groups:read', 'groups:write'],
        bearer_methods_supported: ['header'],
        resource_name: 'Sinch SMS groups',
      });
    }
    // The authorization server is elsewhere, and the 404 says where to look.
    const register = await fetch(`${origin}/register`, { method: 'POST' });
    expect(register.status).toBe(404);
    expect(await register.json()).toEqual({
      error: 'not_found',
      error_description: `This server is an OAuth protected resource only; its authorization servers are listed at ${origin}/.well-known/oauth-protected-resource/mcp`,
    });
  });

  it('a request without a token gets 401 with a challenge naming the metadata and the scopes', async ({ setup: { url } }) => {
    const reply = await post(url, undefined, rpc('tools/list'));
    expect(reply.status).toBe(401);
    expect(challenge(reply.challenge)).toEqual({
      resource_metadata: `${new URL(url).origin}/.well-known/oauth-protected-resource/mcp`,
      scope: 'groups:read groups:write',
    });
  });

  it('an MCP client discovers the authorization server, registers, authorizes with PKCE and the resource, and changes a group; the audit line names the issuer, user and client', async ({
    setup: { url, as, stderr },
  }) => {
    as.login.sub = 'alice';
    as.login.refuseWrite = false;
    const { client, oauth, token } = await connectWithOAuth(url);
    expect(oauth.authorizationUrl!.searchParams.get('resource')).toBe(url);
    expect(oauth.authorizationUrl!.searchParams.get('code_challenge_method')).toBe('S256');
    expect((await client.listTools()).tools.map((tool) => tool.name).sort()).toEqual(TOOL_NAMES_WITHOUT_JOURNAL);
    const created = (await client.callTool({ name: 'create_group', arguments: { name: 'Audited' } })) as CallToolResult;
    expect(created.isError, textOf(created)).toBeFalsy();
    const groupId = (created.structuredContent as { id: string }).id;
    await until(() => stderr().includes(groupId), 'the audit line');
    const audit = stderr().split('\n').find((line) => line.includes(groupId) && line.startsWith('{'))!;
    expect(JSON.parse(audit)).toMatchObject({ event: 'change', tool: 'create_group', group_id: groupId, iss: as.issuer, sub: 'alice', client_id: oauth.registered!.client_id });
    // The token reaches neither the log nor Sinch.
    expect(stderr()).not.toContain(token);
    await client.close();
  });

  it('a token granting groups:read alone sees the read tools; calling a write tool gets 403 insufficient_scope, batched or not', async ({ setup: { url, as } }) => {
    as.login.sub = 'carol';
    as.login.refuseWrite = true;
    const { client, token } = await connectWithOAuth(url);
    expect((await client.listTools()).tools.map((tool) => tool.name).sort()).toEqual(READ_TOOLS);
    const listed = (await client.callTool({ name: 'list_groups', arguments: {} })) as CallToolResult;
    expect(listed.isError).toBeFalsy();
    const write = rpc('tools/call', { name: 'create_group', arguments: { name: 'Nope' } });
    for (const body of [write, [rpc('tools/list', {}, 2), { ...write, id: 3 }]]) {
      const reply = await post(url, token, body);
      expect(reply.status).toBe(403);
      expect(challenge(reply.challenge)).toMatchObject({ error: 'insufficient_scope', scope: 'groups:write' });
      expect(JSON.parse(reply.text)).toMatchObject({ error: { message: expect.stringMatching(/^Forbidden: create_group needs groups:write; this token grants groups:read only/) } });
    }
    await client.close();
  });

  it('tokens of the other configured issuer (an issuer with a path) are accepted; a token with neither scope gets 403', async ({ setup: { url, other } }) => {
    const reply = await post(url, await other.mint(url), rpc('tools/call', { name: 'list_groups', arguments: {} }));
    expect(reply.status).toBe(200);
    const scopeless = await post(url, await other.mint(url, { scope: 'profile' }), rpc('tools/list'));
    expect(scopeless.status).toBe(403);
    expect(challenge(scopeless.challenge)).toMatchObject({ error: 'insufficient_scope', scope: 'groups:read' });
    // scp, as an array, is read as well as scope.
    const scp = await post(url, await other.mint(url, { scope: undefined, scp: ['groups:read'] }), rpc('tools/list'));
    expect(JSON.parse(scp.text.replace(/^[^{]*/, '').split('\n')[0]!).result.tools.map((tool: { name: string }) => tool.name).sort()).toEqual(READ_TOOLS);
  });

  it.for([
    ['expired', (o: Setup['other'], url: string) => o.mint(url, {}, { lifetime: -120 }), /expired/],
    ['for another audience', (o: Setup['other'], url: string) => o.mint('https://elsewhere.example/mcp'), /not issued for this resource/],
    ['for another audience, among several', (o: Setup['other']) => o.mint('https://elsewhere.example/mcp', { aud: ['https://a.example', 'https://b.example'] }), /not issued/],
    ['from an issuer not configured', (o: Setup['other'], url: string) => o.mint(url, { iss: 'https://evil.example' }), /issuer this server does not accept/],
    ['with a tampered signature', async (o: Setup['other'], url: string) => `${(await o.mint(url)).slice(0, -4)}AAAA`, /signature/],
    ['with tampered claims', async (o: Setup['other'], url: string) => {
      const [header, , signature] = (await o.mint(url)).split('.');
      const claims = Buffer.from(JSON.stringify({ iss: o.issuer, aud: url, sub: 'mallory', scope: 'groups:write', exp: 9_999_999_999 })).toString('base64url');
      return `${header}.${claims}.${signature}`;
    }, /signature/],
    ['opaque, with no introspection configured', async () => 'opaque-token-0123456789', /not a JWT/],
    ['without exp, validly signed', (o: Setup['other'], url: string) => o.mint(url, { exp: undefined }), /exp claim/],
    ['signed with HS256 keyed with the published public key', async (o: Setup['other'], url: string) => hs256WithPublicKey(o.jwk('k1'), claimsFor(o.issuer, url)), /not a valid JWT/],
    ['unsigned (alg none)', async (o: Setup['other'], url: string) => unsigned({ alg: 'none', typ: 'at+jwt' }, claimsFor(o.issuer, url)), /not a valid JWT/],
    ['of another type (typ rt+jwt)', (o: Setup['other'], url: string) => o.mint(url, {}, { typ: 'rt+jwt' }), /not an access token/],
  ] as const)('a token %s gets 401 invalid_token and reaches nothing', async ([, token, reason], { setup: { url, other } }) => {
    const reply = await post(url, await token(other, url), rpc('tools/call', { name: 'create_group', arguments: { name: 'Never' } }));
    expect(reply.status).toBe(401);
    const parts = challenge(reply.challenge);
    expect(parts).toMatchObject({ error: 'invalid_token', scope: 'groups:read groups:write', resource_metadata: `${new URL(url).origin}/.well-known/oauth-protected-resource/mcp` });
    expect(parts.error_description).toMatch(reason);
  });

  it("a token whose issuer's keys cannot be fetched gets 503 with Retry-After, not 401: it cannot be judged now", async ({ setup: { url, down } }) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${await down.mint(url)}` },
      body: JSON.stringify(rpc('tools/list')),
    });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(response.headers.get('www-authenticate')).toBeNull();
    expect((await response.json()).error.message).toMatch(/^Service unavailable: the token cannot be checked now, as the issuer's keys could not be fetched: .* answered HTTP 502/);
  });

  it('a token of the authorization server minted by another key under its name is refused', async ({ setup: { url, as, other } }) => {
    const reply = await post(url, await other.mint(url, { iss: as.issuer }), rpc('tools/list'));
    expect(reply.status).toBe(401);
    expect(challenge(reply.challenge).error).toBe('invalid_token');
  });

  it('a token in the query string is not accepted, even a valid one', async ({ setup: { url, other } }) => {
    const token = await other.mint(url);
    const reply = await post(`${url}?access_token=${token}`, undefined, rpc('tools/list'));
    expect(reply.status).toBe(400);
    expect(challenge(reply.challenge)).toMatchObject({ error: 'invalid_request' });
    expect(JSON.parse(reply.text).error.message).toMatch(/only in the Authorization header/);
  });

  it('the static token still has full access beside OAuth', async ({ setup: { url } }) => {
    const client = new Client({ name: 'script', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${STATIC_TOKEN}` } } }));
    expect((await client.listTools()).tools.map((tool) => tool.name).sort()).toEqual(TOOL_NAMES_WITHOUT_JOURNAL);
    await client.close();
  });

  it('HTTP offers no resource subscriptions or list notices, which a stateless server cannot honour', async ({ setup: { url } }) => {
    const client = new Client({ name: 'script', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${STATIC_TOKEN}` } } }));
    expect(client.getServerCapabilities()?.resources).toEqual({ listChanged: false });
    await expect(client.subscribeResource({ uri: 'sinch://groups' })).rejects.toThrow(/Method not found|does not support/);
    await client.close();
  });
});

describe('the token verifier', () => {
  afterEach(() => void vi.useRealTimers());
  const resource = 'https://mcp.example.com/mcp';

  /** A verifier for the hand-made issuer, both closed after the test. */
  async function verifierOf(defer: (close: () => Promise<unknown>) => void) {
    const other = await handMadeIssuer();
    defer(() => other.close());
    return { other, verifier: createVerifier({ resource, issuers: [other.issuer] }) };
  }

  it('fetches the keys once for tokens signed with a key it knows, and again for a key id it does not know (key rotation), at most once every 30 s', async ({ defer }) => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { other, verifier } = await verifierOf(defer);
    const expected = { iss: other.issuer, sub: 'bob', clientId: 'script-1', scopes: ['groups:read', 'groups:write'], expiresAt: expect.any(Number) };
    expect(await verifier.verify(await other.mint(resource))).toEqual(expected);
    expect(await verifier.verify(await other.mint(resource, { sub: 'bob' }))).toEqual(expected);
    expect(other.jwksFetches()).toBe(1);
    await other.addKey('k2', false);
    const rotated = await other.mint(resource, {}, { kid: 'k2' });
    // A key the issuer does not publish is not found however often the set is fetched.
    await expect(verifier.verify(rotated)).rejects.toThrow(InvalidToken);
    other.publish('k2');
    vi.setSystemTime(Date.now() + 31_000);
    const fetchesBefore = other.jwksFetches();
    expect((await verifier.verify(await other.mint(resource, {}, { kid: 'k2' }))).sub).toBe('bob');
    expect(other.jwksFetches()).toBe(fetchesBefore + 1);
  });

  it('tokens naming unknown keys make it fetch the keys again once in 30 s, however many come', async ({ defer }) => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { other, verifier } = await verifierOf(defer);
    await verifier.verify(await other.mint(resource));
    await other.addKey('k2', false);
    await other.addKey('k3', false);
    vi.setSystemTime(Date.now() + 31_000);
    await expect(verifier.verify(await other.mint(resource, {}, { kid: 'k2' }))).rejects.toThrow(/a key its issuer does not publish/);
    expect(other.jwksFetches()).toBe(2);
    vi.setSystemTime(Date.now() + 29_000);
    await expect(verifier.verify(await other.mint(resource, {}, { kid: 'k3' }))).rejects.toThrow(/a key its issuer does not publish/);
    expect(other.jwksFetches()).toBe(2);
  });

  it('allows 30 s of clock skew on exp and nbf, no more', async ({ defer }) => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { other, verifier } = await verifierOf(defer);
    const now = Math.floor(Date.now() / 1000);
    expect((await verifier.verify(await other.mint(resource, { exp: now - 20 }))).sub).toBe('bob');
    await expect(verifier.verify(await other.mint(resource, { exp: now - 40 }))).rejects.toThrow(/expired/);
    expect((await verifier.verify(await other.mint(resource, { nbf: now + 20 }))).sub).toBe('bob');
    await expect(verifier.verify(await other.mint(resource, { nbf: now + 40 }))).rejects.toThrow(/not valid yet/);
  });

  it('accepts the JWT types access tokens come with (RFC 9068 at+jwt, or JWT, or none), and refuses any other', async ({ defer }) => {
    const { other, verifier } = await verifierOf(defer);
    for (const typ of ['at+jwt', 'application/at+jwt', 'AT+JWT', 'JWT', undefined]) {
      expect((await verifier.verify(await other.mint(resource, {}, { typ }))).sub, String(typ)).toBe('bob');
    }
    for (const typ of ['rt+jwt', 'application/logout+jwt', 'JOSE']) {
      await expect(verifier.verify(await other.mint(resource, {}, { typ })), typ).rejects.toThrow(/not an access token/);
    }
  });

  it('keys that cannot be fetched make tokens uncheckable for now, not invalid; the endpoint is asked again after 5 s, and keys already fetched go on serving', async ({ defer }) => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { other, verifier } = await verifierOf(defer);
    other.site.jwksStatus = 502;
    const token = await other.mint(resource);
    await expect(verifier.verify(token)).rejects.toThrow(AuthServerUnavailable);
    await expect(verifier.verify(token)).rejects.toThrow(/the issuer's keys could not be fetched: .* answered HTTP 502/);
    expect(other.jwksFetches()).toBe(1);
    vi.setSystemTime(Date.now() + 5_000);
    other.site.jwksStatus = 200;
    expect((await verifier.verify(token)).sub).toBe('bob');
    expect(other.jwksFetches()).toBe(2);
    // Down again when a token names a new key: that token cannot be judged, but those signed with known keys can.
    other.site.jwksStatus = 502;
    await other.addKey('k2');
    vi.setSystemTime(Date.now() + 31_000);
    await expect(verifier.verify(await other.mint(resource, {}, { kid: 'k2' }))).rejects.toThrow(AuthServerUnavailable);
    expect((await verifier.verify(await other.mint(resource))).sub).toBe('bob');
    expect(other.jwksFetches()).toBe(3);
  });

  it('an issuer whose metadata cannot be fetched makes the token uncheckable for now, not invalid', async () => {
    const verifier = createVerifier({ resource, issuers: ['http://127.0.0.1:1/nowhere'] });
    const token = unsigned({ alg: 'ES256' }, { iss: 'http://127.0.0.1:1/nowhere' }, 'c2ln');
    await expect(verifier.verify(token)).rejects.toThrow(AuthServerUnavailable);
  });

  it('metadata naming another issuer is not used (RFC 8414 3.3): tokens are uncheckable for now', async ({ defer }) => {
    const { other, verifier } = await verifierOf(defer);
    other.site.metadata = { issuer: 'https://elsewhere.example/tenant' };
    await expect(verifier.verify(await other.mint(resource))).rejects.toThrow(AuthServerUnavailable);
    await expect(verifier.verify(await other.mint(resource))).rejects.toThrow(/names issuer "https:\/\/elsewhere.example\/tenant"/);
    expect(other.jwksFetches()).toBe(0);
  });

  it('a failed discovery is kept for 10 s, so tokens naming the issuer do not make the server ask it each time', async ({ defer }) => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { other, verifier } = await verifierOf(defer);
    other.site.metadataStatus = 500;
    // Unsigned: naming a configured issuer is enough to start a discovery.
    const token = unsigned({ alg: 'ES256', kid: 'k1' }, claimsFor(other.issuer, resource), 'c2ln');
    await expect(verifier.verify(token)).rejects.toThrow(AuthServerUnavailable);
    const asked = other.site.requests;
    expect(asked).toBeGreaterThan(0);
    vi.setSystemTime(Date.now() + 9_000);
    await expect(verifier.verify(token)).rejects.toThrow(AuthServerUnavailable);
    expect(other.site.requests).toBe(asked);
    vi.setSystemTime(Date.now() + 1_000);
    other.site.metadataStatus = 200;
    expect((await verifier.verify(await other.mint(resource))).sub).toBe('bob');
  });

  it.for([
    ['that is not a URL', 'keys.json', /must be a URL/],
    ['in http off loopback', 'http://keys.example.com/jwks', /must be an https URL/],
    ['with credentials', 'https://user:password@keys.example.com/jwks', /must not carry credentials/],
  ] as const)('a jwks_uri %s makes tokens uncheckable for now, and is not asked', async ([, uri, reason], { defer }) => {
    const { other, verifier } = await verifierOf(defer);
    other.site.metadata = { jwks_uri: uri };
    const refusal = verifier.verify(await other.mint(resource));
    await expect(refusal).rejects.toThrow(AuthServerUnavailable);
    await expect(refusal).rejects.toThrow(reason);
  });

  /** An RFC 7662 endpoint answering `answers[prefix]` for a token `prefix-…` (inactive otherwise), and counting what it is asked. */
  async function introspection(defer: (close: () => Promise<unknown>) => void, answers: Record<string, Record<string, unknown>>) {
    const endpoint = { status: 200, asked: new Map<string, number>(), authorizations: [] as string[] };
    const site = await listen((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        endpoint.authorizations.push(req.headers.authorization ?? '');
        const token = new URLSearchParams(body).get('token') ?? '';
        endpoint.asked.set(token, (endpoint.asked.get(token) ?? 0) + 1);
        res.writeHead(endpoint.status, { 'content-type': 'application/json' }).end(JSON.stringify(answers[token.replace(/-.*/, '')] ?? { active: false }));
      });
    });
    defer(() => site.close());
    const verifier = createVerifier({ resource, issuers: ['https://as.example.com'], introspection: { url: `${site.url}/introspect`, clientId: 'rs', clientSecret: 'rs-secret-0123456789' } });
    return { endpoint, verifier };
  }

  it('introspects opaque tokens (RFC 7662), checking active, type, issuer, audience, expiry, nbf and scopes, with the client credentials', async ({ defer }) => {
    const now = Math.floor(Date.now() / 1000);
    const valid = { active: true, aud: resource, scope: 'groups:read' };
    const { endpoint, verifier } = await introspection(defer, {
      good: { ...valid, iss: 'https://as.example.com', sub: 'dave', client_id: 'c1', exp: now + 60 },
      bearer: { ...valid, token_type: 'Bearer' },
      access: { ...valid, token_type: 'access_token' },
      inactive: { active: false },
      elsewhere: { ...valid, aud: 'https://elsewhere.example' },
      expired: { ...valid, aud: [resource], exp: now - 120 },
      foreign: { ...valid, iss: 'https://evil.example' },
      early: { ...valid, nbf: now + 120 },
      refresh: { ...valid, token_type: 'refresh_token' },
    });
    expect(await verifier.verify('good-opaque-token')).toEqual({ iss: 'https://as.example.com', sub: 'dave', clientId: 'c1', scopes: ['groups:read'], expiresAt: now + 60 });
    expect(endpoint.authorizations[0]).toBe(`Basic ${Buffer.from('rs:rs-secret-0123456789').toString('base64')}`);
    for (const token of ['bearer-x', 'access-x']) expect((await verifier.verify(token)).scopes).toEqual(['groups:read']);
    for (const [token, reason] of [
      ['inactive-x', /not active/],
      ['elsewhere-x', /not issued for this resource/],
      ['expired-x', /expired/],
      ['foreign-x', /issuer this server does not accept/],
      ['early-x', /not valid yet/],
      ['refresh-x', /not an access token/],
    ] as const) {
      await expect(verifier.verify(token)).rejects.toThrow(reason);
    }
  });

  it('keeps introspection answers: a valid token up to 60 s and never past its exp, a refused one 10 s, a failure not at all', async ({ defer }) => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const now = Math.floor(Date.now() / 1000);
    const valid = { active: true, aud: resource, scope: 'groups:read' };
    const { endpoint, verifier } = await introspection(defer, { long: { ...valid, exp: now + 3600 }, short: { ...valid, exp: now + 20 } });
    const asked = (token: string) => endpoint.asked.get(token) ?? 0;
    await Promise.all([verifier.verify('long-x'), verifier.verify('long-x'), verifier.verify('short-x')]);
    await expect(verifier.verify('inactive-x')).rejects.toThrow(/not active/);
    expect([asked('long-x'), asked('short-x'), asked('inactive-x')]).toEqual([1, 1, 1]);

    vi.setSystemTime(Date.now() + 9_999);
    await verifier.verify('long-x');
    await verifier.verify('short-x');
    await expect(verifier.verify('inactive-x')).rejects.toThrow(/not active/);
    expect([asked('long-x'), asked('short-x'), asked('inactive-x')]).toEqual([1, 1, 1]);

    vi.setSystemTime(Date.now() + 10_001);
    await verifier.verify('short-x');
    await expect(verifier.verify('inactive-x')).rejects.toThrow(/not active/);
    expect([asked('short-x'), asked('inactive-x')]).toEqual([2, 2]);

    vi.setSystemTime(Date.now() + 40_000);
    await verifier.verify('long-x');
    expect(asked('long-x')).toBe(2);

    endpoint.status = 500;
    await expect(verifier.verify('down-x')).rejects.toThrow(AuthServerUnavailable);
    endpoint.status = 200;
    await expect(verifier.verify('down-x')).rejects.toThrow(/not active/);
    expect(asked('down-x')).toBe(2);
  });

  it('keeps at most 1,000 introspection answers, dropping the oldest first', async ({ defer }) => {
    const { endpoint, verifier } = await introspection(defer, { good: { active: true, aud: resource, scope: 'groups:read' } });
    const tokens = Array.from({ length: 1_001 }, (_, i) => `good-${i}`);
    await verifier.verify(tokens[0]!);
    for (let from = 1; from < tokens.length; from += 100) await Promise.all(tokens.slice(from, from + 100).map((token) => verifier.verify(token)));
    await verifier.verify(tokens[1_000]!);
    await verifier.verify(tokens[0]!);
    expect([endpoint.asked.get(tokens[0]!), endpoint.asked.get(tokens[1_000]!)]).toEqual([2, 1]);
  });
});

describe('OAuth settings', () => {
  const refusal = (env: NodeJS.ProcessEnv) => {
    try {
      loadOAuthSettings(env);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    return undefined;
  };
  const issuer = { MCP_OAUTH_ISSUER: 'https://login.example.com/tenant' };

  test('off without MCP_OAUTH_ISSUER; several issuers separated by commas', () => {
    expect(loadOAuthSettings({})).toBeUndefined();
    expect(loadOAuthSettings({ MCP_OAUTH_ISSUER: 'https://a.example, https://b.example/t ', MCP_PUBLIC_URL: 'https://mcp.example.com/mcp' })).toEqual({
      resource: 'https://mcp.example.com/mcp',
      issuers: ['https://a.example', 'https://b.example/t'],
    });
  });

  test.each([
    [issuer, /^MCP_PUBLIC_URL must be set with MCP_OAUTH_ISSUER/],
    [{ ...issuer, MCP_PUBLIC_URL: 'http://mcp.example.com/mcp' }, /^MCP_PUBLIC_URL must be an https URL, or http on a loopback address/],
    [{ MCP_OAUTH_ISSUER: 'http://login.example.com', MCP_PUBLIC_URL: 'https://mcp.example.com/mcp' }, /^MCP_OAUTH_ISSUER must be an https URL/],
    [{ ...issuer, MCP_PUBLIC_URL: 'mcp.example.com' }, /^MCP_PUBLIC_URL must be a URL/],
    [{ MCP_PUBLIC_URL: 'https://mcp.example.com/mcp' }, /^MCP_PUBLIC_URL is set but MCP_OAUTH_ISSUER is not/],
    [{ ...issuer, MCP_PUBLIC_URL: 'https://mcp.example.com/mcp', MCP_OAUTH_INTROSPECTION_URL: 'https://login.example.com/introspect', MCP_OAUTH_CLIENT_SECRET: 'introspection-secret-value' }, /needs MCP_OAUTH_CLIENT_ID and MCP_OAUTH_CLIENT_SECRET/],
  ])('%o is refused, naming the variable', (env, message) => {
    expect(refusal(env)).toMatch(message);
  });

  test('the client secret is never shown, and is redacted wherever it would be logged', () => {
    const secret = 'client-secret-for-redaction-42';
    const message = refusal({ MCP_OAUTH_CLIENT_SECRET: secret });
    expect(message).toMatch(/MCP_OAUTH_CLIENT_SECRET is set but MCP_OAUTH_ISSUER is not/);
    expect(message).not.toContain(secret);
    expect(redact(`failed with ${secret}`)).toBe('failed with [redacted]');
  });
});
