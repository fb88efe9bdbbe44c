import { createRemoteJWKSet, decodeJwt, errors, jwtVerify, type JWTPayload } from 'jose';
import { AuthServerUnavailable, InvalidToken } from './refusals.js';
import type { OAuthSettings } from './settings.js';

// Loaded only when the HTTP mode runs with OAuth (a dynamic import), so jose costs nothing elsewhere.

/** What a valid access token says of its holder. */
export interface VerifiedToken {
  sub?: string;
  clientId?: string;
  scopes: string[];
  /** Seconds since the epoch. */
  expiresAt?: number;
}

export interface TokenVerifier {
  verify(token: string): Promise<VerifiedToken>;
}

/** Clocks of this server and the authorization server may differ by this much. */
const CLOCK_SKEW_S = 30;
const FETCH_TIMEOUT_MS = 5_000;
/** Signatures made with the issuer's public keys only: a symmetric or unsigned token could be forged by anyone who knows the JWKS. */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
const JWS_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]*$/;

type KeySet = ReturnType<typeof createRemoteJWKSet>;

/**
 * Checks access tokens for `settings.resource`: JWTs against their issuer's published keys (found from its
 * metadata, cached, fetched again when a token names a key not seen yet), other tokens by introspection.
 */
export function createVerifier(settings: OAuthSettings): TokenVerifier {
  const keySets = new Map<string, Promise<KeySet>>();

  function keysOf(issuer: string): Promise<KeySet> {
    let keys = keySets.get(issuer);
    if (!keys) {
      keys = discover(issuer).then((metadata) => {
        if (typeof metadata.jwks_uri !== 'string') throw new AuthServerUnavailable(`the metadata of ${issuer} names no jwks_uri`);
        // jose refetches the set for a key id it does not know, at most once every 30 s.
        return createRemoteJWKSet(new URL(metadata.jwks_uri), { timeoutDuration: FETCH_TIMEOUT_MS });
      });
      // A failure is not kept: the next request asks again.
      keys.catch(() => keySets.delete(issuer));
      keySets.set(issuer, keys);
    }
    return keys;
  }

  async function verifyJwt(token: string): Promise<VerifiedToken> {
    let issuer: unknown;
    try {
      issuer = decodeJwt(token).iss;
    } catch {
      throw new InvalidToken('the token is not a readable JWT');
    }
    if (typeof issuer !== 'string' || !settings.issuers.includes(issuer)) throw new InvalidToken('the token comes from an issuer this server does not accept');
    const keys = await keysOf(issuer);
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer,
        audience: settings.resource,
        algorithms: ALGORITHMS,
        clockTolerance: CLOCK_SKEW_S,
        requiredClaims: ['exp'],
      });
      return verified(payload);
    } catch (error) {
      throw refusalOf(error);
    }
  }

  async function introspect(token: string, { url, clientId, clientSecret }: NonNullable<OAuthSettings['introspection']>): Promise<VerifiedToken> {
    // RFC 6749 2.3.1: each part is form-encoded before they are joined.
    const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64');
    let claims: JWTPayload & { active?: unknown };
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      });
      if (!response.ok) throw new Error(`it answered HTTP ${response.status}`);
      claims = (await response.json()) as typeof claims;
    } catch (error) {
      throw new AuthServerUnavailable(`token introspection failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (claims.active !== true) throw new InvalidToken('the token is not active');
    if (claims.iss !== undefined && !settings.issuers.includes(claims.iss)) throw new InvalidToken('the token comes from an issuer this server does not accept');
    const audiences = typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud : [];
    if (!audiences.includes(settings.resource)) throw new InvalidToken(`the token was not issued for this resource (${settings.resource})`);
    const now = Date.now() / 1000;
    if (typeof claims.exp === 'number' && claims.exp + CLOCK_SKEW_S < now) throw new InvalidToken('the token has expired');
    if (typeof claims.nbf === 'number' && claims.nbf - CLOCK_SKEW_S > now) throw new InvalidToken('the token is not valid yet');
    return verified(claims);
  }

  return {
    verify(token) {
      if (JWS_SHAPE.test(token)) return verifyJwt(token);
      if (settings.introspection) return introspect(token, settings.introspection);
      return Promise.reject(new InvalidToken('the token is not a JWT, and this server has no introspection endpoint to ask about it'));
    },
  };
}

/** The claims an audit line and the scope check need; scopes from `scope` (RFC 9068) or `scp`. */
function verified(claims: JWTPayload): VerifiedToken {
  const { scope, scp, client_id: clientId, azp } = claims;
  const words = (value: unknown) => (typeof value === 'string' ? value.split(' ').filter(Boolean) : []);
  const scopes = typeof scope === 'string' ? words(scope) : Array.isArray(scp) ? scp.filter((s): s is string => typeof s === 'string') : words(scp);
  const client = typeof clientId === 'string' ? clientId : typeof azp === 'string' ? azp : undefined;
  return {
    scopes,
    ...(typeof claims.sub === 'string' && { sub: claims.sub }),
    ...(client && { clientId: client }),
    ...(typeof claims.exp === 'number' && { expiresAt: claims.exp }),
  };
}

function refusalOf(error: unknown): Error {
  if (error instanceof errors.JWTExpired) return new InvalidToken('the token has expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') return new InvalidToken('the token was not issued for this resource (audience)');
    if (error.claim === 'nbf') return new InvalidToken('the token is not valid yet');
    return new InvalidToken(`the token's ${error.claim} claim is not acceptable`);
  }
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid || !(error instanceof errors.JOSEError)) {
    return new AuthServerUnavailable(`the issuer's keys could not be fetched: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (error instanceof errors.JWKSNoMatchingKey) return new InvalidToken('the token is signed with a key its issuer does not publish');
  if (error instanceof errors.JWSSignatureVerificationFailed) return new InvalidToken('the token signature does not verify');
  return new InvalidToken('the token is not a valid JWT');
}

/** The issuer's metadata: RFC 8414 first, then OpenID Connect discovery, both forms of it for an issuer with a path. */
async function discover(issuer: string): Promise<Record<string, unknown>> {
  const { origin, pathname } = new URL(issuer);
  const path = pathname.replace(/\/$/, '');
  const candidates = [
    `${origin}/.well-known/oauth-authorization-server${path}`,
    `${origin}${path}/.well-known/openid-configuration`,
    `${origin}/.well-known/openid-configuration${path}`,
  ];
  const tried: string[] = [];
  for (const url of new Set(candidates)) {
    let response: Response;
    try {
      response = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    } catch (error) {
      tried.push(`${url}: ${error instanceof Error ? error.message : String(error)}`);
      continue;
    }
    if (!response.ok) {
      tried.push(`${url}: HTTP ${response.status}`);
      continue;
    }
    const metadata = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    // RFC 8414 3.3: metadata naming another issuer must not be used.
    if (metadata?.issuer === issuer) return metadata;
    tried.push(`${url}: ${metadata ? `names issuer ${JSON.stringify(metadata.issuer)}` : 'not JSON'}`);
  }
  throw new AuthServerUnavailable(`no metadata found for issuer ${issuer} (${tried.join('; ')})`);
}
