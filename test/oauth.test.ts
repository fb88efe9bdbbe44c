import { afterEach, describe, expect, test, vi } from 'vitest';
import { OAuthAuth, type AccessToken } from '../src/sinch/auth.js';
import { redact } from '../src/secrets.js';

// OAuth token caching on its own: the token endpoint is a function that counts its calls, and the
// clock is faked, so a token's lifetime passes without waiting for it.

const CREDENTIALS = { projectId: 'project1', keyId: 'key1', keySecret: 'key-secret-0123456789', authUrl: 'http://127.0.0.1:9/oauth2/token' };
const START = Date.parse('2026-01-01T00:00:00.000Z');

afterEach(() => void vi.useRealTimers());

/** An authenticator whose token endpoint hands out token-1, token-2, ... living `lifetime` seconds. */
function authenticator(lifetime = 3600, fail?: () => boolean) {
  vi.useFakeTimers({ toFake: ['Date'], now: START });
  let issued = 0;
  const fetchToken = vi.fn(async (): Promise<AccessToken> => {
    if (fail?.()) throw new Error('token endpoint down');
    return { access_token: `token-${++issued}-abcdefghij`, expires_in: lifetime };
  });
  return { auth: new OAuthAuth(CREDENTIALS, fetchToken), fetchToken };
}

describe('OAuthAuth', () => {
  test.each([
    ['an hour: until a minute before it expires', 3600, 3_540_000],
    ['2 s (under two minutes): until half its lifetime', 2, 1_000],
  ])('a token living %s is reused, then refreshed', async (_, lifetime, refreshAt) => {
    const { auth, fetchToken } = authenticator(lifetime);
    expect(await auth.authorization()).toBe('Bearer token-1-abcdefghij');
    vi.setSystemTime(START + refreshAt - 1);
    expect(await auth.authorization()).toBe('Bearer token-1-abcdefghij');
    vi.setSystemTime(START + refreshAt);
    expect(await auth.authorization()).toBe('Bearer token-2-abcdefghij');
    expect(fetchToken).toHaveBeenCalledTimes(2);
  });

  test('concurrent callers share one token request', async () => {
    const { auth, fetchToken } = authenticator();
    const headers = await Promise.all(Array.from({ length: 10 }, () => auth.authorization()));
    expect(new Set(headers)).toEqual(new Set(['Bearer token-1-abcdefghij']));
    expect(fetchToken).toHaveBeenCalledTimes(1);
  });

  test('a token Sinch called expired is dropped; an older one reported late drops nothing', async () => {
    const { auth, fetchToken } = authenticator();
    const first = await auth.authorization();
    expect(auth.expired(first)).toBe(true);
    const second = await auth.authorization();
    expect(second).toBe('Bearer token-2-abcdefghij');
    auth.expired(first);
    expect(await auth.authorization()).toBe(second);
    expect(fetchToken).toHaveBeenCalledTimes(2);
  });

  test('a failed token request is not cached: the next call asks again', async () => {
    let down = true;
    const { auth, fetchToken } = authenticator(3600, () => down);
    await expect(auth.authorization()).rejects.toThrow('token endpoint down');
    down = false;
    expect(await auth.authorization()).toBe('Bearer token-1-abcdefghij');
    expect(fetchToken).toHaveBeenCalledTimes(2);
  });

  test('the key secret, the Basic credentials and the last two tokens are masked', async () => {
    const { auth } = authenticator(2);
    for (let i = 1; i <= 3; i++) {
      vi.setSystemTime(START + i * 1_000);
      await auth.authorization();
    }
    const basic = Buffer.from(`${CREDENTIALS.keyId}:${CREDENTIALS.keySecret}`).toString('base64');
    expect(redact(`${CREDENTIALS.keySecret} ${basic} token-2-abcdefghij token-3-abcdefghij`)).toBe('[redacted] [redacted] [redacted] [redacted]');
    expect(redact('token-1-abcdefghij')).toBe('token-1-abcdefghij');
  });
});
