// Manifest bookkeeping over table dirty_months: which months' manifests are behind the catalog, as change counters.
import type Database from 'better-sqlite3';

// generation counts changes to a month's entries; written_generation says which of them the manifest on disk
// reflects (see migration 002).

export interface DirtyMonth {
  month: string;
  generation: number;
}

/** Notes that a month's entries changed; call inside the transaction that changed them. */
export function markMonthDirty(db: Database.Database, month: string): void {
  dirtyStatements(db).mark.run(month);
}

/** Months whose manifest is behind the catalog, oldest first. */
export function listDirtyMonths(db: Database.Database): DirtyMonth[] {
  return dirtyStatements(db).listDirty.all();
}

export interface MonthGenerations {
  /** Changes to the month's entries so far (0: never changed). */
  generation: number;
  /** The generation the manifest on disk reflects. */
  writtenGeneration: number;
}

/** Where a month's manifest stands. Read it before reading the entries a manifest is made of. */
export function monthGenerations(db: Database.Database, month: string): MonthGenerations {
  return dirtyStatements(db).generation.get(month) ?? { generation: 0, writtenGeneration: 0 };
}

/**
 * Records that the manifest on disk now reflects `generation`, if that is newer than what it reflected;
 * returns false (nothing changed) when a newer manifest was written meanwhile. Call in the transaction that
 * renames the manifest into place, so renames across processes never move a manifest backwards.
 */
export function claimManifestWrite(db: Database.Database, month: string, generation: number): boolean {
  return dirtyStatements(db).claim.run(generation, month, generation).changes > 0;
}

interface DirtyStatements {
  mark: Database.Statement<[string]>;
  listDirty: Database.Statement<[], DirtyMonth>;
  generation: Database.Statement<[string], MonthGenerations>;
  claim: Database.Statement<[number, string, number]>;
}

const dirtyCache = new WeakMap<Database.Database, DirtyStatements>();

function dirtyStatements(db: Database.Database): DirtyStatements {
  let s = dirtyCache.get(db);
  if (!s) {
    s = {
      mark: db.prepare<[string]>(
        `INSERT INTO dirty_months (month, generation) VALUES (?, 1)
         ON CONFLICT (month) DO UPDATE SET generation = generation + 1`,
      ),
      listDirty: db.prepare<[], DirtyMonth>(
        'SELECT month, generation FROM dirty_months WHERE generation > written_generation ORDER BY month',
      ),
      generation: db.prepare<[string], MonthGenerations>(
        'SELECT generation, written_generation AS writtenGeneration FROM dirty_months WHERE month = ?',
      ),
      claim: db.prepare<[number, string, number]>(
        'UPDATE dirty_months SET written_generation = ? WHERE month = ? AND written_generation < ?',
      ),
    };
    dirtyCache.set(db, s);
  }
  return s;
}
