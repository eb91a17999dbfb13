// Events over /api/events: fan-out of every event, progress coalesced per download to at most ~10 batches a second.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { downloadView, openEvents, startTestServer, type EventSocket, type TestServer } from './server-harness.ts';

let test: TestServer;
let sockets: EventSocket[];
beforeEach(async () => {
  test = await startTestServer();
  sockets = [];
});
afterEach(async () => {
  for (const socket of sockets) await socket.close();
  await test.close();
});

async function listen(): Promise<EventSocket> {
  const socket = await openEvents(test);
  sockets.push(socket);
  return socket;
}

const progressMessages = (socket: EventSocket) => socket.messages.filter((message) => message.event === 'progress');

describe('events', () => {
  it('sends changed, removed and notice to every client as { event, payload }', async () => {
    const [first, second] = [await listen(), await listen()];
    const view = downloadView('dl_1', 0, { state: 'queued' });
    test.stub.emit('changed', { download: view });
    test.stub.emit('removed', { id: 'dl_2' });
    test.stub.emit('notice', { level: 'error', message: 'dl_1 failed', downloadId: 'dl_1' });
    for (const socket of [first, second]) {
      await socket.waitFor((m) => m.event === 'notice');
      expect(socket.messages).toEqual([
        { event: 'changed', payload: { download: view } },
        { event: 'removed', payload: { id: 'dl_2' } },
        { event: 'notice', payload: { level: 'error', message: 'dl_1 failed', downloadId: 'dl_1' } },
      ]);
    }
  });

  it('coalesces a burst of 100 progress events for one download into a batch with the latest values', async () => {
    const socket = await listen();
    for (let bytes = 1; bytes <= 100; bytes++) test.stub.emit('progress', { downloads: [downloadView('dl_1', bytes)] });
    await socket.waitFor((m) => m.event === 'progress' && m.payload.downloads.some((d: { bytesDownloaded: number }) => d.bytesDownloaded === 100));
    const batches = progressMessages(socket);
    expect(batches.length).toBeLessThanOrEqual(2);
    expect(batches.at(-1)!.payload.downloads).toEqual([downloadView('dl_1', 100)]);
  });

  it('keeps one entry per download in a batch, each with its own latest view', async () => {
    const socket = await listen();
    for (let round = 1; round <= 20; round++) {
      test.stub.emit('progress', { downloads: [downloadView('dl_a', round), downloadView('dl_b', round * 10)] });
      test.stub.emit('progress', { downloads: [downloadView('dl_c', round * 100)] });
    }
    await socket.waitFor((m) => m.event === 'progress' && m.payload.downloads.some((d: { id: string; bytesDownloaded: number }) => d.id === 'dl_c' && d.bytesDownloaded === 2000));
    const last = progressMessages(socket).at(-1)!.payload.downloads;
    expect(last.map((d: { id: string; bytesDownloaded: number }) => [d.id, d.bytesDownloaded])).toEqual([['dl_a', 20], ['dl_b', 200], ['dl_c', 2000]]);
  });

  it('never sends a queued progress view after a newer changed or removed for that download', async () => {
    const socket = await listen();
    test.stub.emit('progress', { downloads: [downloadView('dl_1', 50), downloadView('dl_2', 5)] });
    test.stub.emit('changed', { download: downloadView('dl_1', 60, { state: 'paused' }) });
    test.stub.emit('removed', { id: 'dl_2' });
    test.stub.emit('progress', { downloads: [downloadView('dl_3', 1)] });
    await socket.waitFor((m) => m.event === 'progress' && m.payload.downloads.some((d: { id: string }) => d.id === 'dl_3'));
    const ids = progressMessages(socket).flatMap((m) => m.payload.downloads.map((d: { id: string }) => d.id));
    expect(ids).toEqual(['dl_3']);
    expect(socket.messages[0]).toEqual({ event: 'changed', payload: { download: downloadView('dl_1', 60, { state: 'paused' }) } });
  });

  it('sends at most ~10 progress batches a second under a continuous stream of progress', async () => {
    const socket = await listen();
    let bytes = 0;
    let running = true;
    // Emit on every turn of the event loop, far faster than 10/s, until five batches have arrived.
    const pump = () => {
      if (!running) return;
      test.stub.emit('progress', { downloads: [downloadView('dl_1', ++bytes)] });
      setImmediate(pump);
    };
    pump();
    const arrivals: number[] = [];
    await new Promise<void>((resolve) => {
      socket.socket.on('message', (data) => {
        if (JSON.parse(String(data)).event !== 'progress') return;
        arrivals.push(performance.now());
        if (arrivals.length === 5) resolve();
      });
    });
    running = false;
    expect(bytes).toBeGreaterThan(50);
    // Four intervals of ≥ 100 ms each on the sender's clock; allow a little for delivery jitter.
    expect(arrivals[4] - arrivals[0]).toBeGreaterThanOrEqual(350);
  });

  it('stops listening to the handler and drops its clients when the server closes', async () => {
    const socket = await listen();
    expect(test.stub.listenerCount()).toBe(4);
    const closed = new Promise<void>((resolve) => socket.socket.once('close', () => resolve()));
    await test.close();
    await closed;
    expect(test.stub.listenerCount()).toBe(0);
  });
});
