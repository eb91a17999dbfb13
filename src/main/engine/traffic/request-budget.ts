// Requests-per-minute budget for one endpoint and API key: a token bucket that lets requests out FIFO at the allowed pace and follows the server's rate-limit headers.
import { headerValue } from '../http/retry-policy.ts';
import type { Clock } from './clock.ts';
import { Wakeup } from './wakeup.ts';

export const DEFAULT_REQUESTS_PER_MINUTE = 100;

/** Float slack when comparing token counts: 0.1 + 0.2 must still buy a token. */
const EPSILON = 1e-9;

export interface RequestBudgetOptions {
  requestsPerMinute: number;
  /** Bucket size; default `defaultBurst(requestsPerMinute)`. */
  burst?: number;
  clock: Clock;
}

/**
 * The bucket size: one second's worth of requests, at least one.
 * Anthropic enforces its per-minute limits as a token bucket and says a limit "may be enforced over shorter time
 * intervals" (60 RPM as 1 request per second), so short bursts are answered with 429 even under the per-minute total
 * (https://docs.anthropic.com/en/api/rate-limits). A bucket of 100 at 100 rpm would let 100 requests out in the
 * first second and earn a wall of 429s; one second's worth (1 at 100 rpm) paces them evenly, 600 ms apart, and in any
 * minute sends at most rpm + 1.
 */
export function defaultBurst(requestsPerMinute: number): number {
  return Math.max(1, Math.floor(requestsPerMinute / 60));
}

interface Waiter {
  resolve: () => void;
  reject: (reason: unknown) => void;
  cleanup: () => void;
}

export class RequestBudget {
  readonly #clock: Clock;
  readonly #fixedBurst: number | undefined;
  readonly #queue: Waiter[] = [];
  readonly #wakeup: Wakeup;
  #rpm = DEFAULT_REQUESTS_PER_MINUTE;
  #burst = 1;
  #tokens: number;
  #updatedAt: number;
  /** No token is handed out before this moment (remaining 0 until reset, or a 429's Retry-After). */
  #pausedUntil: number | null = null;

  constructor(options: RequestBudgetOptions) {
    this.#clock = options.clock;
    this.#fixedBurst = options.burst;
    this.#applyRate(options.requestsPerMinute);
    this.#tokens = this.#burst;
    this.#updatedAt = this.#clock.now();
    this.#wakeup = new Wakeup(this.#clock, () => this.#grant());
  }

  get requestsPerMinute(): number {
    return this.#rpm;
  }

  get burst(): number {
    return this.#burst;
  }

  /** Requests queued for a token. */
  get waiting(): number {
    return this.#queue.length;
  }

  /** Tokens in the bucket right now (fractional while refilling). */
  get tokens(): number {
    this.#refill();
    return this.#tokens;
  }

