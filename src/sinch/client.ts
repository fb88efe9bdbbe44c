import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { basicAuthorization, OAuthAuth, ServicePlanAuth, type AccessToken, type Authenticator, type Credentials } from './auth.js';
import { PartialChangeError, SinchApiError, SinchTransportError, describeOperation, type Operation } from './errors.js';
import { createDispatcher, DEFAULT_RETRY, DEFAULT_TIMEOUT_MS, exchange, type Reply, type RetrySettings } from './http.js';
import { toE164 } from './numbers.js';
import {
  ErrorBody,
  Group,
  GroupList,
  MAX_NUMBERS_PER_REQUEST,
  Members,
  type CreateGroupBody,
  type ListGroupsQuery,
  type ReplaceGroupBody,
  type UpdateGroupBody,
} from './schemas.js';
import { USER_AGENT } from '../version.js';

export const DEFAULT_CONCURRENCY = 4;

export type SinchClientOptions = Credentials & {
  /** Origin of the SMS API, e.g. https://us.sms.api.sinch.com; `/xms/v1/{account id}/groups` is appended. */
  baseUrl: string;
  /** Bound on each request's wait for Sinch. */
  timeoutMs?: number;
  retry?: Partial<RetrySettings>;
  /** How many requests of one large change may be under way at once (default 4). */
  concurrency?: number;
  /** Credentials that came with one request (HTTP mode behind a gateway), not the process's own. */
  perRequest?: boolean;
  /** Connections shared with other clients (from createDispatcher); a client closes only its own. */
  dispatcher?: Dispatcher;
};

/** Told after each request of a change that takes several, with how many are done and in all. */
export type OnProgress = (done: number, total: number) => void;

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/**
 * The Sinch SMS Groups API. Request bodies are the *parsed* outputs of the schemas in schemas.ts, so
 * numbers arrive here already normalized and checked; lists longer than Sinch accepts in one request
 * are sent as several requests whose combined effect is the one request the caller asked for.
 */
export class SinchGroupsClient {
  readonly #groupsUrl: string;
  readonly #auth: Authenticator;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  readonly #retry: RetrySettings;
  readonly #timeoutMs: number;
  readonly #concurrency: number;
  readonly #inFlight = new Map<Promise<unknown>, string>();

