// Archive catalog queries: one row per archived file, month summaries, sorted paging and name search, as plain (db, ...) functions.
import type Database from 'better-sqlite3';
import type { SourceKind } from '../../shared/model.ts';
import { markMonthDirty } from './dirty-months.ts';

/** Where an archived file came from; 'unknown' for files a reindex found on disk without any record. */
export type ArchiveSourceKind = SourceKind | 'unknown';

/** One archived file. Times are ISO-8601 UTC strings; path is relative to the data dir (raw/YYYY-MM/name). */
export interface ArchiveEntry {
  id: number;
  /** The download that produced it; null for entries rebuilt from manifests or found on disk. */
  downloadId: string | null;
  sourceKind: ArchiveSourceKind;
  /** The Files API file id or the URL; null when unknown. */
  sourceRef: string | null;
  fileId: string | null;
  /** The name as the source gave it (the file on disk may carry a safe variant of it). */
  filename: string;
  path: string;
  /** YYYY-MM: the month folder the file lives in. */
  month: string;
  sizeBytes: number;
  /** SHA-256 of the content (of the plaintext for encrypted files). */
  sha256: string;
  mimeType: string | null;
  createdAt: string | null;
  downloadedAt: string;
  etag: string | null;
  encrypted: boolean;
}

/** What recordArchivedFile needs: everything but the id (assigned) and the month (read from the path). */
export type NewArchiveEntry = Omit<ArchiveEntry, 'id' | 'month'>;

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

export interface ArchivePage {
  entries: ArchiveEntry[];
  total: number;
}

export interface SearchOptions {
  month?: string;
  offset?: number;
  limit?: number;
}

/**
 * How a search was answered, because short fragments cannot use trigrams:
 * - 'substring': names containing the text, across all months (FTS5 trigram index), newest rows first;
 * - 'month-substring': names containing the text within one month (a scan of that month's slice of the name index), by name;
 * - 'prefix': names starting with the text (1-2 characters, no month), by name.
 */
export type SearchMode = 'substring' | 'month-substring' | 'prefix';

export interface SearchResult extends ArchivePage {
  mode: SearchMode;
  /** False when counting stopped at SEARCH_COUNT_CAP: there are at least `total` matches. */
  totalExact: boolean;
}

/** Counting every match of a common fragment ("pdf") among a million names costs more than the page itself. */
export const SEARCH_COUNT_CAP = 10_000;
export const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 10_000;

const NON_ASCII = /[^\x00-\x7f]/u;
const MONTH = /^\d{4}-(?:0[1-9]|1[0-2])$/u;
// raw/YYYY-MM/<at least one more component>; the month of an entry is always its folder.
const ARCHIVE_PATH = /^raw\/(\d{4}-(?:0[1-9]|1[0-2]))\/(.+)$/u;

/** A row exactly as SQLite returns it. */
interface EntryRow {
  id: number;
  download_id: string | null;
  source_kind: ArchiveSourceKind;
  source_ref: string | null;
  file_id: string | null;
  filename: string;
  path: string;
  month: string;
  size_bytes: number;
  sha256: string;
  mime_type: string | null;
  created_at: string | null;
  downloaded_at: string;
  etag: string | null;
  encrypted: 0 | 1;
}

const ENTRY_COLUMNS =
  'id, download_id, source_kind, source_ref, file_id, filename, path, month, size_bytes, sha256, mime_type, created_at, downloaded_at, etag, encrypted';

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
  ftsPage: Database.Statement<[string, number, number], EntryRow>;
  ftsCount: Database.Statement<[string, number], { n: number }>;
  monthLikePage: Database.Statement<[string, string, number, number], EntryRow>;
  monthLikeCount: Database.Statement<[string, string], { n: number }>;
  monthFoldPage: Database.Statement<[string, string, number, number], EntryRow>;
  monthFoldCount: Database.Statement<[string, string], { n: number }>;
  prefixPage: Database.Statement<[string, string, number, number], EntryRow>;
  prefixCount: Database.Statement<[string, string, number], { n: number }>;
}

