// Shared model: the shapes of downloads and segments every room of Filehaul speaks. Imports nothing.

/** Where a download's bytes come from. */
export type SourceKind = 'files-api' | 'url';

/**
 * The life of one download.
 * queued → downloading → verifying → done; any live state → paused | failed; paused/failed → queued again.
 */
export type DownloadState = 'queued' | 'downloading' | 'paused' | 'verifying' | 'done' | 'failed';

/** One download as the catalog keeps it. Sizes and offsets are byte counts; times are ISO-8601 UTC strings. */
export interface DownloadRecord {
  /** Local id, stable for the life of the download; names the .part file. */
  id: string;
  sourceKind: SourceKind;
  /** The Files API file id, or the URL. */
  sourceRef: string;
  /** API base for files-api sources (the key is never stored); null for URLs. */
  apiBase: string | null;
  /** Name as the source gave it (metadata filename or Content-Disposition); null until known. */
  filename: string | null;
  mimeType: string | null;
  /** Total size; null until known (a URL without length). */
  sizeBytes: number | null;
  /** The source's creation time (Files API created_at); decides the archive month. */
  createdAt: string | null;
  /** Strong or weak ETag exactly as received; only a strong one is used for If-Range. */
  etag: string | null;
  lastModified: string | null;
  /** true: ranged requests work (206); false: one stream; null: not probed yet. */
  rangeSupported: boolean | null;
  state: DownloadState;
  /** Why the download failed or is paused, in one plain sentence. */
  error: string | null;
  addedAt: string;
  updatedAt: string;
  completedAt: string | null;
  /** Where the finished file lives, relative to the data dir (raw/YYYY-MM/name). */
  finalPath: string | null;
  sha256: string | null;
  /** How many times the download started over because the remote file changed. */
  restartCount: number;
}

/** A byte range [start, end) of one download and how much of it is safely on disk. */
export interface SegmentRecord {
  start: number;
  /** Exclusive end. */
  end: number;
  /** Bytes in [start, confirmedOffset) are fsynced to the .part file. */
  confirmedOffset: number;
}