  constructor(options: SinchClientOptions) {
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#concurrency = Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY);
    this.#retry = { ...DEFAULT_RETRY, ...options.retry };
    this.#ownsDispatcher = options.dispatcher === undefined;
    this.#dispatcher = options.dispatcher ?? createDispatcher(this.#timeoutMs);
    this.#auth =
      'apiToken' in options ? new ServicePlanAuth(options, options.perRequest) : new OAuthAuth(options, () => this.#fetchToken(options));
    const base = options.baseUrl.replace(/\/+$/, '');
    this.#groupsUrl = `${base}/xms/v1/${encodeURIComponent(this.#auth.accountId)}/groups`;
  }

  createGroup(body: CreateGroupBody, onProgress?: OnProgress): Promise<Group> {
    // The only request that is not safe to repeat: a repeat could make a second group.
    return this.#setMembers({ action: 'create group' }, 'POST', '', body, false, onProgress);
  }

  async listGroups(query: ListGroupsQuery = {}): Promise<GroupList> {
    const operation = { action: 'list groups' };
    return this.#read(GroupList, operation, await this.#send(operation, 'GET', '', undefined, query));
  }

  async getGroup(groupId: string): Promise<Group> {
    return this.#group({ action: 'get group', groupId }, 'GET', groupPath(groupId));
  }

  /** Every member in E.164; Sinch returns them all at once and without "+". */
  listMembers(groupId: string): Promise<string[]> {
    return this.#members({ action: 'list members of group', groupId });
  }

  async updateGroup(groupId: string, body: UpdateGroupBody, onProgress?: OnProgress): Promise<Group> {
    const operation = { action: 'update group', groupId };
    if (!needsSplitting(body)) return this.#group(operation, 'POST', groupPath(groupId), body);
    // remove_from_group has to travel with the last request, after changes already applied; naming its
    // members instead means a missing group is found before anything changes, and the removal is of
    // the members it had when the update began, as in one request.
    const { remove_from_group, ...rest } = body;
    if (remove_from_group !== undefined) {
      const members = await this.#members({ action: 'read the members of remove_from_group', groupId: remove_from_group });
      rest.remove = [...new Set([...(rest.remove ?? []), ...members])];
    }
    const [first, ...phases] = planUpdate(rest);
    return this.#change(operation, () => this.#group(operation, 'POST', groupPath(groupId), first), phases, onProgress);
  }

  replaceGroup(groupId: string, body: ReplaceGroupBody, onProgress?: OnProgress): Promise<Group> {
    return this.#setMembers({ action: 'replace group', groupId }, 'PUT', groupPath(groupId), body, true, onProgress);
  }

  async deleteGroup(groupId: string): Promise<void> {
    await this.#send({ action: 'delete group', groupId }, 'DELETE', groupPath(groupId));
  }

  /**
   * Waits up to `graceMs` for requests under way, and names those still unfinished then: their
   * outcome is unknown, which whoever stops the process should hear of.
   */
  async settle(graceMs: number): Promise<string[]> {
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([Promise.allSettled(this.#inFlight.keys()), grace]);
    clearTimeout(timer);
    return [...this.#inFlight.values()];
  }

  /** Ends the connections; requests still under way fail (settle() first to let them finish). */
  async close(): Promise<void> {
    if (this.#ownsDispatcher) await this.#dispatcher.destroy();
  }

  /** A create or replace: the first 10,000 members with the rest of the body, then the others as additions. */
  #setMembers(
    operation: Operation,
    method: Method,
    path: string,
    body: CreateGroupBody,
    idempotent: boolean,
    onProgress?: OnProgress,
  ): Promise<Group> {
    const [first = [], ...rest] = chunks(body.members ?? []);
    const firstBody = rest.length === 0 ? body : { ...body, members: first };
    const send = () => this.#group(operation, method, path, firstBody, idempotent);
    return this.#change(operation, send, [rest.map((add) => ({ add }))], onProgress);
  }

  /**
   * Sends a change that may take several requests: `first` alone (it creates or replaces the group, or
   * finds it missing before anything changed), then each phase in order, the requests of a phase
   * concurrently: they are independent, like chunks of additions. A failure after `first` is partial.
   */
  async #change(
    operation: Operation,
    first: () => Promise<Group>,
    phases: UpdateGroupBody[][],
    onProgress?: OnProgress,
  ): Promise<Group> {
    const total = 1 + phases.reduce((sum, phase) => sum + phase.length, 0);
    let group = await first();
    let done = 1;
    if (total > 1) onProgress?.(done, total);
    const { id } = group;
    try {
      for (const phase of phases) {
        await eachConcurrently(phase, this.#concurrency, async (body) => {
          group = await this.#group(operation, 'POST', groupPath(id), body);
          onProgress?.(++done, total);
        });
      }
    } catch (error) {
      if (error instanceof SinchApiError || error instanceof SinchTransportError) {
        throw new PartialChangeError(operation, done, total, group, error);
      }
      throw error;
    }
    return group;
  }

  async #members(operation: Required<Operation>): Promise<string[]> {
    const path = `${groupPath(operation.groupId)}/members`;
    return this.#read(Members, operation, await this.#send(operation, 'GET', path)).map(toE164);
  }

  async #group(operation: Operation, method: Method, path: string, body?: object, idempotent = true): Promise<Group> {
    return this.#read(Group, operation, await this.#send(operation, method, path, body, undefined, idempotent));
  }

  #read<T extends z.ZodType>(schema: T, operation: Operation, value: unknown): z.output<T> {
    const parsed = schema.safeParse(withoutNulls(value));
    if (!parsed.success) {
      throw new SinchTransportError(operation, `Sinch's reply did not have the documented shape (${parsed.error.issues[0]?.message})`);
    }
    return parsed.data;
  }

