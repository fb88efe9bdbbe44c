import type { Group } from './schemas.js';

/** What a request was for: an action, and the group it concerned if any. */
export interface Operation {
  action: string;
  groupId?: string;
}

export const describeOperation = ({ action, groupId }: Operation) =>
  groupId === undefined ? action : `${action} ${groupId}`;

/** Sinch answered with a status other than 2xx. `code` and `text` are Sinch's own, when its body had them. */
export class SinchApiError extends Error {
  override readonly name = 'SinchApiError';
  constructor(
    readonly operation: Operation,
    readonly status: number,
    readonly code: string | undefined,
    readonly text: string | undefined,
    /** Requests made, retries included. */
    readonly attempts = 1,
    /** From the first attempt's start to the last answer. */
    readonly elapsedMs = 0,
    /** The wait Sinch asked for (Retry-After) that retrying within its bounds could not honour. */
    readonly retryAfter?: { ms: number; until: Date },
  ) {
    const tried = attempts > 1 ? ` (after ${attempts} attempts)` : '';
    super(`Sinch answered ${describeOperation(operation)} with HTTP ${status}${code ? ` ${code}` : ''}${text ? `: ${text}` : ''}${tried}`);
  }
}

/** Sinch could not be reached, or its answer could not be read. Never carries request headers. */
export class SinchTransportError extends Error {
  override readonly name = 'SinchTransportError';
  constructor(
    readonly operation: Operation,
    readonly detail: string,
    /** False only when the request certainly never reached Sinch, so nothing can have been applied. */
    readonly reachedSinch: boolean,
  ) {
    super(`${describeOperation(operation)} failed: ${detail}`);
  }
}

/**
 * Where one request of a change stands: `refused` was answered with an error, so not applied; `unknown`
 * reached Sinch but its outcome is not known (a cut connection, a timeout, a 5xx).
 */
export type RequestState = 'not sent' | 'in flight' | 'applied' | 'refused' | 'unknown';

/** A change to Sinch, request by request, as far as it has got. */
export interface ChangeProgress {
  operation: Operation;
  /** The group changed; for a create, the new group's id once Sinch has answered the first request. */
  groupId: string | undefined;
  /** In the order they are sent; `numbers` is how many phone numbers each carries. */
  requests: { numbers: number; state: RequestState }[];
  /** The group as Sinch last returned it, when any request was applied. */
  group?: Group;
}

/** Requests numbered from 1, as ranges: "1-3, 5". */
function ranges(indexes: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < indexes.length; ) {
    let j = i;
    while (j + 1 < indexes.length && indexes[j + 1] === indexes[j]! + 1) j++;
    parts.push(i === j ? `${indexes[i]! + 1}` : `${indexes[i]! + 1}-${indexes[j]! + 1}`);
    i = j + 1;
  }
  return parts.join(', ');
}

function wording(state: RequestState, several: boolean): string {
  const them = several ? 'them' : 'it';
  switch (state) {
    case 'applied':
      return 'applied';
    case 'in flight':
      return `sent and not answered yet, so whether Sinch applied ${them} is not known`;
    case 'unknown':
      return `sent, but whether Sinch applied ${them} is not known`;
    case 'refused':
      return 'refused by Sinch, so not applied';
    case 'not sent':
      return 'not sent';
  }
}

/** Facts only, request by request: what was applied, what is unknown, what was never sent. */
export function describeProgress(progress: ChangeProgress): string {
  const { requests } = progress;
  const total = requests.length;
  const target = progress.groupId === undefined ? describeOperation(progress.operation) : `${progress.operation.action} ${progress.groupId}`;
  if (requests.every((request) => request.state === 'not sent')) {
    return `Nothing was sent to Sinch for ${target}${total > 1 ? ` (none of its ${total} requests went out)` : ''}, so nothing changed.`;
  }
  const parts = (['applied', 'in flight', 'unknown', 'refused', 'not sent'] as const).flatMap((state) => {
    const indexes = requests.flatMap((request, index) => (request.state === state ? [index] : []));
    if (indexes.length === 0) return [];
    const numbers = indexes.reduce((sum, index) => sum + requests[index]!.numbers, 0);
    const carrying = numbers > 0 ? ` (${numbers.toLocaleString('en-US')} ${numbers === 1 ? 'number' : 'numbers'})` : '';
    const which = total === 1 ? 'its one request' : `${indexes.length === 1 ? 'request' : 'requests'} ${ranges(indexes)} of ${total}`;
    return [`${which}${carrying}: ${wording(state, indexes.length > 1)}`];
  });
  return `${target}: ${parts.join('; ')}.`;
}

/**
 * A change that needed several requests failed part-way. `group` is the group as Sinch last returned
 * it, so the caller knows which group exists; `progress` says where every request stands.
 */
export class PartialChangeError extends Error {
  override readonly name = 'PartialChangeError';
  constructor(
    readonly operation: Operation,
    readonly completedRequests: number,
    readonly totalRequests: number,
    readonly group: Group,
    override readonly cause: SinchApiError | SinchTransportError,
    readonly progress: ChangeProgress,
  ) {
    super(`${describeOperation(operation)} stopped after ${completedRequests} of ${totalRequests} requests: ${cause.message}`);
  }
}

/** The caller's signal stopped a change between requests; the requests already sent were let finish. */
export class ChangeStoppedError extends Error {
  override readonly name = 'ChangeStoppedError';
  constructor(readonly progress: ChangeProgress) {
    super(`${describeOperation(progress.operation)} was stopped. ${describeProgress(progress)}`);
  }
}
