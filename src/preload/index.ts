// Preload (sandboxed, context-isolated): the only bridge the renderer gets. For now it carries the app version alone.
import { contextBridge } from 'electron';

// Injected at build time by electron.vite.config.ts; a sandboxed preload cannot read package.json itself.
declare const __FILEHAUL_VERSION__: string;

/** What the renderer sees as window.filehaul. Grow it one deliberate method at a time; never hand over ipcRenderer. */
export interface FilehaulBridge {
  readonly version: string;
}

const bridge: FilehaulBridge = Object.freeze({ version: __FILEHAUL_VERSION__ });

contextBridge.exposeInMainWorld('filehaul', bridge);
