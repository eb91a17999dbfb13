// The in-page fake's world: settings, the account's files, the archive, the downloads, and the engine that moves them one 100 ms tick at a time.
// Sent to the page with installFakeApi (fake-api.ts) as source text: it must not use anything from outside its own
// body (no imports, no module constants), only the types below, which are erased.
import type { ArchiveEntryView, DownloadView, EventName, Events, RemoteFileView, SettingsView } from '../../src/shared/contract.ts';
import type { FakeOptions } from './fake-api.ts';

export type FakeEmit = <N extends EventName>(name: N, payload: Events[N]) => void;

/** A download, with the fields the fake needs beyond the view. */
export interface FakeLive {
  view: DownloadView;
  createdAt: string;
}

export type FakeWorld = ReturnType<typeof createFakeWorld>;

export function createFakeWorld(o: Pick<Required<FakeOptions>, 'demo' | 'seed' | 'active' | 'bigMonthRows' | 'chunk'>, emit: FakeEmit) {
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

  // The archive: entries per month; the big synthetic month (bigMonthRows) is built here, up front.
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

  // Downloads, with the fields the fake needs beyond the view (FakeLive).
  const downloads = new Map<string, FakeLive>();
  const order: string[] = [];
  const iso = (ms: number): string => new Date(ms).toISOString();

  const makeDownload = (source: string, kind: 'files-api' | 'url', filename: string, size: number, createdAt: string): FakeLive => {
    const id = `dl_${++seq}`;
    const live: FakeLive = {
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

  const changed = (live: FakeLive): void => emit('changed', { download: copy(live.view) });

  const finish = (live: FakeLive): void => {
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
    const transitions: FakeLive[] = [];
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

  return {
    settings,
    remote,
    archive,
    downloads,
    order,
    cost,
    /** The fake's clock (ms), which only ticks move. */
    now: (): number => clock,
    iso,
    makeDownload,
    copy,
    changed,
    tickOnce,
  };
}
