// Tests for the archive catalog queries: months summary, sorted paging, trigram and fallback name search, upserts, deletes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { getSchemaVersion, runMigrations } from '../../src/main/store/migrate.ts';
import { migration001 } from '../../src/main/store/migrations/001-initial.ts';
import { closeCatalog, openCatalog } from '../../src/main/store/database.ts';
import {
  clearArchiveEntries,
  deleteEntry,
  findEntriesBySource,
  getEntryByPath,
  listMonthEntriesByPath,
  listMonthFiles,
  listMonths,
  recordArchivedFile,
  searchArchive,
  SEARCH_COUNT_CAP,
  type ArchiveEntry,
  type NewArchiveEntry,
} from '../../src/main/store/archive-entries.ts';
import { listDirtyMonths, monthGenerations } from '../../src/main/store/dirty-months.ts';

let dir: string;
let db: Database.Database;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'filehaul-archive-catalog-'));
  db = openCatalog(path.join(dir, 'filehaul.db'));
});
afterEach(() => {
  closeCatalog(db);
  fs.rmSync(dir, { recursive: true, force: true });
});

function entry(month: string, name: string, overrides: Partial<NewArchiveEntry> = {}): NewArchiveEntry {
  return {
    downloadId: `dl_${name.length}_${month}`,
    sourceKind: 'files-api',
    sourceRef: `file_${month}_${name}`,
    fileId: `file_${month}_${name}`,
    filename: name,
    path: `raw/${month}/${name}`,
    sizeBytes: 100,
    sha256: 'a'.repeat(64),
    mimeType: 'application/pdf',
    createdAt: `${month}-03T10:00:00Z`,
    downloadedAt: '2025-06-01T00:00:00.000Z',
    etag: '"e1"',
    encrypted: false,
    ...overrides,
  };
}

const names = (entries: ArchiveEntry[]) => entries.map((e) => e.filename);

/** 3,000 files over 3 months with names, times and sizes that make every sort order distinct and checkable. */
function seedThousands(): NewArchiveEntry[] {
  const all: NewArchiveEntry[] = [];
  const months = ['2024-11', '2024-12', '2025-01'];
  db.transaction(() => {
    for (let i = 0; i < 3000; i++) {
      const month = months[i % 3];
      const name = `${i % 2 === 0 ? 'Report' : 'photo'}-${String(i).padStart(4, '0')}.${i % 5 === 0 ? 'pdf' : 'jpg'}`;
      const e = entry(month, name, {
        sizeBytes: (i * 7919) % 100_003,
        downloadedAt: new Date(Date.UTC(2025, 0, 1) + ((i * 104_729) % 3000) * 60_000).toISOString(),
      });
      all.push(e);
      recordArchivedFile(db, e);
    }
  })();
  return all;
}

describe('schema', () => {
  it('has the archive tables and a working trigram FTS5 table', () => {
    const tables = db.prepare<[], { name: string }>("SELECT name FROM sqlite_schema WHERE type = 'table' AND name LIKE 'archive%' OR name = 'dirty_months' ORDER BY name").all();
    expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['archive_entries', 'archive_fts', 'archive_months', 'dirty_months']));
    const version = db.prepare<[], { v: string }>('SELECT sqlite_version() AS v').get()!.v;
    expect(version.split('.').map(Number)[1]).toBeGreaterThanOrEqual(54);
  });

  it('upgrades a version 1 catalog in place, keeping its downloads', () => {
    const v1Path = path.join(dir, 'v1.db');
    const v1 = new Database(v1Path);
    runMigrations(v1, [migration001]);
    v1.prepare(
      `INSERT INTO downloads (id, source_kind, source_ref, state, added_at, updated_at) VALUES ('dl_old', 'url', 'https://example.com/x', 'done', 't', 't')`,
    ).run();
    v1.close();
    const upgraded = openCatalog(v1Path);
    try {
      expect(getSchemaVersion(upgraded)).toBe(2);
      expect(upgraded.prepare('SELECT id FROM downloads').all()).toEqual([{ id: 'dl_old' }]);
      recordArchivedFile(upgraded, entry('2025-01', 'after-upgrade.txt'));
      expect(names(searchArchive(upgraded, 'upgrade').entries)).toEqual(['after-upgrade.txt']);
    } finally {
      closeCatalog(upgraded);
    }
  });

  it('refuses rows whose month is not their folder or whose path is not under raw/', () => {
    const insert = db.prepare(`INSERT INTO archive_entries (source_kind, filename, path, month, size_bytes, sha256, downloaded_at) VALUES ('unknown', 'a', ?, ?, 1, ?, 'x')`);
    expect(() => insert.run('raw/2025-02/a', '2025-01', 'a'.repeat(64))).toThrow(/CHECK/);
    expect(() => insert.run('meta/2025-01/a', '2025-01', 'a'.repeat(64))).toThrow(/CHECK/);
    expect(() => recordArchivedFile(db, entry('2025-01', 'a', { path: 'raw/2025-01/../x' }))).toThrow(/not a path/);
  });
});

