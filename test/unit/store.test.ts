// Tests for the catalog's download and segment queries and the TransferJournal built on them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type Database from 'better-sqlite3';
import type { DownloadRecord, SegmentRecord } from '../../src/shared/model.ts';
import { closeCatalog, openCatalog } from '../../src/main/store/database.ts';
import {
  deleteDownload,
  findLatestBySource,
  getDownload,
  insertDownload,
  listDownloads,
  updateDownload,
} from '../../src/main/store/downloads.ts';
import { loadSegments, saveSegments } from '../../src/main/store/segments.ts';
import { createJournal } from '../../src/main/store/journal.ts';

const GiB = 1024 ** 3;

let dir: string;
let dbPath: string;
let db: Database.Database;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'filehaul-store-'));
  dbPath = path.join(dir, 'catalog.sqlite');
  db = openCatalog(dbPath);
});
afterEach(() => {
  closeCatalog(db);
  fs.rmSync(dir, { recursive: true, force: true });
});

function record(overrides: Partial<DownloadRecord> = {}): DownloadRecord {
  return {
    id: 'dl-1',
    sourceKind: 'files-api',
    sourceRef: 'file_011CNha8iCJcU1wXNR6q4V8w',
    apiBase: 'https://api.anthropic.com',
    filename: 'report.pdf',
    mimeType: 'application/pdf',
    sizeBytes: 5 * GiB,
    createdAt: '2025-03-14T09:26:53.000Z',
    etag: '"abc123"',
    lastModified: 'Fri, 14 Mar 2025 09:26:53 GMT',
    rangeSupported: true,
    state: 'queued',
    error: null,
    addedAt: '2025-04-01T10:00:00.000Z',
    updatedAt: '2025-04-01T10:00:00.000Z',
    completedAt: null,
    finalPath: null,
    sha256: null,
    restartCount: 0,
    ...overrides,
  };
}

const urlRecord = (overrides: Partial<DownloadRecord> = {}): DownloadRecord =>
  record({
    id: 'dl-url',
    sourceKind: 'url',
    sourceRef: 'https://example.com/big.iso',
    apiBase: null,
    filename: null,
    mimeType: null,
    sizeBytes: null,
    createdAt: null,
    etag: null,
    lastModified: null,
    rangeSupported: null,
    ...overrides,
  });

