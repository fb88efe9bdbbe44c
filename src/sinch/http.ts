import type { Dispatcher } from 'undici';
import { SinchTransportError, type Operation } from './errors.js';

export interface RetrySettings {
  /** Retries after the first attempt. */
  maxRetries: number;
  /** Every attempt of one request, and the waits between them, end within this of the first attempt's start. */
  maxElapsedMs: number;
  minDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetrySettings = { maxRetries: 3, maxElapsedMs: 60_000, minDelayMs: 500, maxDelayMs: 10_000 };
export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_CONNECTIONS = 64;

/** Larger replies are refused: 10,000 numbers are about 200 KB, so this leaves room for very large groups. */
const MAX_REPLY_BYTES = 32 * 1024 * 1024;

// The request never left, so repeating it cannot do anything twice.
const NOT_SENT = ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN', 'EHOSTDOWN', 'UND_ERR_CONNECT_TIMEOUT'];

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
  /** Attempts made, this one included. */
  attempts: number;
  /** From the first attempt's start to this reply. */
  elapsedMs: number;
  /** The wait Sinch asked for in Retry-After, when retrying stopped with one still asked. */
  retryAfter?: { ms: number; until: Date };
}

// Undici is a large part of the code a server could load, and a server that is only started and listed
// never sends a request: it is loaded with the first one. It is CommonJS, whose exports a dynamic import
// gives as the default export alone once bundled.
type Undici = (typeof import('undici'))['default'];
let undici: Promise<Undici> | undefined;
const loadUndici = () => (undici ??= import('undici').then((loaded) => loaded.default));

/**
 * Keep-alive connections, at most `maxConnections` to one origin: further requests queue for a free
 * one rather than each opening a socket. Deadlines are the exchange's own, so undici's idle timeouts are off.
 * The pool is made with the first request.
 */
export class Connections {
  #agent: Promise<Dispatcher> | undefined;

  constructor(private readonly maxConnections: number) {}

