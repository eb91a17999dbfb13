// Desktop door: the preload's contextBridge object carries the contract; nothing here knows about IPC itself.
import type { Bridge, LinkStatus, PreloadBridge } from './types.ts';
import type { FilehaulApi } from '../../../shared/contract.ts';

export function createElectronBridge(preload: PreloadBridge & { api: FilehaulApi }): Bridge {
  const openPath = preload.openPath;
  const showInFolder = preload.showInFolder;
  return {
    door: 'electron',
    api: preload.api,
    version: preload.version ?? null,
    // Bound through closures: contextBridge functions must not be called with a foreign `this`.
    openPath: typeof openPath === 'function' ? (path) => openPath(path) : null,
    showInFolder: typeof showInFolder === 'function' ? (path) => showInFolder(path) : null,
    // IPC lives as long as the window, so the link is always open.
    onStatus(listener: (status: LinkStatus) => void) {
      listener('open');
      return () => {};
    },
  };
}
