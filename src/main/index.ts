// Electron main-process entry: owns the app lifecycle and one locked-down window around the renderer.
// No engine wiring yet: the download engine arrives through service.ts and reaches the renderer via the preload bridge.
import { app, BrowserWindow, session } from 'electron';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

// Same policy as the <meta> in src/renderer/index.html; sent as a header too so the dev server is held to it.
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
].join('; ');

// Only an unpackaged (dev) build may be pointed at a dev server; a shipped app always loads its own files.
const devServerUrl = !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined;
const indexHtml = path.join(import.meta.dirname, '../renderer/index.html');

let mainWindow: BrowserWindow | null = null;

/** True when url is the page we loaded ourselves (ignoring #hash and ?query), so reloads pass but nothing else does. */
function isOwnPage(url: string): boolean {
  const strip = (u: string): string => {
    const parsed = new URL(u);
    return parsed.origin === 'null' ? `${parsed.protocol}${parsed.pathname}` : `${parsed.origin}${parsed.pathname}`;
  };
  try {
    return strip(url) === strip(devServerUrl ?? pathToFileURL(indexHtml).href);
  } catch {
    return false;
  }
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 800,
    minWidth: 800,
    minHeight: 600,
    title: 'Filehaul',
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
  win.webContents.on('will-navigate', (event, url) => {
    if (!isOwnPage(url)) event.preventDefault();
  });
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  win.on('closed', () => {
    mainWindow = null;
  });
  void (devServerUrl ? win.loadURL(devServerUrl) : win.loadFile(indexHtml));
  return win;
}

// A second launch only focuses the first; two instances would fight over the same catalog and .part files.
if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    if (!mainWindow) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });

  void app.whenReady().then(() => {
    session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
      callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } });
    });
    // The placeholder UI needs no camera, notifications, etc.; refuse every permission until a feature asks for one.
    session.defaultSession.setPermissionRequestHandler((_webContents, _permission, callback) => callback(false));
    mainWindow = createWindow();
    // macOS keeps apps alive without windows; re-open one when the dock icon is clicked.
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) mainWindow = createWindow();
    });
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
}
