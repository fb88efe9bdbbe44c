import type { ServerResponse } from 'node:http';
import { afterAll, describe, expect } from 'vitest';
import { SinchTransportError } from '../src/sinch/errors.js';
import { createDispatcher, exchange, type Exchange, type RetrySettings } from '../src/sinch/http.js';
import { listen, test, type Fixtures } from './harness.js';

// The retry policy on its own: one exchange against a node:http stand-in that answers from a script.

const SETTINGS: RetrySettings = { maxRetries: 3, maxElapsedMs: 10_000, minDelayMs: 1, maxDelayMs: 5 };
const dispatcher = createDispatcher();
afterAll(() => dispatcher.close());

/** A stand-in answering request i with script[i] (the last one after that); returns its url and request count. */
async function standIn(defer: Fixtures['defer'], ...script: Array<(res: ServerResponse) => void>) {
  let received = 0;
  const server = await listen((req, res) => {
    req.resume();
    req.on('end', () => script[Math.min(received++, script.length - 1)]!(res));
  });
  defer(server.close);
  return { url: server.url, received: () => received };
}

const status = (code: number, headers: Record<string, string> = {}) => (res: ServerResponse) => void res.writeHead(code, headers).end('{}');
const drop = (res: ServerResponse) => void res.socket?.destroy();

const call = (url: string, idempotent: boolean): Exchange => ({
  operation: { action: 'get group', groupId: 'G1' },
  url: new URL(`${url}/xms/v1/plan/groups/G1`),
  method: idempotent ? 'GET' : 'POST',
  headers: {},
  idempotent,
});

describe('exchange', () => {
  test.for([
    [true, 503, 4],
    [false, 503, 1],
    [false, 429, 4],
    [true, 400, 1],
    [true, 404, 1],
  ] as const)('idempotent %s, HTTP %i every time: %i attempt(s), the last reply returned', async ([idempotent, code, attempts], { defer }) => {
    const sinch = await standIn(defer, status(code));
    const reply = await exchange(dispatcher, SETTINGS, 5_000, call(sinch.url, idempotent));
    expect(reply).toMatchObject({ status: code, attempts });
    expect(sinch.received()).toBe(attempts);
  });

  test('a success after failures ends the retries, counting every attempt', async ({ defer }) => {
    const sinch = await standIn(defer, status(503), status(502), status(200));
    expect(await exchange(dispatcher, SETTINGS, 5_000, call(sinch.url, true))).toMatchObject({ status: 200, attempts: 3 });
  });

  test('maxRetries bounds the attempts', async ({ defer }) => {
    const sinch = await standIn(defer, status(503));
    expect(await exchange(dispatcher, { ...SETTINGS, maxRetries: 1 }, 5_000, call(sinch.url, true))).toMatchObject({ attempts: 2 });
    expect(sinch.received()).toBe(2);
  });

  test('a Retry-After that would end past maxElapsedMs is not waited for: the reply says how long Sinch asked', async ({ defer }) => {
    const sinch = await standIn(defer, status(429, { 'retry-after': '30' }));
    const reply = await exchange(dispatcher, SETTINGS, 5_000, call(sinch.url, false));
    expect(reply).toMatchObject({ status: 429, attempts: 1, retryAfter: { ms: 30_000 } });
    expect(sinch.received()).toBe(1);
  });

  test('a connection cut before the answer is retried only when repeating is harmless', async ({ defer }) => {
    const harmless = await standIn(defer, drop, status(200));
    expect(await exchange(dispatcher, SETTINGS, 5_000, call(harmless.url, true))).toMatchObject({ status: 200, attempts: 2 });
    const create = await standIn(defer, drop, status(200));
    const error = await exchange(dispatcher, SETTINGS, 5_000, call(create.url, false)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SinchTransportError);
    expect((error as SinchTransportError).reachedSinch).toBe(true);
    expect(create.received()).toBe(1);
  });

  test('a request that never left is retried even when not idempotent, and then said not to have reached Sinch', async () => {
    const gone = await listen(() => undefined);
    await gone.close();
    const error = await exchange(dispatcher, SETTINGS, 5_000, call(gone.url, false)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SinchTransportError);
    expect((error as SinchTransportError).reachedSinch).toBe(false);
    expect(String(error)).toMatch(/could not reach Sinch at .* after 4 attempts/);
  });

  test('an aborted signal starts no further attempt', async ({ defer }) => {
    const sinch = await standIn(defer, status(503));
    const reply = await exchange(dispatcher, SETTINGS, 5_000, call(sinch.url, true), AbortSignal.abort());
    expect(reply).toMatchObject({ status: 503, attempts: 1 });
  });
});
