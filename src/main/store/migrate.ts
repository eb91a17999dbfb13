// Migration runner: brings a catalog from its PRAGMA user_version up to the newest known schema, one transaction per step.
import type Database from 'better-sqlite3';
import { MIGRATIONS, type Migration } from './migrations/index.ts';

/** Thrown when the catalog was written by a newer build; opening it further could corrupt data that build relies on. */
export class CatalogTooNewError extends Error {
  readonly foundVersion: number;
  readonly knownVersion: number;
  constructor(path: string, foundVersion: number, knownVersion: number) {
    super(
      `The catalog at ${path} was written by a newer Filehaul (schema version ${foundVersion}, ` +
        `this version knows up to ${knownVersion}). Update Filehaul, or point it at another data directory.`,
    );
    this.name = 'CatalogTooNewError';
    this.foundVersion = foundVersion;
    this.knownVersion = knownVersion;
  }
}

export function getSchemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Runs every migration newer than the catalog's user_version. Each step and its user_version bump share one
 * transaction, so a crash or a throwing step leaves the catalog at the previous version, never half-migrated.
 * The list is a parameter so tests can feed failing steps; production uses the default.
 * Returns the schema version the catalog ends at.
 */
export function runMigrations(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): number {
  assertOrdered(migrations);
  const newest = migrations.length > 0 ? migrations[migrations.length - 1].version : 0;
  const current = getSchemaVersion(db);
  if (current > newest) throw new CatalogTooNewError(db.name, current, newest);

  for (const migration of migrations) {
    if (migration.version <= current) continue;
    const step = db.transaction(() => {
      migration.up(db);
      // user_version lives in the database header, which is written inside the transaction and rolled back with it.
      db.pragma(`user_version = ${migration.version}`);
    });
    try {
      // IMMEDIATE takes the write lock up front, so two processes opening the same catalog cannot both migrate.
      step.immediate();
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new Error(`Catalog migration ${migration.version} (${migration.name}) failed: ${reason}`, { cause: err });
    }
  }
  return getSchemaVersion(db);
}

// A gap or reordering would silently skip a step on some catalogs; fail loudly instead.
function assertOrdered(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new Error(`Migration list is out of order: position ${i} has version ${m.version}, expected ${i + 1}.`);
    }
  });
}
