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
const KeywordPairOut = z.object({ first_word: z.string(), second_word: z.string().optional() });

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

export const GroupList = z.object({
  page: z.number().int(),
  page_size: z.number().int(),
  count: z.number().int(),
  groups: z.array(Group),
});

export const Members = z.array(z.string());

export type Group = z.output<typeof Group>;
export type GroupList = z.output<typeof GroupList>;

/** Sinch answers errors in one of two shapes, and its OAuth token endpoint in a third; each is read as code and text. */
export const ErrorBody = z.union([
  z.object({ code: z.union([z.string(), z.number()]), text: z.string() }).transform(({ code, text }) => ({ code: String(code), text })),
  z
    .object({ error: z.string(), error_description: z.string().optional() })
    .transform(({ error, error_description }) => ({ code: error, text: error_description })),
  z
    .object({
      error: z.object({
        code: z.union([z.string(), z.number()]).optional(),
        message: z.string().optional(),
        status: z.string().optional(),
      }),
    })
    .transform(({ error }) => ({ code: error.status ?? (error.code === undefined ? undefined : String(error.code)), text: error.message })),
]);
