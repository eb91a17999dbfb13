// The desktop glue around a REAL controller and the demo origin, over FAKE Electron IPC and safeStorage (no Electron binary here).
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DownloadView, SettingsView } from '../../src/shared/contract.ts';
import { createController, type Controller } from '../../src/main/controller.ts';
import { DEMO_API_KEY, startDemoOrigin, type DemoFile, type DemoOrigin } from '../../src/main/demo/demo-origin.ts';
import { desktopOptions, desktopPorts, openDesktopOptions } from '../../src/main/desktop/desktop-options.ts';
import { forwardEvents } from '../../src/main/desktop/event-forwarding.ts';
import { registerRequestHandler } from '../../src/main/desktop/ipc-handlers.ts';
import { API_KEY_FILE, createSecretStore } from '../../src/main/desktop/secret-store.ts';
import { SETTINGS_FILE, createSettingsStore } from '../../src/main/desktop/settings-store.ts';
import { pageMatcher } from '../../src/main/desktop/window-security.ts';
import { createBridge, type FilehaulBridge } from '../../src/preload/bridge.ts';
import { FAKE_CIPHER_MARKER, FakeSafeStorage, fakeElectron } from './desktop-fakes.ts';

const PAGE = 'file:///app/out/renderer/index.html';
// Stands in for a real key: the demo origin accepts only its sample key, so the "real" key under test is that one.
const SECRET = DEMO_API_KEY;

let origin: DemoOrigin;
let smallFile: DemoFile;
beforeAll(async () => {
  origin = await startDemoOrigin({ bytesPerSecond: null });
  smallFile = [...origin.files].filter((file) => file.downloadable && file.sizeBytes >= 100_000).sort((a, b) => a.sizeBytes - b.sizeBytes)[0];
});
afterAll(async () => {
  await origin.close();
});

let userDataDir: string;
let dataDir: string;
const open: Controller[] = [];
beforeEach(async () => {
  userDataDir = await mkdtemp(path.join(tmpdir(), 'filehaul-userdata-'));
  dataDir = await mkdtemp(path.join(tmpdir(), 'filehaul-data-'));
});
afterEach(async () => {
  for (const controller of open.splice(0)) await controller.close();
  await rm(userDataDir, { recursive: true, force: true });
  await rm(dataDir, { recursive: true, force: true });
});

/** What src/main/index.ts does at start, with fakes for Electron's objects. */
async function startDesktop(safeStorage: FakeSafeStorage, argv: string[] = ['electron', '.'], env: NodeJS.ProcessEnv = { ANTHROPIC_BASE_URL: origin.url, FILEHAUL_DIR: dataDir }) {
  const warnings: string[] = [];
  const warn = (line: string) => warnings.push(line);
  const secrets = createSecretStore(userDataDir, safeStorage, { warn, platform: 'linux' });
  const settings = createSettingsStore(userDataDir, warn);
  const demo = argv.includes('--demo');
  const { options, demo: demoOrigin } = await openDesktopOptions(
    { argv, env, userDataDir, defaultDataDir: dataDir, saved: demo ? {} : settings.load(), storedApiKey: demo ? null : await secrets.load(), warn },
    () => Promise.resolve(origin),
  );
  expect(demoOrigin === null).toBe(!demo);
  const controller = await createController({ ...options, logs: false }, desktopPorts(options.demo, secrets, settings));
  open.push(controller);
  const fake = fakeElectron(PAGE);
  const isOwnPage = pageMatcher(PAGE);
  // No `secrets` redaction here: these tests show the key is never sent at all, not that it is cut out on the way.
  registerRequestHandler(fake.ipcMain, controller, { isTrustedSender: (event) => isOwnPage(event.senderFrame?.url) });
  forwardEvents(controller, () => [fake.webContents]);
  const bridge = createBridge(fake.ipcRenderer, 'test');
  return { controller, fake, bridge, warnings, options };
}

function waitForState(bridge: FilehaulBridge, id: string, state: DownloadView['state'], timeoutMs = 30_000): Promise<DownloadView> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`download ${id} did not reach ${state}`)), timeoutMs);
    const stop = bridge.api.on('changed', ({ download }) => {
      if (download.id !== id || download.state !== state) return;
      clearTimeout(timer);
      stop();
      resolve(download);
    });
  });
}

