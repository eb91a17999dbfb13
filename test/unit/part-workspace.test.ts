// The part workspace on a real part file: a range that ends moves the background hash at once, not at the next tick.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { liveSegment } from '../../src/main/engine/download-record.ts';
import { PartWorkspace } from '../../src/main/engine/part-workspace.ts';
import type { ArchivePort, TransferJournal } from '../../src/main/engine/ports.ts';
import type { LiveSegment } from '../../src/main/engine/range-request.ts';
import type { DownloadRecord } from '../../src/shared/model.ts';

const MiB = 1024 * 1024;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'filehaul-workspace-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function record(sizeBytes: number): DownloadRecord {
  return {
    id: 'dl-ws',
    sourceKind: 'url',
    sourceRef: 'http://127.0.0.1/file',
    apiBase: null,
    filename: 'file',
    mimeType: null,
    sizeBytes,
    createdAt: null,
    etag: '"e"',
    lastModified: null,
    rangeSupported: true,
    state: 'downloading',
    error: null,
    addedAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    completedAt: null,
    finalPath: null,
    sha256: null,
    restartCount: 0,
  };
}

/** Only the part file's path is asked of the archive here; the journal is not used before the clock starts. */
function deps(): { archive: ArchivePort; journal: TransferJournal } {
  const unused = () => {
    throw new Error('not used by this test');
  };
  return {
    archive: { partPath: (id) => path.join(dir, `${id}.part`), place: unused, commit: unused, release: unused },
    journal: { updateDownload: unused, saveSegments: unused, loadSegments: () => [] },
  };
}

describe('PartWorkspace.rangeFinished', () => {
  it('hashes up to the new written prefix as soon as the range in front of it ends', async () => {
    const size = 30 * MiB;
    const bytes = Buffer.alloc(size, 7);
    const segments: LiveSegment[] = [0, 10, 20].map((start) => liveSegment({ start: start * MiB, end: (start + 10) * MiB, confirmedOffset: start * MiB }));
    const workspace = new PartWorkspace(record(size), deps(), { confirmIntervalMs: 1000, progressIntervalMs: 250 }, { segments: () => segments, onProgress: () => {} });
    const part = await workspace.open(size);
    const write = async (segment: LiveSegment) => {
      await part.writev([bytes.subarray(segment.start, segment.end)], segment.start);
      segment.offset = segment.written = segment.end;
    };
    // The third range ends first: nothing in front of it is contiguous yet.
    await write(segments[2]);
    await workspace.rangeFinished();
    expect(workspace.hashedBytes).toBe(0);
    // Then the first: the hash reads it without waiting for a progress tick.
    await write(segments[0]);
    await workspace.rangeFinished();
    expect(workspace.hashedBytes).toBe(10 * MiB);
    // The middle one joins everything: the hash reads on to the end of the file.
    await write(segments[1]);
    await workspace.rangeFinished();
    expect(workspace.hashedBytes).toBe(size);
    await workspace.close();
  });
});