// Paging and search run on every keystroke of a search box, so each connection prepares them once.
const cache = new WeakMap<Database.Database, Statements>();

function statements(db: Database.Database): Statements {
  let s = cache.get(db);
  if (s) return s;
  // Substring test with Unicode case folding for fragments LIKE cannot fold (LIKE folds ASCII only).
  db.function('filehaul_contains', { deterministic: true }, (haystack: unknown, needle: unknown) =>
    containsFolded(String(haystack), String(needle)) ? 1 : 0,
  );
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
    // Page the trigram matches by rowid first, then fetch only that page's rows.
    ftsPage: db.prepare<[string, number, number], EntryRow>(
      `SELECT ${ENTRY_COLUMNS} FROM archive_entries WHERE id IN (
         SELECT rowid FROM archive_fts WHERE archive_fts MATCH ? ORDER BY rowid DESC LIMIT ? OFFSET ?
       ) ORDER BY id DESC`,
    ),
    ftsCount: db.prepare<[string, number], { n: number }>(
      'SELECT count(*) AS n FROM (SELECT 1 FROM archive_fts WHERE archive_fts MATCH ? LIMIT ?)',
    ),
    // Within a month: walk the month's slice of the (month, name) index, so results come sorted by name for free
    // and the cost is bounded by the month's size, whatever the fragment.
    monthLikePage: db.prepare<[string, string, number, number], EntryRow>(
      `SELECT ${ENTRY_COLUMNS} FROM archive_entries WHERE month = ? AND filename LIKE ? ESCAPE '\\'
       ORDER BY filename COLLATE NOCASE, id LIMIT ? OFFSET ?`,
    ),
    monthLikeCount: db.prepare<[string, string], { n: number }>(
      `SELECT count(*) AS n FROM archive_entries WHERE month = ? AND filename LIKE ? ESCAPE '\\'`,
    ),
    monthFoldPage: db.prepare<[string, string, number, number], EntryRow>(
      `SELECT ${ENTRY_COLUMNS} FROM archive_entries WHERE month = ? AND filehaul_contains(filename, ?)
       ORDER BY filename COLLATE NOCASE, id LIMIT ? OFFSET ?`,
    ),
    monthFoldCount: db.prepare<[string, string], { n: number }>(
      'SELECT count(*) AS n FROM archive_entries WHERE month = ? AND filehaul_contains(filename, ?)',
    ),
    prefixPage: db.prepare<[string, string, number, number], EntryRow>(
      `SELECT ${ENTRY_COLUMNS} FROM archive_entries
       WHERE filename COLLATE NOCASE >= ? AND filename COLLATE NOCASE < ?
       ORDER BY filename COLLATE NOCASE, id LIMIT ? OFFSET ?`,
    ),
    prefixCount: db.prepare<[string, string, number], { n: number }>(
      `SELECT count(*) AS n FROM (SELECT 1 FROM archive_entries
       WHERE filename COLLATE NOCASE >= ? AND filename COLLATE NOCASE < ? LIMIT ?)`,
    ),
  };
  cache.set(db, s);
  return s;
}

function fromRow(row: EntryRow): ArchiveEntry {
  return {
    id: row.id,
    downloadId: row.download_id,
    sourceKind: row.source_kind,
    sourceRef: row.source_ref,
    fileId: row.file_id,
    filename: row.filename,
    path: row.path,
    month: row.month,
    sizeBytes: row.size_bytes,
    sha256: row.sha256,
    mimeType: row.mime_type,
    createdAt: row.created_at,
    downloadedAt: row.downloaded_at,
    etag: row.etag,
    encrypted: row.encrypted === 1,
  };
}

/** The month folder of an archive path (raw/YYYY-MM/...), or null when the path is not one. */
export function monthOfPath(archivePath: string): string | null {
  const match = ARCHIVE_PATH.exec(archivePath);
  return match ? match[1] : null;
}

