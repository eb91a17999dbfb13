// The global speed cap: a byte-rate token bucket shared by every connection, changeable while running, handing out bytes round-robin in small pieces.
import type { Clock } from './clock.ts';
import { Wakeup } from './wakeup.ts';

export interface BandwidthLimiterOptions {
  /** Bytes per second; null = unlimited. */
  bytesPerSecond: number | null;
  clock: Clock;
  /** Largest grant at a time; a bigger take is served in pieces, going to the back of the line after each. */
  pieceBytes?: number;
  /** Bucket size in milliseconds of the rate: how much may go out at once after a quiet spell. */
  burstMs?: number;
}

export const DEFAULT_PIECE_BYTES = 64 * 1024;
const DEFAULT_BURST_MS = 100;

interface Waiter {
  remaining: number;
  resolve: () => void;
  reject: (reason: unknown) => void;
  cleanup: () => void;
}

/**
 * Fairness: each waiter gets at most one piece per turn and then queues again behind the others, so a connection
 * asking for a megabyte cannot hold the line while another waits for 16 KiB. Accuracy: the bucket holds at most
 * `burstMs` of the rate (100 ms, i.e. 2% over a 5 s window) and a piece may overdraw it once, paid back before the
 * next grant, so over any long window the bytes granted are rate × time plus at most one bucket and one piece.
 */
export class BandwidthLimiter {
  readonly #clock: Clock;
  readonly #pieceBytes: number;
  readonly #burstMs: number;
  readonly #queue: Waiter[] = [];
  readonly #wakeup: Wakeup;
  #rate: number | null = null;
  #tokens = 0;
  #updatedAt: number;

  constructor(options: BandwidthLimiterOptions) {
    this.#clock = options.clock;
    this.#pieceBytes = Math.max(1, Math.floor(options.pieceBytes ?? DEFAULT_PIECE_BYTES));
    this.#burstMs = options.burstMs ?? DEFAULT_BURST_MS;
    this.#updatedAt = this.#clock.now();
    this.#wakeup = new Wakeup(this.#clock, () => this.#grant());
    this.setRate(options.bytesPerSecond);
  }

  /** Current cap in bytes per second, or null when unlimited. */
  get bytesPerSecond(): number | null {
    return this.#rate === null ? null : this.#rate * 1000;
  }

  /** Consumers waiting for bytes. */
  get waiting(): number {
    return this.#queue.length;
  }

  /** Changes the cap at once, for waiters too (null lets everyone through). */
  setRate(bytesPerSecond: number | null): void {
    if (bytesPerSecond !== null && (!(bytesPerSecond > 0) || !Number.isFinite(bytesPerSecond))) {
      throw new RangeError(`a bandwidth cap must be a positive number of bytes per second or null, got ${bytesPerSecond}`);
    }
    const wasUnlimited = this.#rate === null;
    this.#refill();
    this.#rate = bytesPerSecond === null ? null : bytesPerSecond / 1000;
    // From unlimited, start with a full bucket; otherwise keep what was earned, within the new bucket's size.
    this.#tokens = wasUnlimited ? this.#capacity() : Math.min(this.#tokens, this.#capacity());
    this.#grant();
  }

  /** Waits until `bytes` may be consumed. Call it before (or after) each chunk read from a body. */
  take(bytes: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#rate === null || bytes <= 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const index = this.#queue.indexOf(waiter);
        if (index >= 0) this.#queue.splice(index, 1);
        reject(signal!.reason);
        this.#schedule();
      };
      const waiter: Waiter = { remaining: bytes, resolve, reject, cleanup: () => signal?.removeEventListener('abort', onAbort) };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(waiter);
      this.#grant();
    });
  }

  /** Rejects every waiter and drops the timer. */
  close(reason: unknown): void {
    this.#wakeup.cancel();
    for (const waiter of this.#queue.splice(0)) {
      waiter.cleanup();
      waiter.reject(reason);
    }
  }

  #capacity(): number {
    return this.#rate === null ? Infinity : Math.max(1, this.#rate * this.#burstMs);
  }

  /** Tokens one piece needs before it may go: the piece, or a full bucket when the piece is bigger than the bucket. */
  #need(waiter: Waiter): number {
    return Math.min(Math.min(waiter.remaining, this.#pieceBytes), this.#capacity());
  }

  #refill(): void {
    const now = this.#clock.now();
    const elapsed = now - this.#updatedAt;
    this.#updatedAt = now;
    if (this.#rate === null || elapsed <= 0) return;
    this.#tokens = Math.min(this.#capacity(), this.#tokens + elapsed * this.#rate);
  }

  #grant(): void {
    this.#refill();
    if (this.#rate === null) {
      for (const waiter of this.#queue.splice(0)) {
        waiter.cleanup();
        waiter.resolve();
      }
      this.#schedule();
      return;
    }
    while (this.#queue.length > 0) {
      const waiter = this.#queue[0];
      if (this.#tokens < this.#need(waiter)) break;
      const piece = Math.min(waiter.remaining, this.#pieceBytes);
      this.#tokens -= piece;
      waiter.remaining -= piece;
      this.#queue.shift();
      if (waiter.remaining > 0) {
        this.#queue.push(waiter);
      } else {
        waiter.cleanup();
        waiter.resolve();
      }
    }
    this.#schedule();
  }

  #schedule(): void {
    if (this.#queue.length === 0 || this.#rate === null) {
      this.#wakeup.cancel();
      return;
    }
    const missing = this.#need(this.#queue[0]) - this.#tokens;
    this.#wakeup.at(this.#clock.now() + Math.max(0, missing) / this.#rate);
  }
}
