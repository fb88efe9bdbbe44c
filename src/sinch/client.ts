import * as z from 'zod';
import { basicAuthorization, OAuthAuth, ServicePlanAuth, type AccessToken, type Authenticator, type Credentials } from './auth.js';
import {
  ChangeStoppedError,
  PartialChangeError,
  SinchApiError,
  SinchTransportError,
  type ChangeProgress,
  type Operation,
  type RequestState,
} from './errors.js';
import { createDispatcher, DEFAULT_RETRY, DEFAULT_TIMEOUT_MS, exchange, type Connections, type Reply, type RetrySettings } from './http.js';
import { toE164 } from './numbers.js';
import {
  ErrorBody,
  GroupListReply,
  GroupReply,
  MAX_NUMBERS_PER_REQUEST,
  MAX_PAGE_SIZE,
  Members,
  type CreateGroupBody,
  type Group,
  type GroupList,
  type ListGroupsQuery,
  type ReplaceGroupBody,
  type UpdateGroupBody,
} from './schemas.js';
import { redact } from '../secrets.js';
import { USER_AGENT } from '../version.js';

export const DEFAULT_CONCURRENCY = 4;

export type SinchClientOptions = Credentials & {
  /** Origin of the SMS API, e.g. https://us.sms.api.sinch.com; `/xms/v1/{account id}/groups` is appended. */
  baseUrl: string;
  /** Bound on each attempt of a request, from sending it to the end of the reply. */
  timeoutMs?: number;
  retry?: Partial<RetrySettings>;
  /** How many requests of one large change may be under way at once (default 4). */
  concurrency?: number;
  /** Connections to Sinch open at once when the client makes its own dispatcher (default 64). */
  maxConnections?: number;
  /** Credentials that came with one request (HTTP mode behind a gateway), not the process's own. */
  perRequest?: boolean;
  /** Connections shared with other clients (from createDispatcher); a client closes only its own. */
  dispatcher?: Connections;
};

/** Told after each request of a change that takes several, with how many are done and in all; `message` says of what. */
export type OnProgress = (done: number, total: number, message?: string) => void;

export interface ChangeOptions {
  onProgress?: OnProgress;
  /**
   * Once aborted, no further request of the change starts; one already sent is let finish, so its
   * outcome is known, and the call then fails with a ChangeStoppedError saying where each request stands.
   */
  signal?: AbortSignal;
}

export type { ChangeProgress, RequestState } from './errors.js';

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

interface Request {
  method: Method;
  path: string;
  body?: object;
  idempotent: boolean;
}

/**
 * The Sinch SMS Groups API. Request bodies are the *parsed* outputs of the schemas in schemas.ts, so
 * numbers arrive here already normalized and checked; lists longer than Sinch accepts in one request
 * are sent as several requests whose combined effect is the one request the caller asked for.
 */
export class SinchGroupsClient {
  readonly #groupsUrl: string;
  readonly #auth: Authenticator;
  readonly #dispatcher: Connections;
  readonly #ownsDispatcher: boolean;
  readonly #retry: RetrySettings;
  readonly #timeoutMs: number;
  readonly #concurrency: number;
  /** Every request under way, reads included. */
  readonly #inFlight = new Set<Promise<unknown>>();
  /** Every change under way, with the promise of its end. */
  readonly #changes = new Map<ChangeProgress, Promise<unknown>>();

