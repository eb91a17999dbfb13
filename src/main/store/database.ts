// Catalog connection: opens the SQLite file with Filehaul's pragmas, migrates it, and turns unreadable files into a plain message.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Migration } from './migrations/index.ts';
import { runMigrations } from './migrate.ts';

/** SQLite result codes meaning the bytes on disk are not a usable database (rather than, say, a lock or a permission). */
const UNREADABLE_CODES = new Set(['SQLITE_NOTADB', 'SQLITE_CORRUPT']);

/**
 * Opens (creating if needed) the catalog at dbPath and brings its schema up to date.
 * `migrations` exists for tests; callers normally omit it.
 */
export function openCatalog(dbPath: string, migrations?: readonly Migration[]): Database.Database {
  if (dbPath !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(dbPath)), { recursive: true });

  let db: Database.Database | undefined;
  try {
    db = new Database(dbPath);
    // busy_timeout first, so switching to WAL waits for another process's lock instead of failing.
    db.pragma('busy_timeout = 5000');
    // WAL lets the UI read while the engine writes; NORMAL is durable across app crashes, and a power cut
    // costs at most the last commits, which the .part files' own fsynced offsets tolerate.
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    // Off by default in SQLite; segments rely on ON DELETE CASCADE.
    db.pragma('foreign_keys = ON');
    runMigrations(db, migrations);
    return db;
  } catch (err) {
    db?.close();
    const unreadable = unreadableCause(err);
    if (unreadable) {
      const reason = unreadable.message;
      throw new Error(
        `The catalog at ${dbPath} is not a readable Filehaul database (${reason}). ` +
          'Move it aside and run `filehaul reindex` to rebuild it.',
        { cause: err },
      );
    }
    throw err;
  }
}

/** Closes the catalog; safe to call twice. */
export function closeCatalog(db: Database.Database): void {
  if (!db.open) return;
  try {
    // Cheap on close and keeps query plans good as the catalog grows; never worth failing a shutdown over.
    db.pragma('optimize');
  } catch {
    // ignored: see above
  }
  db.close();
}

// Walks the cause chain because the migration runner wraps the errors of its steps.
function unreadableCause(err: unknown): Error | undefined {
  for (let e = err; e instanceof Error; e = e.cause) {
    if (!(e instanceof Database.SqliteError)) continue;
    const code = e.code;
    // Extended codes such as SQLITE_CORRUPT_VTAB share the primary code's prefix.
    if ([...UNREADABLE_CODES].some((c) => code === c || code.startsWith(`${c}_`))) return e;
  }
  return undefined;
}