describe('desktop glue around the real controller', () => {
  it('stores the API key through safeStorage, shows only apiKeySet, and never sends the key to the window', async () => {
    const safeStorage = new FakeSafeStorage();
    const { controller, fake, bridge } = await startDesktop(safeStorage);

    expect((await bridge.api.request('getSettings', {})).apiKeySet).toBe(false);
    await expect(bridge.api.request('listRemote', {})).rejects.toThrow(/No API key is set/);

    const view: SettingsView = await bridge.api.request('setSettings', { apiKey: SECRET, connections: 2 });
    expect(view).toMatchObject({ apiKeySet: true, connections: 2, demo: false });
    expect(Object.keys(view)).not.toContain('apiKey');

    // At rest: the fake keychain's ciphertext, owner-only, never the plaintext; settings.json has no key either.
    expect(safeStorage.encrypted).toEqual([SECRET]);
    const keyFile = path.join(userDataDir, API_KEY_FILE);
    const stored = await readFile(keyFile, 'utf8');
    expect(stored.startsWith(FAKE_CIPHER_MARKER)).toBe(true);
    expect(stored).not.toContain(SECRET);
    if (process.platform !== 'win32') expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    const savedSettings = await readFile(path.join(userDataDir, SETTINGS_FILE), 'utf8');
    expect(JSON.parse(savedSettings)).toEqual({ connections: 2 });

    // The key is in use: the sample API answers, and a download runs to the archive.
    const remote = await bridge.api.request('listRemote', { limit: 5 });
    expect(remote.files.length).toBeGreaterThan(0);
    const done = new Promise<DownloadView>((resolve) => {
      const stop = bridge.api.on('changed', ({ download }) => {
        if (download.state === 'done') {
          stop();
          resolve(download);
        }
      });
    });
    const { added, errors } = await bridge.api.request('add', { inputs: [smallFile.id] });
    expect(errors).toEqual([]);
    expect(added).toHaveLength(1);
    const finished = await done;
    expect(finished).toMatchObject({ id: added[0].id, bytesDownloaded: smallFile.sizeBytes });
    expect(await bridge.api.request('listDownloads', {})).toMatchObject([{ id: added[0].id, state: 'done' }]);
    await bridge.api.request('getSettings', {});

    // Every message the window got, and every reply: not one carries the key.
    expect(fake.webContents.sent.length).toBeGreaterThan(0);
    expect(fake.ipcRenderer.replies.length).toBeGreaterThan(5);
    const traffic = JSON.stringify([fake.webContents.sent, fake.ipcRenderer.replies]);
    expect(traffic).not.toContain(SECRET);
    expect(traffic).not.toContain(SECRET.slice(8, 30));
    await controller.close();
    open.splice(0);

    // Next start: the key comes back from the keychain file, the settings from settings.json.
    const again = await startDesktop(safeStorage);
    expect(again.options.apiKey).toBe(SECRET);
    expect(await again.bridge.api.request('getSettings', {})).toMatchObject({ apiKeySet: true, connections: 2 });
    // Clearing the key deletes the file.
    expect((await again.bridge.api.request('setSettings', { apiKey: null })).apiKeySet).toBe(false);
    await expect(stat(keyFile)).rejects.toThrow(/ENOENT/);
  });

  it('refuses to store the key without a real keychain (Linux basic_text), and writes nothing', async () => {
    const safeStorage = new FakeSafeStorage();
    safeStorage.backend = 'basic_text';
    const { bridge } = await startDesktop(safeStorage);
    await expect(bridge.api.request('setSettings', { apiKey: SECRET })).rejects.toThrow(/No system keychain/);
    expect(safeStorage.encrypted).toEqual([]);
    await expect(stat(path.join(userDataDir, API_KEY_FILE))).rejects.toThrow(/ENOENT/);
    expect((await bridge.api.request('getSettings', {})).apiKeySet).toBe(false);
  });

  it('--demo points the app at the sample origin, ignores the real environment, and keeps the keychain untouched', async () => {
    const safeStorage = new FakeSafeStorage();
    const env = { ANTHROPIC_API_KEY: 'sk-ant-real-key-from-env', ANTHROPIC_BASE_URL: 'https://api.anthropic.com', FILEHAUL_DIR: dataDir };
    const { bridge, options, fake } = await startDesktop(safeStorage, ['electron', '.', '--demo'], env);
    expect(options).toMatchObject({ demo: true, apiBase: origin.url, apiKey: DEMO_API_KEY, dataDir: path.join(userDataDir, 'data-demo') });
    expect(await bridge.api.request('getSettings', {})).toMatchObject({ demo: true, apiKeySet: true });
    await expect(bridge.api.request('setSettings', { apiKey: 'sk-ant-mine' })).rejects.toThrow(/demo uses its own sample key/);
    expect(safeStorage.encrypted).toEqual([]);

    const { added } = await bridge.api.request('add', { inputs: [smallFile.id] });
    await waitForState(bridge, added[0].id, 'done');
    expect(JSON.stringify(fake.webContents.sent)).not.toContain('sk-ant-real-key-from-env');
  });

  it('a stored key wins over ANTHROPIC_API_KEY; saved settings win over the environment', () => {
    const options = desktopOptions({
      argv: ['electron'],
      env: { ANTHROPIC_API_KEY: 'sk-ant-from-env', FILEHAUL_CONNECTIONS: '3' },
      userDataDir,
      defaultDataDir: dataDir,
      saved: { connections: 7, limitRate: null, preset: 'lan' },
      storedApiKey: 'sk-ant-from-keychain',
      warn: () => {},
    });
    expect(options).toMatchObject({ apiKey: 'sk-ant-from-keychain', dataDir, demo: false, limitRate: null });
    expect(options.engine.connections).toBe(7);
  });
});
