// The desktop request door over a FAKE ipcMain/ipcRenderer pair (Electron cannot run here): validation, replies, errors, senders.
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FilehaulApi, RequestName } from '../../src/shared/contract.ts';
import { ContractError, validateRequest } from '../../src/shared/validate.ts';
import { REQUEST_CHANNEL } from '../../src/main/desktop/channels.ts';
import { GENERIC_ERROR, UNTRUSTED_SENDER_ERROR, registerRequestHandler } from '../../src/main/desktop/ipc-handlers.ts';
import { registerShellHandlers } from '../../src/main/desktop/shell-handlers.ts';
import { pageMatcher } from '../../src/main/desktop/window-security.ts';
import { createBridge } from '../../src/preload/bridge.ts';
import { fakeElectron } from './desktop-fakes.ts';

const PAGE = 'file:///app/out/renderer/index.html';

/** A stub controller: records each call and answers from `replies`, or throws what `failures` says. */
function stubApi() {
  const calls: { name: RequestName; args: unknown }[] = [];
  const failures = new Map<RequestName, unknown>();
  const api: Pick<FilehaulApi, 'request'> = {
    async request(name, args) {
      calls.push({ name, args });
      if (failures.has(name)) throw failures.get(name);
      if (name === 'listDownloads') return [] as never;
      return undefined as never;
    },
  };
  return { api, calls, failures };
}

function messageOf(name: unknown, args: unknown): string {
  try {
    validateRequest(name, args);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the validator to refuse');
}

describe('desktop request handler', () => {
  it('delivers a valid request from the renderer side to the controller and returns its result', async () => {
    const fake = fakeElectron(PAGE);
    const { api, calls } = stubApi();
    registerRequestHandler(fake.ipcMain, api);
    const bridge = createBridge(fake.ipcRenderer, 'test');

    await expect(bridge.api.request('listDownloads', {})).resolves.toEqual([]);
    await expect(bridge.api.request('pause', { id: 'dl_1' })).resolves.toBeUndefined();
    expect(calls).toEqual([{ name: 'listDownloads', args: {} }, { name: 'pause', args: { id: 'dl_1' } }]);
  });

  it('refuses invalid args with the validator message, before the controller sees them', async () => {
    const fake = fakeElectron(PAGE);
    const { api, calls } = stubApi();
    registerRequestHandler(fake.ipcMain, api);
    const bridge = createBridge(fake.ipcRenderer, 'test');

    const cases: [string, unknown][] = [
      ['pause', { id: '../../etc/passwd' }],
      ['add', { inputs: [] }],
      ['setSettings', { connections: 999 }],
      ['archiveFiles', { month: '2024-13' }],
      ['listDownloads', { extra: true }],
      ['dropTables', {}],
    ];
    for (const [name, args] of cases) {
      await expect(bridge.api.request(name as RequestName, args as never)).rejects.toThrow(messageOf(name, args));
    }
    expect(calls).toEqual([]);
  });

  it('passes a ContractError message through, hides anything else behind a generic one, never a stack', async () => {
    const fake = fakeElectron(PAGE);
    const { api, failures } = stubApi();
    const onError = vi.fn();
    registerRequestHandler(fake.ipcMain, api, { onError });
    failures.set('pause', new ContractError('No download with id dl_9.'));
    const internal = new Error('SQLITE_CORRUPT at /home/me/secret/path.db');
    failures.set('resume', internal);

    const pause = await fake.ipcRenderer.invoke(REQUEST_CHANNEL, 'pause', { id: 'dl_9' });
    expect(pause).toEqual({ error: 'No download with id dl_9.' });
    const resume = await fake.ipcRenderer.invoke(REQUEST_CHANNEL, 'resume', { id: 'dl_9' });
    expect(resume).toEqual({ error: GENERIC_ERROR });
    expect(JSON.stringify(resume)).not.toContain('SQLITE');
    expect(onError).toHaveBeenCalledWith(internal);
  });

  it('refuses requests from a frame that is not our page', async () => {
    const fake = fakeElectron('https://evil.example/');
    const { api, calls } = stubApi();
    const isOwnPage = pageMatcher(PAGE);
    registerRequestHandler(fake.ipcMain, api, { isTrustedSender: (event) => isOwnPage(event.senderFrame?.url) });
    await expect(fake.ipcRenderer.invoke(REQUEST_CHANNEL, 'listDownloads', {})).resolves.toEqual({ error: UNTRUSTED_SENDER_ERROR });
    fake.ipcRenderer.frameUrl = `${PAGE}#/archive`;
    await expect(fake.ipcRenderer.invoke(REQUEST_CHANNEL, 'listDownloads', {})).resolves.toEqual({ result: [] });
    expect(calls).toHaveLength(1);
  });

  it('registers one handler and removes it again', async () => {
    const fake = fakeElectron(PAGE);
    const stop = registerRequestHandler(fake.ipcMain, stubApi().api);
    expect([...fake.ipcMain.handlers.keys()]).toEqual([REQUEST_CHANNEL]);
    stop();
    expect(fake.ipcMain.handlers.size).toBe(0);
    await expect(fake.ipcRenderer.invoke(REQUEST_CHANNEL, 'listDownloads', {})).rejects.toThrow(/No handler registered/);
  });
});

describe('desktop open / show in folder', () => {
  let dataDir: string;
  let outside: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'filehaul-shell-'));
    outside = await mkdtemp(path.join(tmpdir(), 'filehaul-outside-'));
    await mkdir(path.join(dataDir, 'raw', '2025-03'), { recursive: true });
    await writeFile(path.join(dataDir, 'raw', '2025-03', 'report.pdf'), 'pdf');
    await writeFile(path.join(dataDir, 'filehaul.db'), 'db');
    await writeFile(path.join(outside, 'secret.txt'), 'secret');
    await symlink(path.join(outside, 'secret.txt'), path.join(dataDir, 'raw', '2025-03', 'link.txt'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  });

  it('opens and reveals archived files only, by their real path inside raw/', async () => {
    const fake = fakeElectron(PAGE);
    const shell = { openPath: vi.fn(async () => ''), showItemInFolder: vi.fn() };
    registerShellHandlers(fake.ipcMain, shell, () => dataDir);
    const bridge = createBridge(fake.ipcRenderer, 'test');

    await bridge.openPath('raw/2025-03/report.pdf');
    await bridge.showInFolder('raw/2025-03/report.pdf');
    expect(shell.openPath).toHaveBeenCalledWith(expect.stringMatching(/raw[\\/]2025-03[\\/]report\.pdf$/));
    expect(shell.showItemInFolder).toHaveBeenCalledTimes(1);

    for (const bad of ['filehaul.db', 'raw/../filehaul.db', '/etc/passwd', 'raw/2025-03/link.txt', 'raw/2025-03/missing.pdf', 'raw/2025-03', '']) {
      await expect(bridge.openPath(bad), bad).rejects.toThrow(/archived file|not in the archive|non-empty string/);
    }
    await expect(bridge.openPath(42 as never)).rejects.toThrow(/non-empty string/);
    expect(shell.openPath).toHaveBeenCalledTimes(1);
  });

  it('reports the OS refusing to open a file', async () => {
    const fake = fakeElectron(PAGE);
    registerShellHandlers(fake.ipcMain, { openPath: async () => 'no application is associated', showItemInFolder: () => {} }, () => dataDir);
    await expect(createBridge(fake.ipcRenderer, 'test').openPath('raw/2025-03/report.pdf')).rejects.toThrow('The file could not be opened: no application is associated');
  });
});
