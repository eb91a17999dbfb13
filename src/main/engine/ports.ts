// Engine ports: the small interfaces the transfer engine needs from storage, defined here so the engine never imports a database driver.
import type { DownloadRecord, SegmentRecord } from '../../shared/model.ts';

/** What a running download writes down so a crash loses at most the unconfirmed tail. */
export interface TransferJournal {
  /** Persist changed fields of one download (updatedAt is set by the journal). */
  updateDownload(id: string, patch: Partial<Omit<DownloadRecord, 'id'>>): void;
  /** Replace every segment of a download in one transaction: the layout and the durable offsets together. */
  saveSegments(downloadId: string, segments: readonly SegmentRecord[]): void;
  /** The segments last saved for a download, ordered by start; empty when none. */
  loadSegments(downloadId: string): SegmentRecord[];
}

/** Where a verified file goes: the archive room decides the month folder, a safe unique name, and encryption. */
export interface ArchivePort {
  /** Path of the in-flight file for a download. */
  partPath(downloadId: string): string;
  /**
   * Links the verified part file (or its encrypted copy) into the archive without overwriting anything and returns
   * the final path relative to the data dir. The part file stays until the catalog records the result, so a crash
   * in between repeats this step and finds its own earlier link instead of making a duplicate.
   */
  place(record: DownloadRecord, partPath: string): Promise<string>;
  /** Records the finished download in the catalog — its row and its archive entry in one transaction. */
  commit(record: DownloadRecord): void;
  /** Removes the part file and any temporary copy, once the catalog has the result. */
  release(downloadId: string): Promise<void>;
}
