// service.close() while downloads run: it stops them cleanly (paused, bytes confirmed, state recorded), never throws, and the next open resumes them.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DownloadEvent } from '../../src/main/engine/events.ts';
import { DownloadsController } from '../../src/main/downloads-controller.ts';
import type { FilehaulService } from '../../src/main/service.ts';
import type { Events } from '../../src/shared/contract.ts';
import { makeBytes, startOrigin, type Origin, type OriginFile } from '../fixtures/files-api-origin.ts';
import { catalogRows, integrityCheck, MiB, openProofService, PROOF_KEY, tempDir } from '../proof/proof-helpers.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const CREATED = '2025-05-05T00:00:00Z';

async function slowOrigin(files: OriginFile[]): Promise<Origin> {
  // 4 connections × 256 KiB/s: each file takes seconds, so close() lands in the middle of it.
  const origin = await startOrigin({ apiKey: PROOF_KEY, files, bytesPerSecondPerConnection: 256 * 1024 });
  cleanups.push(() => origin.close());
  return origin;
}

function nextEvent(events: DownloadEvent[], service: FilehaulService, predicate: (event: DownloadEvent) => boolean): Promise<DownloadEvent> {
  const seen = events.find(predicate);
  if (seen) return Promise.resolve(seen);
  return new Promise((resolve) => {
    const stop = service.onEvent((event) => {
      if (!predicate(event)) return;
      stop();
      resolve(event);
    });
  });
}

describe('closing the service under running downloads', () => {
  // Found while building issue 6: close() closed the catalog under running downloads, which then failed with "The
  // database connection is not open" (their progress and state lost). Now close() pauses them first.
  it('pauses every running and queued download with its state and bytes recorded, never throws, and the next open resumes them', async () => {
    const running: OriginFile = { id: 'file_011CloseRunning', filename: 'running.bin', bytes: makeBytes(4 * MiB, 501), createdAt: CREATED };
    const queued: OriginFile = { id: 'file_011CloseQueued', filename: 'queued.bin', bytes: makeBytes(1 * MiB, 502), createdAt: CREATED };
    const origin = await slowOrigin([running, queued]);
    const temp = tempDir('filehaul-close-');
    cleanups.push(temp.remove);
    const dataDir = path.join(temp.dir, 'data');

    // One file at a time, so the second is still queued when close() comes.
    const { service, events } = await openProofService(dataDir, origin.url, { parallelFiles: 1 });
    const prepared = service.prepare([running.id, queued.id]);
    const outcomes = prepared.map((item) => {
      if ('error' in item) throw new Error(item.error);
      return service.download(item.record, item.source);
    });
    const [first] = prepared as Array<Extract<(typeof prepared)[number], { record: unknown }>>;
    // Some bytes are confirmed (the proof service confirms every 100 ms) before the close.
    await nextEvent(events, service, (event) => event.type === 'progress' && event.downloadId === first.record.id && event.bytesDownloaded >= 512 * 1024);

    await expect(service.close()).resolves.toBeUndefined();
    // Closing again is harmless.
    await expect(service.close()).resolves.toBeUndefined();
    expect(await Promise.all(outcomes)).toEqual([{ state: 'paused' }, { state: 'paused' }]);
    expect(events.filter((event) => event.type === 'state' && event.state === 'failed')).toEqual([]);
    expect(events.filter((event) => event.type === 'error')).toEqual([]);

    const db = path.join(dataDir, 'filehaul.db');
    expect(integrityCheck(db)).toBe('ok');
    expect(catalogRows(db).map((row) => [row.source_ref, row.state, row.error])).toEqual([
      [running.id, 'paused', null],
      [queued.id, 'paused', null],
    ]);

    const reopened = await openProofService(dataDir, origin.url);
    cleanups.push(() => reopened.service.close());
    const again = reopened.service.prepare([running.id, queued.id]);
    const results = await Promise.all(
      again.map((item) => {
        if ('error' in item) throw new Error(item.error);
        return reopened.service.download(item.record, item.source);
      }),
    );
    expect(results.map((result) => result.state)).toEqual(['done', 'done']);
    // The running one resumed from the bytes close() had confirmed, not from zero.
    const resumedStart = reopened.events.find((event) => event.type === 'start' && event.downloadId === first.record.id);
    expect(resumedStart).toMatchObject({ type: 'start' });
    expect((resumedStart as Extract<DownloadEvent, { type: 'start' }>).resumedBytes).toBeGreaterThanOrEqual(512 * 1024);
    for (const file of [running, queued]) expect(readFileSync(path.join(dataDir, 'raw/2025-05', file.filename)).equals(file.bytes)).toBe(true);
  });

  // The desktop closes the controller first (shutdown); a door that closes the service under a live controller must
  // not leave the controller reading a closed catalog (that was an unhandled "database connection is not open").
  it('close() under a live downloads controller lets the controller see every outcome before the catalog closes', async () => {
    const running: OriginFile = { id: 'file_011CloseUnderController', filename: 'controlled.bin', bytes: makeBytes(4 * MiB, 503), createdAt: CREATED };
    const origin = await slowOrigin([running]);
    const temp = tempDir('filehaul-close-');
    cleanups.push(temp.remove);
    const { service, events } = await openProofService(path.join(temp.dir, 'data'), origin.url);
    const changed: Events['changed'][] = [];
    const controller = new DownloadsController(service, (name, payload) => {
      if (name === 'changed') changed.push(payload as Events['changed']);
    });
    cleanups.push(() => controller.close());
    const [view] = controller.add([running.id]).added;
    await nextEvent(events, service, (event) => event.type === 'progress' && event.bytesDownloaded > 0);
    await expect(service.close()).resolves.toBeUndefined();
    expect(changed.at(-1)?.download).toMatchObject({ id: view.id, state: 'paused', error: null });
  });
});
