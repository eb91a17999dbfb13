// How many requests may be open on one endpoint at once: a FIFO semaphore whose limit halves on 429 and climbs back by one after a calm run (AIMD).
import type { Clock } from './clock.ts';

export interface ConnectionAllowanceOptions {
  /** Starting and highest limit. */
  max: number;
  clock: Clock;
  /** After a decrease, further 429s within this long (or the server's Retry-After, if longer) do not decrease again. */
  decreaseWindowMs?: number;
  /** Successes needed since the last change before the limit climbs by one. */
  increaseAfterSuccesses?: number;
  /** Time needed since the last change before the limit climbs by one. */
  increaseAfterMs?: number;
}

export const DEFAULT_ALLOWANCE = { decreaseWindowMs: 1000, increaseAfterSuccesses: 8, increaseAfterMs: 10_000 };

/** Gives the slot back; safe to call more than once (only the first call counts). */
export type Release = () => void;

interface Waiter {
  resolve: (release: Release) => void;
  reject: (reason: unknown) => void;
  cleanup: () => void;
}

/**
 * Additive increase, multiplicative decrease, as TCP congestion control does (RFC 5681 §3.1): a 429 means "too many
 * at once", so halve; recover one step at a time so the endpoint is probed gently. Eight parallel connections that
 * all get a 429 from the same overload are one signal, not eight: decreases are at most one per window.
 */
export class ConnectionAllowance {
  readonly #clock: Clock;
  readonly #decreaseWindowMs: number;
  readonly #increaseAfterSuccesses: number;
  readonly #increaseAfterMs: number;
  readonly #queue: Waiter[] = [];
  #max: number;
  #limit: number;
  #inUse = 0;
  #quietUntil = -Infinity;
  #lastChange: number;
  #successes = 0;

  constructor(options: ConnectionAllowanceOptions) {
    this.#clock = options.clock;
    this.#max = positiveInteger(options.max);
    this.#limit = this.#max;
    this.#decreaseWindowMs = options.decreaseWindowMs ?? DEFAULT_ALLOWANCE.decreaseWindowMs;
    this.#increaseAfterSuccesses = options.increaseAfterSuccesses ?? DEFAULT_ALLOWANCE.increaseAfterSuccesses;
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

  /** A 429 arrived: halve the limit (never below 1), unless this overload was already answered. Returns whether it halved. */
  on429(retryAfterMs?: number | null): boolean {
    const now = this.#clock.now();
    this.#successes = 0;
    if (now < this.#quietUntil) return false;
    this.#limit = Math.max(1, Math.floor(this.#limit / 2));
    this.#quietUntil = now + Math.max(this.#decreaseWindowMs, retryAfterMs ?? 0);
    this.#lastChange = now;
    return true;
  }

  /** A request succeeded: after enough of them and enough calm time, allow one more. Returns whether it grew. */
  onSuccess(): boolean {
    this.#successes++;
    const now = this.#clock.now();
    if (this.#limit >= this.#max) return false;
    if (this.#successes < this.#increaseAfterSuccesses || now - this.#lastChange < this.#increaseAfterMs) return false;
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