describe('recordArchivedFile', () => {
  it('round-trips every field and marks the month dirty in the same transaction', () => {
    const stored = recordArchivedFile(db, entry('2025-03', 'report.pdf', { encrypted: true, etag: null, createdAt: null }));
    expect(stored).toMatchObject({ month: '2025-03', filename: 'report.pdf', encrypted: true, etag: null, createdAt: null, sizeBytes: 100 });
    expect(getEntryByPath(db, 'raw/2025-03/report.pdf')).toEqual(stored);
    expect(listDirtyMonths(db)).toEqual([{ month: '2025-03', generation: 1 }]);
  });

  it('updates the row at the same path instead of duplicating it (a finalize repeated after a crash)', () => {
    const first = recordArchivedFile(db, entry('2025-03', 'a.pdf', { sizeBytes: 10 }));
    const again = recordArchivedFile(db, entry('2025-03', 'a.pdf', { sizeBytes: 25, filename: 'A renamed.pdf' }));
    expect(again.id).toBe(first.id);
    expect(listMonths(db)).toEqual([{ month: '2025-03', fileCount: 1, totalBytes: 25 }]);
    expect(names(searchArchive(db, 'renamed').entries)).toEqual(['A renamed.pdf']);
    expect(searchArchive(db, 'a.pdf').entries).toEqual([]);
  });

  it('a rolled-back batch leaves neither rows nor dirty marks', () => {
    expect(() =>
      db.transaction(() => {
        recordArchivedFile(db, entry('2025-03', 'a.pdf'));
        throw new Error('boom');
      })(),
    ).toThrow('boom');
    expect(listMonths(db)).toEqual([]);
    expect(listDirtyMonths(db)).toEqual([]);
  });
});

describe('months summary', () => {
  it('follows inserts, deletes and moves without scanning', () => {
    const a = recordArchivedFile(db, entry('2025-01', 'a', { sizeBytes: 5 }));
    recordArchivedFile(db, entry('2025-01', 'b', { sizeBytes: 7 }));
    recordArchivedFile(db, entry('2025-02', 'c', { sizeBytes: 11 }));
    expect(listMonths(db)).toEqual([
      { month: '2025-02', fileCount: 1, totalBytes: 11 },
      { month: '2025-01', fileCount: 2, totalBytes: 12 },
    ]);
    expect(deleteEntry(db, a.id)?.path).toBe('raw/2025-01/a');
    expect(deleteEntry(db, a.id)).toBeUndefined();
    db.prepare("UPDATE archive_entries SET month = '2025-02', path = 'raw/2025-02/b' WHERE path = 'raw/2025-01/b'").run();
    expect(listMonths(db)).toEqual([{ month: '2025-02', fileCount: 2, totalBytes: 18 }]);
    // The delete marked its month dirty again.
    expect(monthGenerations(db, '2025-01').generation).toBe(3);
    expect(clearArchiveEntries(db)).toBe(2);
    expect(listMonths(db)).toEqual([]);
    expect(db.prepare("SELECT count(*) AS n FROM archive_fts WHERE archive_fts MATCH '\"b\"'").get()).toEqual({ n: 0 });
  });
});

