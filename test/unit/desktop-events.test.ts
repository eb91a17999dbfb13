// Events from the controller to the window over a FAKE webContents/ipcRenderer (Electron cannot run here): batching, order.
import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DownloadView, Events, FilehaulApi } from '../../src/shared/contract.ts';
import { EVENT_CHANNEL } from '../../src/main/desktop/channels.ts';
import { forwardEvents } from '../../src/main/desktop/event-forwarding.ts';
import { createBridge } from '../../src/preload/bridge.ts';
import { FakeWebContents, fakeElectron } from './desktop-fakes.ts';

/** A stub controller whose events the test fires by hand. */
function stubEvents() {
  const emitter = new EventEmitter();
  const api: Pick<FilehaulApi, 'on'> = {
    on(name, listener) {
      emitter.on(name, listener);
      return () => emitter.off(name, listener);
    },
  };
  const emit = <Name extends keyof Events>(name: Name, payload: Events[Name]) => emitter.emit(name, payload);
  return { api, emit, emitter };
}

function view(id: string, bytesDownloaded: number, state: DownloadView['state'] = 'downloading'): DownloadView {
  return {
    id, sourceKind: 'files-api', source: `file_${id}`, filename: `${id}.bin`, sizeBytes: 1_000_000, state, error: null,
    bytesDownloaded, bytesPerSecond: 1000, connections: 4, retryCount: 0, waitingUntil: null,
    segments: [{ start: 0, end: 1_000_000, offset: bytesDownloaded, active: true }],
    addedAt: '2025-01-01T00:00:00.000Z', completedAt: null, finalPath: null, sha256: null,
  };
}

describe('desktop event forwarding', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('turns 100 raw progress events into a handful of batches carrying the latest values', async () => {
    const { api, emit } = stubEvents();
    const fake = fakeElectron();
    forwardEvents(api, () => [fake.webContents]);
    const bridge = createBridge(fake.ipcRenderer, 'test');
    const received: Events['progress'][] = [];
    bridge.api.on('progress', (payload) => received.push(payload));

    // Two downloads, one raw event each every 10 ms for half a second: 100 events in all.
    for (let tick = 1; tick <= 50; tick++) {
      emit('progress', { downloads: [view('a', tick * 1000)] });
      emit('progress', { downloads: [view('b', tick * 2000)] });
      await vi.advanceTimersByTimeAsync(10);
    }
    await vi.advanceTimersByTimeAsync(200);

    // 500 ms of updates at ≤ 10 batches a second: about 5 (6 with the first one going out at once).
    expect(received.length).toBeGreaterThanOrEqual(2);
    expect(received.length).toBeLessThanOrEqual(7);
    expect(fake.webContents.sent.filter((message) => message.channel === EVENT_CHANNEL)).toHaveLength(received.length);
    // One entry per download per batch, never a message per raw event.
    for (const batch of received) expect(new Set(batch.downloads.map((d) => d.id)).size).toBe(batch.downloads.length);
    const last = new Map(received.flatMap((batch) => batch.downloads).map((d) => [d.id, d.bytesDownloaded]));
    expect(last).toEqual(new Map([['a', 50_000], ['b', 100_000]]));
  });

  it('sends a burst as one batch, and never two batches closer than 100 ms', async () => {
    const { api, emit } = stubEvents();
    const contents = new FakeWebContents();
    const times: number[] = [];
    const send = contents.send.bind(contents);
    contents.send = (channel, ...args) => {
      times.push(Date.now());
      send(channel, ...args);
    };
    forwardEvents(api, () => [contents]);
    for (let i = 0; i < 100; i++) emit('progress', { downloads: [view('a', i)] });
    await vi.advanceTimersByTimeAsync(0);
    expect(contents.sent).toHaveLength(1);
    expect(contents.sent[0].args[0]).toMatchObject({ event: 'progress', payload: { downloads: [{ id: 'a', bytesDownloaded: 99 }] } });

    for (let i = 0; i < 300; i++) {
      emit('progress', { downloads: [view('a', i)] });
      await vi.advanceTimersByTimeAsync(1);
    }
    await vi.advanceTimersByTimeAsync(100);
    for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeGreaterThanOrEqual(100);
    expect(times.length).toBeLessThanOrEqual(5);
  });

  it('drops queued progress that a state change has made stale, and keeps order', async () => {
    const { api, emit } = stubEvents();
    const fake = fakeElectron();
    forwardEvents(api, () => [fake.webContents]);
    const bridge = createBridge(fake.ipcRenderer, 'test');
    const seen: string[] = [];
    bridge.api.on('progress', ({ downloads }) => seen.push(...downloads.map((d) => `progress ${d.id} ${d.state}`)));
    bridge.api.on('changed', ({ download }) => seen.push(`changed ${download.id} ${download.state}`));
    bridge.api.on('removed', ({ id }) => seen.push(`removed ${id}`));
    bridge.api.on('notice', ({ message }) => seen.push(`notice ${message}`));

    emit('progress', { downloads: [view('a', 10)] });
    await vi.advanceTimersByTimeAsync(0);
    emit('progress', { downloads: [view('a', 20), view('b', 5)] });
    emit('changed', { download: view('a', 1_000_000, 'done') });
    emit('removed', { id: 'b' });
    emit('notice', { level: 'info', message: 'a.bin is in the archive', downloadId: 'a' });
    await vi.advanceTimersByTimeAsync(500);
    expect(seen).toEqual(['progress a downloading', 'changed a done', 'removed b', 'notice a.bin is in the archive']);
  });

  it('skips destroyed windows, survives one that throws, and stops cleanly', async () => {
    const { api, emit, emitter } = stubEvents();
    const alive = new FakeWebContents();
    const gone = new FakeWebContents();
    gone.destroyed = true;
    const broken = new FakeWebContents();
    broken.send = () => {
      throw new Error('Render frame was disposed before WebFrameMain could be accessed');
    };
    const onError = vi.fn();
    const stop = forwardEvents(api, () => [broken, gone, alive], { onError });
    emit('notice', { level: 'error', message: 'catalog unreadable' });
    expect(alive.sent).toHaveLength(1);
    expect(gone.sent).toHaveLength(0);
    expect(onError).toHaveBeenCalledTimes(1);

    emit('progress', { downloads: [view('a', 1)] });
    stop();
    await vi.advanceTimersByTimeAsync(500);
    expect(alive.sent).toHaveLength(1);
    for (const name of ['progress', 'changed', 'removed', 'notice']) expect(emitter.listenerCount(name)).toBe(0);
  });

  it('cuts a secret out of anything it forwards', () => {
    const { api, emit } = stubEvents();
    const contents = new FakeWebContents();
    forwardEvents(api, () => [contents], { secrets: () => ['sk-ant-api03-SECRET'] });
    emit('notice', { level: 'error', message: 'upstream said: bad key sk-ant-api03-SECRET', downloadId: 'a' });
    expect(JSON.stringify(contents.sent)).not.toContain('sk-ant-api03-SECRET');
    expect(contents.sent[0].args[0]).toMatchObject({ payload: { message: 'upstream said: bad key [redacted]' } });
  });
});
