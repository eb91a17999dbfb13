// The windows' side of the queue: add, batched progress, pause/resume, cancel, and a queue that survives a restart.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Events } from '../../src/shared/contract.ts';
import { DownloadsController } from '../../src/main/downloads-controller.ts';
import type { FilehaulService } from '../../src/main/service.ts';
import { makeBytes } from '../fixtures/files-api-origin.ts';
import { startHarness, type Harness } from './engine-harness.ts';

const MiB = 1024 * 1024;
let harness: Harness;
let service: FilehaulService;
let controller: DownloadsController;
let received: { name: keyof Events; payload: unknown }[];

function waitFor<Name extends keyof Events>(name: Name, predicate: (payload: Events[Name]) => boolean): Promise<Events[Name]> {
  return new Promise((resolve) => {
    const check = () => {
      const found = received.find((entry) => entry.name === name && predicate(entry.payload as Events[Name]));
      if (found) resolve(found.payload as Events[Name]);
      else setImmediate(check);
    };
    check();
  });
}

async function openController(): Promise<void> {
  service = await harness.open({ connections: 4 });
  received = [];
  controller = new DownloadsController(service, (name, payload) => received.push({ name, payload }));
}

beforeEach(async () => {
  harness = await startHarness({ bytesPerSecondPerConnection: 2 * MiB });
  harness.origin.addFile({ id: 'file_live', filename: 'live.bin', bytes: makeBytes(8 * MiB, 1), createdAt: '2025-08-01T00:00:00Z' });
  await openController();
});
afterEach(async () => {
  controller.pauseAll();
  await controller.idle();
  controller.close();
  await service.close();
  await harness.close();
});

describe('downloads controller', () => {
  it('adds, reports progress in batches and finishes', async () => {
    const { added, errors } = controller.add(['file_live', 'bad id/with slash']);
    expect(added).toHaveLength(1);
    expect(errors[0].error).toMatch(/not a file id/);
    const done = await waitFor('changed', (payload) => payload.download.state === 'done');
    expect(done.download.finalPath).toBe('raw/2025-08/live.bin');
    const batches = received.filter((entry) => entry.name === 'progress');
    expect(batches.length).toBeGreaterThan(0);
    // Batches come at most ten a second: far fewer than the engine's progress ticks and chunk writes.
    const progressEvents = harness.events.filter((event) => event.type === 'progress').length;
    expect(batches.length).toBeLessThanOrEqual(progressEvents);
    expect(controller.list()[0].bytesDownloaded).toBe(8 * MiB);
  });

  it('pauses and resumes a download, keeping its bytes', async () => {
    const [view] = controller.add(['file_live']).added;
    await harness.origin.waitForBytesSent('file_live', 2 * MiB);
    controller.pause(view.id);
    await waitFor('changed', (payload) => payload.download.state === 'paused');
    const paused = controller.list()[0];
    expect(paused.bytesDownloaded).toBeGreaterThan(0);
    await controller.resume(view.id);
    const done = await waitFor('changed', (payload) => payload.download.state === 'done');
    expect(done.download.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('cancels a download and removes its part file', async () => {
    const [view] = controller.add(['file_live']).added;
    await harness.origin.waitForBytesSent('file_live', 1 * MiB);
    await controller.cancel(view.id);
    expect(received.some((entry) => entry.name === 'removed')).toBe(true);
    expect(controller.list()).toHaveLength(0);
    expect(readdirSync(path.join(harness.dataDir, 'tmp')).filter((name) => name.endsWith('.part'))).toEqual([]);
  });

  it('resumes interrupted downloads when it opens again', async () => {
    controller.add(['file_live']);
    await harness.origin.waitForBytesSent('file_live', 2 * MiB);
    // The app closes while the download runs: it is stopped and marked to go on by itself.
    await controller.shutdown();
    controller.close();
    await service.close();
    await openController();
    controller.resumeInterrupted();
    const done = await waitFor('changed', (payload) => payload.download.state === 'done');
    expect(existsSync(path.join(harness.dataDir, done.download.finalPath!))).toBe(true);
  });
});
