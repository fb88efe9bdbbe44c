import { z } from 'zod';
import { normalizeNumber } from './numbers.js';

/** Sinch refuses more than this many numbers in one create, replace, add or remove. */
export const MAX_NUMBERS_PER_REQUEST = 10_000;
export const MAX_CHILD_GROUPS = 10;
export const MAX_PAGE_SIZE = 100;

const show = (value: unknown) => JSON.stringify(value);

// IDs are usually 26-character ULIDs, but older and test groups have other shapes; what they share is
// letters and digits only, which also keeps an id from smuggling a path or query into the URL.
export const GroupId = z
  .string()
  .regex(/^[A-Za-z0-9]{1,64}$/, {
    error: (issue) => `group id ${show(issue.input)} is not valid: ids are letters and digits only (see list_groups)`,
  });

export const GroupName = z
  .string()
  .min(1, { error: 'name must not be empty (leave it out instead)' })
  .max(20, {
    error: (issue) => `name ${show(issue.input)} is ${String(issue.input).length} characters; Sinch allows at most 20`,
  });

/** Bad entries reported one by one before the rest are only counted, so a wrong list cannot flood a reply. */
const MAX_REPORTED_BAD_NUMBERS = 25;

/** A list of phone numbers, normalized to E.164 and de-duplicated; bad entries are all refused at once. */
export const PhoneNumbers = z.array(z.string()).transform((raw, ctx) => {
  const numbers = new Set<string>();
  let bad = 0;
  raw.forEach((entry, index) => {
    const check = normalizeNumber(entry);
    if (check.ok) numbers.add(check.e164);
    else if (++bad <= MAX_REPORTED_BAD_NUMBERS) {
      ctx.addIssue({ code: 'custom', message: `${show(entry)} is not a phone number: ${check.reason}`, path: [index] });
    }
  });
  if (bad > MAX_REPORTED_BAD_NUMBERS) {
    ctx.addIssue({ code: 'custom', message: `${bad - MAX_REPORTED_BAD_NUMBERS} more entries are not phone numbers` });
  }
  return [...numbers];
});

const Keyword = z
  .string()
  .max(15, { error: (issue) => `keyword ${show(issue.input)} is longer than 15 characters` })
  .regex(/^\w+$/, { error: (issue) => `keyword ${show(issue.input)} must be a single word` });

const KeywordPair = z.object({ first_word: Keyword, second_word: Keyword.optional() });

// `brief` is the shape in one line, which a tool list shows instead of the nested schema it replaces.
export const AutoUpdate = z
  .object({
    to: z.string().regex(/^\+?\d{3,15}$/, { error: (issue) => `auto_update.to ${show(issue.input)} must be a short code or a number` }),
    add: KeywordPair.optional(),
    remove: KeywordPair.optional(),
  })
  .meta({
    brief:
      '{to, add?: {first_word, second_word?}, remove?: {…}}, e.g. {"to":"+14155550100","add":{"first_word":"JOIN"}}.',
  });

export const ChildGroups = z
  .array(GroupId)
  .max(MAX_CHILD_GROUPS, { error: (issue) => `child_groups has ${show((issue.input as unknown[]).length)} ids; Sinch allows at most 10` });

// Request bodies, as Sinch names their fields. Tools extend these with group_id, so the two never drift.
export const CreateGroupRequest = z.object({
  name: GroupName.optional().describe('1 to 20 characters.'),
  members: PhoneNumbers.optional().describe('Numbers in international format, e.g. "+14155550123".'),
  child_groups: ChildGroups.optional().describe('Group ids whose members are included (phased out by Sinch).'),
  auto_update: AutoUpdate.optional().describe('Customers join or leave by texting keywords.'),
});

export const UpdateGroupRequest = z.object({
  add: PhoneNumbers.optional().describe('Numbers to add (before removals).'),
  remove: PhoneNumbers.optional().describe('Numbers to remove.'),
  name: GroupName.nullable().optional().describe('New name; null removes it.'),
  add_from_group: GroupId.optional().describe("Copy this group's members in."),
  remove_from_group: GroupId.optional().describe("Remove this group's members."),
  auto_update: AutoUpdate.optional().describe('New keyword settings.'),
});

