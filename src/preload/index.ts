// Preload (sandboxed, context-isolated): exposes window.filehaul — the contract over IPC — and nothing else.
import { contextBridge, ipcRenderer } from 'electron';
import { exposeBridge } from './bridge.ts';

// Injected at build time by electron.vite.config.ts; a sandboxed preload cannot read package.json itself.
declare const __FILEHAUL_VERSION__: string;

exposeBridge(contextBridge, ipcRenderer, __FILEHAUL_VERSION__);
