import { createHash } from 'node:crypto';
import { createRemoteJWKSet, customFetch, decodeJwt, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { AuthServerUnavailable, InvalidToken } from './refusals.js';
import { insecureUrl, type OAuthSettings } from './settings.js';

// Loaded only when the HTTP mode runs with OAuth (a dynamic import), so jose costs nothing elsewhere.

/** What a valid access token says of its holder. */
export interface VerifiedToken {
  /** The issuer that vouches for the token, when known; `sub` is unique only within it. */
  iss?: string;
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
/** RFC 9068 4 asks for at+jwt; providers such as Auth0 and Entra ID send JWT. Compared without the optional application/ prefix. */
const JWT_TYPES = ['at+jwt', 'jwt'];
/** RFC 7662 2.2 token types that name an access token; a refresh token must not open /mcp. */
const ACCESS_TOKEN_TYPES = ['access_token', 'bearer'];
/** A key set that could not be fetched is not asked again for this long, so a down endpoint is not hit on every request. */
const KEYS_RETRY_MS = 5_000;
/**
 * A failed metadata discovery is kept this long before the issuer is asked again: a token need only name a
 * configured issuer, no valid signature, to start one, so otherwise anyone could make this server send two or
 * three requests to the issuer for each of theirs.
 */
const DISCOVERY_RETRY_MS = 10_000;
/** How long an introspection answer is kept: a revoked token is refused at most this late. */
const INTROSPECTION_TTL_MS = 60_000;
const INTROSPECTION_REFUSAL_TTL_MS = 10_000;
const INTROSPECTION_CACHE_SIZE = 1_000;

interface Discovery {
  keys: Promise<JWTVerifyGetKey>;
  /** Set once discovery failed: when to ask the issuer again. */
  retryAt?: number;
}

interface Introspected {
  answer: Promise<VerifiedToken>;
  /** Infinity while the answer is pending, so concurrent requests with the same token share it. */
  until: number;
}

/**
 * Checks access tokens for `settings.resource`: JWTs against their issuer's published keys (found from its
 * metadata, cached, fetched again when a token names a key not seen yet), other tokens by introspection.
 */
export function createVerifier(settings: OAuthSettings): TokenVerifier {
  const discoveries = new Map<string, Discovery>();
  // Keyed by a hash of the token, so that the tokens themselves are not kept.
  const introspected = new Map<string, Introspected>();

  function keysOf(issuer: string): Promise<JWTVerifyGetKey> {
    const known = discoveries.get(issuer);
    if (known && (known.retryAt === undefined || Date.now() < known.retryAt)) return known.keys;
    const discovery: Discovery = {
      keys: discover(issuer).then(({ jwks_uri: uri }) => {
        if (typeof uri !== 'string') throw new AuthServerUnavailable(`the metadata of ${issuer} names no jwks_uri`);
        const problem = insecureUrl(uri);
        if (problem) throw new AuthServerUnavailable(`the jwks_uri in the metadata of ${issuer} ${problem}`);
        return remoteKeys(new URL(uri));
      }),
    };
    discovery.keys.catch(() => (discovery.retryAt = Date.now() + DISCOVERY_RETRY_MS));
    discoveries.set(issuer, discovery);
    return discovery.keys;
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
    let result;
    try {
      result = await jwtVerify(token, keys, {
        issuer,
        audience: settings.resource,
        algorithms: ALGORITHMS,
        clockTolerance: CLOCK_SKEW_S,
        requiredClaims: ['exp'],
      });
    } catch (error) {
      throw refusalOf(error);
    }
    const { typ } = result.protectedHeader;
    // The value is not quoted: it would reach the WWW-Authenticate header.
    if (typ !== undefined && !(typeof typ === 'string' && JWT_TYPES.includes(typ.toLowerCase().replace(/^application\//, '')))) throw new InvalidToken('the token is not an access token (typ)');
    return verified(result.payload);
  }

  function introspectKept(token: string, endpoint: NonNullable<OAuthSettings['introspection']>): Promise<VerifiedToken> {
    const key = createHash('sha256').update(token).digest('base64url');
    const kept = introspected.get(key);
    if (kept && Date.now() < kept.until) return kept.answer;
    introspected.delete(key);
    if (introspected.size >= INTROSPECTION_CACHE_SIZE) introspected.delete(introspected.keys().next().value!);
    const entry: Introspected = { answer: introspect(token, endpoint), until: Infinity };
    introspected.set(key, entry);
    entry.answer.then(
      ({ expiresAt }) => (entry.until = Math.min(Date.now() + INTROSPECTION_TTL_MS, (expiresAt ?? Infinity) * 1000)),
      (error: unknown) => {
        if (error instanceof InvalidToken) entry.until = Date.now() + INTROSPECTION_REFUSAL_TTL_MS;
        // The endpoint could not be asked, which says nothing of the token: the next request asks again.
        else if (introspected.get(key) === entry) introspected.delete(key);
      },
    );
    return entry.answer;
  }

  async function introspect(token: string, { url, clientId, clientSecret }: NonNullable<OAuthSettings['introspection']>): Promise<VerifiedToken> {
    // RFC 6749 2.3.1: each part is form-encoded before they are joined.
    const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64');
    let claims: JWTPayload & { active?: unknown; token_type?: unknown };
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
      throw new AuthServerUnavailable(`token introspection failed: ${messageOf(error)}`);
    }
    if (claims.active !== true) throw new InvalidToken('the token is not active');
    const type = claims.token_type;
    if (type !== undefined && !(typeof type === 'string' && ACCESS_TOKEN_TYPES.includes(type.toLowerCase()))) throw new InvalidToken('the token is not an access token');
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
      if (settings.introspection) return introspectKept(token, settings.introspection);
      return Promise.reject(new InvalidToken('the token is not a JWT, and this server has no introspection endpoint to ask about it'));
    },
  };
}

/**
 * The keys at `url`, which jose caches and fetches again for a key id it does not know, at most once every
 * 30 s. A failure to fetch them is AuthServerUnavailable, since it says nothing of the token, and is answered
 * from memory for KEYS_RETRY_MS; keys already fetched go on serving meanwhile.
 */
function remoteKeys(url: URL): JWTVerifyGetKey {
  let failure: { error: AuthServerUnavailable; until: number } | undefined;
  const keySet = createRemoteJWKSet(url, {
    timeoutDuration: FETCH_TIMEOUT_MS,
    [customFetch]: async (href, init) => {
      if (failure && Date.now() < failure.until) throw failure.error;
      const response = await fetch(href, init);
      if (response.status !== 200) throw new AuthServerUnavailable(`the issuer's keys could not be fetched: ${href} answered HTTP ${response.status}`);
      return response;
    },
  });
  return async (header, token) => {
    try {
      return await keySet(header, token);
    } catch (error) {
      // Only these say something of the token: it names a key the issuer does not publish, or an ambiguous one.
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys || error === failure?.error) throw error;
      const unavailable = error instanceof AuthServerUnavailable ? error : new AuthServerUnavailable(`the issuer's keys could not be fetched: ${messageOf(error)}`);
      failure = { error: unavailable, until: Date.now() + KEYS_RETRY_MS };
      throw unavailable;
    }
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
    ...(typeof claims.iss === 'string' && { iss: claims.iss }),
    ...(typeof claims.sub === 'string' && { sub: claims.sub }),
    ...(client && { clientId: client }),
    ...(typeof claims.exp === 'number' && { expiresAt: claims.exp }),
  };
}

function refusalOf(error: unknown): Error {
  if (error instanceof AuthServerUnavailable) return error;
  if (error instanceof errors.JWTExpired) return new InvalidToken('the token has expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') return new InvalidToken('the token was not issued for this resource (audience)');
    if (error.claim === 'nbf') return new InvalidToken('the token is not valid yet');
    return new InvalidToken(`the token's ${error.claim} claim is not acceptable`);
  }
  if (error instanceof errors.JWKSNoMatchingKey) return new InvalidToken('the token is signed with a key its issuer does not publish');
  if (error instanceof errors.JWSSignatureVerificationFailed) return new InvalidToken('the token signature does not verify');
  return new InvalidToken('the token is not a valid JWT');
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

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
      tried.push(`${url}: ${messageOf(error)}`);
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
