// Picks the door once per page: a test fake if installed, the Electron preload if present, else HTTP to `filehaul serve`.
import { createElectronBridge } from './electron.ts';
import { createWebBridge } from './web.ts';
import type { Bridge, LinkStatus } from './types.ts';

export type { Bridge, LinkStatus } from './types.ts';

let current: Bridge | null = null;

function pick(): Bridge {
  const fake = window.__FILEHAUL_FAKE_API__;
  if (fake) {
    return {
      door: fake.door ?? 'electron',
      api: fake,
      version: fake.version ?? null,
      openPath: fake.openPath ? (p) => fake.openPath!(p) : null,
      showInFolder: fake.showInFolder ? (p) => fake.showInFolder!(p) : null,
      onStatus(listener: (status: LinkStatus) => void) {
        listener('open');
        return () => {};
      },
    };
  }
  const preload = window.filehaul;
  if (preload?.api) return createElectronBridge({ ...preload, api: preload.api });
  return createWebBridge();
}

export function getBridge(): Bridge {
  current ??= pick();
  return current;
}