describe('listMonthFiles on a few thousand rows', () => {
  it('pages each sort order exactly like sorting everything would', () => {
    const all = seedThousands();
    const month = '2024-12';
    const inMonth = all.filter((e) => e.path.startsWith(`raw/${month}/`));
    expect(inMonth).toHaveLength(1000);

    const collect = (sort: 'name' | 'downloaded' | 'size', direction?: 'asc' | 'desc') => {
      const seen: string[] = [];
      for (let offset = 0; ; offset += 150) {
        const page = listMonthFiles(db, month, { sort, direction, offset, limit: 150 });
        expect(page.total).toBe(1000);
        if (page.entries.length === 0) break;
        seen.push(...page.entries.map((e) => e.path));
      }
      return seen;
    };
    const byName = [...inMonth].sort((a, b) => a.filename.toLowerCase().localeCompare(b.filename.toLowerCase()));
    expect(collect('name')).toEqual(byName.map((e) => e.path));
    expect(collect('name', 'desc')).toEqual(byName.reverse().map((e) => e.path));
    const newest = collect('downloaded');
    expect(newest).toHaveLength(1000);
    const times = newest.map((p) => inMonth.find((e) => e.path === p)!.downloadedAt);
    expect(times).toEqual([...times].sort().reverse());
    const sizes = collect('size').map((p) => inMonth.find((e) => e.path === p)!.sizeBytes);
    expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
    const ascending = collect('size', 'asc').map((p) => inMonth.find((e) => e.path === p)!.sizeBytes);
    expect(ascending).toEqual([...sizes].reverse());
  });

  it('sorts names case-insensitively and reports an empty month as empty', () => {
    for (const name of ['b.txt', 'A.txt', 'C.txt', 'a2.txt']) recordArchivedFile(db, entry('2025-05', name));
    expect(names(listMonthFiles(db, '2025-05').entries)).toEqual(['A.txt', 'a2.txt', 'b.txt', 'C.txt']);
    expect(listMonthFiles(db, '2019-01')).toEqual({ entries: [], total: 0 });
    expect(() => listMonthFiles(db, '2025-13')).toThrow(/YYYY-MM/);
    expect(() => listMonthFiles(db, '2025-05', { limit: 0 })).toThrow(/limit/);
    // A sort key that names something every object has is still an unknown sort.
    expect(() => listMonthFiles(db, '2025-05', { sort: 'constructor' as 'name' })).toThrow(/unknown sort "constructor"/);
  });

  it('walks a month by path in keyset pages without touching the neighbouring months', () => {
    seedThousands();
    recordArchivedFile(db, entry('2024-10', 'zzz'));
    const seen: string[] = [];
    for (let after = ''; ; ) {
      const page = listMonthEntriesByPath(db, '2024-11', after, 333);
      if (page.length === 0) break;
      seen.push(...page.map((e) => e.path));
      after = page[page.length - 1].path;
    }
    expect(seen).toHaveLength(1000);
    expect(seen.every((p) => p.startsWith('raw/2024-11/'))).toBe(true);
    expect(seen).toEqual([...seen].sort());
  });
});

