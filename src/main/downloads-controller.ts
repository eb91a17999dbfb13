// The long-running side of the service for the windows: a live queue of downloads, their views, and batched progress.
import type { DownloadView, Events } from '../shared/contract.ts';
import type { DownloadRecord } from '../shared/model.ts';
import type { DownloadEvent } from './engine/events.ts';
import { SPACE_WAIT_PREFIX } from './engine/storage-watch.ts';
import type { FilehaulService } from './service.ts';
import { displayUrl } from './sources/url.ts';

/** How often progress reaches the windows: ten batches a second at most, never a message per chunk. */
const PROGRESS_BATCH_MS = 100;

interface LiveState {
  bytesDownloaded: number;
  bytesPerSecond: number;
  connections: number;
  retryCount: number;
  waitingUntil: number | null;
  segments: DownloadView['segments'];
}

type Emit = <Name extends keyof Events>(name: Name, payload: Events[Name]) => void;

export class DownloadsController {
  readonly #service: FilehaulService;
  readonly #emit: Emit;
  readonly #live = new Map<string, LiveState>();
  readonly #running = new Set<string>();
  /** The record objects of running downloads: the engine updates them in place, so views need no catalog read. */
  readonly #records = new Map<string, DownloadRecord>();
  readonly #dirty = new Set<string>();
  readonly #timer: NodeJS.Timeout;
  readonly #stopListening: () => void;

  constructor(service: FilehaulService, emit: Emit) {
    this.#service = service;
    this.#emit = emit;
    this.#stopListening = service.onEvent((event) => this.#onEngineEvent(event));
    this.#timer = setInterval(() => this.#flushProgress(), PROGRESS_BATCH_MS);
    this.#timer.unref();
  }

  /**
   * Downloads that were queued or running when the process last stopped go on by themselves: the queue survives
   * restarts. So do ones that were waiting for disk space (paused by the disk, not the user): they run, and if the
   * disk is still full they pause and wait again, rather than keep a "resumes by itself" note nothing acts on.
   */
  resumeInterrupted(): void {
    for (const { record } of this.#service.status()) {
      const waitedForSpace = record.state === 'paused' && (record.error ?? '').startsWith(SPACE_WAIT_PREFIX);
      if (record.state === 'queued' || record.state === 'downloading' || record.state === 'verifying' || waitedForSpace) this.#start(record);
    }
  }

  add(inputs: readonly string[]): { added: DownloadView[]; errors: { input: string; error: string }[] } {
    const added: DownloadView[] = [];
    const errors: { input: string; error: string }[] = [];
    for (const item of this.#service.prepare(inputs)) {
      if ('error' in item) {
        errors.push({ input: item.input, error: item.error });
        continue;
      }
      if (!item.alreadyDone) this.#start(item.record);
      added.push(this.view(item.record));
    }
    return { added, errors };
  }

  pause(id: string): void {
    this.#requireRecord(id);
    this.#service.pause(id);
  }

