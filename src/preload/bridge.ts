// What the preload hands the page as window.filehaul: the contract over IPC and two desktop extras, nothing else.
import type { EventName, Events, FilehaulApi, RequestName, Requests } from '../shared/contract.ts';
import { EVENT_CHANNEL, EVENT_NAMES, OPEN_PATH_CHANNEL, REQUEST_CHANNEL, SHOW_IN_FOLDER_CHANNEL } from '../main/desktop/channels.ts';

/** The part of Electron's contextBridge used here. */
export interface ContextBridgeLike {
  exposeInMainWorld(apiKey: string, api: unknown): void;
}

/** The part of Electron's ipcRenderer used here; the page never sees it. */
export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
  off(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

/** window.filehaul, as src/renderer/src/bridge/types.ts (PreloadBridge) expects it. */
export interface FilehaulBridge {
  readonly version: string;
  readonly api: FilehaulApi;
  /** Opens an archived file (raw/YYYY-MM/name) with the OS. */
  readonly openPath: (relativePath: string) => Promise<void>;
  /** Reveals an archived file in the OS file manager. */
  readonly showInFolder: (relativePath: string) => Promise<void>;
}

export function createBridge(ipcRenderer: IpcRendererLike, version: string): FilehaulBridge {
  const call = async (channel: string, ...args: unknown[]): Promise<unknown> => {
    const reply = await ipcRenderer.invoke(channel, ...args);
    if (reply !== null && typeof reply === 'object') {
      if ('error' in reply) throw new Error(String(reply.error));
      if ('result' in reply) return reply.result;
    }
    throw new Error('malformed reply from the Filehaul main process');
  };

  // One IPC listener for the whole page, attached while anyone listens: ipcRenderer would warn past 10 listeners.
  const listeners = new Map<EventName, Set<(payload: never) => void>>();
  let count = 0;
  const dispatch = (_event: unknown, message: unknown): void => {
    // The IpcRendererEvent stays here: it carries `sender` (ipcRenderer itself), which must not reach the page.
    if (message === null || typeof message !== 'object' || !('event' in message) || !('payload' in message)) return;
    for (const listener of [...(listeners.get(message.event as EventName) ?? [])]) {
      try {
        listener(message.payload as never);
      } catch (error) {
        // One broken listener must not starve the others of their updates.
        console.error('filehaul: an event listener threw', error);
      }
    }
  };

  const api: FilehaulApi = {
    request<Name extends RequestName>(name: Name, args: Requests[Name]['args']) {
      return call(REQUEST_CHANNEL, name, args) as Promise<Requests[Name]['reply']>;
    },
    on<Name extends EventName>(name: Name, listener: (payload: Events[Name]) => void) {
      if (!EVENT_NAMES.includes(name)) throw new TypeError(`unknown event (expected one of ${EVENT_NAMES.join(', ')})`);
      if (typeof listener !== 'function') throw new TypeError('the listener must be a function');
      let set = listeners.get(name);
      if (!set) listeners.set(name, (set = new Set()));
      // A wrapper per subscription: subscribing the same function twice needs two unsubscribes, as with DOM events.
      const entry = (payload: never) => listener(payload);
      set.add(entry);
      if (count++ === 0) ipcRenderer.on(EVENT_CHANNEL, dispatch);
      let active = true;
      return () => {
        if (!active) return;
        active = false;
        set.delete(entry);
        if (--count === 0) ipcRenderer.off(EVENT_CHANNEL, dispatch);
      };
    },
  };

  return Object.freeze({
    version,
    api: Object.freeze(api),
    openPath: async (relativePath: string) => {
      await call(OPEN_PATH_CHANNEL, relativePath);
    },
    showInFolder: async (relativePath: string) => {
      await call(SHOW_IN_FOLDER_CHANNEL, relativePath);
    },
  });
}

/** Builds the bridge and exposes it as window.filehaul; returns it for tests. */
export function exposeBridge(contextBridge: ContextBridgeLike, ipcRenderer: IpcRendererLike, version: string): FilehaulBridge {
  const bridge = createBridge(ipcRenderer, version);
  contextBridge.exposeInMainWorld('filehaul', bridge);
  return bridge;
}
