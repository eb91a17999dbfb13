// Guards the desktop packaging and build setup: electron-builder.yml, the app icon, and the electron-vite output layout.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
// js-yaml and app-builder-lib come with electron-builder (no @types, not direct deps), so load them untyped via require.
const require = createRequire(import.meta.url);
const yaml = require('js-yaml') as { load(text: string): unknown };

interface BuilderConfig {
  appId?: string;
  productName?: string;
  icon?: string;
  directories?: { output?: string };
  files?: string[];
  asarUnpack?: string[];
  linux?: { target?: string[]; category?: string; maintainer?: string };
  mac?: { target?: string | string[] };
  win?: { target?: string | string[] };
}

const config = yaml.load(readFileSync(path.join(root, 'electron-builder.yml'), 'utf8')) as BuilderConfig;
const asList = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

describe('electron-builder.yml', () => {
  it('names the app', () => {
    expect(config.appId).toBe('dev.filehaul.app');
    expect(config.productName).toBe('Filehaul');
    expect(config.directories?.output).toBe('dist');
  });

  it('targets Linux (AppImage + deb), macOS (dmg) and Windows (nsis)', () => {
    expect(config.linux?.target).toEqual(expect.arrayContaining(['AppImage', 'deb']));
    expect(config.linux?.category).toBe('Network');
    // fpm refuses to build a .deb without a maintainer.
    expect(config.linux?.maintainer).toMatch(/\S+ <[^@\s]+@[^@\s]+>/);
    expect(asList(config.mac?.target)).toContain('dmg');
    expect(asList(config.win?.target)).toContain('nsis');
  });

  it('ships the electron-vite output and keeps better-sqlite3 out of the asar', () => {
    expect(config.files).toEqual(expect.arrayContaining(['out/**', 'package.json']));
    expect(config.asarUnpack).toContain('**/node_modules/better-sqlite3/**');
    // The packaged app starts at package.json "main", which must point into out/.
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { main: string };
    expect(pkg.main).toBe('out/main/index.js');
  });

  it('points at a PNG icon of at least 512x512', () => {
    expect(config.icon).toBe('resources/icon.png');
    const png = readFileSync(path.join(root, config.icon ?? ''));
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    // IHDR is always the first chunk: length(4) type(4) width(4) height(4).
    expect(png.toString('ascii', 12, 16)).toBe('IHDR');
    expect(png.readUInt32BE(16)).toBeGreaterThanOrEqual(512);
    expect(png.readUInt32BE(20)).toBeGreaterThanOrEqual(512);
  });

  it("passes electron-builder's own schema validation", async () => {
    const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
      validateConfiguration(config: unknown, logger: unknown): Promise<void>;
    };
    const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
    await expect(validateConfiguration(config, new DebugLogger(false))).resolves.toBeUndefined();
  });
});

describe('electron-vite build', () => {
  const outDir = mkdtempSync(path.join(tmpdir(), 'filehaul-build-'));
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  // electron-vite only reads electron/package.json for the version; the Electron binary is not needed to build.
  it('emits main, a CJS preload and the renderer', async () => {
    const { build } = await import('electron-vite');
    // The build sets NODE_ENV and friends for its own process; put them back so later tests in this worker see no change.
    const savedEnv = { ...process.env };
    try {
      await build({ root, build: { outDir }, logLevel: 'silent' });
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
      Object.assign(process.env, savedEnv);
    }

    const main = readFileSync(path.join(outDir, 'main/index.js'), 'utf8');
    // Native module must be loaded at run time, never inlined.
    expect(main).not.toMatch(/better_sqlite3|node-gyp-build|bindings\(/);
    expect(main).toContain("'../preload/index.cjs'".replaceAll("'", '"'));

    // Sandboxed preloads cannot be ES modules.
    const preload = readFileSync(path.join(outDir, 'preload/index.cjs'), 'utf8');
    expect(preload).toContain('require("electron")');
    expect(preload).not.toMatch(/^\s*(import|export)\s/m);
    // The preload uses ipcRenderer itself but hands the page one object, never ipcRenderer (see test/unit/desktop-preload.test.ts).
    expect(preload.match(/exposeInMainWorld\(/g)).toHaveLength(1);
    expect(preload).not.toMatch(/exposeInMainWorld\([^)]*ipcRenderer\b/);

    const html = readFileSync(path.join(outDir, 'renderer/index.html'), 'utf8');
    expect(html).toContain('<title>Filehaul</title>');
    expect(html).toContain("script-src 'self'");
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline scripts
    expect(existsSync(path.join(outDir, 'renderer/assets'))).toBe(true);
  });

  // The CSP forbids inline scripts; @vitejs/plugin-react injects one in dev unless our config swaps it out.
  it('serves dev HTML without inline scripts', async () => {
    const { resolveConfig } = await import('electron-vite');
    const { createServer } = await import('vite');
    const { config: resolved } = await resolveConfig({ root, logLevel: 'silent' }, 'serve', 'development');
    const server = await createServer({
      ...resolved?.renderer,
      configFile: false,
      logLevel: 'silent',
      // HMR must stay on or the React plugin drops the preamble we are checking; ws: false keeps it from opening a port.
      server: { middlewareMode: true, ws: false },
    });
    try {
      const source = readFileSync(path.join(root, 'src/renderer/index.html'), 'utf8');
      const html = await server.transformIndexHtml('/', source);
      expect(html).toContain('/@id/@vitejs/plugin-react/preamble');
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    } finally {
      await server.close();
    }
  });
});
