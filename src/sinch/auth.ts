import { forgetSecret, keepSecret } from '../secrets.js';

export interface ServicePlanCredentials {
  servicePlanId: string;
  apiToken: string;
}

export interface OAuthCredentials {
  projectId: string;
  keyId: string;
  keySecret: string;
  /** The token endpoint, https://auth.sinch.com/oauth2/token unless overridden. */
  authUrl: string;
}

export type Credentials = ServicePlanCredentials | OAuthCredentials;

export const DEFAULT_AUTH_URL = 'https://auth.sinch.com/oauth2/token';

/** A fetched access token and how long it lives, in seconds. */
export interface AccessToken {
  access_token: string;
  expires_in: number;
}

/** Supplies the Authorization header of API requests. */
export interface Authenticator {
  /** The id in `/xms/v1/{id}/groups`: the service plan, or the project. */
  readonly accountId: string;
  authorization(): Promise<string>;
  /** Drops `authorization` if it is the current one; says whether asking again may give a new one. */
  expired(authorization: string): boolean;
  /** Credentials of this one client that the process's list does not hold; its errors must mask them. */
  readonly ownSecrets: readonly string[];
}

export class ServicePlanAuth implements Authenticator {
  readonly accountId: string;
  readonly ownSecrets: readonly string[];
  readonly #header: string;

  /** `perRequest`: the credentials came with one request, so they are not registered for the whole process. */
  constructor({ servicePlanId, apiToken }: ServicePlanCredentials, perRequest = false) {
    if (perRequest) this.ownSecrets = [apiToken];
    else {
      keepSecret(apiToken);
      this.ownSecrets = [];
    }
    this.accountId = servicePlanId;
    this.#header = `Bearer ${apiToken}`;
  }

  async authorization(): Promise<string> {
    return this.#header;
  }

  expired(): boolean {
    return false;
  }
}

// Sinch's Node SDK refreshes a minute early, so a token never expires on its way to Sinch.
const REFRESH_MARGIN_MS = 60_000;

/**
 * OAuth2 client credentials, as Sinch's SDKs do them: a token is cached until shortly before it
 * expires, and concurrent callers share one refresh.
 */
export class OAuthAuth implements Authenticator {
  readonly accountId: string;
  readonly ownSecrets: readonly string[] = [];
  readonly #fetchToken: () => Promise<AccessToken>;
  #current: { header: string; refreshAt: number } | undefined;
  #pending: Promise<string> | undefined;
  // The token before the current one may still be echoed by a reply under way; older ones are forgotten.
  #tokens: string[] = [];

  constructor(credentials: OAuthCredentials, fetchToken: () => Promise<AccessToken>) {
    keepSecret(credentials.keySecret);
    keepSecret(basicAuthorization(credentials).slice('Basic '.length));
    this.accountId = credentials.projectId;
    this.#fetchToken = fetchToken;
  }

  authorization(): Promise<string> {
    if (this.#current && Date.now() < this.#current.refreshAt) return Promise.resolve(this.#current.header);
    this.#pending ??= this.#refresh().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  expired(authorization: string): boolean {
    if (this.#current?.header === authorization) this.#current = undefined;
    return true;
  }

  async #refresh(): Promise<string> {
    const token = await this.#fetchToken();
    keepSecret(token.access_token);
    this.#tokens = [...this.#tokens.filter((kept) => kept !== token.access_token), token.access_token];
    while (this.#tokens.length > 2) forgetSecret(this.#tokens.shift()!);
    const header = `Bearer ${token.access_token}`;
    const lifetime = token.expires_in * 1000;
    this.#current = { header, refreshAt: Date.now() + lifetime - Math.min(REFRESH_MARGIN_MS, lifetime / 2) };
    return header;
  }
}

export const basicAuthorization = ({ keyId, keySecret }: OAuthCredentials) =>
  `Basic ${Buffer.from(`${keyId}:${keySecret}`).toString('base64')}`;
