// Catalog-backed TransferJournal: the engine's storage port, implemented with the store's query functions.
import type Database from 'better-sqlite3';
import type { TransferJournal } from '../engine/ports.ts';
import { updateDownload } from './downloads.ts';
import { loadSegments, saveSegments } from './segments.ts';

export function createJournal(db: Database.Database): TransferJournal {
  return {
    updateDownload(id, patch) {
      // The port promises the journal stamps updatedAt, so a caller's value never wins here.
      const { updatedAt: _ignored, ...rest } = patch;
      updateDownload(db, id, rest);
    },
    saveSegments(downloadId, segments) {
      saveSegments(db, downloadId, segments);
    },
    loadSegments(downloadId) {
      return loadSegments(db, downloadId);
    },
  };
}