  agent(): Promise<Dispatcher> {
    return (this.#agent ??= loadUndici().then(
      ({ Agent }) => new Agent({ keepAliveTimeout: 10_000, connections: this.maxConnections, headersTimeout: 0, bodyTimeout: 0 }),
    ));
  }

  /** Lets requests under way finish, then ends the connections. */
  async close(): Promise<void> {
    if (this.#agent) await (await this.#agent).close();
  }

  /** Ends the connections at once; requests under way fail. */
  async destroy(): Promise<void> {
    if (this.#agent) await (await this.#agent).destroy();
  }
}

export function createDispatcher({ maxConnections = DEFAULT_MAX_CONNECTIONS }: { maxConnections?: number } = {}): Connections {
  return new Connections(maxConnections);
}

/** How one attempt ended without a reply to hand back. */
type Failure =
  | { kind: 'not sent'; detail: string }
  | { kind: 'cut'; detail: string; answered: boolean }
  | { kind: 'deadline'; answered: boolean; bound: 'attempt' | 'all' }
  | { kind: 'too large' };

type Attempt = { reply: Omit<Reply, 'attempts' | 'elapsedMs'> } | { failure: Failure };

/**
 * One request, retried where that is safe: a 429 always (Sinch did not process it) and a request that
 * never left; a 5xx or a cut connection only when repeating is harmless. A timed-out attempt is not
 * repeated. Each attempt ends within `timeoutMs`, all of them within `maxElapsedMs`; Retry-After is
 * waited out as asked, or ends the request at once when the wait would not fit. `signal` starts no
 * further attempt, but lets the one under way finish. Returns the last reply whatever its status.
 */
export async function exchange(
  connections: Connections,
  settings: RetrySettings,
  timeoutMs: number,
  call: Exchange,
  signal?: AbortSignal,
): Promise<Reply> {
  const startedAt = Date.now();
  const deadline = startedAt + settings.maxElapsedMs;
  const [{ request }, dispatcher] = await Promise.all([loadUndici(), connections.agent()]);
  for (let attempts = 1; ; attempts++) {
    const outcome = await attempt(request, dispatcher, call, timeoutMs, deadline);
    const elapsedMs = Date.now() - startedAt;
    let retryable: boolean;
    let asked: number | undefined;
    if ('reply' in outcome) {
      const { status, headers } = outcome.reply;
      if (status >= 200 && status < 300) return { ...outcome.reply, attempts, elapsedMs };
      retryable = status === 429 || (call.idempotent && status >= 500);
      asked = retryAfter(headers['retry-after']);
    } else {
      const { failure } = outcome;
      retryable = failure.kind === 'not sent' || (failure.kind === 'cut' && call.idempotent);
    }
    const wait = asked ?? Math.min(settings.minDelayMs * 2 ** (attempts - 1), settings.maxDelayMs);
    const giveUp = !retryable || attempts > settings.maxRetries || Date.now() + wait >= deadline || signal?.aborted;
    if (giveUp || !(await pause(wait, signal))) {
      if ('failure' in outcome) throw transportError(call, outcome.failure, attempts, elapsedMs, timeoutMs, settings.maxElapsedMs);
      const stillAsked = retryable && asked !== undefined ? { ms: asked, until: new Date(Date.now() + asked) } : undefined;
      return { ...outcome.reply, attempts, elapsedMs, ...(stillAsked && { retryAfter: stillAsked }) };
    }
  }
}

async function attempt(request: Undici['request'], dispatcher: Dispatcher, call: Exchange, timeoutMs: number, deadline: number): Promise<Attempt> {
  const controller = new AbortController();
  const bound: 'attempt' | 'all' = Date.now() + timeoutMs <= deadline ? 'attempt' : 'all';
  let expired = false;
  const timer = setTimeout(
    () => {
      expired = true;
      controller.abort();
    },
    Math.max(0, Math.min(timeoutMs, deadline - Date.now())),
  );
  let answered = false;
  try {
    const response = await request(call.url, {
      method: call.method,
      headers: call.headers,
      body: call.body,
      dispatcher,
      signal: controller.signal,
    });
    answered = true;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_REPLY_BYTES) {
        response.body.destroy();
        return { failure: { kind: 'too large' } };
      }
      chunks.push(chunk);
    }
    return { reply: { status: response.statusCode, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') } };
  } catch (error) {
    if (expired) return { failure: { kind: 'deadline', answered, bound } };
    const code = (error as { code?: unknown }).code;
    const message = error instanceof Error ? error.message : String(error);
    const detail = `${typeof code === 'string' ? `${code}: ` : ''}${message}`;
    if (!answered && typeof code === 'string' && NOT_SENT.includes(code)) return { failure: { kind: 'not sent', detail } };
    return { failure: { kind: 'cut', detail, answered } };
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
function pause(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const stop = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', stop);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', stop, { once: true });
  });
}

function retryAfter(header: string | string[] | undefined): number | undefined {
  if (typeof header !== 'string') return undefined;
  const seconds = Number(header);
  if (header.trim() !== '' && Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function transportError(
  call: Exchange,
  failure: Failure,
  attempts: number,
  elapsedMs: number,
  timeoutMs: number,
  maxElapsedMs: number,
): SinchTransportError {
  const tried = attempts > 1 ? ` after ${attempts} attempts over ${duration(elapsedMs)}` : '';
  const sinch = `Sinch at ${call.url.origin}`;
  switch (failure.kind) {
    case 'not sent':
      return new SinchTransportError(call.operation, `could not reach ${sinch} (${failure.detail})${tried}`, false);
    case 'cut':
      return new SinchTransportError(
        call.operation,
        failure.answered
          ? `the connection to ${sinch} was cut while reading its reply (${failure.detail})${tried}`
          : `the connection to ${sinch} was cut after the request was sent, before Sinch answered (${failure.detail})${tried}`,
        true,
      );
    case 'deadline': {
      const what = failure.answered ? 'did not finish its reply' : 'did not answer';
      const within =
        failure.bound === 'attempt'
          ? `within ${timeoutMs} ms (SINCH_TIMEOUT_MS)`
          : `within the ${maxElapsedMs} ms allowed for all attempts (SINCH_RETRY_MAX_ELAPSED_MS)`;
      return new SinchTransportError(call.operation, `${sinch} ${what} ${within}${tried}`, true);
    }
    case 'too large':
      return new SinchTransportError(call.operation, `Sinch's reply was larger than ${MAX_REPLY_BYTES / 1024 / 1024} MiB, so it was not read`, true);
  }
}

/** A duration as people read it: "350 ms", "2.5 s". */
export const duration = (ms: number) => (ms < 1_000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`);
