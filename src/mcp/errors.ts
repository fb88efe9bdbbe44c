import { describeOperation, PartialChangeError, SinchApiError, SinchTransportError } from '../sinch/errors.js';
import { redact } from '../secrets.js';
import { NotAppliedError } from './guards.js';

/**
 * Turns a failure into a tool result an assistant can act on: what Sinch said (status, code, text)
 * and one sentence on what to do next.
 */
export function describeError(error: unknown, tool: string): string {
  return redact(explain(error, tool));
}

function explain(error: unknown, tool: string): string {
  if (error instanceof NotAppliedError) return error.message;
  if (error instanceof PartialChangeError) return describePartial(error, tool);
  if (error instanceof SinchApiError) return `${sinchSaid(error)}. ${advice(error)}`;
  if (error instanceof SinchTransportError) {
    return `${error.message}. Check the network and SINCH_SMS_BASE_URL or SINCH_REGION, then try again; if this was a change, read the group first, as Sinch may have applied it.`;
  }
  return `${tool} failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`;
}

function sinchSaid(error: SinchApiError): string {
  const code = error.code ? ` ${error.code}` : '';
  const text = error.text ? `: ${error.text}` : '';
  const tried = error.attempts > 1 ? ` after ${error.attempts} attempts` : '';
  return `Sinch refused to ${describeOperation(error.operation)}${tried} (HTTP ${error.status}${code}${text})`;
}

function advice(error: SinchApiError): string {
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
  if (error.status === 429) return 'Sinch is limiting the request rate; wait a few seconds and try again.';
  if (error.status >= 500 && error.operation.action === 'create group') {
    return 'Sinch had a problem on its side and may have created it anyway: check list_groups before creating the group again.';
  }
  if (error.status >= 500) return 'Sinch had a problem on its side; try again later.';
  if (error.status === 403) return 'These credentials are not allowed to do this.';
  return 'Correct the request as Sinch describes and try again.';
}

/** Sinch did not process these, so the same request may well succeed later. */
const isTransient = (error: SinchApiError | SinchTransportError) =>
  error instanceof SinchTransportError || error.status === 429 || error.status >= 500;

function describePartial(error: PartialChangeError, tool: string): string {
  const { group, cause } = error;
  const cut = `It was only partly applied: ${error.completedRequests} of ${error.totalRequests} requests succeeded, then ${cause instanceof SinchApiError ? sinchSaid(cause) : cause.message}.`;
  const now = `Group ${group.id} now has ${group.size} members.`;
  const when = isTransient(cause) ? 'When Sinch is available again' : 'Once the cause is fixed';
  const next =
    tool === 'create_group'
      ? `Do not call create_group again (that would make a second group). ${when}, call update_group with group_id ${group.id} and add set to the same members; numbers already in the group are ignored.`
      : `${when}, call ${tool} again with the same arguments: repeating the part already applied is harmless.`;
  return `${cut} ${now} ${next}`;
}
