// Archive name search: trigram substring, month scan and prefix queries, each paged and counted, with Unicode case folding.
import type Database from 'better-sqlite3';
import { type ArchiveEntry, type ArchivePage, type EntryRow, ENTRY_COLUMNS, assertMonth, fromRow, paging } from './archive-entry-rows.ts';

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

const NON_ASCII = /[^\x00-\x7f]/u;

interface Statements {
  ftsPage: Database.Statement<[string, number, number], EntryRow>;
  ftsCount: Database.Statement<[string, number], { n: number }>;
  monthLikePage: Database.Statement<[string, string, number, number], EntryRow>;
  monthLikeCount: Database.Statement<[string, string], { n: number }>;
  monthFoldPage: Database.Statement<[string, string, number, number], EntryRow>;
  monthFoldCount: Database.Statement<[string, string], { n: number }>;
  prefixPage: Database.Statement<[string, string, number, number], EntryRow>;
  prefixCount: Database.Statement<[string, string, number], { n: number }>;
}

// Search runs on every keystroke of a search box, so each connection prepares its statements once.
const cache = new WeakMap<Database.Database, Statements>();

function statements(db: Database.Database): Statements {
  let s = cache.get(db);
  if (s) return s;
  // Substring test with Unicode case folding for fragments LIKE cannot fold (LIKE folds ASCII only).
  db.function('filehaul_contains', { deterministic: true }, (haystack: unknown, needle: unknown) =>
    containsFolded(String(haystack), String(needle)) ? 1 : 0,
  );
  s = {
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
