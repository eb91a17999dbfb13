// The renderer's view of its door to the engine: the shared contract plus the few desktop-only extras.
import type { FilehaulApi } from '../../../shared/contract.ts';

/** How the live event link is doing; only the web door can lose it. 'starting' is the first attempt, not yet a loss. */
export type LinkStatus = 'starting' | 'open' | 'connecting' | 'unauthorized';

export interface Bridge {
  /** Which door the page came through: the UI adapts (desktop-only buttons, where the API key lives). */
  readonly door: 'electron' | 'web';
  readonly api: FilehaulApi;
  readonly version: string | null;
  /** Opens an archived file (path as the archive reports it) with the OS; null where the door cannot. */
  readonly openPath: ((path: string) => Promise<void>) | null;
  /** Reveals an archived file in the OS file manager; null where the door cannot. */
  readonly showInFolder: ((path: string) => Promise<void>) | null;
  /** Link status changes; called at once with the current status. */
  onStatus(listener: (status: LinkStatus) => void): () => void;
}

/** What tests may install as window.__FILEHAUL_FAKE_API__ before the page loads. */
export interface FakeApiHook extends FilehaulApi {
  door?: 'electron' | 'web';
  version?: string;
  openPath?: (path: string) => Promise<void>;
  showInFolder?: (path: string) => Promise<void>;
}

/** What the preload exposes as window.filehaul (contextBridge); every member optional so older preloads still load. */
export interface PreloadBridge {
  readonly version?: string;
  readonly api?: FilehaulApi;
  readonly openPath?: (path: string) => Promise<void>;
  readonly showInFolder?: (path: string) => Promise<void>;
}

declare global {
  interface Window {
    // Optional: a plain browser (filehaul serve, vite dev) has no preload.
    readonly filehaul?: PreloadBridge;
    __FILEHAUL_FAKE_API__?: FakeApiHook;
  }
}
