import { Agent, interceptors, request, type Dispatcher, type RetryHandler } from 'undici';
import { SinchTransportError, type Operation } from './errors.js';

export interface RetrySettings {
  /** Retries after the first attempt. */
  maxRetries: number;
  /** No retry starts later than this after the first attempt began. */
  maxElapsedMs: number;
  minDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetrySettings = { maxRetries: 3, maxElapsedMs: 60_000, minDelayMs: 500, maxDelayMs: 10_000 };
export const DEFAULT_TIMEOUT_MS = 30_000;

/** Larger replies are refused: 10,000 numbers are about 200 KB, so this leaves room for very large groups. */
const MAX_REPLY_BYTES = 32 * 1024 * 1024;

// The request never reached Sinch, so repeating it cannot do anything twice.
const NOT_SENT = ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN', 'EHOSTDOWN'];
// The connection failed mid-way: Sinch may or may not have acted on the request.
const CUT_OFF = ['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED'];

export interface Exchange {
  operation: Operation;
  url: URL;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  headers: Record<string, string>;
  body?: string;
  /** Safe to repeat after Sinch may have acted on it; everything but creating a group is. */
  idempotent: boolean;
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  attempts: number;
}

/** Keep-alive connections, with undici's retry interceptor applying the policy given per request. */
export function createDispatcher(timeoutMs: number): Dispatcher {
  return new Agent({ keepAliveTimeout: 10_000, headersTimeout: timeoutMs, bodyTimeout: timeoutMs }).compose(
    interceptors.retry({ throwOnError: false }),
  );
}

interface Progress {
  attempts: number;
  startedAt: number;
  /** Headers have arrived: from then on a failure is a reply cut short, which undici would resume with Range. */
  answered: boolean;
}

/**
 * When to try again: a 429 always (Sinch did not process it) and a request that never left; a 5xx
 * or a cut connection only when repeating is harmless. Retry-After is waited out as asked, backoff is
 * capped at maxDelayMs, and no retry starts past maxElapsedMs.
 */
function retryPolicy(settings: RetrySettings, idempotent: boolean, progress: Progress): RetryHandler.RetryCallback {
  return (error, _context, callback) => {
    const { statusCode, code, headers } = error as Error & { statusCode?: number; code?: string; headers?: Record<string, string> };
    const retryable =
      !progress.answered &&
      (statusCode === 429 ||
        (code !== undefined && NOT_SENT.includes(code)) ||
        (idempotent && ((statusCode ?? 0) >= 500 || (code !== undefined && CUT_OFF.includes(code)))));
    const wait = retryAfter(headers?.['retry-after']) ?? Math.min(settings.minDelayMs * 2 ** (progress.attempts - 1), settings.maxDelayMs);
    if (!retryable || progress.attempts > settings.maxRetries || Date.now() + wait - progress.startedAt > settings.maxElapsedMs) {
      callback(error);
      return;
    }
    progress.attempts++;
    setTimeout(() => callback(null), wait);
  };
}

function retryAfter(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

class ReplyCut extends Error {}

/** One request, retried as the policy allows; the reply whatever its status, or a transport error. */
export async function exchange(dispatcher: Dispatcher, settings: RetrySettings, timeoutMs: number, call: Exchange): Promise<Reply> {
  const progress: Progress = { attempts: 1, startedAt: Date.now(), answered: false };
  try {
    return await send(dispatcher, settings, timeoutMs, call, progress);
  } catch (error) {
    // Sinch cannot resume a reply from where it broke off, so a harmless request is sent again whole,
    // once, within the same bounds; the rest of the retrying is undici's.
    if (!(error instanceof ReplyCut)) throw error;
    if (!call.idempotent || progress.attempts > settings.maxRetries || Date.now() - progress.startedAt > settings.maxElapsedMs) {
      throw new SinchTransportError(call.operation, error.message);
    }
    progress.attempts++;
    progress.answered = false;
    try {
      return await send(dispatcher, settings, timeoutMs, call, progress);
    } catch (again) {
      throw again instanceof ReplyCut ? new SinchTransportError(call.operation, again.message) : again;
    }
  }
}

async function send(dispatcher: Dispatcher, settings: RetrySettings, timeoutMs: number, call: Exchange, progress: Progress): Promise<Reply> {
  const tried = () => (progress.attempts > 1 ? ` after ${progress.attempts} attempts` : '');
  // The retry interceptor reads per-request options from the dispatch options, which request() passes on.
  const options = {
    method: call.method,
    headers: call.headers,
    body: call.body,
    dispatcher,
    retryOptions: { retry: retryPolicy(settings, call.idempotent, progress) } satisfies RetryHandler.RetryOptions,
  };
  let response: Dispatcher.ResponseData;
  try {
    response = await request(call.url, options);
  } catch (error) {
    throw new SinchTransportError(call.operation, `${describeFailure(error, call.url, timeoutMs)}${tried()}`);
  }
  progress.answered = true;
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_REPLY_BYTES) {
        response.body.destroy();
        throw new SinchTransportError(call.operation, `Sinch's reply was larger than ${MAX_REPLY_BYTES / 1024 / 1024} MiB, so it was not read`);
      }
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof SinchTransportError) throw error;
    throw new ReplyCut(`${describeFailure(error, call.url, timeoutMs)} while reading the reply${tried()}`);
  }
  return { status: response.statusCode, headers: response.headers, text: Buffer.concat(chunks).toString('utf8'), attempts: progress.attempts };
}

function describeFailure(error: unknown, url: URL, timeoutMs: number): string {
  const code = (error as { code?: unknown }).code;
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return `Sinch at ${url.origin} did not answer within ${timeoutMs} ms (SINCH_TIMEOUT_MS)`;
  }
  const message = error instanceof Error ? error.message : String(error);
  return `could not reach Sinch at ${url.origin} (${typeof code === 'string' ? `${code}: ` : ''}${message})`;
}
