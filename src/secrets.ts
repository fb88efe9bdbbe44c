// Every credential the process handles is registered here as soon as it is known, so that whatever
// fails, and wherever its message ends up (a tool result, a log line, a crash trace), it is masked.
const secrets = new Set<string>();

// A gateway passing each request's credentials could register without end; the newest are kept.
const MAX_SECRETS = 1_000;

/** Registers a value that must never be shown. Short values are refused: masking them would garble text. */
export function keepSecret(value: string): void {
  if (value.length < 8) return;
  secrets.delete(value);
  secrets.add(value);
  if (secrets.size > MAX_SECRETS) secrets.delete(secrets.values().next().value!);
}

export function redact(text: string): string {
  let safe = text;
  for (const secret of secrets) safe = safe.replaceAll(secret, '[redacted]');
  return safe;
}
