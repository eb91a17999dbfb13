// Parsers for setting values written as text (config.ini, environment, flags): each says what is allowed when it refuses.

/** A parsed value, or the rule it broke phrased to follow "must …" in an error message. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; allowed: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const refuse = (allowed: string): Parsed<never> => ({ ok: false, allowed });

export function wholeNumber(min: number, max: number): (text: string) => Parsed<number> {
  return (text) => {
    const trimmed = text.trim();
    const value = Number(trimmed);
    return /^\d+$/.test(trimmed) && value >= min && value <= max ? ok(value) : refuse(`be a whole number from ${min} to ${max}`);
  };
}

/** Seconds as the article writes them (connect_timeout=10), returned in milliseconds. */
export function seconds(min: number, max: number): (text: string) => Parsed<number> {
  return (text) => {
    const trimmed = text.trim();
    const value = Number(trimmed);
    return /^\d+(\.\d+)?$/.test(trimmed) && value >= min && value <= max
      ? ok(Math.round(value * 1000))
      : refuse(`be a number of seconds from ${min} to ${max}`);
  };
}

/** 1048576, 512K, 1M, 1.5MiB, 2G: binary multiples, as aria2 and curl read them. */
export function byteCount(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(text.trim());
  if (!match) return null;
  const power = ['', 'k', 'm', 'g', 't'].indexOf(match[2].toLowerCase());
  const value = Math.floor(Number(match[1]) * 1024 ** power);
  return Number.isSafeInteger(value) ? value : null;
}

export function sizeAtLeast(min: number, minText: string): (text: string) => Parsed<number> {
  return (text) => {
    const value = byteCount(text);
    return value !== null && value >= min ? ok(value) : refuse(`be a size of at least ${minText} (like 1M, 512K or 1048576)`);
  };
}

/**
 * Bytes per second, or null for unlimited (0, "unlimited"). Below 1K is refused: `limit_rate = 5` is far more likely
 * a forgotten unit than a wish for 5 bytes a second, which would look like a hung download.
 */
export function rate(text: string): Parsed<number | null> {
  const trimmed = text.trim().toLowerCase();
  if (trimmed === 'unlimited' || trimmed === 'none') return ok(null);
  const value = byteCount(trimmed.replace(/\/s$/, ''));
  if (value === 0) return ok(null);
  return value !== null && value >= 1024 ? ok(value) : refuse('be bytes per second of at least 1K (like 500K, 5M or 1048576), or 0 for unlimited');
}

export function boolean(text: string): Parsed<boolean> {
  const trimmed = text.trim().toLowerCase();
  if (['true', 'yes', '1', 'on'].includes(trimmed)) return ok(true);
  if (['false', 'no', '0', 'off'].includes(trimmed)) return ok(false);
  return refuse('be true or false (also yes/no, 1/0, on/off)');
}

/** An http(s) base URL without credentials: a password in a URL ends up in logs and process listings. */
export function httpUrl(text: string): Parsed<string> {
  const trimmed = text.trim();
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return refuse('be an http:// or https:// URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return refuse('be an http:// or https:// URL');
  if (url.username || url.password) return refuse('be an http:// or https:// URL without user:password (the API key is sent as a header)');
  return ok(trimmed);
}

/** A proxy may carry credentials (http://user:pass@proxy:3128): they are allowed but masked whenever shown. */
export function proxyUrl(text: string): Parsed<string | null> {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed.toLowerCase() === 'none') return ok(null);
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return refuse('be an http:// or https:// proxy URL (like http://proxy.local:3128), or none');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return refuse('be an http:// or https:// proxy URL (like http://proxy.local:3128), or none');
  return ok(trimmed);
}

/** A backup endpoint is optional: "none" or empty turns it off again over a lower-precedence source. */
export function optionalHttpUrl(text: string): Parsed<string | null> {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed.toLowerCase() === 'none') return ok(null);
  const parsed = httpUrl(trimmed);
  return parsed.ok ? parsed : refuse(`${parsed.allowed}, or none`);
}

/** The key itself is never echoed; only its shape is checked (a pasted key often drags a space or newline along). */
export function apiKey(text: string): Parsed<string> {
  const trimmed = text.trim();
  return trimmed !== '' && !/\s/.test(trimmed) ? ok(trimmed) : refuse('be one key without spaces');
}

export function plainText(text: string): Parsed<string> {
  const trimmed = text.trim();
  return trimmed !== '' ? ok(trimmed) : refuse('not be empty');
}

/** Shows a URL with any password replaced, for `filehaul config`, warnings and logs. */
export function maskUrlPassword(text: string): string {
  try {
    const url = new URL(text);
    if (!url.password) return text;
    url.password = '***';
    return url.toString();
  } catch {
    return text;
  }
}