  constructor(options: SinchClientOptions) {
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#concurrency = Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY);
    this.#retry = { ...DEFAULT_RETRY, ...options.retry };
    this.#ownsDispatcher = options.dispatcher === undefined;
    this.#dispatcher = options.dispatcher ?? createDispatcher({ maxConnections: options.maxConnections });
    this.#auth =
      'apiToken' in options ? new ServicePlanAuth(options, options.perRequest) : new OAuthAuth(options, () => this.#fetchToken(options));
    const base = options.baseUrl.replace(/\/+$/, '');
    this.#groupsUrl = `${base}/xms/v1/${encodeURIComponent(this.#auth.accountId)}/groups`;
  }

  /** The service plan or project id the client works on. */
  get accountId(): string {
    return this.#auth.accountId;
  }

  createGroup(body: CreateGroupBody, options?: ChangeOptions): Promise<Group> {
    // The only request that is not safe to repeat: a repeat could make a second group.
    return this.#setMembers({ action: 'create group' }, 'POST', '', body, false, options);
  }

  async listGroups(query: ListGroupsQuery = {}): Promise<GroupList> {
    const operation = { action: 'list groups' };
    return this.#read(GroupListReply, operation, await this.#send(operation, 'GET', '', undefined, query));
  }

  /**
   * Every group, newest first: the first page of 100 says how many there are, then the other pages are
   * read SINCH_CONCURRENCY at a time. A group made or deleted meanwhile shifts the pages, which could hide
   * another group, so a walk during which the count changed is made again (up to 3 walks in all); no
   * group is listed twice. `onProgress` hears of the groups read so far, across walks. Once `signal`
   * aborts, no further page is read and the walk fails with the signal's reason.
   */
  async listAllGroups({ onProgress, signal }: ChangeOptions = {}): Promise<Group[]> {
    let before = 0;
    let read = 0;
    for (let walk = 1; ; walk++) {
      signal?.throwIfAborted();
      const first = await this.listGroups({ page: 0, page_size: MAX_PAGE_SIZE });
      const pages = Array.from({ length: Math.max(0, Math.ceil(first.count / MAX_PAGE_SIZE) - 1) }, (_, i) => i + 1);
      const total = before + first.count;
      read += first.groups.length;
      if (pages.length > 0) onProgress?.(read, total);
      const lists = [first];
      await eachConcurrently(pages, this.#concurrency, signal, async (page) => {
        const list = await this.listGroups({ page, page_size: MAX_PAGE_SIZE });
        lists[page] = list;
        read += list.groups.length;
        onProgress?.(Math.min(read, total), total);
      });
      signal?.throwIfAborted();
      const steady = lists.every((list) => list.count === first.count);
      if (steady || walk === 3) {
        const byId = new Map(lists.flatMap((list) => list.groups).map((group) => [group.id, group]));
        return [...byId.values()];
      }
      before = total;
      read = total;
    }
  }

