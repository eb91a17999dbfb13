// Keeps meta/YYYY-MM.json in step with the catalog: atomic, debounced rewrites of dirty months, recovered after a crash.
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, unlinkSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import type Database from 'better-sqlite3';
import type { DownloadRecord } from '../../shared/model.ts';
import { listMonthEntriesByPath, recordArchivedFile, type ArchiveEntry } from '../store/archive-entries.ts';
import { claimManifestWrite, listDirtyMonths, markMonthDirty, monthGenerations } from '../store/dirty-months.ts';
import type { DataLayout } from './layout.ts';
import { isSafeArchivePath, manifestHead, manifestLine, manifestPath, manifestTail, toManifestFile } from './manifest.ts';
import { processAlive } from '../util/process-alive.ts';

/** What one manifest write did. 'superseded': a newer manifest of the month was renamed into place meanwhile. */
export type ManifestWriteResult = 'written' | 'removed' | 'clean' | 'superseded';

// Rows read per query while building a manifest; the text goes to disk in chunks of about this many lines.
const PAGE = 2000;
// .YYYY-MM.json.<pid>.<random>.tmp — the pid lets a later run tell a dead process's leftover from a live write.
const TEMP_NAME = /^\.\d{4}-\d{2}\.json\.(\d+)\.[0-9a-f]+\.tmp$/u;

/**
 * Rewrites one month's manifest from the catalog if it is behind: written to a temp file in meta/, fsynced, then
 * renamed over the old one and the directory fsynced. The rename happens inside an IMMEDIATE transaction that
 * also records which generation the manifest reflects, and only if that generation is newer than the one on
 * disk — so two writers (two processes, or a slow write racing a fast one) can never put an older manifest back.
 * A month left without files loses its manifest.
 */
