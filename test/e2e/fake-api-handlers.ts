// The in-page fake's answer to every request of the contract (add, pause, remote list, archive pages, search, settings, …), over its world.
// Sent to the page with installFakeApi (fake-api.ts) as source text: it must not use anything from outside its own
// body (no imports, no module constants), only the types below, which are erased.
import type { ArchiveEntryView, ArchiveMonthView, DownloadView, RequestName, Requests } from '../../src/shared/contract.ts';
import type { FakeEmit, FakeLive, FakeWorld } from './fake-api-world.ts';

export type FakeHandlers = { [N in RequestName]: (args: Requests[N]['args']) => Requests[N]['reply'] };

export function createFakeHandlers(world: FakeWorld, emit: FakeEmit): FakeHandlers {
  const { settings, remote, archive, downloads, order, iso, makeDownload, copy, changed } = world;

  const find = (id: string): FakeLive => {
    const live = downloads.get(id);
    if (!live) throw new Error(`no download ${id}`);
    return live;
  };

  const page = <T,>(list: T[], offset = 0, limit = 100): { entries: T[]; total: number } => ({
    entries: list.slice(offset, offset + limit),
    total: list.length,
  });
  const sorted = new Map<string, ArchiveEntryView[]>();
  const monthSorted = (month: string, sort: 'name' | 'downloaded' | 'size' = 'name'): ArchiveEntryView[] => {
    const list = archive.get(month) ?? [];
    const key = `${month}|${sort}|${list.length}`;
    let s = sorted.get(key);
    if (!s) {
      s = [...list].sort((a, b) =>
        sort === 'size' ? b.sizeBytes - a.sizeBytes : sort === 'downloaded' ? b.downloadedAt.localeCompare(a.downloadedAt) : a.filename.localeCompare(b.filename),
      );
      sorted.set(key, s);
    }
    return s;
  };

  const handlers: FakeHandlers = {
    add({ inputs }) {
      const added: DownloadView[] = [];
      const errors: { input: string; error: string }[] = [];
      for (const input of inputs) {
        if (/^https?:\/\//.test(input)) {
          const name = decodeURIComponent(new URL(input).pathname.split('/').pop() || 'download');
          added.push(copy(makeDownload(input.split('?')[0], 'url', name, 900_000, iso(world.now())).view));
        } else if (input.includes('missing')) {
          errors.push({ input, error: 'No file with this id on the account (404 not_found_error)' });
        } else {
          const r = remote.find((f) => f.id === input);
          if (r && r.downloadable === false) {
            errors.push({ input, error: 'This file cannot be downloaded (it was uploaded, not created by a tool)' });
            continue;
          }
          const live = r
            ? makeDownload(r.id, 'files-api', r.filename, r.sizeBytes, r.createdAt)
            : makeDownload(input, 'files-api', `${input}.bin`, 800_000, iso(world.now()));
          added.push(copy(live.view));
        }
      }
      return { added, errors };
    },
    pause({ id }) {
      const live = find(id);
      if (live.view.state === 'queued' || live.view.state === 'downloading') {
        live.view.state = 'paused';
        live.view.bytesPerSecond = 0;
        live.view.connections = 0;
        for (const s of live.view.segments) s.active = false;
        changed(live);
      }
    },
    resume({ id }) {
      const live = find(id);
      if (live.view.state === 'paused') {
        live.view.state = 'queued';
        changed(live);
      }
    },
    cancel({ id }) {
      find(id);
      downloads.delete(id);
      order.splice(order.indexOf(id), 1);
      emit('removed', { id });
    },
    retry({ id }) {
      const live = find(id);
      if (live.view.state === 'failed') {
        live.view.state = 'queued';
        live.view.error = null;
        changed(live);
      }
    },
    pauseAll() {
      for (const id of [...order]) handlers.pause({ id });
    },
    resumeAll() {
      for (const id of [...order]) handlers.resume({ id });
    },
    listDownloads: () => order.map((id) => copy(downloads.get(id)!.view)),
    listRemote({ cursor, limit = 20 }) {
      const start = cursor ? Number(cursor) : 0;
      const end = start + limit;
      return { files: remote.slice(start, end).map((f) => ({ ...f })), nextCursor: end < remote.length ? String(end) : null };
    },
    archiveMonths(): ArchiveMonthView[] {
      return [...archive.entries()].map(([month, list]) => ({ month, fileCount: list.length, totalBytes: list.reduce((s, e) => s + e.sizeBytes, 0) }));
    },
    archiveFiles: ({ month, offset, limit, sort }) => page(monthSorted(month, sort), offset, limit),
    search({ text, month, offset, limit }) {
      const needle = text.toLowerCase();
      const months = month ? [month] : [...archive.keys()].sort().reverse();
      const hits = months.flatMap((m) => monthSorted(m).filter((e) => e.filename.toLowerCase().includes(needle)));
      return page(hits, offset, limit);
    },
    verify({ month }) {
      const list = month ? (archive.get(month) ?? []) : [...archive.values()].flat();
      return { checked: list.length, ok: list.length, missing: [], changed: [], unknown: [] };
    },
    getSettings: () => ({ ...settings }),
    setSettings(patch) {
      const { apiKey, ...rest } = patch;
      Object.assign(settings, rest);
      if (apiKey !== undefined) settings.apiKeySet = apiKey !== null && apiKey !== '';
      return { ...settings };
    },
  };
  return handlers;
}
