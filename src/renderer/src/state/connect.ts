// Wires the bridge to the stores once at start-up: initial loads, event subscriptions, reloads after a reconnect.
import { create } from 'zustand';
import type { DownloadView } from '../../../shared/contract.ts';
import { getBridge, type LinkStatus } from '../bridge/index.ts';
import { useArchive } from './archive.ts';
import { useDownloads } from './downloads.ts';
import { reportError, useNotices } from './notices.ts';
import { useRemote } from './remote.ts';
import { useSettings } from './settings.ts';

export const useLink = create<{ status: LinkStatus }>()(() => ({ status: 'starting' }));

let started = false;

export function connectStores(): void {
  if (started) return;
  started = true;
  const { api, onStatus } = getBridge();
  const downloads = useDownloads.getState();

  // Many files can finish in one burst; refetch the months once it settles rather than once per file.
  let monthsTimer: ReturnType<typeof setTimeout> | null = null;
  const monthsSoon = (): void => {
    monthsTimer ??= setTimeout(() => {
      monthsTimer = null;
      void useArchive.getState().loadMonths();
    }, 300);
  };
  const finished = (d: DownloadView): void => {
    if (d.state !== 'done') return;
    if (d.sourceKind === 'files-api') useRemote.getState().markArchived(d.source);
    monthsSoon();
  };

  // Events that arrive while listDownloads is in flight are replayed over its reply, which may be older.
  let buffer: DownloadView[][] | null = null;
  const apply = (list: DownloadView[]): void => {
    if (buffer) buffer.push(list);
    else downloads.merge(list);
  };

  api.on('progress', ({ downloads: list }) => apply(list));
  api.on('changed', ({ download }) => {
    const before = useDownloads.getState().byId[download.id];
    apply([download]);
    if (before?.state !== download.state) finished(download);
  });
  api.on('removed', ({ id }) => downloads.remove(id));
  api.on('notice', ({ level, message }) => useNotices.getState().push(level, message));

  const loadAll = async (): Promise<void> => {
    buffer = [];
    try {
      downloads.replaceAll(await api.request('listDownloads', {}));
    } catch (e) {
      reportError(e);
    } finally {
      const pending = buffer;
      buffer = null;
      for (const list of pending ?? []) downloads.merge(list);
    }
  };

  const loadEverything = (): void => {
    void loadAll();
    void useSettings.getState().load();
    void useArchive.getState().loadMonths();
  };

  let wasOpen = false;
  onStatus((status) => {
    useLink.setState({ status });
    // The first open loads; a later one means events were missed while away, so reload what they would have changed.
    if (status === 'open') {
      if (wasOpen) {
        loadEverything();
        if (useRemote.getState().loaded) void useRemote.getState().refresh();
      }
      wasOpen = true;
    }
  });
  // Requests work without the event link (web door), so load at once instead of waiting for the socket.
  loadEverything();
}
