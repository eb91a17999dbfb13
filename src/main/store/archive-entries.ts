// Archive catalog entries: record, look up and delete a file's row, list months and page through a month; the module the rest of the code imports.
import type Database from 'better-sqlite3';
import { markMonthDirty } from './dirty-months.ts';
import {
  type ArchiveEntry,
  type ArchivePage,
  type EntryRow,
  type NewArchiveEntry,
  ENTRY_COLUMNS,
  assertMonth,
  fromRow,
  monthOfPath,
  paging,
} from './archive-entry-rows.ts';

export {
  type ArchiveSourceKind,
  type ArchiveEntry,
  type NewArchiveEntry,
  type ArchivePage,
  DEFAULT_PAGE_SIZE,
  monthOfPath,
  isArchiveMonth,
} from './archive-entry-rows.ts';
export { searchArchive, SEARCH_COUNT_CAP, type SearchOptions, type SearchMode, type SearchResult } from './archive-search.ts';

export interface MonthSummary {
  month: string;
  fileCount: number;
  totalBytes: number;
}

export type ArchiveSort = 'name' | 'downloaded' | 'size';

export interface MonthFilesOptions {
  sort?: ArchiveSort;
  /** Default: ascending for name, descending (newest, largest first) for downloaded and size. */
  direction?: 'asc' | 'desc';
  offset?: number;
  limit?: number;
}

type Params = Record<string, string | number | null>;

// ORDER BY clauses that match an index on (month, <column>) exactly, so a page never sorts the month.
// The rowid tie-break is free: every index entry ends with the rowid.
const ORDER: Record<ArchiveSort, { asc: string; desc: string; defaultDirection: 'asc' | 'desc' }> = {
  name: { asc: 'filename COLLATE NOCASE ASC, id ASC', desc: 'filename COLLATE NOCASE DESC, id DESC', defaultDirection: 'asc' },
  downloaded: { asc: 'downloaded_at ASC, id ASC', desc: 'downloaded_at DESC, id DESC', defaultDirection: 'desc' },
  size: { asc: 'size_bytes ASC, id ASC', desc: 'size_bytes DESC, id DESC', defaultDirection: 'desc' },
};

interface Statements {
  upsert: Database.Statement<[Params], EntryRow>;
  byPath: Database.Statement<[string], EntryRow>;
  byId: Database.Statement<[number], EntryRow>;
  bySource: Database.Statement<[string], EntryRow>;
  deleteById: Database.Statement<[number]>;
  months: Database.Statement<[], { month: string; file_count: number; total_bytes: number }>;
  monthTotal: Database.Statement<[string], { file_count: number }>;
  monthPages: Map<string, Database.Statement<[string, number, number], EntryRow>>;
  monthByPath: Database.Statement<[string, string, number], EntryRow>;
}

// Month paging and lookups run often, so each connection prepares them once.
const cache = new WeakMap<Database.Database, Statements>();

function statements(db: Database.Database): Statements {
  let s = cache.get(db);
  if (s) return s;
  const upsertColumns = ENTRY_COLUMNS.split(', ').filter((c) => c !== 'id');
  s = {
    // A path names one file: recording it again (a finalize repeated after a crash) updates the row in place.
    upsert: db.prepare<[Params], EntryRow>(
      `INSERT INTO archive_entries (${upsertColumns.join(', ')})
       VALUES (${upsertColumns.map((c) => `@${c}`).join(', ')})
       ON CONFLICT (path) DO UPDATE SET ${upsertColumns.filter((c) => c !== 'path').map((c) => `${c} = excluded.${c}`).join(', ')}
       RETURNING ${ENTRY_COLUMNS}`,
    ),
    byPath: db.prepare<[string], EntryRow>(`SELECT ${ENTRY_COLUMNS} FROM archive_entries WHERE path = ?`),
    byId: db.prepare<[number], EntryRow>(`SELECT ${ENTRY_COLUMNS} FROM archive_entries WHERE id = ?`),
    bySource: db.prepare<[string], EntryRow>(`SELECT ${ENTRY_COLUMNS} FROM archive_entries WHERE source_ref = ? ORDER BY id`),
    deleteById: db.prepare<[number]>('DELETE FROM archive_entries WHERE id = ?'),
    months: db.prepare('SELECT month, file_count, total_bytes FROM archive_months ORDER BY month DESC'),
    monthTotal: db.prepare<[string], { file_count: number }>('SELECT file_count FROM archive_months WHERE month = ?'),
    monthPages: new Map(),
    // A month's rows in path order, a page after `afterPath`: the unique path index serves it, because every
    // path of the month starts with raw/YYYY-MM/ (the CHECK in migration 002). Keyset, not offset: manifests
    // and verify walk whole months.
    monthByPath: db.prepare<[string, string, number], EntryRow>(
      `SELECT ${ENTRY_COLUMNS} FROM archive_entries WHERE path > ? AND path < ? ORDER BY path LIMIT ?`,
    ),
  };
  cache.set(db, s);
  return s;
}

/**
 * Records an archived file (or updates the row already recorded at that path) and marks its month's manifest
 * dirty, in one transaction, so a manifest can never miss a file the catalog holds. Returns the stored row.
 */
