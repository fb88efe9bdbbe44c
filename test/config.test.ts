import { describe, expect, test } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

const SECRET = 'tok-0123456789abcdef';

describe('configuration from the environment', () => {
  test('no Sinch variables at all means the built-in emulator', () => {
    expect(loadConfig({})).toEqual({ mode: 'emulator' });
  });

  test('credentials default to the US region', () => {
    expect(loadConfig({ SINCH_SERVICE_PLAN_ID: 'plan1', SINCH_API_TOKEN: SECRET })).toEqual({
      mode: 'sinch',
      baseUrl: 'https://us.sms.api.sinch.com',
      servicePlanId: 'plan1',
      apiToken: SECRET,
    });
  });

  test.each(['us', 'eu', 'au', 'br', 'ca', 'EU'])('SINCH_REGION=%s picks that region', (region) => {
    const config = loadConfig({ SINCH_SERVICE_PLAN_ID: 'p', SINCH_API_TOKEN: SECRET, SINCH_REGION: region });
    expect(config).toMatchObject({ baseUrl: `https://${region.toLowerCase()}.sms.api.sinch.com` });
  });

  test('SINCH_SMS_BASE_URL overrides the region', () => {
    const config = loadConfig({
      SINCH_SERVICE_PLAN_ID: 'p',
      SINCH_API_TOKEN: SECRET,
      SINCH_REGION: 'eu',
      SINCH_SMS_BASE_URL: 'http://127.0.0.1:8080/',
    });
    expect(config).toMatchObject({ baseUrl: 'http://127.0.0.1:8080' });
  });

  test.each([
    [{ SINCH_API_TOKEN: SECRET }, /SINCH_SERVICE_PLAN_ID/],
    [{ SINCH_SERVICE_PLAN_ID: 'p' }, /SINCH_API_TOKEN/],
    [{ SINCH_SERVICE_PLAN_ID: 'p', SINCH_API_TOKEN: SECRET, SINCH_REGION: 'mars' }, /SINCH_REGION must be one of us, eu, au, br, ca/],
    [{ SINCH_SERVICE_PLAN_ID: 'p', SINCH_API_TOKEN: SECRET, SINCH_SMS_BASE_URL: 'not a url' }, /SINCH_SMS_BASE_URL/],
    [{ SINCH_SERVICE_PLAN_ID: 'p', SINCH_API_TOKEN: SECRET, SINCH_SMS_BASE_URL: 'ftp://example.com' }, /http/],
    [{ SINCH_SMS_BASE_URL: 'http://127.0.0.1:1' }, /SINCH_SERVICE_PLAN_ID and SINCH_API_TOKEN/],
  ])('%o is refused, naming the variable and never the token', (env, message) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain(SECRET);
  });
});
