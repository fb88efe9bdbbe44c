import { ConfigError, isLoopbackHost, setting } from '../config.js';
import { keepSecret } from '../secrets.js';

/** What a token must grant: reading groups, or changing them too. */
export const SCOPES = { read: 'groups:read', write: 'groups:write' } as const;

export interface OAuthSettings {
  /** The public URL of /mcp: the resource tokens must be issued for (their audience). */
  resource: string;
  /** Authorization servers whose tokens are accepted, by issuer identifier. */
  issuers: string[];
  /** RFC 7662 introspection, for tokens that are not JWTs. */
  introspection?: { url: string; clientId: string; clientSecret: string };
}

/**
 * What keeps `value` from being an https URL, or http on loopback (for development and tests), without
 * credentials or a fragment; undefined when it is one.
 */
export function insecureUrl(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `must be a URL (got "${value}")`;
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    return `must be an https URL, or http on a loopback address (got "${value}")`;
  }
  if (url.username || url.password || url.hash) return 'must not carry credentials or a #fragment';
  return undefined;
}

function secureUrl(name: string, value: string): URL {
  const problem = insecureUrl(value);
  if (problem) throw new ConfigError(`${name} ${problem}`);
  return new URL(value);
}

/**
 * OAuth for the HTTP mode, on when MCP_OAUTH_ISSUER names at least one authorization server. Secrets are
 * registered for redaction as soon as they are read, and no error names one.
 */
export function loadOAuthSettings(env: NodeJS.ProcessEnv = process.env): OAuthSettings | undefined {
  const issuers = (setting(env, 'MCP_OAUTH_ISSUER') ?? '').split(',').map((issuer) => issuer.trim()).filter(Boolean);
  const introspectionUrl = setting(env, 'MCP_OAUTH_INTROSPECTION_URL');
  const clientId = setting(env, 'MCP_OAUTH_CLIENT_ID');
  const clientSecret = setting(env, 'MCP_OAUTH_CLIENT_SECRET');
  if (clientSecret) keepSecret(clientSecret);
  if (issuers.length === 0) {
    const stray = ['MCP_PUBLIC_URL', 'MCP_OAUTH_INTROSPECTION_URL', 'MCP_OAUTH_CLIENT_ID', 'MCP_OAUTH_CLIENT_SECRET'].filter((name) => setting(env, name));
    if (stray.length > 0) throw new ConfigError(`${stray.join(', ')} ${stray.length === 1 ? 'is' : 'are'} set but MCP_OAUTH_ISSUER is not: name the authorization server`);
    return undefined;
  }
  // An issuer identifier is compared with the `iss` of tokens and metadata exactly as written.
  for (const issuer of issuers) secureUrl('MCP_OAUTH_ISSUER', issuer);
  const publicUrl = setting(env, 'MCP_PUBLIC_URL');
  if (!publicUrl) throw new ConfigError('MCP_PUBLIC_URL must be set with MCP_OAUTH_ISSUER: the public URL of /mcp, which tokens must be issued for');
  const resource = secureUrl('MCP_PUBLIC_URL', publicUrl);
  if (resource.search) throw new ConfigError('MCP_PUBLIC_URL must not have a query string');
  if (!introspectionUrl) {
    if (clientId || clientSecret) throw new ConfigError('MCP_OAUTH_CLIENT_ID and MCP_OAUTH_CLIENT_SECRET are only used with MCP_OAUTH_INTROSPECTION_URL');
    return { resource: publicUrl, issuers };
  }
  secureUrl('MCP_OAUTH_INTROSPECTION_URL', introspectionUrl);
  if (!clientId || !clientSecret) throw new ConfigError('MCP_OAUTH_INTROSPECTION_URL needs MCP_OAUTH_CLIENT_ID and MCP_OAUTH_CLIENT_SECRET to authenticate to it');
  return { resource: publicUrl, issuers, introspection: { url: introspectionUrl, clientId, clientSecret } };
}
