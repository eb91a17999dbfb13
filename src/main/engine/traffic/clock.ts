// Time as the traffic limiters see it: an injectable clock so pacing logic is tested with a hand-driven fake, never real sleeps.
import { setTimeout as sleepFor } from 'node:timers/promises';

export interface Clock {
  /** Milliseconds since the Unix epoch (the same scale as Date.now(), so "waiting until" can be shown as a time of day). */
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleepFor(Math.max(0, ms), undefined, { signal }),
};
