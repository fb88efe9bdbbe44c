import { randomBytes } from 'node:crypto';

/** A refusal as Sinch words it; the HTTP layer turns it into a response. */
export class EmulatorError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly text: string,
  ) {
    super(text);
    this.name = 'EmulatorError';
  }
}

export interface Keywords {
  first_word: string;
  second_word?: string;
}

export interface AutoUpdate {
  to: string;
  add?: Keywords;
  remove?: Keywords;
}

/** A group as the API returns it: absent fields are left out, and members have their own endpoint. */
export interface Group {
  id: string;
  name?: string;
  size: number;
  created_at: string;
  modified_at: string;
  child_groups?: string[];
  auto_update?: AutoUpdate;
}

export interface GroupPage {
  page: number;
  page_size: number;
  count: number;
  groups: Group[];
}

interface StoredGroup {
  id: string;
  name?: string;
  members: Set<string>;
  created_at: string;
  modified_at: string;
  child_groups: string[];
  auto_update?: AutoUpdate;
}

const MAX_NAME_LENGTH = 20;
const MAX_NUMBERS = 10_000;
const MAX_CHILD_GROUPS = 10;
const MAX_KEYWORD_LENGTH = 15;
const DEFAULT_PAGE_SIZE = 30;
const MAX_PAGE_SIZE = 100;

// Real IDs are ULIDs, but older and test IDs are shorter or differ, so any short alphanumeric run is
// well-formed; whether it exists is a separate question (403 or 404).
const GROUP_ID = /^[A-Za-z0-9]{1,64}$/;
const SEPARATORS = /[\s\-()]/g;
const MSISDN_DIGITS = /^[1-9]\d{6,14}$/;
// Short codes are shorter than any MSISDN, and `to` may be either.
const SENDER_DIGITS = /^[1-9]\d{2,14}$/;
const KEYWORD = /^\w+$/;

const UNKNOWN_GROUP = 'One or more groups referenced in your request could not be found';

export function invalidFormat(field: string, detail: string): EmulatorError {
  return new EmulatorError(
    400,
    'syntax_invalid_parameter_format',
    `The format of parameter '${field}' is invalid; ${detail}.`,
  );
}

function constraintViolation(field: string, detail: string): EmulatorError {
  return new EmulatorError(400, 'syntax_constraint_violation', `Parameter '${field}' ${detail}.`);
}

function notFound(): EmulatorError {
  return new EmulatorError(404, 'not_found', 'Group not found');
}