  async #send(
    operation: Operation,
    method: Method,
    path: string,
    body?: object,
    query?: Record<string, number | undefined>,
    idempotent = true,
  ): Promise<unknown> {
    const url = new URL(this.#groupsUrl + path);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const call = async (authorization: string) =>
      exchange(this.#dispatcher, this.#retry, this.#timeoutMs, {
        operation,
        url,
        method,
        idempotent,
        headers: {
          authorization,
          accept: 'application/json',
          'user-agent': USER_AGENT,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const sent = (async () => {
      const authorization = await this.#auth.authorization();
      let reply = await call(authorization);
      // An OAuth token can expire on its way; Sinch says so, and one retry with a fresh token is safe.
      if (reply.status === 401 && saysExpired(reply) && this.#auth.expired(authorization)) {
        reply = await call(await this.#auth.authorization());
      }
      return reply;
    })();
    this.#inFlight.set(sent, describeOperation(operation));
    const reply = await sent.finally(() => this.#inFlight.delete(sent));
    return parseReply(operation, reply);
  }

  async #fetchToken(credentials: Extract<Credentials, { keyId: string }>): Promise<AccessToken> {
    const operation = { action: 'get an OAuth access token' };
    const reply = await exchange(this.#dispatcher, this.#retry, this.#timeoutMs, {
      operation,
      url: new URL(credentials.authUrl),
      method: 'POST',
      idempotent: true,
      headers: {
        authorization: basicAuthorization(credentials),
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
        'user-agent': USER_AGENT,
      },
      body: 'grant_type=client_credentials',
    });
    return this.#read(AccessTokenReply, operation, parseReply(operation, reply));
  }
}

const AccessTokenReply = z.object({ access_token: z.string().min(1), expires_in: z.number().positive() });

const saysExpired = (reply: Reply) => /expired/i.test(String(reply.headers['www-authenticate'] ?? ''));

function parseReply(operation: Operation, reply: Reply): unknown {
  if (reply.status >= 400) throw apiError(operation, reply);
  if (reply.text.trim() === '') return undefined;
  try {
    return JSON.parse(reply.text);
  } catch {
    throw new SinchTransportError(operation, `Sinch answered HTTP ${reply.status} with a body that is not JSON`);
  }
}

const groupPath = (groupId: string) => `/${encodeURIComponent(groupId)}`;

function chunks<T>(items: T[]): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += MAX_NUMBERS_PER_REQUEST) {
    result.push(items.slice(start, start + MAX_NUMBERS_PER_REQUEST));
  }
  return result;
}

const needsSplitting = ({ add = [], remove = [] }: UpdateGroupBody) =>
  add.length > MAX_NUMBERS_PER_REQUEST || remove.length > MAX_NUMBERS_PER_REQUEST;

/**
 * Splits an update whose add or remove list is over Sinch's limit. Sinch applies a request's additions
 * before its removals, so every addition must land before any removal: a first request (which also
 * carries add_from_group, name and auto_update), then the other additions, then the removals; within
 * each phase the chunks are independent. The combined effect is that of one request.
 */
function planUpdate(body: Omit<UpdateGroupBody, 'remove_from_group'>): [UpdateGroupBody, ...UpdateGroupBody[][]] {
  const { add = [], remove = [], ...once } = body;
  const additions: UpdateGroupBody[] = chunks(add).map((chunk) => ({ add: chunk }));
  const removals: UpdateGroupBody[] = chunks(remove).map((chunk) => ({ remove: chunk }));
  const [first = {}, ...rest] = additions.length > 0 ? additions : removals;
  return [{ ...first, ...once }, ...(additions.length > 0 ? [rest, removals] : [rest])];
}

/** Runs `work` on every item, at most `limit` at a time; after a failure starts no more, and rethrows it. */
async function eachConcurrently<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && !failure) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}

function apiError(operation: Operation, { status, text, attempts }: Reply): SinchApiError {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const parsed = ErrorBody.safeParse(body);
  const { code, text: description } = parsed.success ? parsed.data : { code: undefined, text: undefined };
  return new SinchApiError(operation, status, code, description, attempts);
}

/** Sinch documents null fields as left out; reading them as absent keeps one shape for both. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, field]) => field !== null)
      .map(([key, field]) => [key, withoutNulls(field)]),
  );
}
