// Every credential the process handles is registered here as soon as it is known, so that whatever
// fails, and wherever its message ends up (a tool result, a log line, a crash trace), it is masked.
const secrets = new Set<string>();

/** Registers a value that must never be shown. Short values are refused: masking them would garble text. */
export function keepSecret(value: string): void {
  if (value.length >= 8) secrets.add(value);
}

export function redact(text: string): string {
  let safe = text;
  for (const secret of secrets) safe = safe.replaceAll(secret, '[redacted]');
  return safe;
}
