import * as z from 'zod';
import { loadPhoneNumbers, normalizeList, type NormalizedList } from './numbers.js';

/** Sinch refuses more than this many numbers in one create, replace, add or remove. */
export const MAX_NUMBERS_PER_REQUEST = 10_000;
export const MAX_CHILD_GROUPS = 10;
export const MAX_PAGE_SIZE = 100;

const show = (value: unknown) => JSON.stringify(value);

// Every message below starts from the value; the caller puts the field's path in front of it.

// IDs are usually 26-character ULIDs, but older and test groups have other shapes; what they share is
// letters and digits only, which also keeps an id from smuggling a path or query into the URL. Checked
// in a refinement, so tool lists do not repeat the pattern on every id: it would cost every assistant
// context and tell it nothing an id from list_groups does not already satisfy.
const GROUP_ID = /^[A-Za-z0-9]{1,64}$/;
export const GroupId = z.string().refine((id) => GROUP_ID.test(id), {
  error: (issue) => `${show(issue.input)} is not a group id: ids are letters and digits only (see list_groups)`,
});

// Control characters and bidirectional overrides would let a name rewrite how a confirmation reads.
const UNSAFE_IN_NAMES = /[\p{Cc}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/u;
const MAX_NAME_LENGTH = 20;

export const GroupName = z.string().superRefine((name, ctx) => {
  // Counted in code points, as a person counts characters: an emoji is one.
  const length = [...name].length;
  const problem =
    length === 0
      ? 'is empty; leave the name out instead'
      : length > MAX_NAME_LENGTH
        ? `is ${length} characters; Sinch allows at most ${MAX_NAME_LENGTH}`
        : UNSAFE_IN_NAMES.test(name)
          ? 'holds control or text-direction characters'
          : undefined;
  if (problem) ctx.addIssue({ code: 'custom', message: `${show(name)} ${problem}` });
  // JSON Schema counts code points too, so the published bounds say exactly what is checked.
}).meta({ maxLength: MAX_NAME_LENGTH });

/** Bad entries named one by one before checking stops, so a wrong list can neither flood a reply nor hold the server. */
export const MAX_REPORTED_BAD_NUMBERS = 25;

/** One bad entry in a list, as refusals name it. */
export const describeInvalid = (entry: string, reason: string) => `${show(entry)} is not a phone number: ${reason}`;

/** Refuses a list's bad entries, each at its index below `path`, and says where checking stopped if it did. */
export function refuseInvalid(ctx: z.RefinementCtx, list: NormalizedList, path: PropertyKey[] = []): void {
  for (const { index, value, reason } of list.invalid) ctx.addIssue({ code: 'custom', message: describeInvalid(value, reason), path: [...path, index] });
  if (list.unexamined > 0) {
    ctx.addIssue({
      code: 'custom',
      message: `checking stopped after ${list.invalidCount} bad entries; the ${list.unexamined} after [${list.invalid.at(-1)!.index}] were not examined`,
      path,
    });
  }
}

/** Entries as sent, at most `max` of them when given (published as maxItems). */
const entries = (max?: number) =>
  max === undefined
    ? z.array(z.string())
    : z.array(z.string()).max(max, { error: (issue) => `has ${(issue.input as unknown[]).length} numbers; this takes at most ${max}` });

/** A list of phone numbers, normalized to E.164 and de-duplicated; one bad entry refuses the list. */
const phoneNumbers = (max?: number) => entries(max).transform(async (raw, ctx) => {
  await loadPhoneNumbers();
  const list = normalizeList(raw, { stopAfter: MAX_REPORTED_BAD_NUMBERS, keep: MAX_REPORTED_BAD_NUMBERS });
  refuseInvalid(ctx, list);
  return list.numbers;
});

export const PhoneNumbers = phoneNumbers();

/** A list of numbers as every tool describes it: what it is for, then the format with an example; `max` bounds its length. */
export const numberList = (what: string, max?: number) =>
  phoneNumbers(max).describe(`${what ? `${what} ` : ''}E.164, e.g. "+447700900123".`);

const Keyword = z
  .string()
  .max(15, { error: (issue) => `${show(issue.input)} is longer than 15 characters` })
  .refine((word) => /^\w+$/.test(word), { error: (issue) => `${show(issue.input)} is not one word (letters, digits, _)` });

const KeywordPair = z.strictObject({
  first_word: Keyword,
  second_word: Keyword.optional(),
});

export const AutoUpdate = z
  .strictObject({
    to: z.string().regex(/^\+?\d{3,15}$/, { error: (issue) => `${show(issue.input)} is not a short code or number` }),
    add: KeywordPair.optional(),
    remove: KeywordPair.optional(),
  })
  .describe('Texting add or remove words to "to" (short code or number) joins or leaves.');

export const ChildGroups = z
  .array(GroupId)
  .max(MAX_CHILD_GROUPS, { error: (issue) => `has ${show((issue.input as unknown[]).length)} ids; Sinch allows at most ${MAX_CHILD_GROUPS}` })
  .describe('Groups to include (phased out by Sinch).');

// Request bodies, as Sinch names their fields. Tools extend these with group_id, so the two never drift.
export const CreateGroupRequest = z.strictObject({
  name: GroupName.optional(),
  members: numberList('').optional(),
  child_groups: ChildGroups.optional(),
  auto_update: AutoUpdate.optional(),
});

export const UpdateGroupRequest = z.strictObject({
  add: numberList('To add (before removals).').optional(),
  remove: numberList('To remove.').optional(),
  name: GroupName.optional().describe('New name.'),
  add_from_group: GroupId.optional().describe("Copy this group's members in."),
  remove_from_group: GroupId.optional().describe("Remove this group's members."),
  auto_update: AutoUpdate.optional(),
});

export const ReplaceGroupRequest = z.strictObject({
  members: numberList('The whole new member list.'),
  name: GroupName.optional().describe('New name; not given clears it.'),
  child_groups: ChildGroups.optional(),
  auto_update: AutoUpdate.optional(),
});

/** A whole number in a range, whose refusal names the range and the value given. */
export function wholeNumber(min: number, max = Number.MAX_SAFE_INTEGER) {
  const range = max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `from ${min} to ${max}`;
  const error = (issue: { input: unknown }) => `must be a whole number ${range} (got ${show(issue.input)})`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

export const ListGroupsRequest = z.strictObject({
  page: wholeNumber(0).optional().describe('0-based (default 0).'),
  page_size: wholeNumber(1, MAX_PAGE_SIZE).optional().describe('1 to 100 (default 30).'),
});

export type CreateGroupBody = z.output<typeof CreateGroupRequest>;
/** What Sinch takes: a name of null removes the name (update_group says so with remove_name). */
export type UpdateGroupBody = Omit<z.output<typeof UpdateGroupRequest>, 'name'> & { name?: string | null };
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
