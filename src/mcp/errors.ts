import {
  ChangeStoppedError,
  describeOperation,
  describeProgress,
  PartialChangeError,
  SinchApiError,
  SinchTransportError,
  type ChangeProgress,
} from '../sinch/errors.js';
import { duration } from '../sinch/http.js';
import { redact } from '../secrets.js';
import { ChangeNotRecordedError } from '../journal/changes.js';
import { FileRefusal } from '../files/folders.js';
import { NotAppliedError } from './guards.js';

/**
 * Turns a failure into a tool result an assistant can act on: what Sinch said (status, code, text)
 * and one sentence on what to do next.
 */
export function describeError(error: unknown, tool: string): string {
  return redact(explain(error, tool));
}

/**
 * Where a change stands that a stopping process leaves unfinished, and how to finish it: for whoever
 * stops the process to report.
 */
export function describeUnfinished(progress: ChangeProgress): string {
  return redact(`${describeProgress(progress)} ${toFinish(progress, TOOLS[progress.operation.action] ?? 'the same tool')}`);
}

const TOOLS: Record<string, string> = {
  'create group': 'create_group',
  'update group': 'update_group',
  'replace group': 'replace_group',
  'delete group': 'delete_group',
};

const isCreate = (error: { operation: { action: string } }) => error.operation.action === 'create group';
const isChange = (error: { operation: { action: string } }) => error.operation.action in TOOLS;

function explain(error: unknown, tool: string): string {
  if (error instanceof NotAppliedError) return error.message;
  if (error instanceof FileRefusal) return `Nothing was changed: ${error.message}.`;
  if (error instanceof ChangeNotRecordedError) return `The change was applied, but ${error.message}.`;
  if (error instanceof ChangeStoppedError) return describeStopped(error.progress, tool);
  if (error instanceof PartialChangeError) return describePartial(error, tool);
  if (error instanceof SinchApiError) return `${sinchSaid(error)}. ${advice(error)}`;
  if (error instanceof SinchTransportError) return `${error.message}. ${transportAdvice(error)}`;
  return `${tool} failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`;
}

function sinchSaid(error: SinchApiError): string {
  const code = error.code ? ` ${error.code}` : '';
  const text = error.text ? `: ${error.text}` : '';
  const tried = error.attempts > 1 ? ` after ${error.attempts} attempts over ${duration(error.elapsedMs)}` : '';
  if (error.status < 400) {
    return `Sinch answered ${describeOperation(error.operation)}${tried} with HTTP ${error.status}${code}${text}, which is not a success (redirects are not followed)`;
  }
  const asked = error.retryAfter
    ? `; it asked to wait ${duration(error.retryAfter.ms)}, until ${error.retryAfter.until.toISOString()}, and the retry limits (SINCH_MAX_RETRIES, SINCH_RETRY_MAX_ELAPSED_MS) leave no room for that wait`
    : '';
  return `Sinch refused to ${describeOperation(error.operation)}${tried} (HTTP ${error.status}${code}${text})${asked}`;
}

