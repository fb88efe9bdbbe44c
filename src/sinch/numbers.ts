import type { CountryCode } from 'libphonenumber-js/min';
import { COUNTRIES } from './countries.js';

type PhoneLibrary = typeof import('libphonenumber-js/min');

// The number library and its metadata cost a tenth of start-up, and starting and listing the tools reads
// no number: the library is loaded before the first list of numbers is read.
let library: PhoneLibrary | undefined;
let loading: Promise<PhoneLibrary> | undefined;

/** Loads the number library, once. Whatever reads a number (normalizeNumber, normalizeList) awaits it first. */
export async function loadPhoneNumbers(): Promise<void> {
  library = await (loading ??= import('libphonenumber-js/min'));
}

function phoneLibrary(): PhoneLibrary {
  if (!library) throw new Error('a phone number was read before loadPhoneNumbers() finished');
  return library;
}

// Sinch takes numbers in international format, with or without "+" or "00", and ignores spaces,
// dashes and brackets. Anything else in the string means it was not meant as a number.
const ALLOWED = /^\+?[\d\s\-()]+$/;
const SEPARATORS = /[\s\-()]/g;
/** Longer strings are refused unread: no formatting of a 15-digit number needs more. */
const MAX_LENGTH = 40;

const NATIONAL_FORMAT =
  'not in international format: add the country code and drop the leading 0, e.g. +44 7700 900123 for the UK number 07700 900123';

export type NumberCheck = { ok: true; e164: string } | { ok: false; reason: string };

const LENGTH_REASONS: Record<string, string> = {
  TOO_SHORT: 'too short for its country code',
  TOO_LONG: 'too long for its country code',
  INVALID_LENGTH: 'wrong length for its country code',
  INVALID_COUNTRY: 'no such country code',
};

/** An ISO 3166 country code the number library knows, upper-cased; undefined when it is not one. */
export function countryCode(setting: string): CountryCode | undefined {
  const code = setting.trim().toUpperCase();
  return COUNTRIES.has(code) ? (code as CountryCode) : undefined;
}

/** How many numbers one call may carry, unless SINCH_MAX_NUMBERS_PER_CALL says otherwise. */
export const DEFAULT_MAX_NUMBERS_PER_CALL = 200_000;

export interface NumberSettings {
  /** National numbers ("07700 900123") are read as this country's (SINCH_DEFAULT_COUNTRY). */
  defaultCountry?: CountryCode;
  maxPerCall?: number;
}

// The process's settings, like its credentials: every server in the process shares them.
let settings: Required<Pick<NumberSettings, 'maxPerCall'>> & NumberSettings = { maxPerCall: DEFAULT_MAX_NUMBERS_PER_CALL };

export function configureNumbers({ defaultCountry, maxPerCall = DEFAULT_MAX_NUMBERS_PER_CALL }: NumberSettings): void {
  settings = { defaultCountry, maxPerCall };
}

export const maxNumbersPerCall = () => settings.maxPerCall;

/**
 * Normalizes one number to E.164. The check is whether the number is *possible* (a real country code
 * and a length that country uses), not whether it is assigned: Sinch's own documentation uses numbers
 * such as +15551235555 that are possible but not assigned. The library's own parse gives the E.164
 * form, which drops a trunk prefix written after the country code ("+44 (0)7700 900123").
 */
export function normalizeNumber(raw: string): NumberCheck {
  const { defaultCountry } = settings;
  if (raw.length > MAX_LENGTH) return { ok: false, reason: `longer than ${MAX_LENGTH} characters` };
  const text = raw.trim();
  if (text.replace(SEPARATORS, '') === '') return { ok: false, reason: 'it is empty' };
  if (!ALLOWED.test(text)) return { ok: false, reason: 'only digits, spaces, dashes, brackets and a leading + or 00 are allowed' };
  if (text.startsWith('+')) return possible(text);
  const digits = text.replace(SEPARATORS, '');
  if (digits.startsWith('00')) return possible(`+${digits.slice(2)}`);
  if (digits.startsWith('0')) {
    return defaultCountry ? possible(text, defaultCountry) : { ok: false, reason: `${NATIONAL_FORMAT} (or set SINCH_DEFAULT_COUNTRY)` };
  }
  // Digits alone are international to Sinch; with a default country they may be a national number
  // without a trunk prefix (as in the US), and a number that reads both ways is not guessed at.
  const international = possible(`+${digits}`);
  if (!defaultCountry) return international;
  const national = possible(digits, defaultCountry);
  if (!national.ok || (international.ok && international.e164 === national.e164)) return international;
  if (!international.ok) return national;
  return {
    ok: false,
    reason: `ambiguous: it reads as ${international.e164} and, in ${defaultCountry}, as ${national.e164}; write it with a leading +`,
  };
}

function possible(text: string, country?: CountryCode): NumberCheck {
  const { parsePhoneNumberFromString, validatePhoneNumberLength } = phoneLibrary();
  const parsed = parsePhoneNumberFromString(text, country);
  if (parsed?.isPossible()) return { ok: true, e164: parsed.number };
  const lengthProblem = validatePhoneNumberLength(text, country);
  return { ok: false, reason: (lengthProblem && LENGTH_REASONS[lengthProblem]) || 'not a possible number for its country code' };
}

export interface InvalidEntry {
  /** Where the entry was, 0-based. */
  index: number;
  value: string;
  reason: string;
}

export interface NormalizedList {
  /** Valid numbers in E.164, each once, in the order first given. */
  numbers: string[];
  /** The first invalid entries, at most `keep` of them. */
  invalid: InvalidEntry[];
  invalidCount: number;
  /** Valid entries that repeat a number given before. */
  duplicates: number;
  /** Entries not examined because checking stopped. */
  unexamined: number;
}

/**
 * Normalizes a list of numbers: every entry, or until `stopAfter` invalid ones (then the rest are left
 * unexamined, so that a wrong list cannot hold the server). The first `keep` invalid entries are kept.
 */
export function normalizeList(raw: readonly string[], { stopAfter = Infinity, keep = 25 } = {}): NormalizedList {
  const numbers = new Set<string>();
  const invalid: InvalidEntry[] = [];
  let invalidCount = 0;
  let duplicates = 0;
  for (const [index, value] of raw.entries()) {
    const check = normalizeNumber(value);
    if (check.ok) {
      if (numbers.has(check.e164)) duplicates++;
      else numbers.add(check.e164);
      continue;
    }
    if (invalid.length < keep) invalid.push({ index, value, reason: check.reason });
    if (++invalidCount === stopAfter && index < raw.length - 1) {
      return { numbers: [...numbers], invalid, invalidCount, duplicates, unexamined: raw.length - index - 1 };
    }
  }
  return { numbers: [...numbers], invalid, invalidCount, duplicates, unexamined: 0 };
}

/** Sinch returns numbers without "+"; assistants and people expect E.164. */
export function toE164(sinchNumber: string): string {
  return sinchNumber.startsWith('+') ? sinchNumber : `+${sinchNumber}`;
}
