// Waits for disk space: while downloads are paused because the disk is full, checks free space every few seconds and lets each go once there is room for what it still has to write.
import { statfs } from 'node:fs/promises';
import { formatBytes } from '../util/format-bytes.ts';
import { systemClock, type Clock } from './traffic/clock.ts';

/** Free bytes on the file system that holds `dir`. */
export type FreeSpaceProbe = (dir: string) => Promise<number>;

/**
 * bavail, not bfree: the blocks a file system keeps for root are not ours to count on, and a download that
 * resumed on them would run out again at once (Filehaul is usually not root, and should behave the same when it is).
 */
export const statfsFreeBytes: FreeSpaceProbe = async (dir) => {
  const stats = await statfs(dir);
  return stats.bavail * stats.bsize;
};

/** Starts every message of a download waiting for space, so the command line and the windows can tell it from a user pause. */
export const SPACE_WAIT_PREFIX = 'waiting for disk space';

/** What one check found for one waiting download: what it needs free to resume (margin included) and what is free. */
export interface SpaceCheck {
  neededBytes: number;
  freeBytes: number;
}

export interface StorageWatchOptions {
  /** A directory on the file system the downloads write to (the data dir); it is named in the message. */
  dir: string;
  freeBytes?: FreeSpaceProbe;
  clock?: Clock;
  /** How often free space is checked while anything waits. statfs is cheap; a few seconds keeps the wait short. */
  intervalMs?: number;
  /**
   * Room kept on top of what the downloads still write: the catalog's pages and WAL, the month's manifest, the log,
   * and the reserve file recreated before they resume. Must exceed the reserve, or freeing the reserve on a full disk
   * would itself look like space returning and the download would bounce straight back into the full disk.
   */
  marginBytes?: number;
  /** Runs once before waiting downloads are let go (recreates the disk reserve); its failure does not stop them. */
  beforeResume?: () => Promise<void>;
}

export const DEFAULT_SPACE_CHECK_MS = 2000;
export const DEFAULT_SPACE_MARGIN_BYTES = 3 * 1024 * 1024;

interface Waiter {
  id: string;
  /** Bytes the download still has to write (the margin is added when deciding). */
  bytes: number;
  /** Not let go before this time (clock ms), even with space: a download that bounced back at once waits longer. */
  eligibleAt: number;
  onCheck?: (check: SpaceCheck) => void;
  settle: (resumed: boolean) => void;
}

/**
 * Which waiting downloads fit into `freeBytes`, in the order they began waiting. The margin is kept once; each chosen
 * download then takes its own bytes from what is left, so two downloads never both count on the same free space.
 * A later, smaller download may go while an earlier, larger one keeps waiting.
 */
export function chooseResumable(waiters: readonly { id: string; bytes: number }[], freeBytes: number, marginBytes: number): string[] {
  let left = freeBytes - marginBytes;
  const chosen: string[] = [];
  for (const waiter of waiters) {
    if (waiter.bytes > left) continue;
    chosen.push(waiter.id);
    left -= waiter.bytes;
  }
  return chosen;
}

/**
 * One watcher per data dir. It runs only while at least one download waits on it and stops by itself when none is
 * left. It never decides who waits: only downloads handed to wait() are ever let go, so one the user paused (which
 * is never handed over, or is withdrawn through its signal) can not be resumed by it.
 */
export class StorageWatch {
  readonly dir: string;
  readonly marginBytes: number;
  readonly intervalMs: number;
  readonly #freeBytes: FreeSpaceProbe;
  readonly #clock: Clock;
  readonly #beforeResume: (() => Promise<void>) | undefined;
  #waiters: Waiter[] = [];
  /** Aborts the sleep between checks, so the watcher stops at once when the last waiter leaves. */
  #sleep: AbortController | null = null;
  #loop: Promise<void> | null = null;
  #checking: Promise<void> | null = null;

  constructor(options: StorageWatchOptions) {
    this.dir = options.dir;
    this.marginBytes = options.marginBytes ?? DEFAULT_SPACE_MARGIN_BYTES;
    this.intervalMs = options.intervalMs ?? DEFAULT_SPACE_CHECK_MS;
    this.#freeBytes = options.freeBytes ?? statfsFreeBytes;
    this.#clock = options.clock ?? systemClock;
    this.#beforeResume = options.beforeResume;
  }

  /** Downloads waiting for space right now. */
  get waitingCount(): number {
    return this.#waiters.length;
  }

