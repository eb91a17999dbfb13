// The preload's window.filehaul, built over a FAKE contextBridge/ipcRenderer (Electron cannot run here): exactly the contract.
import { describe, expect, it, vi } from 'vitest';
import { EVENT_CHANNEL, REQUEST_CHANNEL } from '../../src/main/desktop/channels.ts';
import { exposeBridge } from '../../src/preload/bridge.ts';
import { FakeContextBridge, FakeIpcMain, FakeIpcRenderer, fakeElectron } from './desktop-fakes.ts';

// The real 'electron' module cannot load here (no binary); the preload entry gets these fakes instead.
const injected = vi.hoisted(() => ({ contextBridge: null as unknown, ipcRenderer: null as unknown }));
vi.mock('electron', () => injected);

/** Every value reachable from the exposed object (own properties, depth first). */
function reachable(root: unknown, seen = new Set<unknown>()): unknown[] {
  if ((typeof root !== 'object' && typeof root !== 'function') || root === null || seen.has(root)) return [];
  seen.add(root);
  return [root, ...Reflect.ownKeys(root).flatMap((key) => reachable((root as Record<PropertyKey, unknown>)[key], seen))];
}

describe('preload bridge', () => {
  it('exposes window.filehaul with exactly version, api { request, on }, openPath and showInFolder', () => {
    const fake = fakeElectron();
    exposeBridge(fake.contextBridge, fake.ipcRenderer, '1.2.3');
    expect([...fake.contextBridge.exposed.keys()]).toEqual(['filehaul']);
    const exposed = fake.contextBridge.exposed.get('filehaul') as Record<string, unknown>;
    expect(Object.keys(exposed).sort()).toEqual(['api', 'openPath', 'showInFolder', 'version']);
    expect(exposed.version).toBe('1.2.3');
    expect(Object.keys(exposed.api as object).sort()).toEqual(['on', 'request']);
    expect(typeof exposed.openPath).toBe('function');
    expect(typeof exposed.showInFolder).toBe('function');
    // Frozen: the page cannot swap a method for one of its own.
    expect(Object.isFrozen(exposed)).toBe(true);
    expect(Object.isFrozen(exposed.api)).toBe(true);
  });

  it('src/preload/index.ts exposes the bridge through the electron module it is given', async () => {
    const contextBridge = new FakeContextBridge();
    injected.contextBridge = contextBridge;
    injected.ipcRenderer = new FakeIpcRenderer(new FakeIpcMain());
    vi.stubGlobal('__FILEHAUL_VERSION__', '9.9.9');
    try {
      await import('../../src/preload/index.ts');
    } finally {
      vi.unstubAllGlobals();
    }
    const exposed = contextBridge.exposed.get('filehaul') as Record<string, unknown>;
    expect(Object.keys(exposed).sort()).toEqual(['api', 'openPath', 'showInFolder', 'version']);
    expect(exposed.version).toBe('9.9.9');
  });

  it('hands the page no ipcRenderer, no send, no raw invoke', () => {
    const fake = fakeElectron();
    exposeBridge(fake.contextBridge, fake.ipcRenderer, '1.2.3');
    const everything = reachable(fake.contextBridge.exposed.get('filehaul'));
    expect(everything).not.toContain(fake.ipcRenderer);
    expect(everything).not.toContain(fake.ipcMain);
    const keys = everything.flatMap((value) => Reflect.ownKeys(value as object).map(String));
    for (const forbidden of ['send', 'sendSync', 'invoke', 'ipcRenderer', 'postMessage', 'removeAllListeners']) expect(keys).not.toContain(forbidden);
  });

  it('calls request over invoke on the one request channel and unwraps the reply', async () => {
    const fake = fakeElectron();
    const bridge = exposeBridge(fake.contextBridge, fake.ipcRenderer, 'x');
    const handler = vi.fn(async () => ({ result: [{ month: '2025-03', fileCount: 2, totalBytes: 10 }] }));
    fake.ipcMain.handle(REQUEST_CHANNEL, handler);
    await expect(bridge.api.request('archiveMonths', {})).resolves.toEqual([{ month: '2025-03', fileCount: 2, totalBytes: 10 }]);
    expect(handler).toHaveBeenCalledWith(expect.anything(), 'archiveMonths', {});

    fake.ipcMain.removeHandler(REQUEST_CHANNEL);
    fake.ipcMain.handle(REQUEST_CHANNEL, async () => ({ error: 'archiveFiles.month must be a month as YYYY-MM' }));
    const failure = await bridge.api.request('archiveFiles', { month: 'x' }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toBe('archiveFiles.month must be a month as YYYY-MM');
  });

  it('gives listeners the payload only, never the IpcRendererEvent, and detaches when the last one leaves', () => {
    const fake = fakeElectron();
    const bridge = exposeBridge(fake.contextBridge, fake.ipcRenderer, 'x');
    const calls: unknown[][] = [];
    const first = bridge.api.on('removed', (...args: unknown[]) => calls.push(args));
    const second = bridge.api.on('notice', (...args: unknown[]) => calls.push(args));
    expect(fake.ipcRenderer.listenerCount(EVENT_CHANNEL)).toBe(1);

    fake.webContents.send(EVENT_CHANNEL, { event: 'removed', payload: { id: 'dl_1' } });
    fake.webContents.send(EVENT_CHANNEL, { event: 'progress', payload: { downloads: [] } });
    expect(calls).toEqual([[{ id: 'dl_1' }]]);
    expect(JSON.stringify(calls)).not.toContain('sender');

    first();
    first();
    expect(fake.ipcRenderer.listenerCount(EVENT_CHANNEL)).toBe(1);
    second();
    expect(fake.ipcRenderer.listenerCount(EVENT_CHANNEL)).toBe(0);
    fake.webContents.send(EVENT_CHANNEL, { event: 'removed', payload: { id: 'dl_2' } });
    expect(calls).toHaveLength(1);
  });

  it('keeps delivering when one listener throws, and refuses unknown events', () => {
    const fake = fakeElectron();
    const bridge = exposeBridge(fake.contextBridge, fake.ipcRenderer, 'x');
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const good = vi.fn();
    bridge.api.on('removed', () => {
      throw new Error('listener bug');
    });
    bridge.api.on('removed', good);
    fake.webContents.send(EVENT_CHANNEL, { event: 'removed', payload: { id: 'dl_1' } });
    expect(good).toHaveBeenCalledWith({ id: 'dl_1' });
    expect(error).toHaveBeenCalledTimes(1);
    error.mockRestore();
    expect(() => bridge.api.on('secrets' as never, () => {})).toThrow(/unknown event/);
  });
});