export async function writeMonthManifest(db: Database.Database, layout: DataLayout, month: string): Promise<ManifestWriteResult> {
  const finalPath = manifestPath(layout, month);
  // One synchronous read: the generation first, then the rows, so the rows are at least as new as the generation.
  const { generation, chunks, empty } = db.transaction(() => {
    const state = monthGenerations(db, month);
    if (state.generation <= state.writtenGeneration) return { generation: 0, chunks: [], empty: true };
    const texts: string[] = [];
    let after = '';
    let first = true;
    for (;;) {
      const page: ArchiveEntry[] = listMonthEntriesByPath(db, month, after, PAGE);
      if (page.length === 0) break;
      texts.push(page.map((entry, i) => manifestLine(toManifestFile(entry), first && i === 0)).join(''));
      first = false;
      after = page[page.length - 1].path;
    }
    return { generation: state.generation, chunks: texts, empty: first };
  })();
  if (generation === 0) return 'clean';
  await mkdir(layout.metaDir, { recursive: true });

  if (empty) {
    const claimed = db.transaction(() => {
      if (!claimManifestWrite(db, month, generation)) return false;
      rmSync(finalPath, { force: true });
      fsyncDirectorySync(layout.metaDir);
      return true;
    }).immediate();
    return claimed ? 'removed' : 'superseded';
  }

  const tempPath = path.join(layout.metaDir, `.${month}.json.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(tempPath, 'wx');
    try {
      await handle.writeFile(manifestHead(month));
      for (const chunk of chunks) await handle.writeFile(chunk);
      await handle.writeFile(manifestTail(false));
      await handle.sync();
    } finally {
      await handle.close();
    }
    const claimed = db.transaction(() => {
      if (!claimManifestWrite(db, month, generation)) return false;
      // Inside the transaction: if the rename fails the claim rolls back, and the directory is synced before the
      // catalog says the manifest is current.
      renameSync(tempPath, finalPath);
      fsyncDirectorySync(layout.metaDir);
      return true;
    }).immediate();
    return claimed ? 'written' : 'superseded';
  } finally {
    rmSync(tempPath, { force: true });
  }
}

export interface FlushReport {
  written: string[];
  failed: { month: string; error: Error }[];
}

/** Writes every month whose manifest is behind the catalog, one after another. */
export async function writeDirtyManifests(db: Database.Database, layout: DataLayout): Promise<FlushReport> {
  const report: FlushReport = { written: [], failed: [] };
  for (const { month } of listDirtyMonths(db)) {
    try {
      const result = await writeMonthManifest(db, layout, month);
      if (result === 'written' || result === 'removed') report.written.push(month);
    } catch (error) {
      report.failed.push({ month, error: asError(error) });
    }
  }
  return report;
}

export interface TimerFunctions {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface ManifestWriterOptions {
  /** Wait after a month's first change before rewriting it, coalescing the changes meanwhile (default 2000). */
  debounceMs?: number;
  /** A write that failed; the month stays dirty and is retried on its next change, flush() or the next start. */
  onError?: (error: Error, month: string) => void;
  /** For tests that drive time themselves. */
  timers?: TimerFunctions;
}

const realTimers: TimerFunctions = {
  setTimeout(callback, ms) {
    const handle = setTimeout(callback, ms);
    // A pending rewrite must not keep a finished command alive: the dirty mark survives and the next start writes it.
    handle.unref();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * Rewrites manifests of changed months, at most once per `debounceMs` per month. Rewriting a month on every
 * finished file would cost O(n²) for a month of many small files; instead the catalog carries a dirty mark
 * (set in the transaction that records the file), and the writer catches up shortly after. Months left dirty
 * by a crash are rewritten as soon as a writer is created.
 */
export class ManifestWriter {
  readonly #db: Database.Database;
  readonly #layout: DataLayout;
  readonly #debounceMs: number;
  readonly #timers: TimerFunctions;
  readonly #onError: (error: Error, month: string) => void;
  readonly #scheduled = new Map<string, unknown>();
  // Writes run one at a time, so one process never races itself over a month.
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(db: Database.Database, layout: DataLayout, options: ManifestWriterOptions = {}) {
    this.#db = db;
    this.#layout = layout;
    this.#debounceMs = options.debounceMs ?? 2000;
    this.#timers = options.timers ?? realTimers;
    this.#onError = options.onError ?? (() => {});
    removeDeadTempFiles(layout.metaDir);
    // Crash recovery: whatever was left dirty is written now, without waiting.
    for (const { month } of listDirtyMonths(db)) this.#enqueue(month);
  }

  /** Marks a month's manifest as behind the catalog and schedules its rewrite. */
  markDirty(month: string): void {
    markMonthDirty(this.#db, month);
    this.scheduleWrite(month);
  }

  /** Schedules a rewrite of a month the caller has already marked dirty in its own transaction. */
  scheduleWrite(month: string): void {
    if (this.#closed || this.#scheduled.has(month)) return;
    const handle = this.#timers.setTimeout(() => {
      this.#scheduled.delete(month);
      this.#enqueue(month);
    }, this.#debounceMs);
    this.#scheduled.set(month, handle);
  }

  /** Resolves once the writes already queued (not those still waiting out their debounce) have finished. */
  async whenIdle(): Promise<void> {
    let tail: Promise<unknown>;
    do {
      tail = this.#queue;
      await tail;
    } while (tail !== this.#queue);
  }

  /** Writes every dirty month now (pending debounces included); rejects if any month could not be written. */
  async flush(): Promise<void> {
    for (const handle of this.#scheduled.values()) this.#timers.clearTimeout(handle);
    this.#scheduled.clear();
    const run = this.#queue.then(() => writeDirtyManifests(this.#db, this.#layout));
    this.#queue = run.catch(() => {});
    const report = await run;
    if (report.failed.length > 0) {
      const { month, error } = report.failed[0];
      throw new Error(`Could not write the manifest of ${month}: ${error.message}`, { cause: error });
    }
  }

  /** Flushes and stops scheduling; later marks stay in the catalog for the next writer to pick up. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
  }

  #enqueue(month: string): void {
    this.#queue = this.#queue.then(async () => {
      try {
        await writeMonthManifest(this.#db, this.#layout, month);
      } catch (error) {
        this.#onError(asError(error), month);
      }
    });
  }
}

/**
 * Records a finished, placed download in the archive catalog and marks its month dirty (one transaction), then
 * schedules the manifest rewrite. `finalPath` is relative to the data dir (raw/YYYY-MM/name), as the archive
 * port returns it; repeating the call for the same path (a finalize redone after a crash) updates the entry.
 */
export function archiveFinishedDownload(
  db: Database.Database,
  writer: ManifestWriter,
  record: DownloadRecord,
  finalPath: string,
  encrypted: boolean,
): ArchiveEntry {
  if (!isSafeArchivePath(finalPath)) throw new Error(`archiveFinishedDownload: ${JSON.stringify(finalPath)} is not an archive path`);
  if (record.sizeBytes === null || record.sha256 === null) {
    throw new Error(`archiveFinishedDownload: download ${record.id} has no verified size and sha256 yet`);
  }
  const entry = recordArchivedFile(db, {
    downloadId: record.id,
    sourceKind: record.sourceKind,
    sourceRef: record.sourceRef,
    fileId: record.sourceKind === 'files-api' ? record.sourceRef : null,
    filename: record.filename ?? path.posix.basename(finalPath),
    path: finalPath,
    sizeBytes: record.sizeBytes,
    sha256: record.sha256,
    mimeType: record.mimeType,
    createdAt: record.createdAt,
    downloadedAt: record.completedAt ?? new Date().toISOString(),
    etag: record.etag,
    encrypted,
  });
  writer.scheduleWrite(entry.month);
  return entry;
}

/** Temp manifests of processes that died mid-write; a live process's temp file is left alone. */
function removeDeadTempFiles(metaDir: string): void {
  let names: string[];
  try {
    names = readdirSync(metaDir);
  } catch {
    return; // no meta/ yet: nothing to clean
  }
  for (const name of names) {
    const pid = Number(TEMP_NAME.exec(name)?.[1] ?? NaN);
    // Our own pid may be another writer of this process mid-write (the desktop app and a reindex, say).
    if (Number.isNaN(pid) || pid === process.pid || processAlive(pid)) continue;
    try {
      unlinkSync(path.join(metaDir, name));
    } catch {
      // Another process cleaned it first; either way it is gone.
    }
  }
}

/** fsync of a directory so a rename in it is durable; a no-op where the platform cannot (Windows, some FUSE). */
function fsyncDirectorySync(dir: string): void {
  if (process.platform === 'win32') return;
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw error;
  } finally {
    closeSync(fd);
  }
}


function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