  /**
   * Waits for a token, first come first served across every download sharing this budget.
   * `onQueued` is told, only when the caller has to wait, when its token is expected (for "waiting until hh:mm:ss").
   */
  acquire(signal?: AbortSignal, onQueued?: (until: number) => void): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    this.#refill();
    if (this.#queue.length === 0 && this.#pausedUntil === null && this.#tokens >= 1 - EPSILON) {
      this.#tokens -= 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const index = this.#queue.indexOf(waiter);
        if (index >= 0) this.#queue.splice(index, 1);
        reject(signal!.reason);
        this.#schedule();
      };
      const waiter: Waiter = { resolve, reject, cleanup: () => signal?.removeEventListener('abort', onAbort) };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(waiter);
      onQueued?.(this.estimate(this.#queue.length - 1));
      this.#schedule();
    });
  }

  /** When the waiter at `position` (0 = next in line) should get its token at the current rate (ms epoch). */
  estimate(position: number): number {
    this.#refill();
    const now = this.#clock.now();
    const start = this.#pausedUntil ?? now;
    const available = this.#pausedUntil === null ? this.#tokens : 1;
    const missing = position + 1 - available;
    return missing <= EPSILON ? start : start + missing * this.#intervalMs();
  }

  /** When the next waiter gets its token (ms epoch), or null when nobody waits. */
  waitingUntil(): number | null {
    return this.#queue.length === 0 ? null : this.estimate(0);
  }

  /** Changes the pace at once; waiters are re-timed. A configured burst stays; the default one follows the rate. */
  setRate(requestsPerMinute: number): void {
    this.#refill();
    this.#applyRate(requestsPerMinute);
    this.#tokens = Math.min(this.#tokens, this.#burst);
    this.#grant();
  }

  /** No tokens before `at` (a 429's Retry-After for every request on this budget, not only the one that got it). */
  pauseUntil(at: number): void {
    this.#refill();
    if (at <= this.#clock.now()) return;
    this.#pausedUntil = Math.max(this.#pausedUntil ?? 0, at);
    this.#tokens = 0;
    this.#schedule();
  }

  /** Empties the bucket: the next request waits a full interval (a 429 without Retry-After says we were too fast). */
  drain(): void {
    this.#refill();
    this.#tokens = Math.min(this.#tokens, 0);
    this.#schedule();
  }

  /**
   * Follows `anthropic-ratelimit-requests-limit` / `-remaining` / `-reset` (RFC 3339) when a response carries them
   * (https://docs.anthropic.com/en/api/rate-limits#response-headers): the limit becomes the rate; remaining 0 means no
   * token until reset. Whether file endpoints send them is undocumented, so absent headers change nothing.
   */
  updateFromHeaders(headers: Record<string, string | string[] | undefined>): void {
    const limit = wholeNumber(headerValue(headers['anthropic-ratelimit-requests-limit']));
    if (limit !== null && limit > 0 && limit !== this.#rpm) this.setRate(limit);
    const remaining = wholeNumber(headerValue(headers['anthropic-ratelimit-requests-remaining']));
    if (remaining !== 0) return;
    const reset = Date.parse(headerValue(headers['anthropic-ratelimit-requests-reset']) ?? '');
    // "reset" is when the bucket is full again; waiting for it is conservative, but a token before it could be a 429.
    if (Number.isFinite(reset) && reset > this.#clock.now()) this.pauseUntil(reset);
    else this.drain();
  }

  /** Rejects every waiter (the client is closing) and drops the timer. */
  close(reason: unknown): void {
    this.#wakeup.cancel();
    for (const waiter of this.#queue.splice(0)) {
      waiter.cleanup();
      waiter.reject(reason);
    }
  }

  #applyRate(requestsPerMinute: number): void {
    if (!(requestsPerMinute > 0) || !Number.isFinite(requestsPerMinute)) throw new RangeError(`requests per minute must be a positive number, got ${requestsPerMinute}`);
    this.#rpm = requestsPerMinute;
    this.#burst = Math.max(1, this.#fixedBurst ?? defaultBurst(requestsPerMinute));
  }

  /** Milliseconds per token; kept as an interval (600 at 100 rpm) so pacing lands on whole milliseconds. */
  #intervalMs(): number {
    return 60_000 / this.#rpm;
  }

  #refill(): void {
    const now = this.#clock.now();
    if (this.#pausedUntil !== null) {
      if (now < this.#pausedUntil) {
        this.#updatedAt = now;
        return;
      }
      // One token when the pause ends, not a full bucket: everyone who waited must not rush out together.
      this.#tokens = Math.max(this.#tokens, 1);
      this.#updatedAt = this.#pausedUntil;
      this.#pausedUntil = null;
    }
    const elapsed = now - this.#updatedAt;
    // Capped at the burst even while requests queue: the server's bucket is capped there too, so a token "earned"
    // while a timer fired late is one the server never had. Keeping it sent the next request less than an interval
    // after the late one, spending the rate headroom at every event-loop stall (a 429 at 100 rpm from a 30 ms stall).
    if (elapsed > 0) this.#tokens = Math.min(this.#burst, this.#tokens + elapsed / this.#intervalMs());
    this.#updatedAt = now;
  }

  /** Hands tokens to waiters in arrival order while there are tokens, then arms the timer for the next one. */
  #grant(): void {
    this.#refill();
    while (this.#queue.length > 0 && this.#pausedUntil === null && this.#tokens >= 1 - EPSILON) {
      this.#tokens -= 1;
      const waiter = this.#queue.shift()!;
      waiter.cleanup();
      waiter.resolve();
    }
    this.#schedule();
  }

  #schedule(): void {
    if (this.#queue.length === 0) this.#wakeup.cancel();
    else this.#wakeup.at(this.estimate(0));
  }
}

function wholeNumber(text: string | null): number | null {
  if (text === null || !/^\s*\d+\s*$/.test(text)) return null;
  return Number(text);
}
