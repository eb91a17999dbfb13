// Upkeep of the data dir's tmp/: one lock file per download, temporaries a crash left behind, and the disk-space reserve.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type Database from 'better-sqlite3';
import type { DownloadRecord } from '../shared/model.ts';
import type { DataLayout } from './archive/layout.ts';
import { getDownload } from './store/index.ts';
import { processAlive } from './util/process-alive.ts';

/** The lock files this process holds, by download id. */
export class DownloadLocks {
  readonly #tmpDir: string;
  readonly #locks = new Map<string, string>();

  constructor(tmpDir: string) {
    this.#tmpDir = tmpDir;
  }

  /**
   * One process per download: a lock file beside the part file, holding the owner's pid. A lock whose process is
   * gone (kill -9) is stale and taken over.
   */
  take(downloadId: string): string | null {
    // Synchronous on purpose: downloads started together must join the queue in the order they were asked for,
    // not in the order their lock files happened to be written.
    const lockPath = path.join(this.#tmpDir, `${downloadId}.lock`);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(lockPath, String(process.pid), { flag: 'wx', mode: 0o600 });
        this.#locks.set(downloadId, lockPath);
        return null;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        let owner = 0;
        try {
          owner = Number(readFileSync(lockPath, 'utf8').trim());
        } catch {
          // Gone or unreadable: treat as stale.
        }
        if (owner && owner !== process.pid && processAlive(owner)) return `already being downloaded by another Filehaul process (pid ${owner})`;
        rmSync(lockPath, { force: true });
      }
    }
    return 'could not take the download lock';
  }

  async release(downloadId: string): Promise<void> {
    const lockPath = this.#locks.get(downloadId);
    if (!lockPath) return;
    this.#locks.delete(downloadId);
    await rm(lockPath, { force: true });
  }
}

/** A crash after the catalog recorded a finished file but before its part file was removed leaves the part: drop it. */
export async function removeLeftoverTemporaries(tmpDir: string, db: Database.Database): Promise<void> {
  for (const entry of await readdir(tmpDir)) {
    const match = /^(.+)\.(part|age|lock)$/.exec(entry);
    if (!match) continue;
    const [, downloadId, kind] = match;
    const record = getDownload(db, downloadId);
    // Finished downloads no longer need their temporaries; ones the catalog does not know (it was lost) cannot resume.
    if (record && record.state !== 'done') continue;
    if (kind === 'lock') {
      const owner = Number((await readFile(path.join(tmpDir, entry), 'utf8').catch(() => '')).trim());
      if (owner && owner !== process.pid && processAlive(owner)) continue;
    }
    await rm(path.join(tmpDir, entry), { force: true });
  }
}

/** A small file of disk space held back, given up when the disk fills so the catalog can still record the progress. */
export function reservePath(layout: DataLayout): string {
  return path.join(layout.tmpDir, '.reserve');
}

const RESERVE_BYTES = 1024 * 1024;

/**
 * Disk space a download still needs before it is archived. The part file is sparse (its length is set up front, its
 * blocks come as bytes land), so what remains is the length minus the blocks already allocated — bytes written but
 * not yet confirmed are fetched again into blocks that already exist. Encryption writes a second, whole copy
 * (tmp/<id>.age, about 16 bytes per 64 KiB more) before linking it into raw/; placing a plaintext file is a hard link.
 */
export async function bytesStillToWrite(record: DownloadRecord, partPath: string, encrypted: boolean): Promise<number> {
  const size = record.sizeBytes;
  // Unknown length: nothing to measure against; the margin alone decides.
  if (size === null) return 0;
  const info = await stat(partPath).catch(() => null);
  // blocks is 512-byte units on POSIX; where it is missing (Windows), count the file as not written at all.
  const allocated = info && typeof info.blocks === 'number' && info.blocks > 0 ? info.blocks * 512 : 0;
  const copy = encrypted ? size + Math.ceil(size / 65536) * 16 + 4096 : 0;
  return Math.max(0, size - allocated) + copy;
}

export async function keepReserve(layout: DataLayout): Promise<void> {
  const file = reservePath(layout);
  if (existsSync(file)) return;
  // Written, not sparse: the point is to hold real blocks. Failing here (disk still full) is no error.
  await writeFile(file, Buffer.alloc(RESERVE_BYTES)).catch(() => rm(file, { force: true }));
}

export async function hasManifests(metaDir: string): Promise<boolean> {
  const entries = await readdir(metaDir).catch(() => [] as string[]);
  return entries.some((name) => /^\d{4}-\d{2}\.json$/.test(name));
}
