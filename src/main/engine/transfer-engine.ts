// The transfer engine: a queue of downloads, a few running at once, each pausable; one HTTP client shared by all.
import type { DownloadRecord } from '../../shared/model.ts';
import { DownloadRun, type DownloadOutcome, type DownloadSettings } from './download-run.ts';
import type { DownloadEvent, DownloadEventListener } from './events.ts';
import type { HttpClient } from './http/client.ts';
import type { ArchivePort, TransferJournal } from './ports.ts';
import type { DownloadSource } from './source.ts';
import type { ByteRateLimit } from './range-request.ts';

export interface EngineSettings extends DownloadSettings {
  /** Files downloading at the same time; the rest wait in order. */
  parallelFiles: number;
}

interface QueuedDownload {
  record: DownloadRecord;
  source: DownloadSource;
  controller: AbortController;
  resolve: (outcome: DownloadOutcome) => void;
}

export class TransferEngine {
  readonly #deps: { http: HttpClient; journal: TransferJournal; archive: ArchivePort; redact: (text: string) => string; bandwidth?: ByteRateLimit; allowance?: (url: string) => number; releaseReserve?: () => Promise<void> };
  readonly #settings: EngineSettings;
  readonly #listeners = new Set<DownloadEventListener>();
  readonly #waiting: QueuedDownload[] = [];
  readonly #running = new Map<string, QueuedDownload>();

  constructor(deps: { http: HttpClient; journal: TransferJournal; archive: ArchivePort; redact: (text: string) => string; bandwidth?: ByteRateLimit; allowance?: (url: string) => number; releaseReserve?: () => Promise<void> }, settings: EngineSettings) {
    this.#deps = deps;
    this.#settings = settings;
  }

  /** Listens to every download's events; returns the function that stops listening. */
  onEvent(listener: DownloadEventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Queues a download; resolves when it is done, paused or failed. */
  enqueue(record: DownloadRecord, source: DownloadSource): Promise<DownloadOutcome> {
    return new Promise((resolve) => {
      record.state = 'queued';
      this.#deps.journal.updateDownload(record.id, { state: 'queued', error: null });
      this.#emit({ type: 'state', downloadId: record.id, fileId: source.displayName, timestamp: Date.now(), state: 'queued', error: null });
      this.#waiting.push({ record, source, controller: new AbortController(), resolve });
      this.#startNext();
    });
  }

  /** Pauses one download (running or queued): bytes written so far are confirmed and kept. */
  pause(downloadId: string): void {
    const running = this.#running.get(downloadId);
    if (running) {
      running.controller.abort(new DOMException('paused', 'AbortError'));
      return;
    }
    const index = this.#waiting.findIndex((entry) => entry.record.id === downloadId);
    if (index >= 0) {
      const [entry] = this.#waiting.splice(index, 1);
      this.#deps.journal.updateDownload(downloadId, { state: 'paused' });
      this.#emit({ type: 'state', downloadId, fileId: entry.source.displayName, timestamp: Date.now(), state: 'paused', error: null });
      entry.resolve({ state: 'paused' });
    }
  }

  pauseAll(): void {
    for (const entry of [...this.#waiting]) this.pause(entry.record.id);
    for (const id of [...this.#running.keys()]) this.pause(id);
  }

  /** New limits for downloads that start from now on; a larger parallelFiles starts waiting ones at once. */
  setLimits(limits: { connections?: number; parallelFiles?: number }): void {
    if (limits.connections !== undefined) this.#settings.connections = limits.connections;
    if (limits.parallelFiles !== undefined) this.#settings.parallelFiles = limits.parallelFiles;
    this.#startNext();
  }

  get activeCount(): number {
    return this.#running.size;
  }

  #startNext(): void {
    while (this.#running.size < this.#settings.parallelFiles && this.#waiting.length > 0) {
      const entry = this.#waiting.shift()!;
      this.#running.set(entry.record.id, entry);
      const run = new DownloadRun(entry.record, entry.source, { ...this.#deps, emit: (event) => this.#emit(event) }, this.#settings, entry.controller.signal);
      void run.run().then((outcome) => {
        this.#running.delete(entry.record.id);
        entry.resolve(outcome);
        this.#startNext();
      });
    }
  }

  #emit(event: DownloadEvent): void {
    for (const listener of this.#listeners) listener(event);
  }
}
