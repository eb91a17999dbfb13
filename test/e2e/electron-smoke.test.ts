// End-to-end smoke test: builds and launches the real Electron app, then checks the window and its security settings.
// Skips (with the reason in the test name) where no Electron binary or no display is available, e.g. offline CI.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');

/**
 * Finds the Electron executable the way node_modules/electron/index.js does, but without requiring that
 * module: its require() tries to download the binary when it is missing, which must never happen in a test.
 */
function findElectron(): { executablePath: string } | { reason: string } {
  const pkgDir = path.dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  const pathFile = path.join(pkgDir, 'path.txt');
  if (!existsSync(pathFile)) return { reason: 'Electron binary not installed on this machine' };
  const executablePath = path.join(pkgDir, 'dist', readFileSync(pathFile, 'utf8').trim());
  if (!existsSync(executablePath)) return { reason: `Electron binary missing at ${executablePath}` };
  // Electron needs a display on Linux; CI should wrap the run in xvfb-run.
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    return { reason: 'no display (run under xvfb-run)' };
  }
  return { executablePath };
}

const found = findElectron();
const skipReason = 'reason' in found ? found.reason : null;
if (skipReason) console.warn(`[electron-smoke] skipping: ${skipReason}`);
const suffix = skipReason ? ` (skipped: ${skipReason})` : '';

describe('Electron app', () => {
  let app: ElectronApplication | undefined;
  let page: Page;
  let userDataDir: string | undefined;

  beforeAll(async () => {
    if (!('executablePath' in found)) return;
    // Launch what `npm run build` produces: package.json "main" points at out/main/index.js.
    const { build } = await import('electron-vite');
    await build({ root, logLevel: 'warn' });
    // A dev-server URL or run-as-node flag leaking in from the shell would test something else entirely.
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env)) {
      if (value !== undefined && key !== 'ELECTRON_RENDERER_URL' && key !== 'ELECTRON_RUN_AS_NODE') env[key] = value;
    }
    // A fresh profile: no keychain file, saved settings or demo downloads from earlier runs, no clash with an open Filehaul.
    userDataDir = mkdtempSync(path.join(tmpdir(), 'filehaul-smoke-'));
    env.FILEHAUL_USER_DATA_DIR = userDataDir;
    app = await _electron.launch({
      executablePath: found.executablePath,
      // --demo: the engine talks to the built-in sample origin (data under userData/data-demo), never a real account.
      // Chromium refuses to start its sandbox as root (common in CI containers); elsewhere keep the real sandbox.
      args: [root, '--demo', ...(process.getuid?.() === 0 ? ['--no-sandbox'] : [])],
      cwd: root,
      env,
    });
    page = await app.firstWindow();
    await page.waitForLoadState('domcontentloaded');
  }, 90_000);

  afterAll(async () => {
    await app?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  it.skipIf(skipReason)(`opens one window titled "Filehaul"${suffix}`, async () => {
    expect(await page.title()).toBe('Filehaul');
    await page.getByText('Your downloads will appear here.').waitFor();
    expect(app?.windows()).toHaveLength(1);
  });

  it.skipIf(skipReason)(`answers a request over the real IPC and reports demo settings, never the key${suffix}`, async () => {
    const settings = await page.evaluate(() => window.filehaul!.api!.request('getSettings', {}));
    expect(settings).toMatchObject({ demo: true, apiKeySet: true });
    expect(JSON.stringify(settings)).not.toContain('sk-ant');
  });

  it.skipIf(skipReason)(`gives the page only the bridge: no Node, no popups${suffix}`, async () => {
    // window.filehaul existing at all proves context isolation: contextBridge throws without it.
    const seen = await page.evaluate(() => ({
      version: typeof window.filehaul?.version,
      bridgeKeys: Object.keys(window.filehaul ?? {}).sort(),
      apiKeys: Object.keys(window.filehaul?.api ?? {}).sort(),
      require: typeof (window as unknown as { require?: unknown }).require,
      process: typeof (window as unknown as { process?: unknown }).process,
      popup: window.open('https://example.com') === null,
    }));
    expect(seen).toEqual({
      version: 'string',
      bridgeKeys: ['api', 'openPath', 'showInFolder', 'version'],
      apiKeys: ['on', 'request'],
      require: 'undefined',
      process: 'undefined',
      popup: true,
    });
    expect(app?.windows()).toHaveLength(1);
  });
});
