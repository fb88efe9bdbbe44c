import { parsePhoneNumberFromString, validatePhoneNumberLength } from 'libphonenumber-js/min';

// Sinch takes numbers in international format only, with or without "+" or "00", and ignores
// spaces, dashes and brackets. Anything else in the string means it was not meant as a number.
const SEPARATORS = /[\s\-()]/g;
const DIGITS = /^\d+$/;

export type NumberCheck = { ok: true; e164: string } | { ok: false; reason: string };

const LENGTH_REASONS: Record<string, string> = {
  TOO_SHORT: 'too short for its country code',
  TOO_LONG: 'too long for its country code',
  INVALID_LENGTH: 'wrong length for its country code',
  INVALID_COUNTRY: 'no such country code',
};

/**
 * Normalizes one number to E.164 ("+" and digits). The check is whether the number is *possible*
 * (a real country code and a length that country uses), not whether it is assigned: Sinch's own
 * documentation uses numbers such as +15551235555 that are possible but not assigned.
 */
export function normalizeNumber(raw: string): NumberCheck {
  let digits = raw.trim().replace(SEPARATORS, '');
  if (digits.startsWith('+')) digits = digits.slice(1);
  else if (digits.startsWith('00')) digits = digits.slice(2);
  if (digits === '') return { ok: false, reason: 'it is empty' };
  if (!DIGITS.test(digits)) return { ok: false, reason: 'only digits, spaces, dashes, brackets and a leading + or 00 are allowed' };
  if (digits.startsWith('0')) {
    return { ok: false, reason: 'not in international format (start with the country code)' };
  }
  const e164 = `+${digits}`;
  if (parsePhoneNumberFromString(e164)?.isPossible()) return { ok: true, e164 };
  const lengthProblem = validatePhoneNumberLength(e164);
  return { ok: false, reason: (lengthProblem && LENGTH_REASONS[lengthProblem]) || 'not a possible number for its country code' };
}

/** Sinch returns numbers without "+"; assistants and people expect E.164. */
export function toE164(sinchNumber: string): string {
  return sinchNumber.startsWith('+') ? sinchNumber : `+${sinchNumber}`;
}
