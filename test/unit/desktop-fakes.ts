// MOCKS of Electron for the desktop glue tests: this machine has no Electron binary, so ipcMain, ipcRenderer,
// webContents, contextBridge and safeStorage are stood in for by these fakes, wired to each other the way
// Electron wires the real ones (structured clone across the process boundary, one handler per channel).
import type { IpcInvokeEventLike, IpcMainLike, WebContentsLike } from '../../src/main/desktop/channels.ts';
import type { SafeStorageLike } from '../../src/main/desktop/secret-store.ts';
import type { ContextBridgeLike, IpcRendererLike } from '../../src/preload/bridge.ts';

type Handler = (event: IpcInvokeEventLike, ...args: unknown[]) => unknown;
type RendererListener = (event: unknown, ...args: unknown[]) => void;

/** Stands in for Electron's ipcMain: one handler per channel, as ipcMain.handle enforces. */
export class FakeIpcMain implements IpcMainLike {
  readonly handlers = new Map<string, Handler>();

  handle(channel: string, listener: Handler): void {
    if (this.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.handlers.set(channel, listener);
  }

  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }

  /** What Electron does on ipcRenderer.invoke: clone the args in, run the handler, clone the reply out. */
  async invoke(channel: string, event: IpcInvokeEventLike, args: unknown[]): Promise<unknown> {
    const handler = this.handlers.get(channel);
    if (!handler) throw new Error(`Error invoking remote method '${channel}': Error: No handler registered for '${channel}'`);
    return structuredClone(await handler(event, ...structuredClone(args)));
  }
}

/** Stands in for the preload's ipcRenderer, wired to a FakeIpcMain (requests) and FakeWebContents (events). */
export class FakeIpcRenderer implements IpcRendererLike {
  readonly listeners = new Map<string, RendererListener[]>();
  /** Every reply the main side sent back, for the tests that search all traffic. */
  readonly replies: unknown[] = [];
  readonly ipcMain: FakeIpcMain;
  /** The URL of the frame the requests come from (event.senderFrame.url on the main side). */
  frameUrl: string;

  constructor(ipcMain: FakeIpcMain, frameUrl = 'file:///app/out/renderer/index.html') {
    this.ipcMain = ipcMain;
    this.frameUrl = frameUrl;
  }

  async invoke(channel: string, ...args: unknown[]): Promise<unknown> {
    const reply = await this.ipcMain.invoke(channel, { senderFrame: { url: this.frameUrl } }, args);
    this.replies.push(reply);
    return reply;
  }

  on(channel: string, listener: RendererListener): this {
    this.listeners.set(channel, [...(this.listeners.get(channel) ?? []), listener]);
    return this;
  }

  off(channel: string, listener: RendererListener): this {
    this.listeners.set(channel, (this.listeners.get(channel) ?? []).filter((item) => item !== listener));
    return this;
  }

  listenerCount(channel: string): number {
    return this.listeners.get(channel)?.length ?? 0;
  }

  /** Delivery of webContents.send: Electron passes an IpcRendererEvent first, whose `sender` is ipcRenderer itself. */
  deliver(channel: string, args: unknown[]): void {
    const event = { sender: this, senderId: 0, ports: [] };
    for (const listener of this.listeners.get(channel) ?? []) listener(event, ...structuredClone(args));
  }
}

/** Stands in for a window's webContents: records what was sent and hands it to the renderer side. */
export class FakeWebContents implements WebContentsLike {
  readonly sent: { channel: string; args: unknown[] }[] = [];
  destroyed = false;
  readonly renderer: FakeIpcRenderer | null;

  constructor(renderer: FakeIpcRenderer | null = null) {
    this.renderer = renderer;
  }

  send(channel: string, ...args: unknown[]): void {
    // Electron clones on send: a payload that cannot cross the process boundary fails here, as it would there.
    const cloned = structuredClone(args);
    this.sent.push({ channel, args: cloned });
    this.renderer?.deliver(channel, cloned);
  }

  isDestroyed(): boolean {
    return this.destroyed;
  }
}

/** Stands in for contextBridge: records what the preload exposes, as the page would see it. */
export class FakeContextBridge implements ContextBridgeLike {
  readonly exposed = new Map<string, unknown>();

  exposeInMainWorld(apiKey: string, api: unknown): void {
    if (this.exposed.has(apiKey)) throw new Error(`Cannot bind an API on top of an existing property on the window object: ${apiKey}`);
    this.exposed.set(apiKey, api);
  }
}

export const FAKE_CIPHER_MARKER = 'FAKE-SAFESTORAGE-v1:';

/**
 * Stands in for safeStorage: "encrypts" reversibly (reversed bytes, base64, behind a marker) so a test can tell
 * stored ciphertext from plaintext and decrypt only what this fake wrote.
 */
export class FakeSafeStorage implements SafeStorageLike {
  available = true;
  backend: string = 'gnome_libsecret';
  readonly encrypted: string[] = [];

  async isAsyncEncryptionAvailable(): Promise<boolean> {
    return this.available;
  }

  async encryptStringAsync(plainText: string): Promise<Buffer> {
    if (!this.available) throw new Error('Encryption is not available.');
    this.encrypted.push(plainText);
    return Buffer.from(FAKE_CIPHER_MARKER + Buffer.from(plainText, 'utf8').reverse().toString('base64'), 'utf8');
  }

  async decryptStringAsync(encrypted: Buffer): Promise<{ result: string; shouldReEncrypt: boolean }> {
    const text = encrypted.toString('utf8');
    if (!text.startsWith(FAKE_CIPHER_MARKER)) throw new Error('Error while decrypting the ciphertext provided to safeStorage.decryptString.');
    return { result: Buffer.from(text.slice(FAKE_CIPHER_MARKER.length), 'base64').reverse().toString('utf8'), shouldReEncrypt: false };
  }

  getSelectedStorageBackend(): string {
    return this.backend;
  }
}

/** A connected pair plus one window: what the desktop glue sees in a running app, minus Electron. */
export function fakeElectron(frameUrl?: string) {
  const ipcMain = new FakeIpcMain();
  const ipcRenderer = new FakeIpcRenderer(ipcMain, frameUrl);
  const webContents = new FakeWebContents(ipcRenderer);
  const contextBridge = new FakeContextBridge();
  return { ipcMain, ipcRenderer, webContents, contextBridge };
}