export function recordArchivedFile(db: Database.Database, entry: NewArchiveEntry): ArchiveEntry {
  const month = monthOfPath(entry.path);
  if (month === null || entry.path.split('/').some((part) => part === '' || part === '.' || part === '..')) {
    throw new Error(`recordArchivedFile: ${JSON.stringify(entry.path)} is not a path of the form raw/YYYY-MM/<name>`);
  }
  const params: Params = {
    download_id: entry.downloadId,
    source_kind: entry.sourceKind,
    source_ref: entry.sourceRef,
    file_id: entry.fileId,
    filename: entry.filename,
    path: entry.path,
    month,
    size_bytes: entry.sizeBytes,
    sha256: entry.sha256,
    mime_type: entry.mimeType,
    created_at: entry.createdAt,
    downloaded_at: entry.downloadedAt,
    etag: entry.etag,
    encrypted: entry.encrypted ? 1 : 0,
  };
  const s = statements(db);
  // Nested inside a caller's transaction this becomes a savepoint, so callers can batch many files.
  return db.transaction(() => {
    const row = s.upsert.get(params);
    if (!row) throw new Error('recordArchivedFile: the insert returned no row');
    markMonthDirty(db, month);
    return fromRow(row);
  })();
}

/** Every month that holds files, newest first, with counts and bytes (from the summary table: no scan). */
export function listMonths(db: Database.Database): MonthSummary[] {
  return statements(db)
    .months.all()
    .map((row) => ({ month: row.month, fileCount: row.file_count, totalBytes: row.total_bytes }));
}

/** One page of a month's files, sorted; `total` is the month's file count. */
export function listMonthFiles(db: Database.Database, month: string, options: MonthFilesOptions = {}): ArchivePage {
  assertMonth(month);
  const sort = options.sort ?? 'name';
  // Own keys only: ORDER['constructor'] is Object's constructor, not a sort.
  const order = Object.hasOwn(ORDER, sort) ? ORDER[sort] : undefined;
  if (!order) throw new RangeError(`listMonthFiles: unknown sort ${JSON.stringify(sort)}`);
  const direction = options.direction ?? order.defaultDirection;
  if (direction !== 'asc' && direction !== 'desc') throw new RangeError(`listMonthFiles: unknown direction ${JSON.stringify(direction)}`);
  const { offset, limit } = paging(options);
  const s = statements(db);
  const key = `${sort}:${direction}`;
  let stmt = s.monthPages.get(key);
  if (!stmt) {
    stmt = db.prepare<[string, number, number], EntryRow>(
      `SELECT ${ENTRY_COLUMNS} FROM archive_entries WHERE month = ? ORDER BY ${order[direction]} LIMIT ? OFFSET ?`,
    );
    s.monthPages.set(key, stmt);
  }
  const total = s.monthTotal.get(month)?.file_count ?? 0;
  return { entries: stmt.all(month, limit, offset).map(fromRow), total };
}

export function getEntryByPath(db: Database.Database, archivePath: string): ArchiveEntry | undefined {
  const row = statements(db).byPath.get(archivePath);
  return row && fromRow(row);
}

export function getEntry(db: Database.Database, id: number): ArchiveEntry | undefined {
  const row = statements(db).byId.get(id);
  return row && fromRow(row);
}

/** Entries of one Files API id or URL (a file archived twice has two), oldest first. */
export function findEntriesBySource(db: Database.Database, sourceRef: string): ArchiveEntry[] {
  return statements(db).bySource.all(sourceRef).map(fromRow);
}

/**
 * Removes an entry from the catalog (not the file) and marks its month's manifest dirty, in one transaction.
 * Returns the removed entry, or undefined when there was none.
 */
export function deleteEntry(db: Database.Database, id: number): ArchiveEntry | undefined {
  const s = statements(db);
  return db.transaction(() => {
    const row = s.byId.get(id);
    if (!row) return undefined;
    s.deleteById.run(id);
    markMonthDirty(db, row.month);
    return fromRow(row);
  })();
}

/**
 * Empties the archive catalog (not the files, not the manifests) for a rebuild. The triggers empty the name
 * index and the month summary with it; dirty marks are left alone, as the manifests have not changed.
 */
export function clearArchiveEntries(db: Database.Database): number {
  return db.prepare('DELETE FROM archive_entries').run().changes;
}

/**
 * Up to `limit` entries of a month in path order, after `afterPath` ('' for the first page). For walking a whole
 * month without holding a statement open across awaits (the connection is shared with the engine).
 */
export function listMonthEntriesByPath(db: Database.Database, month: string, afterPath: string, limit: number): ArchiveEntry[] {
  assertMonth(month);
  const prefix = `raw/${month}/`;
  // One lower bound, so the range starts at the right place in the path index. '0' is the character after '/',
  // so (prefix, raw/YYYY-MM0) is exactly the paths under the month folder.
  const after = afterPath > prefix ? afterPath : prefix;
  return statements(db).monthByPath.all(after, `raw/${month}0`, limit).map(fromRow);
}
