// Migration shape: one schema step, numbered so PRAGMA user_version records how far a catalog has come.
import type Database from 'better-sqlite3';

export interface Migration {
  /** The user_version the catalog has once this step has run; 1, 2, 3… with no gaps. */
  version: number;
  /** Short name for error messages. */
  name: string;
  /** Applies the step. Runs inside a transaction the runner owns, so it must not open its own. */
  up(db: Database.Database): void;
}
