// The engine's archive port over the data directory: where part files live and how a verified file joins its month.
import path from 'node:path';
import type { DownloadRecord } from '../../shared/model.ts';
import type { ArchivePort } from '../engine/ports.ts';
import { archiveMonth, partFilePath, type DataLayout } from './layout.ts';
import { placeIntoArchive } from './place.ts';
import { safeFileName } from './safe-name.ts';

export function createArchivePort(layout: DataLayout): ArchivePort {
  return {
    partPath: (downloadId) => partFilePath(layout, downloadId),
    async place(record: DownloadRecord, partPath: string) {
      // The month of the file's creation (UTC); a source without one files under the month it was downloaded.
      const month = archiveMonth(record.createdAt, new Date());
      const name = safeFileName(record.filename, fallbackName(record));
      const finalPath = await placeIntoArchive(partPath, path.join(layout.rawDir, month), name, { keepSource: true });
      return path.relative(layout.dataDir, finalPath).split(path.sep).join('/');
    },
  };
}

/** A name for a file whose source gave none: its file id, or "download" for a URL without a usable path. */
function fallbackName(record: DownloadRecord): string {
  return record.sourceKind === 'files-api' ? record.sourceRef : `download-${record.id}`;
}