export const ReplaceGroupRequest = z.object({
  members: PhoneNumbers.describe('The whole new member list.'),
  name: GroupName.optional().describe('New name; omitted removes it.'),
  child_groups: ChildGroups.optional().describe('Group ids (phased out by Sinch).'),
  auto_update: AutoUpdate.optional().describe('Keyword settings; omitted removes them.'),
});

/** A whole number in a range, whose refusal names the field, the range and the value given. */
export function wholeNumber(field: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  const range = max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `from ${min} to ${max}`;
  const error = (issue: { input: unknown }) => `${field} must be a whole number ${range} (got ${show(issue.input)})`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

export const ListGroupsRequest = z.object({
  page: wholeNumber('page', 0).optional().describe('0-based (default 0).'),
  page_size: wholeNumber('page_size', 1, MAX_PAGE_SIZE).optional().describe('1 to 100 (default 30).'),
});

export type CreateGroupBody = z.output<typeof CreateGroupRequest>;
export type UpdateGroupBody = z.output<typeof UpdateGroupRequest>;
export type ReplaceGroupBody = z.output<typeof ReplaceGroupRequest>;
export type ListGroupsQuery = z.output<typeof ListGroupsRequest>;

// Responses are read leniently: what Sinch sends back is its business, only the shape matters.
// What could mislead a reader or flood a tool result is checked or neutralized, though: ids are ids,
// members are digits, and texts lose control and bidi-override characters.
const KeywordPairOut = z.object({ first_word: z.string(), second_word: z.string().optional() });

const CONTROLS = /[\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/g;

/** Line breaks and tabs become spaces; other control characters and bidi overrides go. */
export const neutralize = (text: string) => text.replace(/[\t\n\r]+/g, ' ').replace(CONTROLS, '');

/** Longest error text or code of Sinch's passed on. */
export const MAX_REPLY_TEXT = 1_000;

/** Neutralized and at most MAX_REPLY_TEXT characters, an ellipsis marking a cut. */
export function bounded(text: string): string {
  // Cutting first keeps a huge text from being scanned whole; control characters only shorten it.
  const clean = neutralize(text.slice(0, MAX_REPLY_TEXT * 4));
  if (clean.length <= MAX_REPLY_TEXT) return clean;
  let end = MAX_REPLY_TEXT - 1;
  if (/[\uD800-\uDBFF]/.test(clean[end - 1]!)) end--;
  return `${clean.slice(0, end)}…`;
}

// Checked like an input id, without echoing what came: a reply's value is untrusted and may be huge.
const ReplyGroupId = z.string().refine((id) => GroupId.safeParse(id).success, { error: 'an id that is not 1 to 64 letters and digits' });

const Name = z.string().transform(neutralize);

// As the tools show it; GroupReply below is what the client accepts from Sinch.
export const Group = z.object({
  id: z.string(),
  name: z.string().optional(),
  size: z.number().int(),
  created_at: z.string(),
  modified_at: z.string(),
  child_groups: z.array(z.string()).optional(),
  auto_update: z
    .object({ to: z.string(), add: KeywordPairOut.optional(), remove: KeywordPairOut.optional() })
    .meta({ brief: '{to, add?, remove?}' })
    .optional(),
});

export const GroupReply = Group.extend({ id: ReplyGroupId, name: Name.optional(), child_groups: z.array(ReplyGroupId).optional() });

export const GroupList = z.object({
  page: z.number().int(),
  page_size: z.number().int(),
  count: z.number().int(),
  groups: z.array(Group),
});

export const GroupListReply = GroupList.extend({ groups: z.array(GroupReply) });

export const Members = z.array(z.string().regex(/^\+?\d{1,15}$/, { error: 'a member that is not a phone number (digits only)' }));

export type Group = z.output<typeof Group>;
export type GroupList = z.output<typeof GroupList>;

const Code = z.union([z.string(), z.number()]).transform((code) => bounded(String(code)));
const Text = z.string().transform(bounded);

/** Sinch answers errors in one of two shapes, and its OAuth token endpoint in a third; each is read as code and text. */
export const ErrorBody = z.union([
  z.object({ code: Code, text: Text }),
  z
    .object({ error: Text, error_description: Text.optional() })
    .transform(({ error, error_description }) => ({ code: error, text: error_description })),
  z
    .object({
      error: z.object({
        code: Code.optional(),
        message: Text.optional(),
        status: Text.optional(),
      }),
    })
    .transform(({ error }) => ({ code: error.status ?? error.code, text: error.message })),
]);
