// Retry rules: which failures are worth another request, and how long to wait before it.

/** Statuses that mean "try again later" (Files API docs plus the usual gateway errors). */
const RETRYABLE_STATUSES = new Set([408, 409, 429, 500, 502, 503, 504, 529]);

export interface BackoffSettings {
  /** First delay ceiling in milliseconds (full jitter picks between 0 and it). */
  baseMs: number;
  /** Largest jittered delay; a server's Retry-After may ask for longer and is obeyed. */
  capMs: number;
  /** Retries after the first attempt before the request counts as failed. */
  maxRetries: number;
  /** First delay ceiling after a 429/503/529 without Retry-After (default: the smaller of baseMs and 100 ms; see retryDelay). */
  slowDownBaseMs?: number;
}

export const DEFAULT_BACKOFF: BackoffSettings = { baseMs: 1000, capMs: 60_000, maxRetries: 5 };

/** The first-retry ceiling for a lone "slow down" answer: AWS SDKs use 100 ms for non-throttling 5xx errors too. */
export const DEFAULT_SLOW_DOWN_BASE_MS = 100;

/**
 * Whether a response status is worth retrying. `x-should-retry` (the Anthropic SDK's override) wins over the status rule.
 * https://github.com/anthropics/anthropic-sdk-typescript (src/client.ts shouldRetry)
 */
export function isRetryableStatus(status: number, shouldRetryHeader?: string | null): boolean {
  if (shouldRetryHeader === 'true') return true;
  if (shouldRetryHeader === 'false') return false;
  return RETRYABLE_STATUSES.has(status) || status >= 500;
}

/**
 * Exponential backoff with full jitter: random in [0, min(cap, base * 2^attempt)].
 * Full jitter spreads many connections that failed together (one 429 burst) instead of retrying in lockstep.
 * https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
 */
export function backoffDelay(attempt: number, settings: BackoffSettings, random: () => number = Math.random): number {
  const ceiling = Math.min(settings.capMs, settings.baseMs * 2 ** Math.max(0, attempt));
  return Math.floor(random() * ceiling);
}

/** What failed, as the delay rule sees it. */
export interface FailedAttempt {
  /** A 429/503/529: the endpoint is busy (these never use up retries). */
  slowDown: boolean;
  /** Failures of this kind in a row for this request, counting this one (1 for the first). */
  inRow: number;
  /** The server had answered the failed attempt (a 2xx, perhaps some bytes) before the connection broke. */
  broke: boolean;
  /** What the server asked for (Retry-After), if it said. */
  retryAfterMs: number | null;
}

/**
 * How long to wait before the next attempt:
 * - the server's Retry-After when it gave one, even beyond the cap (it knows when it can take the request);
 * - a connection that broke after the server had answered (reset or read timeout mid-body) is reopened at once: the
 *   endpoint was serving, the connection was what failed, and a new one costs nothing; a second failure in a row
 *   (no bytes gained between) backs off as usual, so a server that keeps breaking is not hammered;
 * - a lone 429/503/529 backs off briefly (full jitter from `slowDownBaseMs`, doubling per slow-down in a row):
 *   sustained overload is answered for everyone by the endpoint's cool-down and the allowance's halving (traffic/),
 *   so the per-request wait only has to spread a retry, not to protect the endpoint;
 * - any other failure: full-jitter backoff from `baseMs`.
 */
export function retryDelay(failed: FailedAttempt, settings: BackoffSettings, random: () => number = Math.random): number {
  if (failed.retryAfterMs !== null) return failed.retryAfterMs;
  if (failed.slowDown) {
    const base = settings.slowDownBaseMs ?? Math.min(settings.baseMs, DEFAULT_SLOW_DOWN_BASE_MS);
    return backoffDelay(failed.inRow - 1, { ...settings, baseMs: base }, random);
  }
  if (failed.broke && failed.inRow === 1) return 0;
  return backoffDelay(failed.inRow - 1, settings, random);
}

/**
 * How long the server asked us to wait, in ms: `retry-after-ms` first, then `retry-after` as seconds or an HTTP date.
 * Returns null when neither header says anything usable.
 */
export function retryAfterDelay(headers: Record<string, string | string[] | undefined>, now: number = Date.now()): number | null {
  const milliseconds = headerValue(headers['retry-after-ms']);
  if (milliseconds !== null) {
    const value = Number(milliseconds);
    if (Number.isFinite(value) && value >= 0) return Math.ceil(value);
  }
  const retryAfter = headerValue(headers['retry-after']);
  if (retryAfter === null) return null;
  if (/^\s*\d+(\.\d+)?\s*$/.test(retryAfter)) return Math.ceil(Number(retryAfter) * 1000);
  const date = Date.parse(retryAfter);
  if (Number.isNaN(date)) return null;
  return Math.max(0, date - now);
}

/** The single value of a header that undici may give as a string or an array. */
export function headerValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? (value[0] ?? null) : value;
}

/** Network error codes that will not heal by retrying (the name does not resolve, the URL is wrong). */
const PERMANENT_NETWORK_CODES = new Set(['ENOTFOUND', 'EAI_NONAME', 'ERR_INVALID_URL', 'UND_ERR_INVALID_ARG', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN']);

/** Whether a thrown network error (reset, timeout, refused) deserves another try. */
export function isRetryableNetworkError(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  if (code && PERMANENT_NETWORK_CODES.has(code)) return false;
  return true;
}