function shown(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function notMsisdnOrGroupId(field: string, value: unknown): EmulatorError {
  return invalidFormat(field, `value '${shown(value)}' is not a valid MSISDN or group ID`);
}

function bareDigits(raw: string): string {
  return raw.replace(SEPARATORS, '').replace(/^(\+|00)/, '');
}

/** Sinch stores numbers as bare digits: separators and the international prefix go. */
function normalizeMsisdn(raw: string): string | undefined {
  const digits = bareDigits(raw);
  return MSISDN_DIGITS.test(digits) ? digits : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requestObject(body: unknown): Record<string, unknown> {
  if (!isObject(body)) {
    throw new EmulatorError(400, 'syntax_invalid_json', 'The request body must be a JSON object.');
  }
  return body;
}

// JSON null counts as absent everywhere except `name` in an update, where Sinch gives it a meaning.
function isAbsent(value: unknown): value is null | undefined {
  return value === undefined || value === null;
}

function parseName(value: unknown): string | undefined {
  if (isAbsent(value)) return undefined;
  if (typeof value !== 'string') throw invalidFormat('name', 'expected a string');
  const length = [...value].length;
  if (length < 1 || length > MAX_NAME_LENGTH) {
    throw constraintViolation('name', `must be 1 to ${MAX_NAME_LENGTH} characters long`);
  }
  return value;
}

function parseNumbers(value: unknown, field: string): string[] | undefined {
  if (isAbsent(value)) return undefined;
  if (!Array.isArray(value)) throw invalidFormat(field, 'expected an array of phone numbers');
  if (value.length > MAX_NUMBERS) {
    throw constraintViolation(field, `must have at most ${MAX_NUMBERS} elements`);
  }
  return value.map((item: unknown, index) => {
    const msisdn = typeof item === 'string' ? normalizeMsisdn(item) : undefined;
    if (msisdn === undefined) throw notMsisdnOrGroupId(`${field}[${index}]`, item);
    return msisdn;
  });
}

function parseGroupId(value: unknown, field: string): string | undefined {
  if (isAbsent(value)) return undefined;
  if (typeof value !== 'string' || !GROUP_ID.test(value)) throw notMsisdnOrGroupId(field, value);
  return value;
}

function parseChildGroups(value: unknown): string[] {
  if (isAbsent(value)) return [];
  if (!Array.isArray(value)) throw invalidFormat('child_groups', 'expected an array of group IDs');
  if (value.length > MAX_CHILD_GROUPS) {
    throw constraintViolation('child_groups', `must have at most ${MAX_CHILD_GROUPS} elements`);
  }
  const ids = value.map((item: unknown, index) => {
    if (typeof item !== 'string' || !GROUP_ID.test(item)) throw notMsisdnOrGroupId(`child_groups[${index}]`, item);
    return item;
  });
  return [...new Set(ids)];
}

function parseKeywords(value: unknown, field: string): Keywords | undefined {
  if (isAbsent(value)) return undefined;
  if (!isObject(value)) throw invalidFormat(field, 'expected an object');
  const parseWord = (word: unknown, name: string) => {
    if (typeof word !== 'string' || !KEYWORD.test(word)) {
      throw invalidFormat(`${field}.${name}`, `value '${shown(word)}' is not a single word`);
    }
    if (word.length > MAX_KEYWORD_LENGTH) {
      throw constraintViolation(`${field}.${name}`, `must be at most ${MAX_KEYWORD_LENGTH} characters long`);
    }
    return word;
  };
  if (isAbsent(value.first_word)) throw constraintViolation(`${field}.first_word`, 'is required');
  const first_word = parseWord(value.first_word, 'first_word');
  return isAbsent(value.second_word)
    ? { first_word }
    : { first_word, second_word: parseWord(value.second_word, 'second_word') };
}

function parseAutoUpdate(value: unknown): AutoUpdate | undefined {
  if (isAbsent(value)) return undefined;
  if (!isObject(value)) throw invalidFormat('auto_update', 'expected an object');
  if (isAbsent(value.to)) throw constraintViolation('auto_update.to', 'is required');
  const to = value.to;
  if (typeof to !== 'string' || !SENDER_DIGITS.test(bareDigits(to))) {
    throw invalidFormat('auto_update.to', `value '${shown(to)}' is not a valid phone number or short code`);
  }
  const add = parseKeywords(value.add, 'auto_update.add');
  const remove = parseKeywords(value.remove, 'auto_update.remove');
  return { to, ...(add && { add }), ...(remove && { remove }) };
}

function checkPaging(value: number, field: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw invalidFormat(field, `value '${value}' is not a non-negative integer`);
  }
}

// Crockford base32, as in ULIDs: a millisecond timestamp prefix keeps IDs roughly time-ordered.
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

function newGroupId(): string {
  let time = Date.now();
  let prefix = '';
  for (let i = 0; i < 10; i++) {
    prefix = CROCKFORD.charAt(time % 32) + prefix;
    time = Math.floor(time / 32);
  }
  // 256 is a multiple of 32, so masking each byte keeps the characters uniform.
  const suffix = [...randomBytes(16)].map((byte) => CROCKFORD.charAt(byte & 31)).join('');
  return prefix + suffix;
}

// Clients compare modified_at to spot changes, so it must move even when two writes share a millisecond.
function laterThan(previous: string): string {
  return new Date(Math.max(Date.now(), Date.parse(previous) + 1)).toISOString();
}

function view(group: StoredGroup): Group {
  return {
    id: group.id,
    ...(group.name !== undefined && { name: group.name }),
    size: group.members.size,
    created_at: group.created_at,
    modified_at: group.modified_at,
    // An empty list is left out like an absent one: nothing tells them apart.
    ...(group.child_groups.length > 0 && { child_groups: [...group.child_groups] }),
    ...(group.auto_update && { auto_update: structuredClone(group.auto_update) }),
  };
}

/**
 * The groups of one service plan, with Sinch's semantics. Every operation validates its whole input
 * before changing anything, and throws EmulatorError when Sinch would refuse the request.
 *
 * child_groups are validated and stored but their members are not merged into the parent: Sinch is
 * phasing the feature out, and nothing we build relies on it.
 */
export class GroupStore {
  // Map order is creation order, which listing reverses; replace keeps a group's place.
  readonly #groups = new Map<string, StoredGroup>();

  create(body: unknown): Group {
    const input = requestObject(body);
    const name = parseName(input.name);
    const members = parseNumbers(input.members, 'members') ?? [];
    const childGroups = parseChildGroups(input.child_groups);
    const autoUpdate = parseAutoUpdate(input.auto_update);
    this.#requireExisting(childGroups);
    const now = new Date().toISOString();
    const group: StoredGroup = {
      id: newGroupId(),
      name,
      members: new Set(members),
      created_at: now,
      modified_at: now,
      child_groups: childGroups,
      auto_update: autoUpdate,
    };
    this.#groups.set(group.id, group);
    return view(group);
  }

  list(page = 0, pageSize = DEFAULT_PAGE_SIZE): GroupPage {
    checkPaging(page, 'page');
    checkPaging(pageSize, 'page_size');
    if (pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
      throw constraintViolation('page_size', `must be between 1 and ${MAX_PAGE_SIZE}`);
    }
    const newestFirst = [...this.#groups.values()].reverse();
    const groups = newestFirst.slice(page * pageSize, (page + 1) * pageSize).map(view);
    return { page, page_size: groups.length, count: newestFirst.length, groups };
  }

  get(id: string): Group {
    return view(this.#find(id));
  }

  /** All members, as bare digits, in the order they joined. */
  members(id: string): string[] {
    return [...this.#find(id).members];
  }

  update(id: string, body: unknown): Group {
    const input = requestObject(body);
    const add = parseNumbers(input.add, 'add') ?? [];
    const remove = parseNumbers(input.remove, 'remove') ?? [];
    const name = parseName(input.name);
    const addFromGroupId = parseGroupId(input.add_from_group, 'add_from_group');
    const removeFromGroupId = parseGroupId(input.remove_from_group, 'remove_from_group');
    const autoUpdate = parseAutoUpdate(input.auto_update);

    const group = this.#find(id);
    // Snapshots taken before any change, so a group naming itself sees its members as they were.
    const addFromGroup = addFromGroupId === undefined ? [] : [...this.#referenced(addFromGroupId).members];
    const removeFromGroup = removeFromGroupId === undefined ? [] : [...this.#referenced(removeFromGroupId).members];

    for (const msisdn of [...add, ...addFromGroup]) group.members.add(msisdn);
    for (const msisdn of [...remove, ...removeFromGroup]) group.members.delete(msisdn);
    if (input.name !== undefined) group.name = name;
    if (autoUpdate) group.auto_update = autoUpdate;
    group.modified_at = laterThan(group.modified_at);
    return view(group);
  }

  replace(id: string, body: unknown): Group {
    const input = requestObject(body);
    if (isAbsent(input.members)) throw constraintViolation('members', 'is required');
    const members = parseNumbers(input.members, 'members') ?? [];
    const name = parseName(input.name);
    const autoUpdate = parseAutoUpdate(input.auto_update);
    const childGroups = parseChildGroups(input.child_groups);
    const group = this.#find(id);
    this.#requireExisting(childGroups);

    const replaced: StoredGroup = {
      id: group.id,
      name,
      members: new Set(members),
      created_at: group.created_at,
      modified_at: laterThan(group.modified_at),
      child_groups: childGroups,
      auto_update: autoUpdate,
    };
    this.#groups.set(id, replaced);
    return view(replaced);
  }

  delete(id: string): void {
    this.#find(id);
    this.#groups.delete(id);
  }

  clear(): void {
    this.#groups.clear();
  }

  #find(id: string): StoredGroup {
    const group = this.#groups.get(id);
    if (!group) throw notFound();
    return group;
  }

  #referenced(id: string): StoredGroup {
    const group = this.#groups.get(id);
    if (!group) throw new EmulatorError(403, 'unknown_group', UNKNOWN_GROUP);
    return group;
  }

  #requireExisting(ids: string[]): void {
    for (const id of ids) this.#referenced(id);
  }
}
