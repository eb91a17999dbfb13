// Cuts known secrets (the API key) out of anything on its way to the window, as a last line behind "never send it".
const REDACTED = '[redacted]';
/** Shorter strings would match ordinary text; no real key is this short, and the validator allows 1-char keys. */
const MIN_SECRET_LENGTH = 8;

/**
 * The value unchanged (same object) when no string in it contains a secret, else a copy with every occurrence
 * replaced. The JSON probe keeps the common case (nothing to cut) to one pass without copying.
 */
export function redactSecrets<T>(value: T, secrets: readonly (string | null | undefined)[]): T {
  const active = secrets.filter((secret): secret is string => typeof secret === 'string' && secret.length >= MIN_SECRET_LENGTH);
  if (active.length === 0 || value === undefined) return value;
  const probe = JSON.stringify(value);
  if (probe === undefined || !active.some((secret) => probe.includes(secret))) return value;
  return scrub(value, active) as T;
}

/** A secret inside plain text, for log lines. */
export function redactText(text: string, secrets: readonly (string | null | undefined)[]): string {
  return redactSecrets(text, secrets);
}

function scrub(value: unknown, secrets: readonly string[]): unknown {
  if (typeof value === 'string') return secrets.reduce((text, secret) => text.split(secret).join(REDACTED), value);
  if (Array.isArray(value)) return value.map((item) => scrub(item, secrets));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [scrub(key, secrets), scrub(item, secrets)]));
  }
  return value;
}
