// Electron main-process entry, the composition root: wires Electron's objects into the desktop glue in ./desktop/.
/// <reference types="electron-vite/node" />
import { app, BrowserWindow, dialog, ipcMain, Menu, nativeImage, Notification, safeStorage, session, shell, Tray } from 'electron';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import iconPath from '../../resources/icon.png?asset';
import { createController, type Controller } from './controller.ts';
import type { DemoOrigin } from './demo/demo-origin.ts';
import { desktopPorts, openDesktopOptions, wantsDemo } from './desktop/desktop-options.ts';
import { forwardEvents } from './desktop/event-forwarding.ts';
import { registerRequestHandler, type DoorOptions } from './desktop/ipc-handlers.ts';
import { labelsFor } from './desktop/labels.ts';
import { notifyOnNotices } from './desktop/notifications.ts';
import { redactText } from './desktop/redact.ts';
import { createSecretStore } from './desktop/secret-store.ts';
import { createSettingsStore } from './desktop/settings-store.ts';
import { registerShellHandlers } from './desktop/shell-handlers.ts';
import { installTray } from './desktop/tray.ts';
import { applySessionPolicy, guardWebContents, pageMatcher } from './desktop/window-security.ts';

// Downloads run in this process: keep V8's young generation small so socket buffers are freed as fast as they come
// (the reasons and the figures are in bin/filehaul.mjs, which does the same for the command line).
v8.setFlagsFromString('--semi-space-growth-factor=1');

// A separate profile (keychain file, settings, demo data, single-instance lock) for tests and portable setups;
// it must be set before anything reads userData, the instance lock included.
if (process.env.FILEHAUL_USER_DATA_DIR) app.setPath('userData', path.resolve(process.env.FILEHAUL_USER_DATA_DIR));

// Only an unpackaged (dev) build may be pointed at a dev server; a shipped app always loads its own files.
const devServerUrl = !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined;
const indexHtml = path.join(import.meta.dirname, '../renderer/index.html');
const isOwnPage = pageMatcher(devServerUrl ?? pathToFileURL(indexHtml).href);
/** controller.close() pauses downloads and waits for them to stop; a stuck socket must not keep the app from quitting. */
const SHUTDOWN_TIMEOUT_MS = 10_000;

interface Running {
  controller: Controller;
  demo: DemoOrigin | null;
  stops: (() => void)[];
}

let mainWindow: BrowserWindow | null = null;
let running: Running | null = null;
let phase: 'running' | 'closing' | 'done' = 'running';

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 800,
    minWidth: 800,
    minHeight: 600,
    title: 'Filehaul',
    icon: iconPath,
    show: false,
    webPreferences: {
      preload: path.join(import.meta.dirname, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    },
  });
  // Show once painted to avoid a white flash in dark mode.
  win.once('ready-to-show', () => win.show());
  guardWebContents(win.webContents, isOwnPage);
  win.on('closed', () => {
    if (mainWindow === win) mainWindow = null;
  });
  void (devServerUrl ? win.loadURL(devServerUrl) : win.loadFile(indexHtml));
  return win;
}

function showWindow(): void {
  if (!mainWindow) {
    mainWindow = createWindow();
    return;
  }
  if (mainWindow.isMinimized()) mainWindow.restore();
  mainWindow.show();
  mainWindow.focus();
}

