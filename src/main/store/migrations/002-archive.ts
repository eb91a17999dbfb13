// Schema v2: the archive catalog (one row per archived file), its month summary, trigram name search and dirty manifest marks.
// Frozen once shipped: later changes go in a new migration.
import type { Migration } from './types.ts';

export const migration002: Migration = {
  version: 2,
  name: 'archive',
  up(db) {
    db.exec(`
      -- No foreign key to downloads: entries rebuilt from manifests outlive the download rows they came from.
      CREATE TABLE archive_entries (
        id            INTEGER PRIMARY KEY,
        download_id   TEXT,
        source_kind   TEXT NOT NULL CHECK (source_kind IN ('files-api', 'url', 'unknown')),
        source_ref    TEXT,
        file_id       TEXT,
        filename      TEXT NOT NULL,
        path          TEXT NOT NULL UNIQUE,
        month         TEXT NOT NULL CHECK (month GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]'),
        size_bytes    INTEGER NOT NULL CHECK (size_bytes >= 0),
        sha256        TEXT NOT NULL CHECK (length(sha256) = 64),
        mime_type     TEXT,
        created_at    TEXT,
        downloaded_at TEXT NOT NULL,
        etag          TEXT,
        encrypted     INTEGER NOT NULL DEFAULT 0 CHECK (encrypted IN (0, 1)),
        -- The month is the folder the file lives in, so a month's rows are also a range of the path index.
        CHECK (substr(path, 1, 12) = 'raw/' || month || '/' AND length(path) > 12)
      ) STRICT;

      -- A month's files sorted and paged (offset scans walk one month's slice of an index, never the table).
      -- NOCASE: people expect "b.txt" between "A.txt" and "C.txt".
      CREATE INDEX archive_entries_month_name ON archive_entries (month, filename COLLATE NOCASE);
      CREATE INDEX archive_entries_month_downloaded ON archive_entries (month, downloaded_at);
      CREATE INDEX archive_entries_month_size ON archive_entries (month, size_bytes);
      -- Searches of one or two characters across every month: trigrams cannot answer them, a name prefix can.
      CREATE INDEX archive_entries_name ON archive_entries (filename COLLATE NOCASE);
      -- "Is this file id / URL already archived?" (e.g. after a reindex lost the downloads table).
      CREATE INDEX archive_entries_source ON archive_entries (source_ref);

      -- Substring search on names: trigrams make any 3+ character fragment an index lookup, case-folded
      -- (Unicode, not only ASCII; diacritics still count: "cafe" does not find "Café", as in every other search mode).
      -- External content: the names are stored once, in archive_entries; the triggers below keep the index in sync.
      CREATE VIRTUAL TABLE archive_fts USING fts5 (
        filename,
        content = 'archive_entries',
        content_rowid = 'id',
        tokenize = 'trigram'
      );

      -- Listing months must not scan a million rows, so counts and bytes are kept per month as rows change.
      CREATE TABLE archive_months (
        month       TEXT PRIMARY KEY NOT NULL,
        file_count  INTEGER NOT NULL CHECK (file_count >= 0),
        total_bytes INTEGER NOT NULL CHECK (total_bytes >= 0)
      ) STRICT, WITHOUT ROWID;

      CREATE TRIGGER archive_entries_after_insert AFTER INSERT ON archive_entries BEGIN
        INSERT INTO archive_fts (rowid, filename) VALUES (new.id, new.filename);
        INSERT INTO archive_months (month, file_count, total_bytes) VALUES (new.month, 1, new.size_bytes)
          ON CONFLICT (month) DO UPDATE SET file_count = file_count + 1, total_bytes = total_bytes + excluded.total_bytes;
      END;

      CREATE TRIGGER archive_entries_after_delete AFTER DELETE ON archive_entries BEGIN
        INSERT INTO archive_fts (archive_fts, rowid, filename) VALUES ('delete', old.id, old.filename);
        UPDATE archive_months SET file_count = file_count - 1, total_bytes = total_bytes - old.size_bytes
          WHERE month = old.month;
        DELETE FROM archive_months WHERE month = old.month AND file_count = 0;
      END;

      -- Only the columns the index and the summary depend on; other updates (etag, mime type) cost nothing extra.
      CREATE TRIGGER archive_entries_after_update_name AFTER UPDATE OF filename ON archive_entries BEGIN
        INSERT INTO archive_fts (archive_fts, rowid, filename) VALUES ('delete', old.id, old.filename);
        INSERT INTO archive_fts (rowid, filename) VALUES (new.id, new.filename);
      END;

      CREATE TRIGGER archive_entries_after_update_month AFTER UPDATE OF month, size_bytes ON archive_entries BEGIN
        UPDATE archive_months SET file_count = file_count - 1, total_bytes = total_bytes - old.size_bytes
          WHERE month = old.month;
        INSERT INTO archive_months (month, file_count, total_bytes) VALUES (new.month, 1, new.size_bytes)
          ON CONFLICT (month) DO UPDATE SET file_count = file_count + 1, total_bytes = total_bytes + excluded.total_bytes;
        DELETE FROM archive_months WHERE month = old.month AND file_count = 0;
      END;

      -- Months whose manifest (meta/YYYY-MM.json) is behind the catalog. Every change to a month's entries bumps
      -- generation in the same transaction; a manifest written from generation g sets written_generation = g.
      -- Rows are kept (never deleted) so a generation number is never reused: a writer that read an old
      -- generation can always tell that its manifest is stale.
      CREATE TABLE dirty_months (
        month              TEXT PRIMARY KEY NOT NULL,
        generation         INTEGER NOT NULL,
        written_generation INTEGER NOT NULL DEFAULT 0,
        CHECK (written_generation <= generation)
      ) STRICT, WITHOUT ROWID;
    `);
  },
};
