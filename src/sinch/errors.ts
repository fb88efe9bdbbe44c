import type { Group } from './schemas.js';

/** What a request was for: an action, and the group it concerned if any. */
export interface Operation {
  action: string;
  groupId?: string;
}

export const describeOperation = ({ action, groupId }: Operation) =>
  groupId === undefined ? action : `${action} ${groupId}`;

/** Sinch answered with an error status. `code` and `text` are Sinch's own, when its body had them. */
export class SinchApiError extends Error {
  override readonly name = 'SinchApiError';
  constructor(
    readonly operation: Operation,
    readonly status: number,
    readonly code: string | undefined,
    readonly text: string | undefined,
    /** Requests made, retries included. */
    readonly attempts = 1,
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
    message: string,
  ) {
    super(`${describeOperation(operation)} failed: ${message}`);
  }
}

/**
 * A change that needed several requests stopped part-way. The requests before `failedRequest` were
 * applied; `group` is the group as Sinch last returned it, so the caller knows what exists now.
 */
export class PartialChangeError extends Error {
  override readonly name = 'PartialChangeError';
  constructor(
    readonly operation: Operation,
    readonly completedRequests: number,
    readonly totalRequests: number,
    readonly group: Group,
    override readonly cause: SinchApiError | SinchTransportError,
  ) {
    super(`${describeOperation(operation)} stopped after ${completedRequests} of ${totalRequests} requests: ${cause.message}`);
  }
}