describe('searchArchive', () => {
  it('finds substrings of 3+ characters across months, newest rows first, with paging and an exact total', () => {
    seedThousands();
    // "-012" is in exactly the names numbered 0120-0129.
    const all = searchArchive(db, '-012', { limit: 5 });
    expect(all.mode).toBe('substring');
    expect(all.total).toBe(10);
    expect(all.totalExact).toBe(true);
    const rest = searchArchive(db, '-012', { offset: 5, limit: 5 });
    const found = [...all.entries, ...rest.entries];
    expect(new Set(found.map((e) => e.filename)).size).toBe(10);
    expect(found.every((e) => e.filename.includes('-012'))).toBe(true);
    expect(found.map((e) => e.id)).toEqual([...found.map((e) => e.id)].sort((a, b) => b - a));
  });

  it('is case-insensitive for ASCII and other scripts, and takes FTS5 syntax literally', () => {
    for (const name of ['Ünïcode Report.PDF', 'ΣΊΣΥΦΟΣ notes.txt', '日本語の資料.pdf', 'Straße.txt', 'a "quoted" OR name*.txt', 'plain.txt']) {
      recordArchivedFile(db, entry('2025-02', name));
    }
    expect(names(searchArchive(db, 'report.pdf').entries)).toEqual(['Ünïcode Report.PDF']);
    expect(names(searchArchive(db, 'ÜNÏCODE').entries)).toEqual(['Ünïcode Report.PDF']);
    expect(names(searchArchive(db, 'ünï').entries)).toEqual(['Ünïcode Report.PDF']);
    expect(names(searchArchive(db, 'σίσυφος').entries)).toEqual(['ΣΊΣΥΦΟΣ notes.txt']);
    expect(names(searchArchive(db, '語の資').entries)).toEqual(['日本語の資料.pdf']);
    expect(names(searchArchive(db, 'STRAßE').entries)).toEqual(['Straße.txt']);
    expect(names(searchArchive(db, '"quoted" OR').entries)).toEqual(['a "quoted" OR name*.txt']);
    expect(names(searchArchive(db, 'name*').entries)).toEqual(['a "quoted" OR name*.txt']);
    expect(searchArchive(db, 'filename:plain').entries).toEqual([]);
    // Decomposed input (as some keyboards produce) finds the composed name.
    expect(names(searchArchive(db, 'U\u0308ni\u0308').entries)).toEqual(['Ünïcode Report.PDF']);
  });

  it('searches within a month by substring, sorted by name, for any length and script', () => {
    for (const [month, name] of [
      ['2025-02', 'b-Über.txt'],
      ['2025-02', 'a-über.txt'],
      ['2025-02', 'x.txt'],
      ['2025-03', 'über-other-month.txt'],
      ['2025-02', '日本.txt'],
      ['2025-02', '100%_done.txt'],
      ['2025-02', '100x_done.txt'],
    ] as const) {
      recordArchivedFile(db, entry(month, name));
    }
    const ueber = searchArchive(db, 'üb', { month: '2025-02' });
    expect(ueber.mode).toBe('month-substring');
    expect(names(ueber.entries)).toEqual(['a-über.txt', 'b-Über.txt']);
    expect(ueber.total).toBe(2);
    expect(names(searchArchive(db, 'ÜBER', { month: '2025-02' }).entries)).toEqual(['a-über.txt', 'b-Über.txt']);
    expect(names(searchArchive(db, 'X.', { month: '2025-02' }).entries)).toEqual(['x.txt']);
    expect(names(searchArchive(db, '日本', { month: '2025-02' }).entries)).toEqual(['日本.txt']);
    // LIKE wildcards in the text are literal.
    expect(names(searchArchive(db, '%_', { month: '2025-02' }).entries)).toEqual(['100%_done.txt']);
    expect(names(searchArchive(db, 'TXT', { month: '2025-02', offset: 1, limit: 2 }).entries)).toEqual(['100x_done.txt', 'a-über.txt']);
  });

  it('answers 1-2 characters across months by name prefix, case-insensitively for ASCII', () => {
    for (const name of ['abc.txt', 'ABd.txt', 'xab.txt', 'ab', 'b.txt']) recordArchivedFile(db, entry('2025-04', name));
    const result = searchArchive(db, 'ab');
    expect(result.mode).toBe('prefix');
    expect(names(result.entries)).toEqual(['ab', 'abc.txt', 'ABd.txt']);
    expect(result.total).toBe(3);
    expect(names(searchArchive(db, 'B').entries)).toEqual(['b.txt']);
  });

  it('caps the count of very common matches but still pages through them', () => {
    const insert = db.prepare(
      `INSERT INTO archive_entries (source_kind, filename, path, month, size_bytes, sha256, downloaded_at) VALUES ('unknown', ?, ?, '2025-01', 1, ?, 't')`,
    );
    db.transaction(() => {
      for (let i = 0; i < SEARCH_COUNT_CAP + 50; i++) insert.run(`scan-${i}.pdf`, `raw/2025-01/scan-${i}.pdf`, 'b'.repeat(64));
    })();
    const result = searchArchive(db, 'scan', { offset: SEARCH_COUNT_CAP, limit: 100 });
    expect(result.total).toBe(SEARCH_COUNT_CAP);
    expect(result.totalExact).toBe(false);
    expect(result.entries).toHaveLength(50);
  });

  it('rejects empty text and bad months', () => {
    expect(() => searchArchive(db, '   ')).toThrow(/empty/);
    expect(() => searchArchive(db, 'abc', { month: '25-01' })).toThrow(/YYYY-MM/);
  });
});

describe('findEntriesBySource', () => {
  it('finds a file id or URL that is already archived', () => {
    recordArchivedFile(db, entry('2025-01', 'a', { sourceRef: 'file_X', fileId: 'file_X' }));
    recordArchivedFile(db, entry('2025-02', 'b', { sourceKind: 'url', sourceRef: 'https://example.com/b', fileId: null }));
    expect(findEntriesBySource(db, 'file_X').map((e) => e.path)).toEqual(['raw/2025-01/a']);
    expect(findEntriesBySource(db, 'https://example.com/b').map((e) => e.sourceKind)).toEqual(['url']);
    expect(findEntriesBySource(db, 'nothing')).toEqual([]);
  });
});
