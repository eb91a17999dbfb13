// Schema v1: the downloads catalog and the per-download segment journal.
// Frozen once shipped: later changes go in a new migration, so the state names are spelled out here rather than imported.
import type { Migration } from './types.ts';

export const migration001: Migration = {
  version: 1,
  name: 'initial',
  up(db) {
    db.exec(`
      CREATE TABLE downloads (
        id              TEXT PRIMARY KEY NOT NULL,
        source_kind     TEXT NOT NULL CHECK (source_kind IN ('files-api', 'url')),
        source_ref      TEXT NOT NULL,
        api_base        TEXT,
        filename        TEXT,
        mime_type       TEXT,
        size_bytes      INTEGER CHECK (size_bytes IS NULL OR size_bytes >= 0),
        created_at      TEXT,
        etag            TEXT,
        last_modified   TEXT,
        range_supported INTEGER CHECK (range_supported IS NULL OR range_supported IN (0, 1)),
        state           TEXT NOT NULL
                        CHECK (state IN ('queued', 'downloading', 'paused', 'verifying', 'done', 'failed')),
        error           TEXT,
        added_at        TEXT NOT NULL,
        updated_at      TEXT NOT NULL,
        completed_at    TEXT,
        final_path      TEXT,
        sha256          TEXT,
        restart_count   INTEGER NOT NULL DEFAULT 0 CHECK (restart_count >= 0)
      ) STRICT;

      -- "Have we seen this file before?" is asked on every add.
      CREATE INDEX downloads_source ON downloads (source_kind, source_ref, api_base);
      -- The queue and the UI filter by state.
      CREATE INDEX downloads_state ON downloads (state);
      -- The archive view lists finished files by completion time.
      CREATE INDEX downloads_completed_at ON downloads (completed_at);

      -- "end" is quoted everywhere because END is an SQL keyword.
      CREATE TABLE segments (
        download_id      TEXT NOT NULL REFERENCES downloads (id) ON DELETE CASCADE,
        start            INTEGER NOT NULL,
        "end"            INTEGER NOT NULL,
        confirmed_offset INTEGER NOT NULL,
        PRIMARY KEY (download_id, start),
        CHECK (start >= 0 AND start <= confirmed_offset AND confirmed_offset <= "end")
      ) STRICT;
    `);
  },
};
