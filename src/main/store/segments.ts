// Segment rows: each download's byte ranges and fsynced offsets, saved as a whole so layout and progress never disagree.
import type Database from 'better-sqlite3';
import type { SegmentRecord } from '../../shared/model.ts';

interface Statements {
  load: Database.Statement<[string], SegmentRecord>;
  save: Database.Transaction<(downloadId: string, segments: readonly SegmentRecord[]) => void>;
}

// Saved about once a second per active download, so prepared once per connection.
const cache = new WeakMap<Database.Database, Statements>();

function statements(db: Database.Database): Statements {
  let s = cache.get(db);
  if (!s) {
    const remove = db.prepare<[string]>('DELETE FROM segments WHERE download_id = ?');
    const insert = db.prepare<[string, number, number, number]>(
      'INSERT INTO segments (download_id, start, "end", confirmed_offset) VALUES (?, ?, ?, ?)',
    );
    s = {
      load: db.prepare<[string], SegmentRecord>(
        `SELECT start, "end" AS "end", confirmed_offset AS confirmedOffset
         FROM segments WHERE download_id = ? ORDER BY start`,
      ),
      // Delete and insert in one transaction: a crash between them must not leave a download with no segments.
      save: db.transaction((downloadId: string, segments: readonly SegmentRecord[]) => {
        remove.run(downloadId);
        for (const seg of segments) insert.run(downloadId, seg.start, seg.end, seg.confirmedOffset);
      }),
    };
    cache.set(db, s);
  }
  return s;
}

/** The segments of a download ordered by start; empty when none were saved. */
export function loadSegments(db: Database.Database, downloadId: string): SegmentRecord[] {
  return statements(db).load.all(downloadId);
}

/** Replaces every segment of a download atomically; if any row is rejected, the previous segments stay. */
export function saveSegments(db: Database.Database, downloadId: string, segments: readonly SegmentRecord[]): void {
  statements(db).save(downloadId, segments);
}
