// An in-page fake FilehaulApi for renderer tests and the benchmark: time moves only when the test calls __fake.tick().
// installFakeApi is passed to page.addInitScript, which sends its source text to the page: it must not use anything
// from outside its own body (no imports, no module constants), only the types below, which are erased.
import type {
  ArchiveEntryView,
  ArchiveMonthView,
  DownloadView,
  EventName,
  Events,
  FilehaulApi,
  RemoteFileView,
  RequestName,
  Requests,
  SettingsView,
} from '../../src/shared/contract.ts';

export interface FakeOptions {
  door?: 'electron' | 'web';
  /** Provide openPath/showInFolder (desktop extras). */
  desktopActions?: boolean;
  demo?: boolean;
  /** A few downloads in every state (downloading, queued waiting for a rate limit, paused, failed, done). */
  seed?: boolean;
  /** This many extra downloads, all downloading and far from done (the benchmark). */
  active?: number;
  /** A synthetic archive month 2024-01 with this many files. */
  bigMonthRows?: number;
  /** Bytes per segment per tick. */
  chunk?: number;
}

export interface FakeCall {
  name: string;
  args: unknown;
}

export interface FakeControl {
  /** Advances time by n ticks of 100 ms and emits one progress batch per tick. */
  tick(n?: number): void;
  /** Ticks on a timer (benchmark); returns a stop function. */
  run(hz: number): () => void;
  calls: FakeCall[];
  opened: string[];
  /** Milliseconds spent making batches (the fake's own cost) and handing them to listeners (the page's store merge). */
  cost: { generateMs: number; deliverMs: number; ticks: number };
  download(id: string): DownloadView | undefined;
}

declare global {
  interface Window {
    __fake?: FakeControl;
  }
}

