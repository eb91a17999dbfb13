// Why and until when a download is held back (budget, cool-down, Retry-After, backoff), and how long its requests take to answer.
import type { RequestWait } from './http/client.ts';

/** A hold on the download: its reason ('budget', 'cooldown', 'connections', 'rate limit', 'retry') and end (ms epoch; null: unknown). */
export interface Wait {
  reason: string;
  until: number | null;
}

/**
 * What the download waits for right now, for its progress events: set by the traffic client while a request is held
 * back and by the retry loop while it backs off, cleared when the request goes or the retry resumes.
 */
export class RunWaits {
  #current: Wait | null = null;
  readonly #onHeld: () => void;

  /** `onHeld` hears each time a request is held back (the run then reports at once if nothing else would). */
  constructor(onHeld: () => void) {
    this.#onHeld = onHeld;
  }

  get current(): Wait | null {
    return this.#current;
  }

  /** For a request: the traffic client's hold (or null when the request is sent). */
  readonly listener = (wait: Wait | null): void => {
    this.#current = wait;
    if (wait) this.#onHeld();
  };

  /** A listener for one request that also measures its response time: from when it was sent (after any wait) to its headers. */
  timed(): { onWait: (wait: RequestWait | null) => void; elapsed: () => number } {
    let sentAt = Date.now();
    return {
      onWait: (wait) => {
        this.listener(wait);
        if (wait === null) sentAt = Date.now();
      },
      elapsed: () => Date.now() - sentAt,
    };
  }

  /** The retry loop backs off for `delayMs` (a 429/503/529 is a rate limit, anything else a retry). */
  backingOff(delayMs: number, slowDown: boolean): void {
    this.#current = delayMs > 0 ? { reason: slowDown ? 'rate limit' : 'retry', until: Date.now() + delayMs } : null;
  }

  /** The retry loop goes on. */
  resumed(): void {
    this.#current = null;
  }
}
