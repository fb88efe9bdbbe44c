import { createHash, randomBytes } from 'node:crypto';
import { sameSecret } from '../secrets.js';

/** Where the emulator's token endpoint listens, as Sinch's does at https://auth.sinch.com/oauth2/token. */
export const TOKEN_PATH = '/oauth2/token';

const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}


export type AccessTokenState = 'valid' | 'expired' | 'unknown';

interface IssuedToken {
  expiresAt: number;
  expired: boolean;
}

/**
 * The access tokens the token endpoint has issued. They are kept by their SHA-256 digest, so the
 * time a lookup takes tells nothing about how much of a guessed token was right.
 */
export class AccessTokens {
  private readonly tokens = new Map<string, IssuedToken>();
  private count = 0;

  constructor(readonly lifetimeSeconds: number) {}

  issue(): string {
    const token = randomBytes(32).toString('base64url');
    this.tokens.set(sha256(token).toString('hex'), {
      expiresAt: Date.now() + this.lifetimeSeconds * 1000,
      expired: false,
    });
    this.count++;
    return token;
  }

  check(token: string): AccessTokenState {
    const issued = this.tokens.get(sha256(token).toString('hex'));
    if (!issued) return 'unknown';
    return issued.expired || Date.now() >= issued.expiresAt ? 'expired' : 'valid';
  }

  /** Expires every token issued so far; later ones are not affected. */
  expireAll(): void {
    for (const issued of this.tokens.values()) issued.expired = true;
  }

  get issued(): number {
    return this.count;
  }
}

export interface TokenRequest {
  method: string;
  authorization: string | undefined;
  contentType: string | undefined;
  /** Undefined when the body was over the size cap. */
  rawBody: string | undefined;
}

export interface TokenReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface ClientCredentials {
  keyId: string;
  keySecret: string;
}

function oauthError(status: number, error: string, description?: string, headers?: Record<string, string>): TokenReply {
  return { status, body: { error, ...(description !== undefined && { error_description: description }) }, headers };
}

function basicCredentials(header: string | undefined): string | undefined {
  const encoded = /^Basic +([A-Za-z0-9+/=_-]+) *$/i.exec(header ?? '')?.[1];
  return encoded === undefined ? undefined : Buffer.from(encoded, 'base64').toString('utf8');
}

/**
 * The client-credentials grant, in the order a gateway checks: client authentication, method, body.
 * Errors use the OAuth 2.0 shape (RFC 6749 section 5.2), not the SMS API's {code, text}.
 */
export function answerTokenRequest(request: TokenRequest, client: ClientCredentials, tokens: AccessTokens): TokenReply {
  const given = basicCredentials(request.authorization);
  // Compared whole, so a key ID or secret containing ":" cannot be split differently.
  if (given === undefined || !sameSecret(given, `${client.keyId}:${client.keySecret}`)) {
    return oauthError(
      401,
      'invalid_client',
      given === undefined
        ? 'Client authentication required: send the key ID and key secret with HTTP Basic.'
        : 'Client authentication failed: unknown key ID or wrong key secret.',
      { 'www-authenticate': 'Basic realm="oauth2"' },
    );
  }

  if (request.method !== 'POST') {
    return oauthError(405, 'invalid_request', `Method ${request.method} is not allowed here.`, { allow: 'POST' });
  }
  if (request.contentType?.split(';')[0]?.trim().toLowerCase() !== FORM_CONTENT_TYPE) {
    return oauthError(415, 'invalid_request', `The request body must be sent as '${FORM_CONTENT_TYPE}'.`);
  }
  if (request.rawBody === undefined) {
    return oauthError(413, 'invalid_request', 'The request body is too large.');
  }

  const grantTypes = new URLSearchParams(request.rawBody).getAll('grant_type');
  if (grantTypes.length !== 1) {
    return oauthError(400, 'invalid_request', "The request must have exactly one 'grant_type' parameter.");
  }
  if (grantTypes[0] !== 'client_credentials') return oauthError(400, 'unsupported_grant_type');

  return {
    status: 200,
    body: { access_token: tokens.issue(), expires_in: tokens.lifetimeSeconds, scope: '', token_type: 'bearer' },
    headers: { 'cache-control': 'no-store', pragma: 'no-cache' },
  };
}
