// Catalog benchmark (not part of npm test; `npm run bench` runs it too): 1,000,000 generated archive entries over 60 months; month listing, paging and search latency.
// Run: node test/bench/catalog-bench.ts [--rows N] [--runs N] [--keep]
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type Database from 'better-sqlite3';
import { closeCatalog, openCatalog } from '../../src/main/store/database.ts';
import {
  listMonthFiles,
  listMonths,
  recordArchivedFile,
  searchArchive,
  type ArchiveSort,
  type SearchMode,
} from '../../src/main/store/archive-entries.ts';

export interface LatencyStats {
  runs: number;
  p50: number;
  p95: number;
  max: number;
}

export interface CatalogBenchResult {
  rows: number;
  months: number;
  /** Generating the rows, building indexes, FTS and the month summary, committing. */
  generateMs: number;
  dbBytes: number;
  /** Per query kind, milliseconds. */
  queries: Record<string, LatencyStats & { note: string }>;
}

export interface CatalogBenchOptions {
  rows?: number;
  runs?: number;
  /** Keep the temp dir (its path is logged). */
  keep?: boolean;
  log?: (line: string) => void;
}

const MONTHS = 60;
const PAGE = 100;
// A mix of common words, digits and non-ASCII names, so searches hit both rare and very common fragments.
const WORDS = ['report', 'invoice', 'photo', 'IMG', 'scan', 'dataset', 'backup', 'notes', 'contract', 'slides', 'meeting', 'audio', 'export', 'Quarterly Summary', 'Résumé', 'Über Straße', '日本語の資料', 'ΣΊΣΥΦΟΣ'];
const EXTENSIONS = ['pdf', 'jpg', 'png', 'csv', 'json', 'zip', 'txt', 'mp4'];

/** Deterministic generator (mulberry32): every run measures the same catalog. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function monthName(index: number): string {
  return `${2021 + Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}`;
}

function fileName(rnd: () => number, n: number): string {
  return `${WORDS[Math.floor(rnd() * WORDS.length)]}-${String(Math.floor(rnd() * 1_000_000)).padStart(6, '0')}-${n}.${EXTENSIONS[n % EXTENSIONS.length]}`;
}

/**
 * Fills the catalog. Bulk-loading through the triggers would cost minutes, so — in one transaction — the
 * secondary indexes and triggers are dropped, rows go in through one prepared statement, and then the indexes,
 * the FTS5 index ('rebuild') and the month summary are built in one pass each and the triggers restored, all from
 * the SQL the migration stored: the schema queried afterwards is exactly the one a real catalog has.
 */
function generate(db: Database.Database, rows: number): void {
  const schema = db
    .prepare<[], { type: 'index' | 'trigger'; name: string; sql: string }>(
      "SELECT type, name, sql FROM sqlite_schema WHERE tbl_name = 'archive_entries' AND type IN ('index', 'trigger') AND sql IS NOT NULL",
    )
    .all();
  const insert = db.prepare(
    `INSERT INTO archive_entries (download_id, source_kind, source_ref, file_id, filename, path, month, size_bytes, sha256,
       mime_type, created_at, downloaded_at, etag, encrypted) VALUES (?, 'files-api', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`,
  );
  const rnd = random(2025);
  const monthStart = Array.from({ length: MONTHS }, (_, i) => Date.UTC(2021 + Math.floor(i / 12), i % 12, 1));
  db.transaction(() => {
    for (const item of schema) db.exec(`DROP ${item.type.toUpperCase()} "${item.name}"`);
    let n = 0;
    for (let m = 0; m < MONTHS; m++) {
      const month = monthName(m);
      // Uneven months (±50 %), like a real archive; the last month takes what is left.
      const count = m === MONTHS - 1 ? rows - n : Math.min(rows - n, Math.floor((rows / MONTHS) * (0.5 + rnd())));
      const names = Array.from({ length: count }, (_, i) => fileName(rnd, n + i));
      // In path order, so the UNIQUE(path) index is appended to rather than split all over.
      names.sort();
      for (const name of names) {
        const fileId = `file_${n.toString(36).padStart(22, '0')}`;
        const created = new Date(monthStart[m] + Math.floor(rnd() * 27 * 86_400_000)).toISOString();
        const downloaded = new Date(monthStart[m] + Math.floor(rnd() * 60 * 86_400_000)).toISOString();
        // Log-uniform sizes from 1 KiB to 1 GiB, like a real archive's mix.
        const size = Math.floor(1024 * 2 ** (rnd() * 20));
        insert.run(`dl_${n}`, fileId, fileId, name, `raw/${month}/${name}`, month, size, n.toString(16).padStart(64, '0'), 'application/octet-stream', created, downloaded, `"${n}"`);
        n++;
      }
    }
    for (const item of schema) if (item.type === 'index') db.exec(item.sql);
    db.exec("INSERT INTO archive_fts (archive_fts) VALUES ('rebuild')");
    db.exec('INSERT INTO archive_months (month, file_count, total_bytes) SELECT month, count(*), sum(size_bytes) FROM archive_entries GROUP BY month');
    for (const item of schema) if (item.type === 'trigger') db.exec(item.sql);
  })();
}

function stats(samples: number[]): LatencyStats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  const round = (v: number) => Math.round(v * 100) / 100;
  return { runs: sorted.length, p50: round(at(0.5)), p95: round(at(0.95)), max: round(sorted[sorted.length - 1]) };
}

