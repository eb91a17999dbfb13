// The windows' side of waiting for disk space: a download the app left waiting for space goes on at the next start; one the user paused does not.
import { afterEach, expect, it } from 'vitest';
import type { Events } from '../../src/shared/contract.ts';
import { DownloadsController } from '../../src/main/downloads-controller.ts';
import { spaceWaitMessage } from '../../src/main/engine/storage-watch.ts';
import { updateDownload } from '../../src/main/store/index.ts';
import { makeBytes } from '../fixtures/files-api-origin.ts';
import { startHarness, type Harness } from './engine-harness.ts';

const MiB = 1024 * 1024;
let harness: Harness | null = null;
afterEach(async () => {
  await harness?.close();
  harness = null;
});

it('at the next start, a download left waiting for disk space runs again; a download the user paused stays paused', async () => {
  harness = await startHarness();
  harness.origin.addFile({ id: 'file_waitedForSpace', filename: 'waited.bin', bytes: makeBytes(1 * MiB, 601), createdAt: '2025-08-01T00:00:00Z' });
  harness.origin.addFile({ id: 'file_userPaused', filename: 'user.bin', bytes: makeBytes(1 * MiB, 602), createdAt: '2025-08-01T00:00:00Z' });
  const service = await harness.open();
  const [waited, paused] = service.prepare(['file_waitedForSpace', 'file_userPaused']);
  if ('error' in waited || 'error' in paused) throw new Error('prepare failed');
  // As the catalog holds them after a crash: one paused by a full disk (waiting), one paused by the user.
  updateDownload(service.db, waited.record.id, { state: 'paused', error: spaceWaitMessage({ neededBytes: 4 * MiB, freeBytes: 0 }, harness.dataDir) });
  updateDownload(service.db, paused.record.id, { state: 'paused', error: null });

  let finished: () => void = () => {};
  const done = new Promise<void>((resolve) => (finished = resolve));
  const controller = new DownloadsController(service, (name, payload) => {
    if (name === 'changed' && (payload as Events['changed']).download.state === 'done') finished();
  });
  controller.resumeInterrupted();
  await done;
  await controller.idle();
  controller.close();
  const states = Object.fromEntries(service.status().map(({ record }) => [record.sourceRef, record.state]));
  expect(states).toEqual({ file_waitedForSpace: 'done', file_userPaused: 'paused' });
  expect(harness.origin.contentRequests('file_userPaused')).toEqual([]);
  await service.close();
});
