// The retry loop of one request: which failures are tried again, after how long, and when a download gives up.
import { setTimeout as sleep } from 'node:timers/promises';
import { FatalError, RestartRequired, RetryableError, StorageError } from './errors.ts';
import { isRetryableNetworkError, retryDelay, type BackoffSettings } from './http/retry-policy.ts';

/**
 * "Slow down" answers: the endpoint is rate limited or overloaded. Waiting on them never uses up a request's
 * retries — a download does not fail merely because an endpoint was busy for a while; it waits and says so.
 */
const SLOW_DOWN_STATUSES = new Set([429, 503, 529]);

/** One retry about to wait: what the download tells its listeners. */
export interface RetryNotice {
  /** Failures (not slow-downs) of this request in a row; 0 while only slow-downs happened. */
  attempt: number;
  delayMs: number;
  reason: string;
  status: number | null;
  requestId: string | null;
  slowDown: boolean;
}

export interface RetryLoopOptions {
  backoff: BackoffSettings;
  signal: AbortSignal;
  /** How far the request has got (a segment's offset); a failure after progress starts the count over. */
  progress?: () => number;
  /** How many of its attempts the server accepted (a 2xx whose body then streamed); a break after one is retried at once. */
  answers?: () => number;
  /** Called before each wait. */
  onRetry: (notice: RetryNotice) => void;
  /** Called when a wait is over and the next attempt starts. */
  onResume: () => void;
}

/**
 * Calls `attempt` until it succeeds. Retryable failures wait (see retryDelay: Retry-After when the server gave one,
 * even beyond the cap; at once after a break that followed progress; backoff otherwise); the count starts over once a
 * request has made progress, and 429/503/529 never use it up.
 */
export async function retryUntilDone<T>(attempt: () => Promise<T>, options: RetryLoopOptions): Promise<T> {
  const { signal, backoff } = options;
  let failures = 0;
  let slowDowns = 0;
  for (;;) {
    const before = options.progress?.() ?? 0;
    const answersBefore = options.answers?.() ?? 0;
    try {
      return await attempt();
    } catch (error) {
      if (signal.aborted) throw signal.reason ?? error;
      if (error instanceof FatalError || error instanceof RestartRequired || error instanceof StorageError) throw error;
      if (!(error instanceof RetryableError) && !isRetryableNetworkError(error)) throw new FatalError(describeNetworkError(error), { cause: error });
      const progressed = (options.progress?.() ?? 0) > before;
      if (progressed) failures = slowDowns = 0;
      const reason = error instanceof RetryableError ? error.message : describeNetworkError(error);
      const status = error instanceof RetryableError ? error.status : null;
      const slowDown = status !== null && SLOW_DOWN_STATUSES.has(status);
      if (slowDown) slowDowns++;
      else failures++;
      if (failures > backoff.maxRetries) throw new FatalError(`gave up after ${failures - 1} retries: ${reason}`);
      const retryAfterMs = error instanceof RetryableError ? error.retryAfterMs : null;
      const broke = progressed || (options.answers?.() ?? 0) > answersBefore;
      const delayMs = retryDelay({ slowDown, inRow: slowDown ? slowDowns : failures, broke, retryAfterMs }, backoff);
      options.onRetry({ attempt: failures, delayMs, reason, status, requestId: error instanceof RetryableError ? error.requestId : null, slowDown });
      if (delayMs > 0) await sleep(delayMs, undefined, { signal });
      else if (signal.aborted) throw signal.reason;
      options.onResume();
    }
  }
}

export function describeNetworkError(error: unknown): string {
  const code = (error as { code?: string } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return code ? `${message} (${code})` : message;
}
