// The IPC channel names and message shapes shared by the main process (desktop/*) and the preload bridge.
import type { EventName, Events } from '../../shared/contract.ts';

/** ipcRenderer.invoke(REQUEST_CHANNEL, name, args) → IpcReply: every contract request goes through this one door. */
export const REQUEST_CHANNEL = 'filehaul:request';
/** webContents.send(EVENT_CHANNEL, EventMessage): every contract event, progress already batched. */
export const EVENT_CHANNEL = 'filehaul:event';
/** ipcRenderer.invoke(…, relativePath) → IpcReply: desktop-only extras for archived files. */
export const OPEN_PATH_CHANNEL = 'filehaul:openPath';
export const SHOW_IN_FOLDER_CHANNEL = 'filehaul:showInFolder';

/** A reply never carries a stack or an exception object: a value, or a message safe to show. */
export type IpcReply<T = unknown> = { result: T } | { error: string };

export type EventMessage = { [Name in EventName]: { event: Name; payload: Events[Name] } }[EventName];

// A Record so the compiler refuses a list that misses an event of the contract or names one it lacks.
const EVENT_SET: Record<EventName, true> = { progress: true, changed: true, removed: true, notice: true };
/** The event names a window may subscribe to. */
export const EVENT_NAMES: readonly EventName[] = Object.freeze(Object.keys(EVENT_SET) as EventName[]);

/** Minimal shapes of the Electron objects the desktop glue uses, so tests can hand in fakes. */
export interface IpcInvokeEventLike {
  /** The frame that sent the request; null once it has navigated away or been destroyed. */
  readonly senderFrame?: { readonly url: string } | null;
}

export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcInvokeEventLike, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
}

export interface WebContentsLike {
  send(channel: string, ...args: unknown[]): void;
  isDestroyed(): boolean;
}