  /**
   * Runs `work` on each item, SINCH_CONCURRENCY at a time, for a call made of many independent requests.
   * After a failure, or once `signal` aborts, starts no more, lets those under way finish, and rethrows
   * the first failure.
   */
  concurrently<T>(items: T[], work: (item: T, index: number) => Promise<void>, signal?: AbortSignal): Promise<void> {
    return eachConcurrently(items, this.#concurrency, signal, work);
  }

  async getGroup(groupId: string): Promise<Group> {
    return this.#group({ action: 'get group', groupId }, { method: 'GET', path: groupPath(groupId), idempotent: true });
  }

  /** Every member in E.164; Sinch returns them all at once and without "+". */
  listMembers(groupId: string): Promise<string[]> {
    return this.#members({ action: 'list members of group', groupId });
  }

  async updateGroup(groupId: string, body: UpdateGroupBody, options?: ChangeOptions): Promise<Group> {
    const operation = { action: 'update group', groupId };
    const path = groupPath(groupId);
    if (!needsSplitting(body)) return this.#change(operation, { method: 'POST', path, body, idempotent: true }, [], options);
    // remove_from_group has to travel with the last request, after changes already applied; naming its
    // members instead means a missing group is found before anything changes, and the removal is of
    // the members it had when the update began, as in one request.
    const { remove_from_group, ...rest } = body;
    if (remove_from_group !== undefined) {
      const members = await this.#members({ action: 'read the members of remove_from_group', groupId: remove_from_group });
      rest.remove = [...new Set([...(rest.remove ?? []), ...members])];
    }
    const [first, ...phases] = planUpdate(rest);
    return this.#change(operation, { method: 'POST', path, body: first, idempotent: true }, phases, options);
  }

  replaceGroup(groupId: string, body: ReplaceGroupBody, options?: ChangeOptions): Promise<Group> {
    return this.#setMembers({ action: 'replace group', groupId }, 'PUT', groupPath(groupId), body, true, options);
  }

  async deleteGroup(groupId: string, { signal }: Pick<ChangeOptions, 'signal'> = {}): Promise<void> {
    const operation = { action: 'delete group', groupId };
    const progress = this.#track(operation, [{}]);
    await this.#watch(progress, async () => {
      if (signal?.aborted) throw new ChangeStoppedError(structuredClone(progress));
      await this.#attempt(progress, 0, () => this.#send(operation, 'DELETE', groupPath(groupId), undefined, undefined, true, signal));
    });
  }

  /**
   * Waits up to `graceMs` for the requests and changes under way, and then says where each of those
   * changes stands that did not complete: which requests were applied, which are still in flight and
   * which were never sent. Abort the changes' signals first so that they stop between requests.
   */
  async settle(graceMs: number): Promise<ChangeProgress[]> {
    const changes = [...this.#changes];
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([Promise.allSettled([...changes.map(([, end]) => end), ...this.#inFlight]), grace]);
    clearTimeout(timer);
    return changes.map(([progress]) => structuredClone(progress)).filter(({ requests }) => requests.some(({ state }) => state !== 'applied'));
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
    options?: ChangeOptions,
  ): Promise<Group> {
    const [first = [], ...rest] = chunks(body.members ?? []);
    const firstBody = rest.length === 0 ? body : { ...body, members: first };
    return this.#change(operation, { method, path, body: firstBody, idempotent }, [rest.map((add) => ({ add }))], options);
  }

  /**
   * Sends a change that may take several requests: `first` alone (it creates or replaces the group, or
   * finds it missing before anything changed), then each phase in order, the requests of a phase
   * concurrently: they are independent, like chunks of additions. Every request after the first goes
   * to the group asked for, or for a create to the group Sinch made. A failure after `first` is partial.
   */
  async #change(operation: Operation, first: Request, phases: UpdateGroupBody[][], options: ChangeOptions = {}): Promise<Group> {
    const { onProgress, signal } = options;
    const progress = this.#track(operation, [first.body ?? {}, ...phases.flat()]);
    const total = progress.requests.length;
    const stopped = () => new ChangeStoppedError(structuredClone(progress));
    return this.#watch(progress, async () => {
      if (signal?.aborted) throw stopped();
      const created = await this.#attempt(progress, 0, () => this.#group(operation, first, signal));
      const id = operation.groupId ?? created.id;
      // Every later request goes to this group, and its reply must be about it.
      const target = operation.groupId === undefined ? { action: 'add members to new group', groupId: id } : operation;
      progress.groupId = id;
      progress.group = created;
      let done = 1;
      if (total > 1) onProgress?.(done, total);
      let index = 1;
      try {
        for (const phase of phases) {
          const start = index;
          index += phase.length;
          if (signal?.aborted && phase.length > 0) throw stopped();
          await eachConcurrently(phase, this.#concurrency, signal, async (body, i) => {
            const request = { method: 'POST', path: groupPath(id), body, idempotent: true } as const;
            const group = await this.#attempt(progress, start + i, () => this.#group(target, request, signal));
            if (group.modified_at >= progress.group!.modified_at) progress.group = group;
            onProgress?.(++done, total);
          });
          if (progress.requests.slice(start, index).some(({ state }) => state === 'not sent')) throw stopped();
        }
      } catch (error) {
        if (error instanceof SinchApiError || error instanceof SinchTransportError) {
          throw new PartialChangeError(operation, done, total, progress.group, error, structuredClone(progress));
        }
        throw error;
      }
      return progress.group;
    });
  }

  #track(operation: Operation, bodies: object[]): ChangeProgress {
    return { operation, groupId: operation.groupId, requests: bodies.map((body) => ({ numbers: numbersIn(body), state: 'not sent' })) };
  }

  /** Runs a change, keeping its progress where settle() can see it until it ends. */
  async #watch<T>(progress: ChangeProgress, run: () => Promise<T>): Promise<T> {
    const end = run();
    this.#changes.set(progress, end);
    try {
      return await end;
    } finally {
      this.#changes.delete(progress);
    }
  }

  /** Sends request `index` of a change, recording where it stands. */
  async #attempt<T>(progress: ChangeProgress, index: number, send: () => Promise<T>): Promise<T> {
    const request = progress.requests[index]!;
    request.state = 'in flight';
    try {
      const result = await send();
      request.state = 'applied';
      return result;
    } catch (error) {
      request.state = outcomeOf(error);
      throw error;
    }
  }

  async #members(operation: Required<Operation>): Promise<string[]> {
    const path = `${groupPath(operation.groupId)}/members`;
    return this.#read(Members, operation, await this.#send(operation, 'GET', path)).map(toE164);
  }

  /** A request answered with a group, which must be the group asked for, if one was. */
  async #group(operation: Operation, { method, path, body, idempotent }: Request, signal?: AbortSignal): Promise<Group> {
    const group = this.#read(GroupReply, operation, await this.#send(operation, method, path, body, undefined, idempotent, signal));
    if (operation.groupId !== undefined && group.id !== operation.groupId) {
      throw new SinchTransportError(operation, `Sinch's reply was about group ${group.id}, not the group asked for`, true);
    }
    return group;
  }

  #read<T extends z.ZodType>(schema: T, operation: Operation, value: unknown): z.output<T> {
    const parsed = schema.safeParse(withoutNulls(value));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? ` at ${issue.path.join('.')}` : '';
      throw new SinchTransportError(operation, `Sinch's reply did not have the documented shape (${issue?.message}${where})`, true);
    }
    return parsed.data;
  }

  /** Masks credentials this client alone holds (one request's), which the process-wide list does not. */
  #redact(text: string): string {
    return redact(text, this.#auth.ownSecrets);
  }

  async #send(
    operation: Operation,
    method: Method,
    path: string,
    body?: object,
    query?: Record<string, number | undefined>,
    idempotent = true,
    signal?: AbortSignal,
  ): Promise<unknown> {
    const url = new URL(this.#groupsUrl + path);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const call = async (authorization: string) =>
      exchange(
        this.#dispatcher,
        this.#retry,
        this.#timeoutMs,
        {
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
        },
        signal,
      );
    const sent = (async () => {
      const authorization = await this.#auth.authorization();
      let reply = await call(authorization);
      // An OAuth token can expire on its way; Sinch says so, and one retry with a fresh token is safe.
      if (reply.status === 401 && saysExpired(reply) && this.#auth.expired(authorization)) {
        reply = await call(await this.#auth.authorization());
      }
      return reply;
    })();
    this.#inFlight.add(sent);
    try {
      return this.#parseReply(operation, await sent);
    } catch (error) {
      if (error instanceof SinchTransportError) throw new SinchTransportError(operation, this.#redact(error.detail), error.reachedSinch);
      throw error;
    } finally {
      this.#inFlight.delete(sent);
    }
  }

  #parseReply(operation: Operation, reply: Reply): unknown {
    if (reply.status < 200 || reply.status > 299) throw this.#apiError(operation, reply);
    if (reply.text.trim() === '') return undefined;
    try {
      return JSON.parse(reply.text);
    } catch {
      throw new SinchTransportError(operation, `Sinch answered HTTP ${reply.status} with a body that is not JSON`, true);
    }
  }

  #apiError(operation: Operation, { status, text, attempts, elapsedMs, retryAfter }: Reply): SinchApiError {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const parsed = ErrorBody.safeParse(body);
    const { code, text: description } = parsed.success ? parsed.data : { code: undefined, text: undefined };
    const safe = (value: string | undefined) => (value === undefined ? undefined : this.#redact(value));
    return new SinchApiError(operation, status, safe(code), safe(description), attempts, elapsedMs, retryAfter);
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
    return this.#read(AccessTokenReply, operation, this.#parseReply(operation, reply));
  }
}

const AccessTokenReply = z.object({ access_token: z.string().min(1), expires_in: z.number().positive() });

const saysExpired = (reply: Reply) => /expired/i.test(String(reply.headers['www-authenticate'] ?? ''));

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

/**
 * Runs `work` on every item, at most `limit` at a time. After a failure, or once `signal` aborts, starts
 * no more, lets those under way finish, and rethrows the first failure.
 */
async function eachConcurrently<T>(
  items: T[],
  limit: number,
  signal: AbortSignal | undefined,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && !failure && !signal?.aborted) {
      const index = next++;
      try {
        await work(items[index]!, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}

const numbersIn = (body: { add?: unknown[]; remove?: unknown[]; members?: unknown[] }) =>
  (body.add?.length ?? 0) + (body.remove?.length ?? 0) + (body.members?.length ?? 0);

/** A failed request's effect: a refusal changed nothing, a 5xx or a cut connection may have. */
function outcomeOf(error: unknown): RequestState {
  if (error instanceof SinchApiError) return error.status >= 500 ? 'unknown' : 'refused';
  if (error instanceof SinchTransportError) return error.reachedSinch ? 'unknown' : 'not sent';
  return 'unknown';
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