describe('downloads', () => {
  it('round-trips a record with a 5 GiB size', () => {
    insertDownload(db, record());
    const got = getDownload(db, 'dl-1');
    expect(got).toEqual(record());
    expect(got?.sizeBytes).toBe(5368709120);
    expect(typeof got?.sizeBytes).toBe('number');
  });

  it('round-trips nulls and rangeSupported false', () => {
    insertDownload(db, urlRecord());
    expect(getDownload(db, 'dl-url')).toEqual(urlRecord());
    insertDownload(db, urlRecord({ id: 'dl-url-2', rangeSupported: false }));
    expect(getDownload(db, 'dl-url-2')?.rangeSupported).toBe(false);
  });

  it('returns undefined for an unknown id', () => {
    expect(getDownload(db, 'nope')).toBeUndefined();
  });

  it('updates only the given fields and stamps updatedAt', () => {
    insertDownload(db, record());
    const before = Date.now();
    expect(updateDownload(db, 'dl-1', { state: 'downloading', rangeSupported: false, sizeBytes: 7 * GiB + 3 })).toBe(true);
    const got = getDownload(db, 'dl-1')!;
    expect(got).toEqual({
      ...record(),
      state: 'downloading',
      rangeSupported: false,
      sizeBytes: 7 * GiB + 3,
      updatedAt: got.updatedAt,
    });
    expect(Date.parse(got.updatedAt)).toBeGreaterThanOrEqual(before - 1);
  });

  it('keeps an explicit updatedAt and can set fields back to null', () => {
    insertDownload(db, record({ error: 'Network went away.' }));
    updateDownload(db, 'dl-1', { error: null, rangeSupported: null, updatedAt: '2030-01-01T00:00:00.000Z' });
    const got = getDownload(db, 'dl-1')!;
    expect(got.error).toBeNull();
    expect(got.rangeSupported).toBeNull();
    expect(got.updatedAt).toBe('2030-01-01T00:00:00.000Z');
  });

  it('reuses cached statements across differently shaped patches', () => {
    insertDownload(db, record());
    for (let i = 1; i <= 5; i++) {
      updateDownload(db, 'dl-1', { restartCount: i });
      updateDownload(db, 'dl-1', { state: 'paused', error: `try ${i}` });
    }
    expect(getDownload(db, 'dl-1')).toMatchObject({ restartCount: 5, state: 'paused', error: 'try 5' });
  });

  it('rejects unknown patch fields and reports a missing id', () => {
    insertDownload(db, record());
    expect(() => updateDownload(db, 'dl-1', { bogus: 1 } as never)).toThrow(/unknown field "bogus"/);
    expect(() => updateDownload(db, 'dl-1', { id: 'x' } as never)).toThrow(/unknown field "id"/);
    expect(updateDownload(db, 'missing', { state: 'failed' })).toBe(false);
  });

  it('enforces the state and source_kind checks', () => {
    expect(() => insertDownload(db, record({ state: 'exploded' as never }))).toThrow(/CHECK constraint/);
    expect(() => insertDownload(db, record({ sourceKind: 'ftp' as never }))).toThrow(/CHECK constraint/);
  });

  it('finds the latest download of a source, matching a null api base with IS', () => {
    insertDownload(db, record({ id: 'a', addedAt: '2025-01-01T00:00:00.000Z' }));
    insertDownload(db, record({ id: 'b', addedAt: '2025-02-01T00:00:00.000Z' }));
    insertDownload(db, record({ id: 'c', addedAt: '2025-03-01T00:00:00.000Z', apiBase: 'https://proxy.example' }));
    insertDownload(db, urlRecord({ id: 'u1', addedAt: '2025-01-01T00:00:00.000Z' }));
    insertDownload(db, urlRecord({ id: 'u2', addedAt: '2025-01-05T00:00:00.000Z' }));

    expect(findLatestBySource(db, 'files-api', record().sourceRef, 'https://api.anthropic.com')?.id).toBe('b');
    expect(findLatestBySource(db, 'files-api', record().sourceRef, 'https://proxy.example')?.id).toBe('c');
    expect(findLatestBySource(db, 'url', urlRecord().sourceRef, null)?.id).toBe('u2');
    expect(findLatestBySource(db, 'files-api', record().sourceRef, null)).toBeUndefined();
    expect(findLatestBySource(db, 'url', 'https://example.com/other', null)).toBeUndefined();
  });

  it('lists by added_at then id, optionally filtered by state', () => {
    insertDownload(db, record({ id: 'z', addedAt: '2025-01-01T00:00:00.000Z', state: 'done' }));
    insertDownload(db, record({ id: 'b', addedAt: '2025-02-01T00:00:00.000Z', state: 'queued' }));
    insertDownload(db, record({ id: 'a', addedAt: '2025-02-01T00:00:00.000Z', state: 'failed' }));

    expect(listDownloads(db).map((d) => d.id)).toEqual(['z', 'a', 'b']);
    expect(listDownloads(db, { states: ['queued', 'failed'] }).map((d) => d.id)).toEqual(['a', 'b']);
    expect(listDownloads(db, { states: ['done'] })[0]).toEqual(record({ id: 'z', addedAt: '2025-01-01T00:00:00.000Z', state: 'done' }));
    expect(listDownloads(db, { states: [] })).toEqual([]);
  });

  it('deletes a download and cascades to its segments', () => {
    insertDownload(db, record());
    saveSegments(db, 'dl-1', [{ start: 0, end: 10, confirmedOffset: 5 }]);
    expect(deleteDownload(db, 'dl-1')).toBe(true);
    expect(getDownload(db, 'dl-1')).toBeUndefined();
    expect(loadSegments(db, 'dl-1')).toEqual([]);
    expect(deleteDownload(db, 'dl-1')).toBe(false);
  });
});