export function isArchiveMonth(text: string): boolean {
  return MONTH.test(text);
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
  const order = ORDER[sort];
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

/**
 * Finds files by name, case-insensitively (Unicode case folding). See SearchMode for how each kind of query is
 * answered and ordered: 3+ characters use the trigram index; 1-2 characters cannot (a trigram needs three), so
 * within a month they scan that month's names and across all months they match name prefixes on an index,
 * since a substring test over every row would read the whole catalog.
 */
export function searchArchive(db: Database.Database, text: string, options: SearchOptions = {}): SearchResult {
  // NFC: names from APIs are NFC, while some keyboards and terminals (macOS) produce decomposed text.
  const needle = String(text).normalize('NFC').trim();
  if (needle === '') throw new RangeError('searchArchive: the search text is empty');
  if (options.month !== undefined) assertMonth(options.month);
  const { offset, limit } = paging(options);
  const s = statements(db);

  if (options.month !== undefined) {
    const month = options.month;
    // LIKE runs in C but folds only ASCII; an ASCII fragment can only match ASCII letters, so it is exact there.
    if (!NON_ASCII.test(needle)) {
      const pattern = `%${needle.replace(/[\\%_]/gu, (c) => `\\${c}`)}%`;
      const total = s.monthLikeCount.get(month, pattern)?.n ?? 0;
      return { entries: s.monthLikePage.all(month, pattern, limit, offset).map(fromRow), total, totalExact: true, mode: 'month-substring' };
    }
    const folded = fold(needle);
    const total = s.monthFoldCount.get(month, folded)?.n ?? 0;
    return { entries: s.monthFoldPage.all(month, folded, limit, offset).map(fromRow), total, totalExact: true, mode: 'month-substring' };
  }

  if ([...needle].length >= 3) {
    // One FTS5 phrase: the trigram tokenizer turns it into consecutive trigrams, i.e. a substring match.
    // Quoting makes every character literal (no FTS5 operators, column filters or prefix stars).
    const phrase = `"${needle.replaceAll('"', '""')}"`;
    const counted = s.ftsCount.get(phrase, SEARCH_COUNT_CAP)?.n ?? 0;
    return {
      entries: s.ftsPage.all(phrase, limit, offset).map(fromRow),
      total: counted,
      totalExact: counted < SEARCH_COUNT_CAP,
      mode: 'substring',
    };
  }

  // NOCASE compares after folding ASCII only, so [needle, needle + U+10FFFF) holds every name starting with it.
  const upper = `${needle}\u{10FFFF}`;
  const counted = s.prefixCount.get(needle, upper, SEARCH_COUNT_CAP)?.n ?? 0;
  return {
    entries: s.prefixPage.all(needle, upper, limit, offset).map(fromRow),
    total: counted,
    totalExact: counted < SEARCH_COUNT_CAP,
    mode: 'prefix',
  };
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

/** Case folding for the non-ASCII fallback, close to FTS5's: lower case, and final sigma as sigma. */
function fold(text: string): string {
  return text.toLowerCase().replaceAll('ς', 'σ');
}

// Called once per row of a month: the ASCII test spares the folding for the (usual) ASCII names, which cannot
// contain a fragment that has non-ASCII characters.
function containsFolded(haystack: string, foldedNeedle: string): boolean {
  if (!NON_ASCII.test(haystack) && NON_ASCII.test(foldedNeedle)) return false;
  return fold(haystack).includes(foldedNeedle);
}

function assertMonth(month: string): void {
  if (typeof month !== 'string' || !MONTH.test(month)) throw new RangeError(`Invalid month ${JSON.stringify(month)}: expected YYYY-MM`);
}

function paging(options: { offset?: number; limit?: number }): { offset: number; limit: number } {
  const offset = options.offset ?? 0;
  const limit = options.limit ?? DEFAULT_PAGE_SIZE;
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`offset must be a whole number ≥ 0, got ${offset}`);
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw new RangeError(`limit must be a whole number from 1 to ${MAX_PAGE_SIZE}, got ${limit}`);
  }
  return { offset, limit };
}
