// Set-up for traffic-control tests through FilehaulService: test origins, a service with chosen traffic options, its events, and helpers to read them.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DownloadEvent } from '../../src/main/engine/events.ts';
import { DEFAULT_SERVICE_OPTIONS, FilehaulService, type ServiceOptions } from '../../src/main/service.ts';
import type { EngineSettings } from '../../src/main/engine/transfer-engine.ts';
import { makeBytes, startOrigin, type Origin, type OriginOptions } from '../fixtures/files-api-origin.ts';

export const TRAFFIC_KEY = 'sk-ant-test-traffic-engine-key';
export const KiB = 1024;
export const MiB = 1024 * KiB;

export type ProgressEvent = Extract<DownloadEvent, { type: 'progress' }>;

export interface Rig {
  service: FilehaulService;
  dataDir: string;
  events: DownloadEvent[];
  /** Downloads the ids at once (as `filehaul get` does) and returns each outcome with the archived bytes of done ones. */
  download(ids: readonly string[]): Promise<{ id: string; state: string; message?: string; bytes: Buffer | null }[]>;
  /** Resolves with the first progress event (past or future) of a download matching `predicate`. */
  progress(predicate: (event: ProgressEvent) => boolean): Promise<ProgressEvent>;
}

export type RigOptions = Partial<Omit<ServiceOptions, 'engine'>> & { engine?: Partial<EngineSettings> };

/** Everything a test opened, closed by `closeAll` in afterEach (services before origins, so no request is cut twice). */
const services: FilehaulService[] = [];
/** Downloads still running; a test that fails mid-download must not close the catalog under them. */
const running = new Set<Promise<unknown>>();
const origins: Origin[] = [];
const dirs: string[] = [];

export async function origin(options: OriginOptions = {}): Promise<Origin> {
  const started = await startOrigin({ apiKey: TRAFFIC_KEY, ...options });
  origins.push(started);
  return started;
}

/** Adds `count` files of `size` bytes named `<prefix>_<n>` (n from 0, zero-padded so they sort) and returns their bytes by id. */
export function addFiles(target: Origin | Origin[], prefix: string, count: number, size: number): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (let n = 0; n < count; n++) {
    const id = `file_${prefix}_${String(n).padStart(3, '0')}`;
    const bytes = makeBytes(size, 1000 + n * 31 + size);
    for (const one of [target].flat()) one.addFile({ id, filename: `${id}.bin`, bytes, createdAt: '2025-06-15T12:00:00Z' });
    files.set(id, bytes);
  }
  return files;
}

export async function openRig(api: Origin, options: RigOptions = {}): Promise<Rig> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'filehaul-traffic-'));
  dirs.push(dataDir);
  const { engine, ...rest } = options;
  const service = await FilehaulService.open({
    ...DEFAULT_SERVICE_OPTIONS,
    dataDir,
    apiBase: api.url,
    apiKey: TRAFFIC_KEY,
    connectTimeoutMs: 5_000,
    readTimeoutMs: 10_000,
    logs: false,
    ...rest,
    // Fast backoff keeps waits short; a 429/503/529 still waits its Retry-After or cool-down, which is what is tested.
    engine: { ...DEFAULT_SERVICE_OPTIONS.engine, backoff: { baseMs: 5, capMs: 50, maxRetries: 5 }, confirmIntervalMs: 100, progressIntervalMs: 50, ...engine },
  });
  services.push(service);
  const events: DownloadEvent[] = [];
  const watchers: Array<{ predicate: (event: ProgressEvent) => boolean; resolve: (event: ProgressEvent) => void }> = [];
  service.onEvent((event) => {
    events.push(event);
    if (event.type !== 'progress') return;
    for (const watcher of watchers.splice(0)) {
      if (watcher.predicate(event)) watcher.resolve(event);
      else watchers.push(watcher);
    }
  });
  return {
    service,
    dataDir,
    events,
    async download(ids) {
      const all = Promise.all(
        service.prepare(ids).map(async (item) => {
          if ('error' in item) return { id: item.input, state: 'refused', message: item.error, bytes: null };
          const outcome = await service.download(item.record, item.source);
          if (outcome.state === 'failed') return { id: item.input, state: 'failed', message: outcome.message, bytes: null };
          const bytes = outcome.state === 'done' ? readFileSync(path.join(dataDir, outcome.record.finalPath!)) : null;
          return { id: item.input, state: outcome.state, bytes };
        }),
      );
      running.add(all);
      return all.finally(() => running.delete(all));
    },
    progress(predicate) {
      const seen = events.find((event): event is ProgressEvent => event.type === 'progress' && predicate(event));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => watchers.push({ predicate, resolve }));
    },
  };
}

export async function closeAll(): Promise<void> {
  for (const service of services) service.pauseAll();
  // Bounded: a download that hangs (the bug a test caught) never settles, and must not hang the clean-up too.
  await Promise.race([Promise.allSettled([...running]), new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
  running.clear();
  await Promise.all(services.splice(0).map((service) => service.close()));
  await Promise.all(origins.splice(0).map((one) => one.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Resolves with `work`, or rejects after `ms` saying what did not finish: a hang fails fast with its name, not by the test timeout. */
export function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: still not finished after ${ms} ms`)), ms)));
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/** The most requests whose arrival at the origin falls in any window of `windowMs` (arrival times, ms). */
export function busiestWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let first = 0, last = 0; last < sorted.length; last++) {
    while (sorted[last] - sorted[first] >= windowMs) first++;
    best = Math.max(best, last - first + 1);
  }
  return best;
}

/**
 * Bytes per second over a run of progress events: the least-squares slope of bytes against time. Every sample counts,
 * so one late write at either edge of the window (bytes are counted once on disk) cannot swing the figure.
 */
export function slope(samples: readonly ProgressEvent[]): number {
  const n = samples.length;
  if (n < 2) throw new Error('a rate needs at least two progress samples');
  const t0 = samples[0].timestamp;
  const meanT = samples.reduce((sum, e) => sum + (e.timestamp - t0), 0) / n;
  const meanB = samples.reduce((sum, e) => sum + e.bytesDownloaded, 0) / n;
  let covariance = 0;
  let variance = 0;
  for (const e of samples) {
    covariance += (e.timestamp - t0 - meanT) * (e.bytesDownloaded - meanB);
    variance += (e.timestamp - t0 - meanT) ** 2;
  }
  return (covariance / variance) * 1000;
}