async function start(): Promise<void> {
  applySessionPolicy(session.defaultSession);
  const warn = (line: string) => console.warn(`filehaul: warning: ${line}`);
  const userDataDir = app.getPath('userData');
  const secrets = createSecretStore(userDataDir, safeStorage, { warn });
  const settings = createSettingsStore(userDataDir, warn);
  // The demo reads neither the keychain nor saved settings: no real key is even loaded into memory.
  const demoMode = wantsDemo(process.argv);
  const { options, demo } = await openDesktopOptions({
    argv: process.argv,
    env: process.env,
    userDataDir,
    defaultDataDir: path.join(app.getPath('downloads'), 'Filehaul'),
    saved: demoMode ? {} : settings.load(),
    storedApiKey: demoMode ? null : await secrets.load(),
    warn,
  });
  // Every key this run has known, current or replaced: all are cut from whatever goes to the window or the log.
  const keys = new Set<string>(options.apiKey ? [options.apiKey] : []);
  const knownKeys = () => [...keys];
  const onError = (error: unknown) => console.error(`filehaul: unexpected error: ${redactText(error instanceof Error ? (error.stack ?? error.message) : String(error), knownKeys())}`);
  let controller: Controller;
  try {
    controller = await createController(options, desktopPorts(options.demo, secrets, settings, (key) => key && keys.add(key)));
  } catch (error) {
    await demo?.close();
    throw error;
  }
  running = { controller, demo, stops: [] };

  // Handlers first, window last: the page's first request must find them registered.
  const door: DoorOptions = { isTrustedSender: (event) => isOwnPage(event.senderFrame?.url), onError, secrets: knownKeys };
  running.stops.push(registerRequestHandler(ipcMain, controller, door));
  running.stops.push(registerShellHandlers(ipcMain, shell, () => controller.service.layout.dataDir, door));
  running.stops.push(forwardEvents(controller, () => BrowserWindow.getAllWindows().map((win) => win.webContents), { secrets: knownKeys, onError }));

  const labels = labelsFor(app.getLocale());
  if (Notification.isSupported()) {
    running.stops.push(notifyOnNotices(controller, (note) => {
      const notification = new Notification({ title: note.title, body: redactText(note.body, knownKeys()), icon: iconPath });
      notification.on('click', showWindow);
      notification.show();
    }, labels));
  }
  const traySize = process.platform === 'linux' ? 22 : 16;
  try {
    const tray = installTray({
      createTray: () => new Tray(nativeImage.createFromPath(iconPath).resize({ width: traySize, height: traySize })),
      buildMenu: (template) => Menu.buildFromTemplate(template),
    }, {
      show: showWindow,
      pauseAll: () => void controller.request('pauseAll', {}).catch(onError),
      resumeAll: () => void controller.request('resumeAll', {}).catch(onError),
      quit: () => app.quit(),
    }, labels);
    running.stops.push(() => tray.destroy());
  } catch (error) {
    // Some Linux desktops have no tray at all; the window still works without one.
    warn(`no tray icon: ${(error as Error).message}`);
  }

  mainWindow = createWindow();
}

/** Stops the doors first (no request reaches a controller that is closing), then the engine, then the demo origin. */
async function shutdown(current: Running): Promise<void> {
  for (const stop of current.stops.reverse()) stop();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, SHUTDOWN_TIMEOUT_MS);
  });
  await Promise.race([current.controller.close().catch((error: unknown) => console.error('filehaul: closing the engine failed:', error)), timeout]);
  clearTimeout(timer);
  await current.demo?.close();
}

// A second launch only focuses the first; two instances would fight over the same catalog and .part files.
if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    if (running) showWindow();
  });

  void app.whenReady().then(start).catch((error: unknown) => {
    dialog.showErrorBox('Filehaul cannot start', error instanceof Error ? error.message : String(error));
    app.exit(1);
  });

  // macOS keeps apps alive without windows; re-open one when the dock icon is clicked.
  app.on('activate', () => {
    if (running && BrowserWindow.getAllWindows().length === 0) showWindow();
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });

  // Quitting waits for downloads to pause cleanly (their .part files stay resumable), then quits for real.
  app.on('before-quit', (event) => {
    if (phase === 'done' || !running) return;
    event.preventDefault();
    if (phase === 'closing') return;
    phase = 'closing';
    const current = running;
    void shutdown(current).finally(() => {
      phase = 'done';
      app.quit();
    });
  });
}
