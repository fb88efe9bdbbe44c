// The process's own credentials (from its environment or configuration, and OAuth access tokens
// fetched with them) are registered here as soon as they are known, so that whatever fails, and
// wherever its message ends up (a tool result, a log line, a crash trace), they are masked. They are
// few and live as long as the process. Credentials that come with one request are never kept here: the
// client made for that request masks them in its own errors (see `redact`'s `others`).
const lasting = new Set<string>();

/** Short values are refused: masking them would garble text. */
const maskable = (value: string) => value.length >= 8;

/** Registers one of the process's own credentials, which must never be shown. */
export function keepSecret(value: string): void {
  if (maskable(value)) lasting.add(value);
}

/** Drops a credential that can no longer appear, such as an access token two refreshes old. */
export function forgetSecret(value: string): void {
  lasting.delete(value);
}

/** Masks the process's own credentials, and `others` (one request's, say) if given. */
export function redact(text: string, others: readonly string[] = []): string {
  let safe = text;
  for (const secret of [...lasting, ...others.filter(maskable)]) safe = safe.replaceAll(secret, '[redacted]');
  return safe;
}

/** Compares in constant time. Hashing first gives timingSafeEqual equal-length inputs, so not even the length leaks. */
export function sameSecret(given: string, expected: string): boolean {
  // node:crypto is loaded on first use: loading it is a cost every start-up would pay, and only the HTTP mode compares.
  const { createHash, timingSafeEqual } = process.getBuiltinModule('node:crypto');
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