  async resume(id: string): Promise<void> {
    if (this.#running.has(id)) {
      // Paused for a full disk, it is still "running" (its download waits for space): Resume means try now.
      if (this.#service.resumeWaitingForSpace(id)) return;
      // A download still winding down from a pause resumes once it has stopped; one that runs needs nothing.
      if (this.#records.get(id)?.state !== 'paused') return;
      await this.#whenStopped(id);
    }
    const record = this.#requireRecord(id);
    if (record.state === 'done' || this.#running.has(id)) return;
    this.#start(record);
  }

  async retry(id: string): Promise<void> {
    await this.resume(id);
  }

  /** Stops a download and forgets it, part file included. A finished file stays in the archive. */
  async cancel(id: string): Promise<void> {
    const record = this.#requireRecord(id);
    if (record.state === 'done') throw new Error('A finished download cannot be cancelled; it is in the archive.');
    this.#service.pause(id);
    await this.#whenStopped(id);
    await this.#service.forget(id);
    this.#live.delete(id);
    this.#emit('removed', { id });
  }

  pauseAll(): void {
    this.#service.pauseAll();
  }

  async resumeAll(): Promise<void> {
    const stopped = this.#service.status().filter(({ record }) => record.state === 'paused' || record.state === 'failed');
    await Promise.all(stopped.map(({ record }) => this.resume(record.id)));
  }

  list(): DownloadView[] {
    return this.#service.status().map(({ record, confirmedBytes }) => this.view(record, confirmedBytes));
  }

  view(record: DownloadRecord, confirmedBytes?: number): DownloadView {
    const live = this.#live.get(record.id);
    const done = record.state === 'done';
    const fallbackBytes = done ? (record.sizeBytes ?? 0) : (confirmedBytes ?? this.#service.confirmedBytes(record.id));
    return {
      id: record.id,
      sourceKind: record.sourceKind,
      source: record.sourceKind === 'url' ? displaySource(record.sourceRef) : record.sourceRef,
      filename: record.filename,
      sizeBytes: record.sizeBytes,
      state: record.state,
      error: record.error,
      bytesDownloaded: live && !done ? live.bytesDownloaded : fallbackBytes,
      // A download waiting for disk space is still running (its download() waits), but it moves no bytes.
      bytesPerSecond: live && this.#running.has(record.id) && record.state !== 'paused' ? live.bytesPerSecond : 0,
      connections: live && this.#running.has(record.id) && record.state !== 'paused' ? live.connections : 0,
      retryCount: live?.retryCount ?? 0,
      waitingUntil: live?.waitingUntil ?? null,
      segments: live?.segments ?? [],
      addedAt: record.addedAt,
      completedAt: record.completedAt,
      finalPath: record.finalPath,
      sha256: record.sha256,
    };
  }

  /** Stops every download for a shutdown, marking the ones that were running or queued to resume at the next start. */
  async shutdown(): Promise<void> {
    const interrupted = [...this.#running];
    this.#service.pauseAll();
    await this.idle();
    for (const id of interrupted) this.#service.requeue(id);
  }

  /** Waits until no download runs (used on shutdown after pauseAll). */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running].map((id) => this.#whenStopped(id)));
  }

  close(): void {
    clearInterval(this.#timer);
    this.#stopListening();
  }

  readonly #stopWaiters = new Map<string, (() => void)[]>();

  #whenStopped(id: string): Promise<void> {
    if (!this.#running.has(id)) return Promise.resolve();
    return new Promise((resolve) => this.#stopWaiters.set(id, [...(this.#stopWaiters.get(id) ?? []), resolve]));
  }

  #start(record: DownloadRecord): void {
    if (this.#running.has(record.id)) return;
    let source;
    try {
      source = this.#service.sourceForRecord(record);
    } catch (error) {
      this.#emit('notice', { level: 'error', message: (error as Error).message, downloadId: record.id });
      return;
    }
    this.#running.add(record.id);
    this.#records.set(record.id, record);
    void this.#service.download(record, source).then((outcome) => {
      this.#running.delete(record.id);
      this.#records.delete(record.id);
      for (const resolve of this.#stopWaiters.get(record.id) ?? []) resolve();
      this.#stopWaiters.delete(record.id);
      const latest = this.#service.getRecord(record.id);
      if (latest) this.#emit('changed', { download: this.view(latest) });
      if (outcome.state === 'failed') this.#emit('notice', { level: 'error', message: `${record.filename ?? record.sourceRef}: ${outcome.message}`, downloadId: record.id });
      if (outcome.state === 'done') this.#emit('notice', { level: 'info', message: `${outcome.record.filename ?? record.sourceRef} is in the archive`, downloadId: record.id });
    });
  }

  #onEngineEvent(event: DownloadEvent): void {
    const live = this.#live.get(event.downloadId) ?? { bytesDownloaded: 0, bytesPerSecond: 0, connections: 0, retryCount: 0, waitingUntil: null, segments: [] };
    this.#live.set(event.downloadId, live);
    switch (event.type) {
      case 'progress':
        Object.assign(live, { bytesDownloaded: event.bytesDownloaded, bytesPerSecond: event.bytesPerSecond, connections: event.connections, retryCount: event.retryCount, segments: event.segments, waitingUntil: event.waitingUntil });
        this.#dirty.add(event.downloadId);
        return;
      case 'start':
        live.bytesDownloaded = event.resumedBytes;
        this.#dirty.add(event.downloadId);
        return;
      case 'retry':
        live.retryCount = event.retryCount;
        live.waitingUntil = event.timestamp + event.delayMs;
        this.#dirty.add(event.downloadId);
        return;
      case 'state': {
        const record = this.#records.get(event.downloadId) ?? this.#service.getRecord(event.downloadId);
        if (record) this.#emit('changed', { download: this.view(record) });
        return;
      }
      default:
        return;
    }
  }

  #flushProgress(): void {
    if (this.#dirty.size === 0) return;
    const downloads: DownloadView[] = [];
    for (const id of this.#dirty) {
      const record = this.#records.get(id) ?? this.#service.getRecord(id);
      if (record) downloads.push(this.view(record));
    }
    this.#dirty.clear();
    if (downloads.length > 0) this.#emit('progress', { downloads });
  }

  #requireRecord(id: string): DownloadRecord {
    const record = this.#service.getRecord(id);
    if (!record) throw new Error(`No download with id ${id}.`);
    return record;
  }
}

function displaySource(url: string): string {
  try {
    return displayUrl(new URL(url));
  } catch {
    return url;
  }
}
