// Catalog-backed TransferJournal: the engine's storage port, implemented with the store's query functions.
import type Database from 'better-sqlite3';
import type { SegmentRecord } from '../../shared/model.ts';
import { StorageError } from '../engine/errors.ts';
import type { TransferJournal } from '../engine/ports.ts';
import { updateDownload, type DownloadPatch } from './downloads.ts';
import { loadSegments, saveSegments } from './segments.ts';
import { isBusy } from './write-hold.ts';

/**
 * Two kinds of failed catalog write are not the download's fault:
 *
 * - Busy: another process held the write lock past busy_timeout (a reindex, a second Filehaul). Progress records
 *   and state changes are kept and written with the download's next journal write instead of failing a download
 *   whose bytes are fine. The catalog then lags (never leads) what is on disk, which a resume already tolerates.
 * - Full: SQLITE_FULL is the disk filling under the catalog. It becomes the same StorageError (ENOSPC) a failed part
 *   file write raises, so the download pauses (and waits for space) instead of failing with a database message.
 */
export function createJournal(db: Database.Database): TransferJournal {
  const pendingPatches = new Map<string, DownloadPatch>();
  const pendingSegments = new Map<string, readonly SegmentRecord[]>();

  /** Writes what an earlier busy catalog held back for this download, then `write`; a busy catalog holds both back again. */
  const attempt = (id: string, write: () => void, keep: () => void): void => {
    try {
      const patch = pendingPatches.get(id);
      const segments = pendingSegments.get(id);
      if (patch) updateDownload(db, id, patch);
      pendingPatches.delete(id);
      if (segments) saveSegments(db, id, segments);
      pendingSegments.delete(id);
      write();
    } catch (error) {
      if (isBusy(error)) {
        keep();
        return;
      }
      if ((error as { code?: string } | null)?.code === 'SQLITE_FULL') {
        throw new StorageError('cannot write the catalog (ENOSPC): the disk is full: it goes on once space is freed (a stopped run resumes with the same command)', 'ENOSPC', { cause: error });
      }
      throw error;
    }
  };

  return {
    updateDownload(id, patch) {
      // The port promises the journal stamps updatedAt, so a caller's value never wins here.
      const { updatedAt: _ignored, ...rest } = patch;
      attempt(
        id,
        () => updateDownload(db, id, rest),
        () => pendingPatches.set(id, { ...pendingPatches.get(id), ...rest }),
      );
    },
    saveSegments(downloadId, segments) {
      attempt(
        downloadId,
        () => saveSegments(db, downloadId, segments),
        () => pendingSegments.set(downloadId, segments),
      );
    },
    loadSegments(downloadId) {
      return loadSegments(db, downloadId);
    },
  };
}