function measure(runs: number, query: (run: number) => unknown): LatencyStats {
  // A few warm-up calls: statements get prepared and the pages a query touches get cached, as in a running app.
  for (let i = 0; i < 5; i++) query(i);
  const samples: number[] = [];
  for (let run = 0; run < runs; run++) {
    const start = performance.now();
    query(run);
    samples.push(performance.now() - start);
  }
  return stats(samples);
}

export async function runCatalogBench(options: CatalogBenchOptions = {}): Promise<CatalogBenchResult> {
  const rows = options.rows ?? 1_000_000;
  const runs = options.runs ?? 200;
  const log = options.log ?? (() => {});
  const dir = mkdtempSync(path.join(os.tmpdir(), 'filehaul-catalog-bench-'));
  const dbPath = path.join(dir, 'filehaul.db');
  let db = openCatalog(dbPath);
  try {
    log(`generating ${rows.toLocaleString('en-US')} entries over ${MONTHS} months in ${dir} …`);
    const started = performance.now();
    // A big page cache and in-memory sorting for the bulk load only (reopening restores the defaults): index
    // builds and the FTS rebuild otherwise spill to temp files.
    db.pragma('cache_size = -524288');
    db.pragma('temp_store = MEMORY');
    generate(db, rows);
    // Reopen as the app would (closing runs PRAGMA optimize and checkpoints the WAL).
    closeCatalog(db);
    db = openCatalog(dbPath);
    const generateMs = Math.round(performance.now() - started);
    const dbBytes = statSync(dbPath).size;
    log(`generated in ${(generateMs / 1000).toFixed(1)} s, ${(dbBytes / 2 ** 20).toFixed(0)} MiB`);

    const months = listMonths(db);
    if (months.reduce((sum, m) => sum + m.fileCount, 0) !== rows) throw new Error('month summary does not add up to the rows generated');
    const rnd = random(7);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)];
    const sorts: ArchiveSort[] = ['name', 'downloaded', 'size'];
    // Fragments of real names: a 5-digit run (a handful of matches) and whole words (tens of thousands).
    const rare = () => String(Math.floor(rnd() * 100_000)).padStart(5, '0');
    const modes: SearchMode[] = [];
    const search = (text: string, month?: string) => {
      const result = searchArchive(db, text, { month, limit: PAGE });
      modes.push(result.mode);
      return result;
    };

    const queries: CatalogBenchResult['queries'] = {};
    const run = (name: string, note: string, query: (i: number) => unknown) => {
      queries[name] = { ...measure(runs, query), note };
      const q = queries[name];
      log(`${name.padEnd(28)} p50 ${q.p50.toFixed(2).padStart(7)} ms   p95 ${q.p95.toFixed(2).padStart(7)} ms   max ${q.max.toFixed(2).padStart(7)} ms   (${note})`);
    };
    run('months', `${months.length} months with counts and bytes`, () => listMonths(db));
    run('month page', `${PAGE} rows at a random offset, sort by name/downloaded/size in turn`, (i) => {
      const m = pick(months);
      return listMonthFiles(db, m.month, { sort: sorts[i % 3], offset: Math.floor(rnd() * Math.max(1, m.fileCount - PAGE)), limit: PAGE });
    });
    run('month last page', `${PAGE} rows at the end of a month (the deepest offset)`, (i) => {
      const m = months[i % months.length];
      return listMonthFiles(db, m.month, { sort: sorts[i % 3], offset: m.fileCount - PAGE, limit: PAGE });
    });
    run('search, rare fragment', 'all months, a 5-digit run, trigram index', () => search(rare()));
    run('search, common word', 'all months, a word in ~1/18 of names, count capped', () => search(pick(WORDS).slice(0, 6)));
    run('search, non-ASCII', 'all months, "日本語" / "straße" / "σίσυφος"', (i) => search(['日本語', 'straße', 'σίσυφος'][i % 3]));
    run('search in month, ASCII', 'one month, a word (LIKE over the month)', () => search(pick(WORDS).slice(0, 5), pick(months).month));
    run('search in month, non-ASCII', 'one month, "résumé" (Unicode folding over the month)', () => search('RÉSUMÉ', pick(months).month));
    run('search, 2 characters', 'all months, name prefix on an index', () => search(pick(['re', 'IM', 'sc', 'da', 'Ré'])));
    let n = rows;
    run('record one file', 'recordArchivedFile in its own transaction (triggers, FTS, dirty mark)', () => {
      n++;
      const month = pick(months).month;
      return recordArchivedFile(db, {
        downloadId: `dl_${n}`, sourceKind: 'files-api', sourceRef: `file_x${n}`, fileId: `file_x${n}`, filename: `new report ${n}.pdf`,
        path: `raw/${month}/new report ${n}.pdf`, sizeBytes: 1234, sha256: 'f'.repeat(64), mimeType: 'application/pdf',
        createdAt: null, downloadedAt: new Date().toISOString(), etag: null, encrypted: false,
      });
    });
    if (!modes.includes('substring') || !modes.includes('month-substring') || !modes.includes('prefix')) throw new Error('a search mode was not exercised');
    return { rows, months: months.length, generateMs, dbBytes, queries };
  } finally {
    closeCatalog(db);
    if (options.keep) log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

function argument(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`--${name} needs a positive whole number`);
  return value;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const result = await runCatalogBench({
    rows: argument('rows', 1_000_000),
    runs: argument('runs', 200),
    keep: process.argv.includes('--keep'),
    log: (line) => console.log(line),
  });
  const worst = Math.max(...Object.entries(result.queries).filter(([name]) => name !== 'record one file').map(([, q]) => q.p95));
  console.log(`worst query p95: ${worst.toFixed(2)} ms (target: 50 ms at 1,000,000 rows)`);
}
