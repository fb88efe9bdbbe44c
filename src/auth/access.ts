import type { IncomingMessage } from 'node:http';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { sameSecret } from '../secrets.js';
import { AuthRefusal, AuthServerUnavailable, InvalidToken } from './refusals.js';
import { SCOPES, type OAuthSettings } from './settings.js';
import type { TokenVerifier } from './verifier.js';

// No import of jose here: the verifier is passed in, loaded only when OAuth is configured.

/** What one request may do. */
export interface Access {
  /** Only the tools that change nothing (a token with groups:read alone). */
  readOnly: boolean;
  /** The SDK's form of the caller, for the audit line; absent for the static token and without authentication. */
  auth?: AuthInfo;
}

/** A JSON document the server answers with outside /mcp. */
export interface Document {
  status: number;
  body: Record<string, unknown>;
}

export interface Gate {
  /** Who the request comes from and what it may do; throws an AuthRefusal. */
  admit(req: IncomingMessage): Promise<Access>;
  /** For a caller who may only read: refuses (403 insufficient_scope) a body that calls a tool changing groups. */
  checkCalls(access: Access, body: unknown): void;
  /** The answer for OAuth discovery paths (metadata, registration), or undefined for any other path. */
  document(path: string): Document | undefined;
}

export interface GateOptions {
  /** MCP_AUTH_TOKEN: full access, beside OAuth or alone. */
  staticToken?: string;
  oauth?: { settings: OAuthSettings; verifier: TokenVerifier };
  /** The tools served that change groups, which a read-only caller may not call. */
  writeTools: ReadonlySet<string>;
}

/** Where clients look for an authorization server (RFC 8414, OpenID Connect, and the MCP 2025-03-26 fallbacks). */
const OAUTH_PATHS = /^\/(\.well-known\/(oauth-authorization-server|openid-configuration|oauth-protected-resource)(\/.*)?|register|authorize|token)$/;
const PRM_PATH = '/.well-known/oauth-protected-resource';
/** When to ask again after the authorization server could not be reached: about as long as the verifier keeps such a failure. */
const RETRY_AFTER_S = 5;

/** Authentication and scopes of the HTTP mode: the static token, OAuth access tokens, or neither (loopback only). */
export function createGate({ staticToken, oauth, writeTools }: GateOptions): Gate {
  const prm = oauth && protectedResource(oauth.settings);
  const challenge = (params: Record<string, string>) =>
    `Bearer ${Object.entries({ ...params, ...(prm && { resource_metadata: prm.url }) })
      .map(([key, value]) => `${key}="${value}"`)
      .join(', ')}`;
  const unauthorized = (reason?: string) => {
    if (!oauth) return new AuthRefusal(401, 'Unauthorized: send Authorization: Bearer <MCP_AUTH_TOKEN>', 'Bearer');
    const scope = `${SCOPES.read} ${SCOPES.write}`;
    // RFC 6750 3.1: a request that carried no token gets no error code.
    if (reason === undefined) return new AuthRefusal(401, 'Unauthorized: send an OAuth access token in Authorization: Bearer <token>', challenge({ scope }));
    return new AuthRefusal(401, `Unauthorized: ${reason}`, challenge({ error: 'invalid_token', error_description: reason, scope }));
  };
  const insufficient = (scope: string, message: string) =>
    new AuthRefusal(403, `Forbidden: ${message}`, challenge({ error: 'insufficient_scope', scope, error_description: message }));

  return {
    async admit(req) {
      if (new URL(req.url ?? '/', 'http://host').searchParams.has('access_token')) {
        throw new AuthRefusal(400, 'Bad request: an access token is accepted only in the Authorization header, never in the URL', challenge({ error: 'invalid_request' }));
      }
      if (staticToken === undefined && !oauth) return { readOnly: false };
      const token = /^Bearer +(\S+) *$/i.exec(req.headers.authorization ?? '')?.[1];
      if (token === undefined) throw unauthorized();
      if (staticToken !== undefined && sameSecret(token, staticToken)) return { readOnly: false };
      if (!oauth) throw unauthorized();
      const { verifier, settings } = oauth;
      let verified;
      try {
        verified = await verifier.verify(token);
      } catch (error) {
        if (error instanceof InvalidToken) throw unauthorized(error.message);
        if (error instanceof AuthServerUnavailable) {
          throw new AuthRefusal(503, `Service unavailable: the token cannot be checked now, as ${error.message}`, undefined, RETRY_AFTER_S);
        }
        throw error;
      }
      const { scopes, iss, sub, clientId, expiresAt } = verified;
      if (!scopes.includes(SCOPES.read) && !scopes.includes(SCOPES.write)) {
        throw insufficient(SCOPES.read, `the token grants neither ${SCOPES.read} nor ${SCOPES.write}`);
      }
      return {
        readOnly: !scopes.includes(SCOPES.write),
        auth: {
          // The SDK's type wants the token; nothing downstream needs it, so it is not kept where a log could show it.
          token: '',
          clientId: clientId ?? '',
          scopes,
          resource: new URL(settings.resource),
          ...(expiresAt !== undefined && { expiresAt }),
          extra: { ...(iss !== undefined && { iss }), ...(sub !== undefined && { sub }) },
        },
      };
    },

    checkCalls(access, body) {
      if (!access.readOnly) return;
      const messages = Array.isArray(body) ? body : [body];
      const names = messages.flatMap((message) => {
        const { method, params } = (message ?? {}) as { method?: unknown; params?: { name?: unknown } };
        return method === 'tools/call' && typeof params?.name === 'string' && writeTools.has(params.name) ? [params.name] : [];
      });
      if (names.length > 0) throw insufficient(SCOPES.write, `${names.join(', ')} needs ${SCOPES.write}; this token grants ${SCOPES.read} only`);
    },

    document(path) {
      if (prm && prm.paths.has(path)) return { status: 200, body: prm.metadata };
      if (!OAUTH_PATHS.test(path)) return undefined;
      // Clients print this text as it is (Claude Code masks anything that looks like a path), so it names no path.
      const description = prm
        ? `This server is an OAuth protected resource only; its authorization servers are listed at ${prm.url}`
        : staticToken === undefined
          ? 'This server does not use OAuth and needs no token on this address'
          : 'This server does not use OAuth: send the header Authorization: Bearer <MCP_AUTH_TOKEN>, with the token the server was started with';
      return { status: 404, body: { error: 'not_found', error_description: description } };
    },
  };
}

/** RFC 9728 metadata, served at the root form of its well-known path and at the form suffixed with the path of /mcp. */
function protectedResource(settings: OAuthSettings) {
  const { origin, pathname } = new URL(settings.resource);
  return {
    url: `${origin}${PRM_PATH}${pathname}`,
    paths: new Set([PRM_PATH, `${PRM_PATH}/mcp`, `${PRM_PATH}${pathname}`]),
    metadata: {
      resource: settings.resource,
      authorization_servers: settings.issuers,
      scopes_supported: [SCOPES.read, SCOPES.write],
      bearer_methods_supported: ['header'],
      resource_name: 'Sinch SMS groups',
    },
  };
}
