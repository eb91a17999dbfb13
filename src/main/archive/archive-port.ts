// The engine's archive port over the data directory: where part files live, how a verified file joins its month
// (encrypted first when asked), and how the catalog records it.
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type Database from 'better-sqlite3';
import type { DownloadRecord } from '../../shared/model.ts';
import type { ArchivePort } from '../engine/ports.ts';
import { updateDownload } from '../store/downloads.ts';
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
}

export function createArchivePort(layout: DataLayout, options: ArchivePortOptions): ArchivePort {
  const encryptedCopy = (downloadId: string) => path.join(layout.tmpDir, `${downloadId}.age`);
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
      const finalPath = await placeIntoArchive(source, monthDir, finalName, { keepSource: true });
      return path.relative(layout.dataDir, finalPath).split(path.sep).join('/');
    },

    commit(record: DownloadRecord) {
      const { id, ...patch } = record;
      // The download row and its archive entry change together: a crash leaves both or neither.
      options.db.transaction(() => {
        updateDownload(options.db, id, patch);
        archiveFinishedDownload(options.db, options.manifests, record, record.finalPath!, options.encryption !== null && record.finalPath!.endsWith('.age'));
      })();
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
