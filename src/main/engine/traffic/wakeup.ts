// One re-armable timer on an injected Clock: a limiter arms it for the moment its next waiter can proceed, and re-arms it when that moment moves.
import type { Clock } from './clock.ts';

export class Wakeup {
  readonly #clock: Clock;
  readonly #fire: () => void;
  #pending: AbortController | null = null;
  #at: number | null = null;

  constructor(clock: Clock, fire: () => void) {
    this.#clock = clock;
    this.#fire = fire;
  }

  /** Arms the timer for `at` (ms epoch), replacing an earlier arming; a no-op when already armed for that moment. */
  at(at: number): void {
    if (this.#pending && this.#at === at) return;
    this.cancel();
    const controller = new AbortController();
    this.#pending = controller;
    this.#at = at;
    // Rounded up: waking a fraction of a millisecond early would only find the token not there yet and re-arm.
    const delay = Math.max(0, Math.ceil(at - this.#clock.now()));
    this.#clock.sleep(delay, controller.signal).then(
      () => {
        if (this.#pending !== controller) return;
        this.#pending = null;
        this.#at = null;
        this.#fire();
      },
      () => {
        // Cancelled: a newer arming (or close) replaced this one.
      },
    );
  }

  /** Disarms the timer, so an idle limiter keeps no timer (and no process) alive. */
  cancel(): void {
    this.#pending?.abort();
    this.#pending = null;
    this.#at = null;
  }
}
