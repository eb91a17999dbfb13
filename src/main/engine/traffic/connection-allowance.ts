// How many requests may be open on one endpoint at once: a FIFO semaphore whose limit halves once per 429 episode and climbs back by one per allowance's worth of successes (AIMD).
import type { Clock } from './clock.ts';

export interface ConnectionAllowanceOptions {
  /** Starting and highest limit. */
  max: number;
  clock: Clock;
  /** On a quiet endpoint (fewer successes than the limit), this long since the last change and one success also climb by one. */
  increaseAfterMs?: number;
}

export const DEFAULT_ALLOWANCE = { increaseAfterMs: 10_000 };

/** Gives the slot back; safe to call more than once (only the first call counts). */
export type Release = () => void;

interface Waiter {
  resolve: (release: Release) => void;
  reject: (reason: unknown) => void;
  cleanup: () => void;
}

/**
 * Additive increase, multiplicative decrease, as TCP congestion control does (RFC 5681 §3.1): a 429 means "too many
 * at once", so halve; recover one step at a time so the endpoint is probed gently.
 *
 * Decrease once per loss episode, as TCP does once per window (RFC 6582 §3.2, NewReno's "recover" point): a 429 for a
 * request sent before the last decrease answers the load that decrease already corrected, and a 429 inside the
 * Retry-After the server gave with the last decrease is the same "wait" said again. Eight parallel connections that
 * all get a 429 from one overload are one signal, not eight; only a 429 for a request sent under the reduced limit,
 * after the server's wait, says the reduced limit is still too high.
 *
 * Increase by one per allowance's worth of successes (TCP's congestion avoidance: one segment per window of ACKs),
 * counting only requests sent after the last decrease, so a busy endpoint recovers within a few round trips of calm
 * rather than after a fixed pause; a quiet one (too few requests to fill the allowance) climbs after `increaseAfterMs`.
 */
export class ConnectionAllowance {
  readonly #clock: Clock;
  readonly #increaseAfterMs: number;
  readonly #queue: Waiter[] = [];
  #max: number;
  #limit: number;
  #inUse = 0;
  /** When the limit last halved: 429s for requests sent up to then belong to that episode. */
  #decreasedAt = -Infinity;
  /** The Retry-After given with the last decrease: 429s until then belong to the same episode. */
  #quietUntil = -Infinity;
  #lastChange: number;
  #successes = 0;

  constructor(options: ConnectionAllowanceOptions) {
    this.#clock = options.clock;
    this.#max = positiveInteger(options.max);
    this.#limit = this.#max;
    this.#increaseAfterMs = options.increaseAfterMs ?? DEFAULT_ALLOWANCE.increaseAfterMs;
    this.#lastChange = this.#clock.now();
  }

  /** Requests allowed open at once right now. */
  get limit(): number {
    return this.#limit;
  }

  get max(): number {
    return this.#max;
  }

  /** Requests open right now; may exceed `limit` just after a decrease (running requests are never cut). */
  get inUse(): number {
    return this.#inUse;
  }

  /** Requests queued for a slot. */
  get waiting(): number {
    return this.#queue.length;
  }

  /** Whether an acquire now would have to wait. */
  get full(): boolean {
    return this.#queue.length > 0 || this.#inUse >= this.#limit;
  }

  /** Waits (FIFO) for a slot and resolves with its release function. */
  acquire(signal?: AbortSignal): Promise<Release> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (!this.full) return Promise.resolve(this.#take());
    return new Promise<Release>((resolve, reject) => {
      const onAbort = () => {
        const index = this.#queue.indexOf(waiter);
        if (index >= 0) this.#queue.splice(index, 1);
        reject(signal!.reason);
      };
      const waiter: Waiter = { resolve, reject, cleanup: () => signal?.removeEventListener('abort', onAbort) };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(waiter);
    });
  }

  /**
   * A 429 arrived for a request sent at `sentAt`: halve the limit (never below 1) unless this episode was already
   * answered (see the class comment). Returns whether it halved.
   */
  on429(sentAt: number, retryAfterMs?: number | null): boolean {
    const now = this.#clock.now();
    this.#successes = 0;
    if (sentAt <= this.#decreasedAt || now < this.#quietUntil) return false;
    this.#limit = Math.max(1, Math.floor(this.#limit / 2));
    this.#decreasedAt = now;
    this.#quietUntil = now + Math.max(0, retryAfterMs ?? 0);
    this.#lastChange = now;
    return true;
  }

  /** A request sent at `sentAt` succeeded: after an allowance's worth of them (or a calm while), allow one more. Returns whether it grew. */
  onSuccess(sentAt: number): boolean {
    const now = this.#clock.now();
    if (this.#limit >= this.#max) return false;
    // A request sent before the last decrease succeeded under the old load: no evidence about the reduced limit.
    if (sentAt <= this.#decreasedAt) return false;
    this.#successes++;
    if (this.#successes < this.#limit && now - this.#lastChange < this.#increaseAfterMs) return false;
    this.#limit++;
    this.#successes = 0;
    this.#lastChange = now;
    this.#pump();
    return true;
  }

  /** Changes the ceiling (e.g. more connections asked for). An undisturbed limit follows it; a reduced one keeps climbing. */
  setMax(max: number): void {
    const next = positiveInteger(max);
    if (this.#limit >= this.#max || this.#limit > next) this.#limit = next;
    this.#max = next;
    this.#pump();
  }

  /** Rejects every waiter (the client is closing). */
  close(reason: unknown): void {
    for (const waiter of this.#queue.splice(0)) {
      waiter.cleanup();
      waiter.reject(reason);
    }
  }

  #take(): Release {
    this.#inUse++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#inUse--;
      this.#pump();
    };
  }

  #pump(): void {
    while (this.#queue.length > 0 && this.#inUse < this.#limit) {
      const waiter = this.#queue.shift()!;
      waiter.cleanup();
      waiter.resolve(this.#take());
    }
  }
}

function positiveInteger(value: number): number {
  if (!Number.isFinite(value) || value < 1) throw new RangeError(`a connection limit must be at least 1, got ${value}`);
  return Math.floor(value);
}
