// The contract implemented over the engine, catalog and archive: what the desktop window and `filehaul serve` both call.
import { EventEmitter } from 'node:events';
import type { ArchiveEntryView, Events, FilehaulApi, Requests, SettingsView } from '../shared/contract.ts';
import { ContractError } from '../shared/validate.ts';
import { verifyArchive } from './archive/verify.ts';
import { DownloadsController } from './downloads-controller.ts';
import type { ControllerOptions } from './server/handler.ts';
import { FilehaulService } from './service.ts';
import { fetchRemotePage } from './sources/files-list.ts';
import { listMonthFiles, listMonths, searchArchive, type ArchiveEntry } from './store/archive-entries.ts';
import { findLatestBySource } from './store/downloads.ts';

/** Where the desktop door keeps what the web door cannot change: the key (keychain) and settings between runs. */
export interface ControllerPorts {
  /** Stores the API key (Electron safeStorage on desktop). Absent: the key comes from the environment or config.ini only. */
  saveApiKey?: (key: string | null) => Promise<void>;
  /** Persists changed settings for the next start. */
  saveSettings?: (patch: Requests['setSettings']['args']) => Promise<void>;
  /** Decrypted-plaintext hash for verifying encrypted files. */
  plaintextHash?: (absolutePath: string) => Promise<string>;
}

type Handlers = { [Name in keyof Requests]: (args: Requests[Name]['args']) => Promise<Requests[Name]['reply']> | Requests[Name]['reply'] };

export type Controller = FilehaulApi & { close(): Promise<void>; readonly service: FilehaulService };

export async function createController(options: ControllerOptions, ports: ControllerPorts = {}): Promise<Controller> {
  const service = await FilehaulService.open(options);
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  const emit = <Name extends keyof Events>(name: Name, payload: Events[Name]) => emitter.emit(name, payload);
  const downloads = new DownloadsController(service, emit);
  downloads.resumeInterrupted();
  let settings: SettingsView = {
    apiKeySet: Boolean(options.apiKey),
    apiBase: options.apiBase,
    backupApiBase: options.backupApiBase ?? null,
    connections: options.engine.connections,
    parallelFiles: options.engine.parallelFiles,
    requestsPerMinute: options.requestsPerMinute ?? 100,
    limitRate: options.limitRate ?? null,
    dataDir: service.layout.dataDir,
    preset: options.preset ?? 'cloud',
    encrypt: options.encrypt ?? false,
    demo: options.demo,
  };

  const handlers: Handlers = {
    add: ({ inputs }) => downloads.add(inputs),
    pause: ({ id }) => guard(() => downloads.pause(id)),
    resume: ({ id }) => guardAsync(() => downloads.resume(id)),
    cancel: ({ id }) => guardAsync(() => downloads.cancel(id)),
    retry: ({ id }) => guardAsync(() => downloads.retry(id)),
    pauseAll: () => downloads.pauseAll(),
    resumeAll: () => downloads.resumeAll(),
    listDownloads: () => downloads.list(),
    listRemote: async ({ cursor, limit }) => {
      if (!options.apiKey) throw new ContractError('No API key is set: add one in Settings (desktop) or set ANTHROPIC_API_KEY (web).');
      const page = await fetchRemotePage(service.http, options.apiBase, options.apiKey, { cursor: cursor ?? null, limit });
      return {
        files: page.files.map((file) => ({
          id: file.id,
          filename: file.filename,
          sizeBytes: file.sizeBytes,
          createdAt: file.createdAt,
          downloadable: file.downloadable,
          archived: findLatestBySource(service.db, 'files-api', file.id, options.apiBase)?.state === 'done',
        })),
        nextCursor: page.nextCursor,
      };
    },
    archiveMonths: () => listMonths(service.db),
    archiveFiles: ({ month, offset, limit, sort }) => {
      const page = listMonthFiles(service.db, month, { offset, limit, sort });
      return { entries: page.entries.map(entryView), total: page.total };
    },
    search: ({ text, month, offset, limit }) => {
      const result = searchArchive(service.db, text, { month, offset, limit });
      return { entries: result.entries.map(entryView), total: result.total };
    },
    verify: async ({ month }) => {
      const report = await verifyArchive(service.db, service.layout, { month, plaintextHash: ports.plaintextHash });
      return { checked: report.checked, ok: report.ok, missing: report.missing, changed: report.changed.map((file) => file.path), unknown: report.unknown };
    },
    getSettings: () => settings,
    setSettings: async (patch) => {
      if (patch.apiKey !== undefined) {
        if (!ports.saveApiKey) throw new ContractError('This door reads the API key from ANTHROPIC_API_KEY or config.ini; it cannot be changed here.');
        await ports.saveApiKey(patch.apiKey);
        service.setApiKey(patch.apiKey);
        options.apiKey = patch.apiKey;
      }
      // Applied at once while downloads run: the speed cap and the request budget.
      if (patch.limitRate !== undefined) service.setLimitRate(patch.limitRate);
      if (patch.requestsPerMinute !== undefined) service.setRequestsPerMinute(patch.requestsPerMinute);
      // Taken by downloads that start from now on.
      if (patch.connections !== undefined || patch.parallelFiles !== undefined) service.setEngineLimits({ connections: patch.connections, parallelFiles: patch.parallelFiles });
      const { apiKey: _secret, ...visible } = patch;
      settings = { ...settings, ...visible, apiKeySet: patch.apiKey !== undefined ? Boolean(patch.apiKey) : settings.apiKeySet };
      await ports.saveSettings?.(visible);
      return settings;
    },
  };

  return {
    service,
    async request(name, args) {
      const handler = handlers[name] as (args: unknown) => unknown;
      return (await handler(args)) as never;
    },
    on(name, listener) {
      emitter.on(name, listener as (payload: unknown) => void);
      return () => emitter.off(name, listener as (payload: unknown) => void);
    },
    async close() {
      // Downloads running at close go on by themselves at the next start; ones the user paused stay paused.
      await downloads.shutdown();
      downloads.close();
      await service.close();
    },
  };
}

function entryView(entry: ArchiveEntry): ArchiveEntryView {
  return {
    path: entry.path,
    filename: entry.filename,
    fileId: entry.fileId,
    sizeBytes: entry.sizeBytes,
    sha256: entry.sha256,
    mimeType: entry.mimeType,
    createdAt: entry.createdAt,
    downloadedAt: entry.downloadedAt,
    encrypted: entry.encrypted,
  };
}

/** An unknown id or a refused action is the caller's mistake: a ContractError (400), never a 500. */
function guard(action: () => void): void {
  try {
    action();
  } catch (error) {
    throw new ContractError((error as Error).message);
  }
}

async function guardAsync(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (error) {
    throw new ContractError((error as Error).message);
  }
}