  /** Whether the watcher is checking on an interval (it is exactly while something waits). */
  get active(): boolean {
    return this.#loop !== null;
  }

  /**
   * Waits until free space covers `bytes` plus the margin: resolves true when the download may resume, false when
   * `signal` aborted first (the user paused it, or the service is closing). `onCheck` hears every measurement, the
   * first one at once, so the download can say how much it needs and how much is free. `minWaitMs` holds it back
   * at least that long even when space looks free.
   */
  wait(id: string, bytes: number, options: { signal?: AbortSignal; minWaitMs?: number; onCheck?: (check: SpaceCheck) => void } = {}): Promise<boolean> {
    const { signal } = options;
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = () => this.#remove(waiter, false);
      const waiter: Waiter = {
        id,
        bytes: Math.max(0, bytes),
        eligibleAt: this.#clock.now() + Math.max(0, options.minWaitMs ?? 0),
        onCheck: options.onCheck,
        settle: (resumed) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(resumed);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
      // Say at once how much is missing; letting go waits for the first interval, so a disk that is still full
      // (the reserve just freed, a quota statfs cannot see) is never hammered in a tight loop.
      void this.#measure().then((free) => {
        if (free !== null && this.#waiters.includes(waiter)) waiter.onCheck?.({ neededBytes: waiter.bytes + this.marginBytes, freeBytes: free });
      });
      this.#startLoop();
    });
  }

  /** One round: measure, let go every eligible download that fits, tell the others. Exposed for tests. */
  check(): Promise<void> {
    this.#checking ??= this.#checkOnce().finally(() => (this.#checking = null));
    return this.#checking;
  }

  /** Lets every waiting download go as not resumed and stops checking (the service is closing). */
  close(): void {
    for (const waiter of [...this.#waiters]) this.#remove(waiter, false);
  }

  async #checkOnce(): Promise<void> {
    if (this.#waiters.length === 0) return;
    const free = await this.#measure();
    if (free === null) return;
    const now = this.#clock.now();
    const eligible = this.#waiters.filter((waiter) => waiter.eligibleAt <= now);
    const chosen = new Set(chooseResumable(eligible, free, this.marginBytes));
    const going = this.#waiters.filter((waiter) => chosen.has(waiter.id));
    if (going.length > 0) await this.#beforeResume?.().catch(() => {});
    for (const waiter of going) this.#remove(waiter, true);
    for (const waiter of this.#waiters) waiter.onCheck?.({ neededBytes: waiter.bytes + this.marginBytes, freeBytes: free });
  }

  async #measure(): Promise<number | null> {
    try {
      return await this.#freeBytes(this.dir);
    } catch {
      // A failed statfs says nothing about space: try again at the next interval rather than guess.
      return null;
    }
  }

  #remove(waiter: Waiter, resumed: boolean): void {
    const index = this.#waiters.indexOf(waiter);
    if (index < 0) return;
    this.#waiters.splice(index, 1);
    if (this.#waiters.length === 0) this.#sleep?.abort();
    waiter.settle(resumed);
  }

  #startLoop(): void {
    if (this.#loop) return;
    this.#loop = (async () => {
      try {
        while (this.#waiters.length > 0) {
          this.#sleep = new AbortController();
          try {
            await this.#clock.sleep(this.intervalMs, this.#sleep.signal);
          } catch {
            // Aborted: the last waiter left.
          }
          await this.check();
        }
      } finally {
        this.#sleep = null;
        this.#loop = null;
      }
    })();
  }
}

/** What a storage-paused outcome was about: only a full disk is watched (statfs cannot see a quota, EDQUOT). */
export function pausedForSpace(outcome: { state: string; message?: string; code?: string }): boolean {
  if (outcome.state !== 'paused' || !outcome.message) return false;
  // Prefer the error code when the run reports one; older outcomes carry it only in the message: "... (ENOSPC): ...".
  return outcome.code !== undefined ? outcome.code === 'ENOSPC' : /\(ENOSPC\)/.test(outcome.message);
}

/** The message of a download waiting for space: what must be free, what is, and that it goes on by itself. */
export function spaceWaitMessage(check: SpaceCheck, dir: string): string {
  return `${SPACE_WAIT_PREFIX} in ${dir}: needs ${formatBytes(Math.max(0, check.neededBytes))} free, ${formatBytes(Math.max(0, check.freeBytes))} free now; resumes by itself once there is room`;
}
