// A Clock driven by hand, for tests of time-based logic: time moves only when the test calls advance(), so pacing is checked exactly and instantly.
import { setImmediate as turn } from 'node:timers/promises';
import type { Clock } from './clock.ts';

interface Timer {
  at: number;
  seq: number;
  resolve: () => void;
}

export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: Timer[] = [];

  /** Starts at a fixed, readable instant so tests can compare absolute "waiting until" times. */
  constructor(start: number = Date.UTC(2025, 5, 15, 12, 0, 0)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const timer: Timer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, resolve: () => done(resolve) };
      const onAbort = () => {
        this.#timers = this.#timers.filter((t) => t !== timer);
        done(() => reject(signal!.reason));
      };
      const done = (settle: () => void) => {
        signal?.removeEventListener('abort', onAbort);
        settle();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#timers.push(timer);
    });
  }

  /** Timers not yet fired (a limiter with nobody waiting should leave none). */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  /** Moves time forward by `ms`, firing due timers in order and letting the promise chains they start settle. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    await this.settle();
    for (;;) {
      const due = this.#timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      this.#now = Math.max(this.#now, due.at);
      due.resolve();
      await this.settle();
    }
    this.#now = target;
    await this.settle();
  }

  /**
   * Moves time forward by `ms` without firing the timers due meanwhile, as an event loop held busy (a GC pause, a
   * loaded machine) does: they fire late, at the next advance().
   */
  stall(ms: number): void {
    this.#now += ms;
  }

  /** Lets pending promise callbacks run (a couple of event-loop turns; no time passes). */
  async settle(): Promise<void> {
    await turn();
    await turn();
  }
}
