// Tests for month manifests: strict parsing of hostile input, and the writer (all fields, debounce, crash recovery, races).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type Database from 'better-sqlite3';
import type { DownloadRecord } from '../../src/shared/model.ts';
import { dataLayout, type DataLayout } from '../../src/main/archive/layout.ts';
import { MANIFEST_FORMAT, parseManifest, type ManifestFile } from '../../src/main/archive/manifest.ts';
import {
  archiveFinishedDownload,
  ManifestWriter,
  writeMonthManifest,
  type TimerFunctions,
} from '../../src/main/archive/manifest-writer.ts';
import { closeCatalog, openCatalog } from '../../src/main/store/database.ts';
import { deleteEntry, getEntryByPath, recordArchivedFile } from '../../src/main/store/archive-entries.ts';
import { claimManifestWrite, listDirtyMonths, monthGenerations } from '../../src/main/store/dirty-months.ts';

let dir: string;
let layout: DataLayout;
let db: Database.Database;
const writers: ManifestWriter[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'filehaul-manifest-'));
  layout = dataLayout(dir);
  fs.mkdirSync(layout.metaDir, { recursive: true });
  db = openCatalog(layout.dbPath);
});
afterEach(async () => {
  for (const writer of writers.splice(0)) await writer.close().catch(() => {});
  closeCatalog(db);
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Timers the test fires by hand: no waiting, and every scheduled write is visible. */
function manualTimers(): TimerFunctions & { pending: Map<number, { callback: () => void; ms: number }>; fireAll(): void } {
  const pending = new Map<number, { callback: () => void; ms: number }>();
  let next = 1;
  return {
    pending,
    setTimeout(callback, ms) {
      pending.set(next, { callback, ms });
      return next++;
    },
    clearTimeout(handle) {
      pending.delete(handle as number);
    },
    fireAll() {
      const due = [...pending.values()];
      pending.clear();
      for (const timer of due) timer.callback();
    },
  };
}

function writer(options: ConstructorParameters<typeof ManifestWriter>[2] = {}): ManifestWriter {
  const w = new ManifestWriter(db, layout, { timers: manualTimers(), ...options });
  writers.push(w);
  return w;
}

function record(n: number, overrides: Partial<DownloadRecord> = {}): DownloadRecord {
  return {
    id: `dl_${n}`,
    sourceKind: 'files-api',
    sourceRef: `file_0${n}`,
    apiBase: 'https://api.anthropic.com',
    filename: `report ${n}.pdf`,
    mimeType: 'application/pdf',
    sizeBytes: 1000 + n,
    createdAt: '2025-03-14T09:26:53.000Z',
    etag: `"etag-${n}"`,
    lastModified: null,
    rangeSupported: true,
    state: 'done',
    error: null,
    addedAt: '2025-04-01T10:00:00.000Z',
    updatedAt: '2025-04-01T10:00:00.000Z',
    completedAt: `2025-04-01T10:0${n % 10}:00.000Z`,
    finalPath: null,
    sha256: String(n % 10).repeat(64),
    restartCount: 0,
    ...overrides,
  };
}

function readManifest(month: string): { format: string; version: number; month: string; files: ManifestFile[] } {
  return JSON.parse(fs.readFileSync(path.join(layout.metaDir, `${month}.json`), 'utf8'));
}

describe('writing manifests', () => {
  it('lists every archived file of the month with all fields, in path order', async () => {
    const w = writer();
    archiveFinishedDownload(db, w, record(2), 'raw/2025-03/report 2.pdf', false);
    archiveFinishedDownload(db, w, record(1), 'raw/2025-03/report 1.pdf', true);
    archiveFinishedDownload(
      db,
      w,
      record(3, { sourceKind: 'url', sourceRef: 'https://example.com/a.iso', apiBase: null, filename: null, mimeType: null, etag: null, createdAt: null }),
      'raw/2025-03/a.iso',
      false,
    );
    archiveFinishedDownload(db, w, record(4, { createdAt: '2025-04-02T00:00:00Z' }), 'raw/2025-04/report 4.pdf', false);
    await w.flush();

    const march = readManifest('2025-03');
    expect(march).toMatchObject({ format: MANIFEST_FORMAT, version: 1, month: '2025-03' });
    expect(march.files).toEqual([
      {
        file_id: null,
        filename: 'a.iso',
        path: 'raw/2025-03/a.iso',
        size_bytes: 1003,
        sha256: '3'.repeat(64),
        mime_type: null,
        created_at: null,
        downloaded_at: '2025-04-01T10:03:00.000Z',
        source: 'url',
        url: 'https://example.com/a.iso',
        etag: null,
        encrypted: false,
        download_id: 'dl_3',
      },
      {
        file_id: 'file_01',
        filename: 'report 1.pdf',
        path: 'raw/2025-03/report 1.pdf',
        size_bytes: 1001,
        sha256: '1'.repeat(64),
        mime_type: 'application/pdf',
        created_at: '2025-03-14T09:26:53.000Z',
        downloaded_at: '2025-04-01T10:01:00.000Z',
        source: 'files-api',
        url: null,
        etag: '"etag-1"',
        encrypted: true,
        download_id: 'dl_1',
      },
      expect.objectContaining({ path: 'raw/2025-03/report 2.pdf', file_id: 'file_02', encrypted: false }),
    ]);
    expect(readManifest('2025-04').files.map((f) => f.path)).toEqual(['raw/2025-04/report 4.pdf']);
    // The manifest parses back to the same files, and is one file per line for people and diffs.
    expect(parseManifest(fs.readFileSync(path.join(layout.metaDir, '2025-03.json'), 'utf8'), '2025-03')).toEqual({ month: '2025-03', files: march.files, problems: [] });
    expect(fs.readFileSync(path.join(layout.metaDir, '2025-03.json'), 'utf8').split('\n')).toHaveLength(11);
    expect(listDirtyMonths(db)).toEqual([]);
    // No temp files are left behind.
    expect(fs.readdirSync(layout.metaDir).sort()).toEqual(['2025-03.json', '2025-04.json']);
  });

  it('coalesces many finished files into one debounced write per month', async () => {
    const timers = manualTimers();
    const w = writer({ timers, debounceMs: 2000 });
    for (let n = 0; n < 50; n++) archiveFinishedDownload(db, w, record(n), `raw/2025-03/f${n}.pdf`, false);
    archiveFinishedDownload(db, w, record(99), 'raw/2025-05/other.pdf', false);
    expect([...timers.pending.values()].map((t) => t.ms)).toEqual([2000, 2000]);
    expect(fs.existsSync(path.join(layout.metaDir, '2025-03.json'))).toBe(false);

    timers.fireAll();
    await w.whenIdle();
    expect(readManifest('2025-03').files).toHaveLength(50);
    expect(readManifest('2025-05').files).toHaveLength(1);
    expect(listDirtyMonths(db)).toEqual([]);

    // The next change schedules the next write.
    archiveFinishedDownload(db, w, record(50), 'raw/2025-03/f50.pdf', false);
    expect(timers.pending.size).toBe(1);
    timers.fireAll();
    await w.whenIdle();
    expect(readManifest('2025-03').files).toHaveLength(51);
  });

  it('recovers after a crash: months left dirty are written when the next writer starts', async () => {
    const w = writer();
    archiveFinishedDownload(db, w, record(1), 'raw/2025-03/a.pdf', false);
    archiveFinishedDownload(db, w, record(2), 'raw/2025-06/b.pdf', false);
    // A temp manifest of a process that died mid-write, and one that looks like a live process's.
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    fs.writeFileSync(path.join(layout.metaDir, `.2025-03.json.${dead}.abcdef.tmp`), '{"half":');
    fs.writeFileSync(path.join(layout.metaDir, `.2025-03.json.${process.ppid}.abcdef.tmp`), '{"live":');
    // "Crash": the process goes away without flushing; the catalog keeps the marks.
    writers.splice(0);
    closeCatalog(db);
    expect(fs.readdirSync(layout.metaDir).filter((n) => n.endsWith('.json'))).toEqual([]);

    db = openCatalog(layout.dbPath);
    expect(listDirtyMonths(db).map((d) => d.month)).toEqual(['2025-03', '2025-06']);
    const timers = manualTimers();
    const recovered = writer({ timers });
    // Recovery does not wait for a debounce.
    expect(timers.pending.size).toBe(0);
    await recovered.whenIdle();
    expect(readManifest('2025-03').files.map((f) => f.path)).toEqual(['raw/2025-03/a.pdf']);
    expect(readManifest('2025-06').files.map((f) => f.path)).toEqual(['raw/2025-06/b.pdf']);
    expect(listDirtyMonths(db)).toEqual([]);
    expect(fs.readdirSync(layout.metaDir).sort()).toEqual(['.2025-03.json.' + process.ppid + '.abcdef.tmp', '2025-03.json', '2025-06.json']);
  });

  it('never puts an older manifest back: a write overtaken by a newer one is dropped', async () => {
    recordArchivedFile(db, { ...entryOf(1), path: 'raw/2025-03/one' });
    // The slow writer reads the catalog now (generation 1)…
    const slow = writeMonthManifest(db, layout, '2025-03');
    // …then another file arrives and another process publishes generation 2 before the slow rename.
    recordArchivedFile(db, { ...entryOf(2), path: 'raw/2025-03/two' });
    expect(claimManifestWrite(db, '2025-03', 2)).toBe(true);
    expect(await slow).toBe('superseded');
    expect(fs.readdirSync(layout.metaDir)).toEqual([]);
    expect(claimManifestWrite(db, '2025-03', 1)).toBe(false);
  });

  it('two overlapping writers of one month leave the newest manifest', async () => {
    recordArchivedFile(db, { ...entryOf(1), path: 'raw/2025-03/one' });
    const first = writeMonthManifest(db, layout, '2025-03');
    recordArchivedFile(db, { ...entryOf(2), path: 'raw/2025-03/two' });
    const second = writeMonthManifest(db, layout, '2025-03');
    // Whichever renames first, the one holding generation 2 is what stays.
    expect(await second).toBe('written');
    expect(['written', 'superseded']).toContain(await first);
    expect(readManifest('2025-03').files.map((f) => f.path)).toEqual(['raw/2025-03/one', 'raw/2025-03/two']);
    expect(monthGenerations(db, '2025-03')).toEqual({ generation: 2, writtenGeneration: 2 });
    expect(await writeMonthManifest(db, layout, '2025-03')).toBe('clean');
    expect(fs.readdirSync(layout.metaDir)).toEqual(['2025-03.json']);
  });

  it('removes the manifest of a month whose last file left the catalog', async () => {
    const w = writer();
    const entry = archiveFinishedDownload(db, w, record(1), 'raw/2025-03/a.pdf', false);
    await w.flush();
    expect(fs.existsSync(path.join(layout.metaDir, '2025-03.json'))).toBe(true);
    deleteEntry(db, entry.id);
    expect(await writeMonthManifest(db, layout, '2025-03')).toBe('removed');
    expect(fs.existsSync(path.join(layout.metaDir, '2025-03.json'))).toBe(false);
  });

  it('keeps a month dirty and reports the error when its manifest cannot be written', async () => {
    const errors: string[] = [];
    const blocked = { ...layout, metaDir: path.join(dir, 'not-a-dir', 'meta') };
    fs.writeFileSync(path.join(dir, 'not-a-dir'), 'a file where a directory should be');
    const timers = manualTimers();
    const w = new ManifestWriter(db, blocked, { timers, onError: (error, month) => errors.push(`${month}: ${error.message}`) });
    writers.push(w);
    archiveFinishedDownload(db, w, record(1), 'raw/2025-03/a.pdf', false);
    timers.fireAll();
    await w.whenIdle();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^2025-03: .*(ENOTDIR|EEXIST)/);
    await expect(w.flush()).rejects.toThrow(/Could not write the manifest of 2025-03/);
    expect(listDirtyMonths(db).map((d) => d.month)).toEqual(['2025-03']);
    writers.splice(0);
  });
});

describe('archiveFinishedDownload', () => {
  it('records the entry from the download record and is idempotent for the same path', () => {
    const w = writer();
    const first = archiveFinishedDownload(db, w, record(7), 'raw/2025-03/report 7.pdf', false);
    expect(first).toMatchObject({
      downloadId: 'dl_7',
      sourceKind: 'files-api',
      sourceRef: 'file_07',
      fileId: 'file_07',
      filename: 'report 7.pdf',
      month: '2025-03',
      sizeBytes: 1007,
      sha256: '7'.repeat(64),
      mimeType: 'application/pdf',
      createdAt: '2025-03-14T09:26:53.000Z',
      downloadedAt: '2025-04-01T10:07:00.000Z',
      etag: '"etag-7"',
      encrypted: false,
    });
    const again = archiveFinishedDownload(db, w, record(7), 'raw/2025-03/report 7.pdf', false);
    expect(again.id).toBe(first.id);
    expect(getEntryByPath(db, 'raw/2025-03/report 7.pdf')?.id).toBe(first.id);
  });

  it('refuses unverified records and paths outside raw/YYYY-MM/', () => {
    const w = writer();
    expect(() => archiveFinishedDownload(db, w, record(1, { sha256: null }), 'raw/2025-03/a', false)).toThrow(/no verified size and sha256/);
    expect(() => archiveFinishedDownload(db, w, record(1), 'raw/2025-03/../../etc/passwd', false)).toThrow(/not an archive path/);
    expect(() => archiveFinishedDownload(db, w, record(1), '/etc/passwd', false)).toThrow(/not an archive path/);
  });
});

describe('parseManifest', () => {
  const good: ManifestFile = {
    file_id: 'file_1',
    filename: 'a.pdf',
    path: 'raw/2025-01/a.pdf',
    size_bytes: 3,
    sha256: 'c'.repeat(64),
    mime_type: null,
    created_at: null,
    downloaded_at: '2025-01-02T00:00:00Z',
    source: 'files-api',
    url: null,
    etag: null,
    encrypted: false,
    download_id: null,
  };
  const doc = (files: unknown[], extra: Record<string, unknown> = {}) =>
    JSON.stringify({ format: MANIFEST_FORMAT, version: 1, month: '2025-01', files, ...extra });

  it('drops hostile or malformed entries with a reason and keeps the rest', () => {
    const parsed = parseManifest(
      doc([
        good,
        { ...good, path: 'raw/2025-01/../../../etc/passwd' },
        { ...good, path: '/etc/passwd' },
        { ...good, path: 'raw/2025-02/elsewhere' },
        { ...good, path: 'raw\\2025-01\\x' },
        { ...good, path: 'raw/2025-01/C:x' },
        { ...good, path: 'raw/2025-01/line\nbreak' },
        { ...good, path: 'raw/2025-01/b', sha256: 'XYZ' },
        { ...good, path: 'raw/2025-01/c', size_bytes: -1 },
        { ...good, path: 'raw/2025-01/d', source: 'ftp' },
        { ...good, path: 'raw/2025-01/e', etag: 5 },
        { ...good, path: 'raw/2025-01/f', encrypted: 'no' },
        'not an object',
        good,
      ]),
      '2025-01',
    );
    expect(parsed.files).toEqual([good]);
    expect(parsed.problems).toHaveLength(13);
    expect(parsed.problems[0]).toContain('raw/2025-01/../../../etc/passwd');
    expect(parsed.problems.at(-1)).toContain('listed twice');
  });

  it('fills optional fields an older or hand-written manifest left out', () => {
    const { file_id: _a, mime_type: _b, etag: _c, download_id: _d, url: _e, created_at: _f, ...minimal } = good;
    expect(parseManifest(doc([minimal]), '2025-01').files).toEqual([{ ...good, file_id: null }]);
  });

  it('refuses documents that are not a manifest of that month', () => {
    expect(() => parseManifest('{', '2025-01')).toThrow(/not valid JSON/);
    expect(() => parseManifest('[]', '2025-01')).toThrow(/not a JSON object/);
    expect(() => parseManifest(doc([], { format: 'other' }), '2025-01')).toThrow(/format/);
    expect(() => parseManifest(doc([], { version: 2 }), '2025-01')).toThrow(/version 2/);
    expect(() => parseManifest(doc([]), '2025-02')).toThrow(/named 2025-02.json/);
    expect(() => parseManifest(doc([], { files: {} }), '2025-01')).toThrow(/not an array/);
  });
});

function entryOf(n: number) {
  return {
    downloadId: null,
    sourceKind: 'unknown' as const,
    sourceRef: null,
    fileId: null,
    filename: `f${n}`,
    path: `raw/2025-03/f${n}`,
    sizeBytes: n,
    sha256: 'd'.repeat(64),
    mimeType: null,
    createdAt: null,
    downloadedAt: '2025-03-01T00:00:00Z',
    etag: null,
    encrypted: false,
  };
}