function advice(error: SinchApiError): string {
  if (error.status < 400) {
    return 'Point SINCH_SMS_BASE_URL (or SINCH_REGION) at the API host itself; read the group to see whether anything changed.';
  }
  if (error.status === 404 && error.operation.groupId !== undefined) {
    return `Group ${error.operation.groupId} does not exist (it may have been deleted); use list_groups to find the right id.`;
  }
  if (error.status === 404) {
    return 'Sinch does not know this account: check SINCH_SERVICE_PLAN_ID (or SINCH_PROJECT_ID), SINCH_REGION and SINCH_SMS_BASE_URL.';
  }
  if (error.status === 401) {
    return 'The credentials were not accepted: check SINCH_SERVICE_PLAN_ID and SINCH_API_TOKEN (or SINCH_PROJECT_ID, SINCH_KEY_ID and SINCH_KEY_SECRET), and SINCH_REGION.';
  }
  if (error.code === 'unknown_group') {
    return 'A group named in add_from_group, remove_from_group or child_groups does not exist; check those ids with list_groups.';
  }
  if (error.status === 429 && error.retryAfter) {
    return `Sinch is limiting the request rate and did not process this; try again after ${error.retryAfter.until.toISOString()}.`;
  }
  if (error.status === 429) {
    return error.attempts > 1
      ? `Sinch is limiting the request rate and did not process this; it still was over ${error.attempts} attempts in ${duration(error.elapsedMs)} and gave no time to wait, so wait a minute or more before trying again.`
      : 'Sinch is limiting the request rate and did not process this; wait before trying again.';
  }
  if (error.status >= 500 && isCreate(error)) {
    return 'Sinch had a problem on its side and may have created it anyway: check list_groups before creating the group again.';
  }
  if (error.status >= 500) return 'Sinch had a problem on its side; try again later.';
  if (error.status === 403) return 'These credentials are not allowed to do this.';
  return 'Correct the request as Sinch describes and try again.';
}

function transportAdvice(error: SinchTransportError): string {
  const network = 'Check the network and SINCH_SMS_BASE_URL or SINCH_REGION, then try again';
  if (!error.reachedSinch) return `Nothing reached Sinch, so nothing changed. ${network}.`;
  if (isCreate(error)) return 'Sinch may have created the group: check list_groups before creating it again.';
  if (isChange(error)) {
    return 'Sinch may have applied the change: read the group (get_group) to see; repeating the same call is harmless.';
  }
  return `${network}.`;
}

/** Sinch did not process these, so the same request may well succeed later. */
const isTransient = (error: SinchApiError | SinchTransportError) =>
  error instanceof SinchTransportError || error.status === 429 || error.status >= 500;

/** What size the group has, stated only when every request's outcome is known. */
function sizeOf({ group, requests }: ChangeProgress): string {
  if (!group) return '';
  const known = requests.every(({ state }) => state !== 'unknown' && state !== 'in flight');
  return known
    ? ` Group ${group.id} now has ${group.size} members.`
    : ` Group ${group.id} had ${group.size} members after the last request Sinch confirmed; its size now is not known (get_group reads it).`;
}

function toFinish(progress: ChangeProgress, tool: string): string {
  const { groupId } = progress;
  if (progress.operation.action === 'create group') {
    if (groupId === undefined) return 'Whether the group was made is not known: check list_groups before creating it again.';
    return `Group ${groupId} exists now. Do not call create_group again (that would make a second group); to finish, call update_group with group_id ${groupId} and add set to the same members; numbers already in the group are ignored.`;
  }
  return `To finish, call ${tool} again with the same arguments: repeating the part already applied is harmless.`;
}

function describeStopped(progress: ChangeProgress, tool: string): string {
  if (progress.requests.every(({ state }) => state === 'not sent')) {
    return `${tool} was stopped before anything was sent. ${describeProgress(progress)} Call ${tool} again to make the change.`;
  }
  return `${tool} was stopped part-way, as asked; requests already sent were let finish. ${describeProgress(progress)}${sizeOf(progress)} ${toFinish(progress, tool)}`;
}

function describePartial(error: PartialChangeError, tool: string): string {
  const { cause, progress } = error;
  const cut = `It was only partly applied: ${error.completedRequests} of ${error.totalRequests} requests succeeded, then ${cause instanceof SinchApiError ? sinchSaid(cause) : cause.message}.`;
  const when = isTransient(cause) ? 'When Sinch is available again' : 'Once the cause is fixed';
  const groupId = error.group.id;
  const next =
    tool === 'create_group'
      ? `Do not call create_group again (that would make a second group). ${when}, call update_group with group_id ${groupId} and add set to the same members; numbers already in the group are ignored.`
      : `${when}, call ${tool} again with the same arguments: repeating the part already applied is harmless.`;
  return `${cut} ${describeProgress(progress)}${sizeOf(progress)} ${next}`;
}
