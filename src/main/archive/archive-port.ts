// The engine's archive port over the data directory: where part files live, how a verified file joins its month
// (encrypted first when asked), and how the catalog records it.
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type Database from 'better-sqlite3';
import type { DownloadRecord } from '../../shared/model.ts';
import { StorageError } from '../engine/errors.ts';
import type { ArchivePort } from '../engine/ports.ts';
import { updateDownload } from '../store/downloads.ts';
import { CatalogWriteHold } from '../store/write-hold.ts';
import { encryptFile, plaintextSha256 } from './encryption.ts';
import { archiveMonth, partFilePath, type DataLayout } from './layout.ts';
import { archiveFinishedDownload, type ManifestWriter } from './manifest-writer.ts';
import { placeIntoArchive } from './place.ts';
import { safeFileName } from './safe-name.ts';

export interface ArchivePortOptions {
  db: Database.Database;
  manifests: ManifestWriter;
  /** Encrypt finished files to this age identity (its recipient is derived); null: store plaintext. */
  encryption: { recipient: string; identity: string } | null;
  /** How long placing a finished file waits for another process's lock on the catalog (default 2 minutes). */
  lockWaitMs?: number;
}

export const DEFAULT_CATALOG_LOCK_WAIT_MS = 120_000;

export function createArchivePort(layout: DataLayout, options: ArchivePortOptions): ArchivePort {
  const encryptedCopy = (downloadId: string) => path.join(layout.tmpDir, `${downloadId}.age`);
  // No catalog: placement on its own (the placement fuzz tests); there is no lock to wait for.
  const writeHold = options.db ? new CatalogWriteHold(options.db) : null;
  /** The catalog write lock each download took in place() and lets go in commit(). */
  const held = new Map<string, () => void>();
  return {
    partPath: (downloadId) => partFilePath(layout, downloadId),

    async place(record: DownloadRecord, partPath: string) {
      // The month of the file's creation (UTC); a source without one files under the month it was downloaded.
      const monthDir = path.join(layout.rawDir, archiveMonth(record.createdAt, new Date()));
      const name = safeFileName(record.filename, fallbackName(record));
      let source = partPath;
      let finalName = name;
      if (options.encryption) {
        source = await encryptedCopyOf(record, partPath, encryptedCopy(record.id), options.encryption);
        finalName = safeFileName(`${name}.age`, `${fallbackName(record)}.age`);
      }
      // The catalog must be writable before the file enters the archive: another process's long transaction is
      // waited out here without blocking (commit() is synchronous and would give up after busy_timeout, failing a
      // finished download), and the lock is kept until commit(), so the file and its record land together.
      // Giving up leaves nothing in raw/, and the verified part file stays for the next run to record.
      const release = !writeHold ? () => {} : await writeHold.acquire(options.lockWaitMs ?? DEFAULT_CATALOG_LOCK_WAIT_MS, `the finished file ${record.filename ?? record.id}`);
      held.get(record.id)?.();
      held.set(record.id, release);
      try {
        const finalPath = await placeIntoArchive(source, monthDir, finalName, { keepSource: true });
        return path.relative(layout.dataDir, finalPath).split(path.sep).join('/');
      } catch (error) {
        held.delete(record.id);
        release();
        throw error;
      }
    },

    commit(record: DownloadRecord) {
      const { id, ...patch } = record;
      const release = held.get(id);
      held.delete(id);
      let failure: unknown = null;
      try {
        // The download row and its archive entry change together: a crash leaves both or neither.
        options.db.transaction(() => {
          updateDownload(options.db, id, patch);
          archiveFinishedDownload(options.db, options.manifests, record, record.finalPath!, options.encryption !== null && record.finalPath!.endsWith('.age'));
        })();
      } catch (error) {
        failure = error;
      }
      try {
        release?.();
      } catch (error) {
        failure ??= error;
      }
      if (failure === null) return;
      // A full disk under the catalog is the disk's fault, not the download's: the run pauses (and waits for space)
      // rather than failing. The file already linked into raw/ is found again by its inode when it resumes.
      if ((failure as { code?: string }).code === 'SQLITE_FULL') {
        throw new StorageError('cannot record the finished file in the catalog (ENOSPC): the disk is full: it goes on once space is freed (a stopped run resumes with the same command)', 'ENOSPC', { cause: failure });
      }
      throw failure;
    },

    async release(downloadId: string) {
      await rm(partFilePath(layout, downloadId), { force: true });
      await rm(encryptedCopy(downloadId), { force: true });
    },
  };
}

/**
 * The encrypted copy of a verified part file, made once: encryptFile links its output into place only when it is
 * complete, so a copy left by a crash is whole, and its hard link in the archive is recognised on the next try.
 * Its plaintext hash must equal the one just verified, or the bytes changed on the way.
 */
async function encryptedCopyOf(record: DownloadRecord, partPath: string, copyPath: string, keys: { recipient: string; identity: string }): Promise<string> {
  const existing = await stat(copyPath).catch(() => null);
  const plaintextHash = existing
    ? await plaintextSha256(copyPath, keys.identity)
    : (await encryptFile(partPath, copyPath, keys.recipient, { overwrite: true })).plaintextSha256;
  if (plaintextHash !== record.sha256) {
    await rm(copyPath, { force: true });
    throw new Error(`the encrypted copy of ${record.filename ?? record.id} does not match the verified file (sha256 ${plaintextHash} ≠ ${record.sha256})`);
  }
  return copyPath;
}

/** A name for a file whose source gave none: its file id, or "download-<id>" for a URL without a usable path. */
function fallbackName(record: DownloadRecord): string {
  return record.sourceKind === 'files-api' ? record.sourceRef : `download-${record.id}`;
}
