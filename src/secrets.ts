import { createHash, timingSafeEqual } from 'node:crypto';

// Every credential the process handles is registered here as soon as it is known, so that whatever
// fails, and wherever its message ends up (a tool result, a log line, a crash trace), it is masked.
const lasting = new Set<string>();
// A gateway passing each request's credentials could register without end: of those, the newest are kept.
const passing = new Set<string>();
const MAX_PASSING = 1_000;

/**
 * Registers a value that must never be shown; `perRequest` for credentials that come with one request.
 * Short values are refused: masking them would garble text.
 */
export function keepSecret(value: string, { perRequest = false } = {}): void {
  if (value.length < 8 || lasting.has(value)) return;
  if (!perRequest) return void lasting.add(value);
  passing.delete(value);
  passing.add(value);
  if (passing.size > MAX_PASSING) passing.delete(passing.values().next().value!);
}

export function redact(text: string): string {
  let safe = text;
  for (const secret of [...lasting, ...passing]) safe = safe.replaceAll(secret, '[redacted]');
  return safe;
}

/** Compares in constant time. Hashing first gives timingSafeEqual equal-length inputs, so not even the length leaks. */
export function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
