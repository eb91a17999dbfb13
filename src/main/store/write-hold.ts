// Holding the catalog's write lock across a few awaits: finalize waits out another process's long transaction without blocking the event loop, then keeps the lock until its commit.
import { setTimeout as sleep } from 'node:timers/promises';
import type Database from 'better-sqlite3';

/** The catalog stayed locked by another process for longer than the caller would wait. */
export class CatalogLockedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CatalogLockedError';
  }
}

/** SQLite's "someone else holds the lock" answers (BUSY on another connection's write lock, LOCKED within a shared cache). */
export function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

export interface WriteHoldOptions {
  /** How often the lock is tried while another process holds it. */
  pollMs?: number;
  /**
   * A hold whose release never comes (the caller failed between acquiring and committing) is committed after this
   * long, so the connection never stays inside an open transaction.
   */
  guardMs?: number;
}

/**
 * better-sqlite3 waits for a lock inside the call (busy_timeout, 5 s), blocking the event loop, and then throws:
 * a finished download whose commit met a longer transaction of another process (a reindex, a second Filehaul) failed.
 * This takes the write lock (BEGIN IMMEDIATE) by trying without waiting and sleeping between tries, so nothing
 * blocks, and holds it until released, so the commit that follows cannot meet the lock again.
 *
 * While held, this connection's other writes (journal saves of other downloads) run inside the open transaction:
 * better-sqlite3 nests their transactions as savepoints, and they are committed with the release.
 */
export class CatalogWriteHold {
  readonly #db: Database.Database;
  readonly #pollMs: number;
  readonly #guardMs: number;
  #holders = 0;
  /** Bumped whenever the transaction ends, so a release from an earlier hold cannot end a later one. */
  #generation = 0;
  #guard: NodeJS.Timeout | null = null;

  constructor(db: Database.Database, options: WriteHoldOptions = {}) {
    this.#db = db;
    this.#pollMs = options.pollMs ?? 200;
    this.#guardMs = options.guardMs ?? 5000;
  }

  /**
   * Resolves once this connection holds the write lock, with the function that lets it go (committing what was
   * written meanwhile; it throws if that commit fails). Rejects with CatalogLockedError after `timeoutMs`.
   */
  async acquire(timeoutMs: number, what: string): Promise<() => void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const release = this.#tryAcquire();
      if (release) return release;
      if (Date.now() >= deadline) {
        throw new CatalogLockedError(`the catalog stayed locked by another process for ${Math.round(timeoutMs / 1000)} s, so ${what} could not be recorded yet; it is kept, and the same command records it once the catalog is free`);
      }
      await sleep(Math.min(this.#pollMs, Math.max(0, deadline - Date.now())));
    }
  }

  #tryAcquire(): (() => void) | null {
    if (this.#holders === 0) {
      // Inside a transaction this hold did not open (cannot happen across an await today): it already has the lock.
      if (this.#db.inTransaction) return () => {};
      if (!this.#begin()) return null;
      this.#generation++;
      this.#guard = setTimeout(() => {
        try {
          this.#end();
        } catch {
          // Rolled back; the writes it held are the kind that are made again (progress, states).
        }
      }, this.#guardMs);
      this.#guard.unref();
    }
    this.#holders++;
    const generation = this.#generation;
    let released = false;
    return () => {
      if (released || generation !== this.#generation) return;
      released = true;
      if (--this.#holders === 0) this.#end();
    };
  }

  /** BEGIN IMMEDIATE without waiting: the busy timeout goes to 0 for this one statement (nothing else runs meanwhile). */
  #begin(): boolean {
    const previous = this.#db.pragma('busy_timeout', { simple: true }) as number;
    this.#db.pragma('busy_timeout = 0');
    try {
      this.#db.exec('BEGIN IMMEDIATE');
      return true;
    } catch (error) {
      if (isBusy(error)) return false;
      throw error;
    } finally {
      this.#db.pragma(`busy_timeout = ${previous}`);
    }
  }

  #end(): void {
    if (this.#guard) clearTimeout(this.#guard);
    this.#guard = null;
    this.#holders = 0;
    this.#generation++;
    if (!this.#db.open || !this.#db.inTransaction) return;
    try {
      this.#db.exec('COMMIT');
    } catch (error) {
      // A commit that cannot be written (disk full) must not leave the transaction open: undo it, and say so.
      if (this.#db.inTransaction) this.#db.exec('ROLLBACK');
      throw error;
    }
  }
}
