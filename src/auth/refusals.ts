// Shared by the gate and the verifier without making the gate load the verifier (and jose) with it.

/**
 * A request refused by authentication or authorization; `challenge` is its WWW-Authenticate header, and
 * `retryAfter` its Retry-After (seconds) when asking again later may succeed.
 */
export class AuthRefusal extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly challenge?: string,
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

/** The token is refused; the message says why without quoting it. */
export class InvalidToken extends Error {
  override readonly name = 'InvalidToken';
}

/** The authorization server could not be asked (its metadata, keys or introspection endpoint), so no token can be judged now. */
export class AuthServerUnavailable extends Error {
  override readonly name = 'AuthServerUnavailable';
}
