// Pause and resume in one process: confirmed offsets point only at bytes really on disk, and resumed requests carry If-Range.
import { openSync, readSync, closeSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeBytes } from '../fixtures/files-api-origin.ts';
import { startHarness, type Harness } from './engine-harness.ts';

const MiB = 1024 * 1024;
let harness: Harness;

beforeEach(async () => {
  // Throttled so a pause lands mid-download: 6 connections × 1 MiB/s.
  harness = await startHarness({ bytesPerSecondPerConnection: 1 * MiB });
});
afterEach(async () => {
  await harness.close();
});

describe('pause and resume', () => {
  it('keeps confirmed bytes across a pause and resumes every segment with If-Range', async () => {
    const bytes = makeBytes(12 * MiB, 11);
    harness.origin.addFile({ id: 'file_pause', filename: 'pause.bin', bytes, createdAt: '2025-07-01T00:00:00Z' });
    const etag = harness.origin.getFile('file_pause').etag;

    const service = await harness.open({ connections: 6 });
    const [prepared] = service.prepare(['file_pause']);
    if ('error' in prepared) throw new Error(prepared.error);
    const running = service.download(prepared.record, prepared.source);
    await harness.origin.waitForBytesSent('file_pause', 4 * MiB);
    service.pauseAll();
    const outcome = await running;
    await service.close();
    expect(outcome.state).toBe('paused');

    // Every confirmed byte in the catalog is on disk and equals the source.
    const db = new Database(path.join(harness.dataDir, 'filehaul.db'), { readonly: true });
    const segments = db.prepare('select start, "end", confirmed_offset as confirmed from segments where download_id = ?').all(prepared.record.id) as { start: number; end: number; confirmed: number }[];
    const state = (db.prepare('select state from downloads where id = ?').get(prepared.record.id) as { state: string }).state;
    db.close();
    expect(state).toBe('paused');
    const confirmed = segments.reduce((sum, segment) => sum + segment.confirmed - segment.start, 0);
    expect(confirmed).toBeGreaterThan(2 * MiB);
    const part = openSync(path.join(harness.dataDir, 'tmp', `${prepared.record.id}.part`), 'r');
    for (const segment of segments) {
      const length = segment.confirmed - segment.start;
      const onDisk = Buffer.alloc(length);
      readSync(part, onDisk, 0, length, segment.start);
      expect(onDisk.equals(bytes.subarray(segment.start, segment.confirmed))).toBe(true);
    }
    closeSync(part);

    const before = harness.origin.contentRequests('file_pause').length;
    const [result] = await harness.get(['file_pause'], { connections: 6 });
    expect(result.bytes!.equals(bytes)).toBe(true);
    const resumed = harness.origin.contentRequests('file_pause').slice(before);
    expect(resumed.length).toBeGreaterThan(0);
    for (const entry of resumed) expect(entry.ifRange).toBe(etag);
    // Only what was not yet confirmed is fetched again.
    const secondRunBytes = resumed.reduce((sum, entry) => sum + entry.bytesSent, 0);
    expect(secondRunBytes).toBeLessThanOrEqual(bytes.length - confirmed + 1 * MiB);
    const start = harness.events.filter((event) => event.type === 'start').at(-1);
    expect(start?.type === 'start' && start.resumedBytes).toBe(confirmed);
  });

  it('restarts from scratch when the file changed while paused', async () => {
    const bytes = makeBytes(8 * MiB, 12);
    harness.origin.addFile({ id: 'file_changed', filename: 'changed.bin', bytes, createdAt: '2025-07-01T00:00:00Z' });
    const service = await harness.open({ connections: 4 });
    const [prepared] = service.prepare(['file_changed']);
    if ('error' in prepared) throw new Error(prepared.error);
    const running = service.download(prepared.record, prepared.source);
    await harness.origin.waitForBytesSent('file_changed', 2 * MiB);
    service.pauseAll();
    await running;
    await service.close();

    harness.origin.changeFile('file_changed');
    const [result] = await harness.get(['file_changed'], { connections: 4 });
    expect(result.outcome.state).toBe('done');
    expect(result.bytes!.equals(harness.origin.getFile('file_changed').bytes)).toBe(true);
    expect(result.bytes!.equals(bytes)).toBe(false);
    expect(harness.events.some((event) => event.type === 'restart')).toBe(true);
  });
});
