// Archive catalog rows: the entry and page types, the SQLite row mapping, and the month, path and paging checks the queries share.
import type { SourceKind } from '../../shared/model.ts';

/** Where an archived file came from; 'unknown' for files a reindex found on disk without any record. */
export type ArchiveSourceKind = SourceKind | 'unknown';

/** One archived file. Times are ISO-8601 UTC strings; path is relative to the data dir (raw/YYYY-MM/name). */
export interface ArchiveEntry {
  id: number;
  /** The download that produced it; null for entries rebuilt from manifests or found on disk. */
  downloadId: string | null;
  sourceKind: ArchiveSourceKind;
  /** The Files API file id or the URL; null when unknown. */
  sourceRef: string | null;
  fileId: string | null;
  /** The name as the source gave it (the file on disk may carry a safe variant of it). */
  filename: string;
  path: string;
  /** YYYY-MM: the month folder the file lives in. */
  month: string;
  sizeBytes: number;
  /** SHA-256 of the content (of the plaintext for encrypted files). */
  sha256: string;
  mimeType: string | null;
  createdAt: string | null;
  downloadedAt: string;
  etag: string | null;
  encrypted: boolean;
}

/** What recordArchivedFile needs: everything but the id (assigned) and the month (read from the path). */
export type NewArchiveEntry = Omit<ArchiveEntry, 'id' | 'month'>;

export interface ArchivePage {
  entries: ArchiveEntry[];
  total: number;
}

export const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 10_000;

const MONTH = /^\d{4}-(?:0[1-9]|1[0-2])$/u;
// raw/YYYY-MM/<at least one more component>; the month of an entry is always its folder.
const ARCHIVE_PATH = /^raw\/(\d{4}-(?:0[1-9]|1[0-2]))\/(.+)$/u;

/** A row exactly as SQLite returns it. */
export interface EntryRow {
  id: number;
  download_id: string | null;
  source_kind: ArchiveSourceKind;
  source_ref: string | null;
  file_id: string | null;
  filename: string;
  path: string;
  month: string;
  size_bytes: number;
  sha256: string;
  mime_type: string | null;
  created_at: string | null;
  downloaded_at: string;
  etag: string | null;
  encrypted: 0 | 1;
}

export const ENTRY_COLUMNS =
  'id, download_id, source_kind, source_ref, file_id, filename, path, month, size_bytes, sha256, mime_type, created_at, downloaded_at, etag, encrypted';

export function fromRow(row: EntryRow): ArchiveEntry {
  return {
    id: row.id,
    downloadId: row.download_id,
    sourceKind: row.source_kind,
    sourceRef: row.source_ref,
    fileId: row.file_id,
    filename: row.filename,
    path: row.path,
    month: row.month,
    sizeBytes: row.size_bytes,
    sha256: row.sha256,
    mimeType: row.mime_type,
    createdAt: row.created_at,
    downloadedAt: row.downloaded_at,
    etag: row.etag,
    encrypted: row.encrypted === 1,
  };
}

/** The month folder of an archive path (raw/YYYY-MM/...), or null when the path is not one. */
export function monthOfPath(archivePath: string): string | null {
  const match = ARCHIVE_PATH.exec(archivePath);
  return match ? match[1] : null;
}

export function isArchiveMonth(text: string): boolean {
  return MONTH.test(text);
}

export function assertMonth(month: string): void {
  if (typeof month !== 'string' || !MONTH.test(month)) throw new RangeError(`Invalid month ${JSON.stringify(month)}: expected YYYY-MM`);
}

export function paging(options: { offset?: number; limit?: number }): { offset: number; limit: number } {
  const offset = options.offset ?? 0;
  const limit = options.limit ?? DEFAULT_PAGE_SIZE;
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`offset must be a whole number ≥ 0, got ${offset}`);
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw new RangeError(`limit must be a whole number from 1 to ${MAX_PAGE_SIZE}, got ${limit}`);
  }
  return { offset, limit };
}