export function installFakeApi(options: FakeOptions): void {
  const o = { door: 'electron', desktopActions: true, demo: false, seed: true, active: 0, bigMonthRows: 0, chunk: 64_000, ...options };
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  const emit = <N extends EventName>(name: N, payload: Events[N]): void => {
    for (const l of listeners.get(name) ?? []) l(payload);
  };
  const calls: FakeCall[] = [];
  const opened: string[] = [];
  // Starts at the real time so a rate-limit wait reads as still ahead to the page, which compares with Date.now().
  let clock = Date.now();
  let seq = 0;

  const settings: SettingsView = {
    apiKeySet: true,
    apiBase: 'https://api.anthropic.com',
    backupApiBase: null,
    connections: 4,
    parallelFiles: 3,
    requestsPerMinute: 50,
    limitRate: null,
    dataDir: '/home/user/Filehaul',
    preset: 'cloud',
    encrypt: false,
    demo: o.demo,
  };

  // The account: 45 files over eight months, some of them already archived, one not downloadable.
  const remote: RemoteFileView[] = [];
  const names = ['report', 'dataset', 'slides', 'notes', 'invoice', 'photo', 'model-output', 'transcript', 'log'];
  const exts = ['pdf', 'csv', 'pptx', 'md', 'pdf', 'png', 'jsonl', 'txt', 'log'];
  for (let i = 0; i < 45; i++) {
    const month = 11 + (i % 8);
    const year = month > 12 ? 2025 : 2024;
    const mm = String(month > 12 ? month - 12 : month).padStart(2, '0');
    remote.push({
      id: `file_${String(i).padStart(3, '0')}`,
      filename: `${names[i % names.length]}-${i}.${exts[i % exts.length]}`,
      sizeBytes: 40_000 + ((i * 7_919_113) % 48_000_000),
      createdAt: `${year}-${mm}-${String(1 + (i % 27)).padStart(2, '0')}T10:00:00Z`,
      downloadable: i === 7 ? false : true,
      archived: i % 5 === 0,
    });
  }
  remote.push({ id: 'file_report_q1', filename: 'report-q1.pdf', sizeBytes: 1_200_000, createdAt: '2025-03-14T08:30:00Z', downloadable: true, archived: false });

  // The archive: entries per month; the big synthetic month is built on first use.
  const archive = new Map<string, ArchiveEntryView[]>();
  const addEntry = (month: string, e: ArchiveEntryView): void => {
    let list = archive.get(month);
    if (!list) archive.set(month, (list = []));
    list.push(e);
  };
  const hex = (n: number): string => (n >>> 0).toString(16).padStart(8, '0').repeat(8);
  for (const f of remote) {
    if (!f.archived) continue;
    const month = f.createdAt.slice(0, 7);
    addEntry(month, {
      path: `raw/${month}/${f.filename}`,
      filename: f.filename,
      fileId: f.id,
      sizeBytes: f.sizeBytes,
      sha256: hex(f.sizeBytes),
      mimeType: null,
      createdAt: f.createdAt,
      downloadedAt: '2025-06-20T12:00:00Z',
      encrypted: false,
    });
  }
  if (o.bigMonthRows > 0) {
    const big: ArchiveEntryView[] = [];
    for (let i = 0; i < o.bigMonthRows; i++) {
      const name = `sample-${String(i + 1).padStart(6, '0')}.bin`;
      big.push({
        path: `raw/2024-01/${name}`,
        filename: name,
        fileId: `file_big_${i}`,
        sizeBytes: 1000 + ((i * 2_654_435_761) % 9_000_000),
        sha256: hex(i),
        mimeType: null,
        createdAt: '2024-01-15T00:00:00Z',
        downloadedAt: '2024-02-01T00:00:00Z',
        encrypted: i % 3 === 0,
      });
    }
    archive.set('2024-01', big);
  }

  // Downloads, with the fields the fake needs beyond the view.
  interface Live {
    view: DownloadView;
    createdAt: string;
  }
  const downloads = new Map<string, Live>();
  const order: string[] = [];
  const iso = (ms: number): string => new Date(ms).toISOString();

  const makeDownload = (source: string, kind: 'files-api' | 'url', filename: string, size: number, createdAt: string): Live => {
    const id = `dl_${++seq}`;
    const live: Live = {
      createdAt,
      view: {
        id,
        sourceKind: kind,
        source,
        filename,
        sizeBytes: size,
        state: 'queued',
        error: null,
        bytesDownloaded: 0,
        bytesPerSecond: 0,
        connections: 0,
        retryCount: 0,
        waitingUntil: null,
        segments: [],
        addedAt: iso(clock + seq),
        completedAt: null,
        finalPath: null,
        sha256: null,
      },
    };
    downloads.set(id, live);
    order.push(id);
    return live;
  };

  const plan = (v: DownloadView, connections: number): void => {
    const size = v.sizeBytes ?? 0;
    const n = Math.max(1, Math.min(connections, Math.ceil(size / 256_000)));
    const part = Math.ceil(size / n);
    v.segments = [];
    for (let s = 0; s < size; s += part) v.segments.push({ start: s, end: Math.min(size, s + part), offset: s, active: false });
  };

  const copy = (v: DownloadView): DownloadView => ({ ...v, segments: v.segments.map((s) => ({ ...s })) });

  if (o.seed) {
    const a = makeDownload('file_seed_a', 'files-api', 'training-data.jsonl', 3_000_000, '2025-05-02T10:00:00Z');
    a.view.state = 'downloading';
    plan(a.view, 4);
    const b = makeDownload('file_seed_b', 'files-api', 'big-archive.tar', 40_000_000, '2025-05-03T10:00:00Z');
    b.view.waitingUntil = clock + 90_000;
    b.view.error = 'HTTP 429: rate limited by the API; retrying after the Retry-After delay';
    const c = makeDownload('https://example.com/paused.iso', 'url', 'paused.iso', 8_000_000, '2025-04-01T10:00:00Z');
    c.view.state = 'paused';
    plan(c.view, 2);
    c.view.segments[0].offset = 1_000_000;
    c.view.bytesDownloaded = 1_000_000;
    const d = makeDownload('file_seed_d', 'files-api', 'broken.csv', 500_000, '2025-04-10T10:00:00Z');
    d.view.state = 'failed';
    d.view.error = 'HTTP 500 from api.anthropic.com after 5 retries';
    d.view.retryCount = 5;
  }
  for (let i = 0; i < o.active; i++) {
    const live = makeDownload(`file_bench_${i}`, 'files-api', `bench-${String(i).padStart(4, '0')}.bin`, 4_000_000_000, '2025-06-01T00:00:00Z');
    live.view.state = 'downloading';
    plan(live.view, 4);
  }

  const changed = (live: Live): void => emit('changed', { download: copy(live.view) });

  const finish = (live: Live): void => {
    const v = live.view;
    const month = live.createdAt.slice(0, 7);
    const name = v.filename ?? 'download';
    v.state = 'done';
    v.completedAt = iso(clock);
    v.finalPath = `raw/${month}/${name}`;
    v.sha256 = hex(v.sizeBytes ?? 0);
    v.bytesPerSecond = 0;
    v.connections = 0;
    addEntry(month, {
      path: v.finalPath,
      filename: name,
      fileId: v.sourceKind === 'files-api' ? v.source : null,
      sizeBytes: v.sizeBytes ?? 0,
      sha256: v.sha256,
      mimeType: null,
      createdAt: live.createdAt,
      downloadedAt: v.completedAt,
      encrypted: settings.encrypt,
    });
    const r = remote.find((f) => f.id === v.source);
    if (r) r.archived = true;
  };

  const cost = { generateMs: 0, deliverMs: 0, ticks: 0 };
  const tickOnce = (): void => {
    const t0 = performance.now();
    clock += 100;
    const batch: DownloadView[] = [];
    const transitions: Live[] = [];
    let running = 0;
    for (const id of order) if (downloads.get(id)!.view.state === 'downloading') running++;
    // The cap is shared by every download, as the engine's bandwidth limiter is.
    let budget = settings.limitRate === null ? Infinity : settings.limitRate / 10;
    for (const id of order) {
      const live = downloads.get(id)!;
      const v = live.view;
      if (v.waitingUntil !== null && v.waitingUntil <= clock) {
        v.waitingUntil = null;
        v.error = null;
        batch.push(v);
      }
      if (v.state === 'queued' && v.waitingUntil === null && running < settings.parallelFiles + o.active) {
        v.state = 'downloading';
        // A resumed download keeps its segments and offsets, as the engine resumes from its .part file.
        if (v.segments.length === 0) plan(v, settings.connections);
        running++;
        transitions.push(live);
        continue;
      }
      if (v.state === 'verifying') {
        finish(live);
        transitions.push(live);
        continue;
      }
      if (v.state !== 'downloading') continue;
      let moved = 0;
      for (const s of v.segments) {
        s.active = s.offset < s.end && budget > 0;
        if (!s.active) continue;
        const step = Math.min(o.chunk, s.end - s.offset, budget);
        s.offset += step;
        budget -= step;
        moved += step;
      }
      // Split the largest remaining segment when one finishes: the new segment is born mid-file.
      if (v.segments.some((s) => s.offset >= s.end) && v.segments.length < 8) {
        const big = v.segments.filter((s) => s.end - s.offset > 4 * o.chunk).sort((x, y) => y.end - y.offset - (x.end - x.offset))[0];
        if (big) {
          const mid = big.offset + Math.floor((big.end - big.offset) / 2);
          v.segments.push({ start: mid, end: big.end, offset: mid, active: true });
          big.end = mid;
        }
      }
      v.bytesDownloaded = v.segments.reduce((sum, s) => sum + (s.offset - s.start), 0);
      v.bytesPerSecond = moved * 10;
      v.connections = v.segments.filter((s) => s.active).length;
      if (v.bytesDownloaded >= (v.sizeBytes ?? 0)) {
        v.state = 'verifying';
        v.connections = 0;
        v.bytesPerSecond = 0;
        for (const s of v.segments) s.active = false;
        transitions.push(live);
      } else {
        batch.push(v);
      }
    }
    const payload = batch.map(copy);
    const t1 = performance.now();
    if (payload.length) emit('progress', { downloads: payload });
    for (const live of transitions) changed(live);
    cost.generateMs += t1 - t0;
    cost.deliverMs += performance.now() - t1;
    cost.ticks++;
  };

  const find = (id: string): Live => {
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

  const handlers: { [N in RequestName]: (args: Requests[N]['args']) => Requests[N]['reply'] } = {
    add({ inputs }) {
      const added: DownloadView[] = [];
      const errors: { input: string; error: string }[] = [];
      for (const input of inputs) {
        if (/^https?:\/\//.test(input)) {
          const name = decodeURIComponent(new URL(input).pathname.split('/').pop() || 'download');
          added.push(copy(makeDownload(input.split('?')[0], 'url', name, 900_000, iso(clock)).view));
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
            : makeDownload(input, 'files-api', `${input}.bin`, 800_000, iso(clock));
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

  const api: FilehaulApi & Record<string, unknown> = {
    door: o.door,
    version: '0.1.0-test',
    request(name, args) {
      calls.push({ name, args: JSON.parse(JSON.stringify(args ?? {})) });
      // Replies arrive asynchronously, as over IPC or HTTP, and as copies: the page must never share the fake's objects.
      return new Promise((resolve, reject) => {
        queueMicrotask(() => {
          try {
            const handler = handlers[name] as (a: unknown) => unknown;
            resolve(structuredClone(handler(args ?? {})) as never);
          } catch (e) {
            reject(e);
          }
        });
      });
    },
    on(name, listener) {
      let set = listeners.get(name);
      if (!set) listeners.set(name, (set = new Set()));
      set.add(listener as (p: unknown) => void);
      return () => set.delete(listener as (p: unknown) => void);
    },
  };
  if (o.desktopActions) {
    api.openPath = async (p: string) => void opened.push(`open:${p}`);
    api.showInFolder = async (p: string) => void opened.push(`show:${p}`);
  }
  window.__FILEHAUL_FAKE_API__ = api as never;
  window.__fake = {
    tick(n = 1) {
      for (let i = 0; i < n; i++) tickOnce();
    },
    run(hz) {
      const timer = setInterval(tickOnce, 1000 / hz);
      return () => clearInterval(timer);
    },
    calls,
    opened,
    cost,
    download: (id) => {
      const live = downloads.get(id);
      return live ? copy(live.view) : undefined;
    },
  };
}