describe('segments', () => {
  const layout: SegmentRecord[] = [
    { start: 4 * GiB, end: 5 * GiB, confirmedOffset: 4 * GiB + 123 },
    { start: 0, end: 2 * GiB, confirmedOffset: 2 * GiB },
    { start: 2 * GiB, end: 4 * GiB, confirmedOffset: 3 * GiB },
  ];

  it('saves and loads ordered by start, with offsets beyond 2^31', () => {
    insertDownload(db, record());
    expect(loadSegments(db, 'dl-1')).toEqual([]);
    saveSegments(db, 'dl-1', layout);
    expect(loadSegments(db, 'dl-1')).toEqual([...layout].sort((a, b) => a.start - b.start));
  });

  it('replaces all segments of the download and leaves other downloads alone', () => {
    insertDownload(db, record());
    insertDownload(db, record({ id: 'other' }));
    saveSegments(db, 'dl-1', layout);
    saveSegments(db, 'other', [{ start: 0, end: 1, confirmedOffset: 0 }]);

    const next = [{ start: 0, end: 5 * GiB, confirmedOffset: 17 }];
    saveSegments(db, 'dl-1', next);
    expect(loadSegments(db, 'dl-1')).toEqual(next);
    expect(loadSegments(db, 'other')).toEqual([{ start: 0, end: 1, confirmedOffset: 0 }]);
  });

  it('rejects confirmed_offset beyond end and keeps the previous segments', () => {
    insertDownload(db, record());
    saveSegments(db, 'dl-1', layout);
    const bad = [
      { start: 0, end: 100, confirmedOffset: 50 },
      { start: 100, end: 200, confirmedOffset: 201 },
    ];
    expect(() => saveSegments(db, 'dl-1', bad)).toThrow(/CHECK constraint/);
    expect(loadSegments(db, 'dl-1')).toHaveLength(3);
  });

  it('rejects confirmed_offset before start', () => {
    insertDownload(db, record());
    expect(() => saveSegments(db, 'dl-1', [{ start: 10, end: 20, confirmedOffset: 9 }])).toThrow(/CHECK constraint/);
  });

  it('rejects segments of an unknown download', () => {
    expect(() => saveSegments(db, 'ghost', [{ start: 0, end: 1, confirmedOffset: 0 }])).toThrow(/FOREIGN KEY/);
  });
});

describe('journal', () => {
  it('implements TransferJournal over the catalog', () => {
    insertDownload(db, record());
    const journal = createJournal(db);
    journal.saveSegments('dl-1', layoutOf(2));
    journal.updateDownload('dl-1', { state: 'downloading', updatedAt: '1999-01-01T00:00:00.000Z' });
    expect(journal.loadSegments('dl-1')).toEqual(layoutOf(2));
    const got = getDownload(db, 'dl-1')!;
    expect(got.state).toBe('downloading');
    // The journal owns updatedAt.
    expect(got.updatedAt).not.toBe('1999-01-01T00:00:00.000Z');
    expect(got.updatedAt).not.toBe(record().updatedAt);
  });
});

describe('durability', () => {
  it('keeps data across close and reopen', () => {
    insertDownload(db, record());
    saveSegments(db, 'dl-1', layoutOf(3));
    updateDownload(db, 'dl-1', { state: 'paused', error: 'Paused by you.' });
    closeCatalog(db);

    db = openCatalog(dbPath);
    expect(getDownload(db, 'dl-1')).toMatchObject({ state: 'paused', error: 'Paused by you.', sizeBytes: 5 * GiB });
    expect(loadSegments(db, 'dl-1')).toEqual(layoutOf(3));
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
  });
});

// n equal segments over 5 GiB, each half confirmed.
function layoutOf(n: number): SegmentRecord[] {
  const size = (5 * GiB) / n;
  return Array.from({ length: n }, (_, i) => {
    const start = Math.floor(i * size);
    const end = i === n - 1 ? 5 * GiB : Math.floor((i + 1) * size);
    return { start, end, confirmedOffset: start + Math.floor((end - start) / 2) };
  });
}
