// Tests for opening and migrating the catalog: versions, refusal of newer or unreadable files, rollback, pragmas.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { closeCatalog, openCatalog } from '../../src/main/store/database.ts';
import { getSchemaVersion, runMigrations } from '../../src/main/store/migrate.ts';
import { MIGRATIONS, type Migration } from '../../src/main/store/migrations/index.ts';

let dir: string;
let dbPath: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'filehaul-store-'));
  dbPath = path.join(dir, 'nested', 'catalog.sqlite');
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const newest = MIGRATIONS[MIGRATIONS.length - 1].version;

function tableNames(db: Database.Database): string[] {
  return db
    .prepare<[], { name: string }>("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .all()
    .map((r) => r.name);
}

describe('openCatalog', () => {
  it('creates the parent directory and migrates an empty file to the newest version', () => {
    const db = openCatalog(dbPath);
    try {
      expect(newest).toBe(2);
      expect(getSchemaVersion(db)).toBe(2);
      expect(tableNames(db)).toEqual(['archive_entries', 'archive_fts', 'archive_fts_config', 'archive_fts_data', 'archive_fts_docsize', 'archive_fts_idx', 'archive_months', 'dirty_months', 'downloads', 'segments']);
    } finally {
      closeCatalog(db);
    }
  });

  it('is idempotent when reopened', () => {
    closeCatalog(openCatalog(dbPath));
    const db = openCatalog(dbPath);
    try {
      expect(getSchemaVersion(db)).toBe(2);
      expect(tableNames(db)).toEqual(['archive_entries', 'archive_fts', 'archive_fts_config', 'archive_fts_data', 'archive_fts_docsize', 'archive_fts_idx', 'archive_months', 'dirty_months', 'downloads', 'segments']);
    } finally {
      closeCatalog(db);
    }
  });

  it('sets WAL, NORMAL sync, foreign keys and a busy timeout', () => {
    const db = openCatalog(dbPath);
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
      expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
    } finally {
      closeCatalog(db);
    }
  });

  it('refuses a catalog from a newer schema, naming both versions and the path', () => {
    fs.mkdirSync(path.dirname(dbPath), { recursive: true });
    const raw = new Database(dbPath);
    raw.pragma('user_version = 99');
    raw.close();

    expect(() => openCatalog(dbPath)).toThrow(
      `The catalog at ${dbPath} was written by a newer Filehaul (schema version 99, this version knows up to 2). ` +
        'Update Filehaul, or point it at another data directory.',
    );
    // Refused without touching it.
    const check = new Database(dbPath);
    expect(check.pragma('user_version', { simple: true })).toBe(99);
    expect(tableNames(check)).toEqual([]);
    check.close();
  });

  it('refuses a file that is not a SQLite database with a clear message', () => {
    fs.mkdirSync(path.dirname(dbPath), { recursive: true });
    fs.writeFileSync(dbPath, 'this is definitely not a database, just some text that is long enough '.repeat(20));

    let error: unknown;
    try {
      openCatalog(dbPath);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toContain(`The catalog at ${dbPath} is not a readable Filehaul database (`);
    expect(message).toContain('Move it aside and run `filehaul reindex` to rebuild it.');
  });

  it('refuses a tiny garbage file too', () => {
    fs.mkdirSync(path.dirname(dbPath), { recursive: true });
    fs.writeFileSync(dbPath, 'garbage');
    expect(() => openCatalog(dbPath)).toThrow(/is not a readable Filehaul database/);
  });
});

describe('runMigrations', () => {
  const createA: Migration = { version: 1, name: 'create a', up: (db) => db.exec('CREATE TABLE a (x INTEGER) STRICT') };

  it('rolls back a failing migration and keeps the previous version', () => {
    const failing: Migration = {
      version: 2,
      name: 'half done',
      up: (db) => {
        db.exec('CREATE TABLE b (y INTEGER) STRICT');
        db.exec('INSERT INTO a VALUES (1)');
        throw new Error('boom');
      },
    };
    fs.mkdirSync(path.dirname(dbPath), { recursive: true });
    const db = new Database(dbPath);
    try {
      expect(() => runMigrations(db, [createA, failing])).toThrow('Catalog migration 2 (half done) failed: boom');
      expect(getSchemaVersion(db)).toBe(1);
      expect(tableNames(db)).toEqual(['a']);
      expect(db.prepare('SELECT count(*) AS n FROM a').get()).toEqual({ n: 0 });
    } finally {
      db.close();
    }
  });

  it('runs only pending migrations', () => {
    const db = new Database(':memory:');
    try {
      expect(runMigrations(db, [createA])).toBe(1);
      let ran = false;
      const second: Migration = { version: 2, name: 'second', up: () => void (ran = true) };
      expect(runMigrations(db, [{ ...createA, up: () => { throw new Error('must not rerun'); } }, second])).toBe(2);
      expect(ran).toBe(true);
    } finally {
      db.close();
    }
  });

  it('rejects a migration list with gaps', () => {
    const db = new Database(':memory:');
    try {
      expect(() => runMigrations(db, [{ ...createA, version: 2 }])).toThrow(/out of order/);
      expect(getSchemaVersion(db)).toBe(0);
    } finally {
      db.close();
    }
  });
});
