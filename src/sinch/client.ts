import { Agent, request, type Dispatcher } from 'undici';
import type { z } from 'zod';
import { PartialChangeError, SinchApiError, SinchTransportError, type Operation } from './errors.js';
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

export interface SinchClientOptions {
  /** Origin of the SMS API, e.g. https://us.sms.api.sinch.com; `/xms/v1/{servicePlanId}/groups` is appended. */
  baseUrl: string;
  servicePlanId: string;
  apiToken: string;
  dispatcher?: Dispatcher;
}

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/**
 * The Sinch SMS Groups API. Request bodies are the *parsed* outputs of the schemas in schemas.ts, so
 * numbers arrive here already normalized and checked; lists longer than Sinch accepts in one request
 * are sent as several requests whose combined effect is the one request the caller asked for.
 */
export class SinchGroupsClient {
  readonly #groupsUrl: string;
  readonly #origin: string;
  readonly #headers: Record<string, string>;
  readonly #dispatcher: Dispatcher;

  constructor(options: SinchClientOptions) {
    const base = options.baseUrl.replace(/\/+$/, '');
    this.#groupsUrl = `${base}/xms/v1/${encodeURIComponent(options.servicePlanId)}/groups`;
    this.#origin = new URL(base).origin;
    this.#headers = {
      authorization: `Bearer ${options.apiToken}`,
      accept: 'application/json',
      'user-agent': USER_AGENT,
    };
    this.#dispatcher = options.dispatcher ?? new Agent({ keepAliveTimeout: 10_000 });
  }

  async createGroup(body: CreateGroupBody): Promise<Group> {
    const operation = { action: 'create group' };
    const [first = [], ...rest] = chunks(body.members ?? []);
    const firstBody = rest.length === 0 ? body : { ...body, members: first };
    return this.#thenAdd(operation, () => this.#group(operation, 'POST', '', firstBody), rest);
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

  async updateGroup(groupId: string, body: UpdateGroupBody): Promise<Group> {
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
    const [first, ...followUps] = planUpdate(rest);
    return this.#thenUpdate(operation, () => this.#group(operation, 'POST', groupPath(groupId), first), followUps);
  }

  async replaceGroup(groupId: string, body: ReplaceGroupBody): Promise<Group> {
    const operation = { action: 'replace group', groupId };
    const [first = [], ...rest] = chunks(body.members);
    const firstBody = rest.length === 0 ? body : { ...body, members: first };
    return this.#thenAdd(operation, () => this.#group(operation, 'PUT', groupPath(groupId), firstBody), rest);
  }

  async deleteGroup(groupId: string): Promise<void> {
    await this.#send({ action: 'delete group', groupId }, 'DELETE', groupPath(groupId));
  }

  close(): Promise<void> {
    return this.#dispatcher.close();
  }

  #thenAdd(operation: Operation, start: () => Promise<Group>, additions: string[][]): Promise<Group> {
    return this.#thenUpdate(operation, start, additions.map((add) => ({ add })));
  }

  /** Runs `start`, then each follow-up update in order; a failure after the first request is partial. */
  async #thenUpdate(operation: Operation, start: () => Promise<Group>, followUps: UpdateGroupBody[]): Promise<Group> {
    let group = await start();
    for (const [index, body] of followUps.entries()) {
      try {
        group = await this.#group(operation, 'POST', groupPath(group.id), body);
      } catch (error) {
        if (error instanceof SinchApiError || error instanceof SinchTransportError) {
          throw new PartialChangeError(operation, index + 1, followUps.length + 1, group, error);
        }
        throw error;
      }
    }
    return group;
  }

  async #members(operation: Required<Operation>): Promise<string[]> {
    const path = `${groupPath(operation.groupId)}/members`;
    return this.#read(Members, operation, await this.#send(operation, 'GET', path)).map(toE164);
  }

  async #group(operation: Operation, method: Method, path: string, body?: object): Promise<Group> {
    return this.#read(Group, operation, await this.#send(operation, method, path, body));
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
  ): Promise<unknown> {
    const url = new URL(this.#groupsUrl + path);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, {
        method,
        dispatcher: this.#dispatcher,
        headers: body === undefined ? this.#headers : { ...this.#headers, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new SinchTransportError(operation, `could not reach Sinch at ${this.#origin} (${errorMessage(error)})`);
    }
    const text = await response.body.text();
    if (response.statusCode >= 400) throw apiError(operation, response.statusCode, text);
    if (text.trim() === '') return undefined;
    try {
      return JSON.parse(text);
    } catch {
      throw new SinchTransportError(operation, `Sinch answered HTTP ${response.statusCode} with a body that is not JSON`);
    }
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
 * before its removals, so every addition must land before any removal: the add chunks go first, the
 * last one carrying the first remove chunk, and add_from_group, name and auto_update travel with the
 * first request; the combined effect is that of one request.
 */
function planUpdate(body: Omit<UpdateGroupBody, 'remove_from_group'>): [UpdateGroupBody, ...UpdateGroupBody[]] {
  const { add = [], remove = [], ...once } = body;
  const steps: UpdateGroupBody[] = chunks(add).map((chunk) => ({ add: chunk }));
  chunks(remove).forEach((chunk, index) => {
    const last = steps.at(-1);
    if (index === 0 && last) last.remove = chunk;
    else steps.push({ remove: chunk });
  });
  const [first = {}, ...rest] = steps;
  return [{ ...first, ...once }, ...rest];
}

function apiError(operation: Operation, status: number, text: string): SinchApiError {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const parsed = ErrorBody.safeParse(body);
  if (!parsed.success) return new SinchApiError(operation, status, undefined, undefined);
  if ('text' in parsed.data) return new SinchApiError(operation, status, String(parsed.data.code), parsed.data.text);
  const { code, status: reason, message } = parsed.data.error;
  return new SinchApiError(operation, status, reason ?? (code === undefined ? undefined : String(code)), message);
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

function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}
