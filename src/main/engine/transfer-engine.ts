// The transfer engine: a queue of downloads, a few running at once, each pausable; one HTTP client shared by all.
import type { DownloadRecord } from '../../shared/model.ts';
import { DownloadRun, type DownloadOutcome, type DownloadSettings } from './download-run.ts';
import type { RunOptions } from './download-settings.ts';
import type { DownloadEvent, DownloadEventListener } from './events.ts';
import type { HttpClient } from './http/client.ts';
import type { ArchivePort, TransferJournal } from './ports.ts';
import type { DownloadSource } from './source.ts';
import type { ByteRateLimit } from './range-request.ts';
import { pausedForSpace, spaceWaitMessage, type SpaceCheck, type StorageWatch } from './storage-watch.ts';

export interface EngineSettings extends DownloadSettings {
  /** Files downloading at the same time; the rest wait in order. */
  parallelFiles: number;
}

interface QueuedDownload {
  record: DownloadRecord;
  source: DownloadSource;
  options: RunOptions;
  /** Replaced each time the download runs again after waiting for disk space (an aborted controller stays aborted). */
  controller: AbortController;
  resolve: (outcome: DownloadOutcome) => void;
}

/** Waiting for disk space: lets paused-by-a-full-disk downloads go on by themselves once there is room again. */
export interface EngineStorage {
  watch: StorageWatch;
  /** Bytes a download still has to write before it is archived (the watch adds its margin). */
  neededBytes: (record: DownloadRecord) => Promise<number>;
}

export interface EngineDeps {
  http: HttpClient;
  journal: TransferJournal;
  archive: ArchivePort;
  redact: (text: string) => string;
  bandwidth?: ByteRateLimit;
  allowance?: (url: string) => number;
  releaseReserve?: () => Promise<void>;
  /** Absent: a full disk pauses the download and it stays paused until asked again (the old behaviour). */
  storage?: EngineStorage;
}

/** A download held back because the disk is full; `hold` aborts when the user pauses it (or resumes it by hand). */
interface HeldDownload {
  entry: QueuedDownload;
  hold: AbortController;
}

/**
 * Whether a wait for space is worth announcing again. Free space drifts all the time (logs, other programs, the
 * announcement itself being logged): a new line every check would bury the output, so only a real change counts.
 */
function movedMuch(before: SpaceCheck, now: SpaceCheck): boolean {
  const step = Math.max(1024 * 1024, now.neededBytes / 20);
  return Math.abs(now.freeBytes - before.freeBytes) >= step || Math.abs(now.neededBytes - before.neededBytes) >= step;
}

/** The longest a download that keeps bouncing off a full disk (statfs says free, writes say full) is held between tries. */
const MAX_SPACE_BACKOFF_MS = 5 * 60_000;

export class TransferEngine {
  readonly #deps: EngineDeps;
  readonly #settings: EngineSettings;
  readonly #listeners = new Set<DownloadEventListener>();
  readonly #waiting: QueuedDownload[] = [];
  readonly #running = new Map<string, QueuedDownload>();
  readonly #held = new Map<string, HeldDownload>();
  /** Per download: what it needed the last time it waited for space, and how often in a row it came back without progress. */
  readonly #spaceStrikes = new Map<string, { bytes: number; strikes: number }>();
  readonly #idleWaiters: (() => void)[] = [];

  constructor(deps: EngineDeps, settings: EngineSettings) {
    this.#deps = deps;
    this.#settings = settings;
  }

  /** Listens to every download's events; returns the function that stops listening. */
  onEvent(listener: DownloadEventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Queues a download; resolves when it is done, paused or failed. */
  enqueue(record: DownloadRecord, source: DownloadSource, options: RunOptions = {}): Promise<DownloadOutcome> {
    return new Promise((resolve) => {
      const entry: QueuedDownload = { record, source, options, controller: new AbortController(), resolve };
      // A catalog that cannot take the write (full disk, a long lock elsewhere) fails or pauses the run itself, in words.
      this.#setStateQuietly(entry, 'queued', null);
      this.#waiting.push(entry);
      this.#startNext();
    });
  }

  /** Pauses one download (running, queued or waiting for disk space): bytes written so far are confirmed and kept. */
  pause(downloadId: string): void {
    const running = this.#running.get(downloadId);
    if (running) {
      running.controller.abort(new DOMException('paused', 'AbortError'));
      return;
    }
    const held = this.#held.get(downloadId);
    if (held) {
      // The user's pause wins over the space watch: withdrawn from it, the download stays paused until asked again.
      this.#held.delete(downloadId);
      this.#spaceStrikes.delete(downloadId);
      held.hold.abort();
      this.#setStateQuietly(held.entry, 'paused', null);
      held.entry.resolve({ state: 'paused' });
      this.#notifyIdle();
      return;
    }
    const index = this.#waiting.findIndex((entry) => entry.record.id === downloadId);
    if (index >= 0) {
      const [entry] = this.#waiting.splice(index, 1);
      this.#spaceStrikes.delete(downloadId);
      this.#setStateQuietly(entry, 'paused', null);
      entry.resolve({ state: 'paused' });
      this.#notifyIdle();
    }
  }

  pauseAll(): void {
    for (const entry of [...this.#waiting]) this.pause(entry.record.id);
    for (const id of [...this.#held.keys()]) this.pause(id);
    for (const id of [...this.#running.keys()]) this.pause(id);
  }

  /** Whether a download is paused because the disk is full and will go on by itself when space returns. */
  isWaitingForSpace(downloadId: string): boolean {
    return this.#held.has(downloadId);
  }

  /** Lets a download waiting for disk space try again now (the user asked); false when it was not waiting. */
  resumeNow(downloadId: string): boolean {
    const held = this.#held.get(downloadId);
    if (!held) return false;
    this.#held.delete(downloadId);
    held.hold.abort();
    this.#requeue(held.entry, true);
    return true;
  }

  /** Resolves once no download runs, waits in the queue or waits for disk space (after pauseAll, for a clean close). */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
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
      const settings = { ...this.#settings, ...entry.options };
      const run = new DownloadRun(entry.record, entry.source, { ...this.#deps, emit: (event) => this.#emit(event) }, settings, entry.controller.signal);
      void run.run().then((outcome) => {
        this.#running.delete(entry.record.id);
        if (this.#deps.storage && !entry.controller.signal.aborted && pausedForSpace(outcome)) {
          this.#holdForSpace(entry, this.#deps.storage);
        } else {
          this.#spaceStrikes.delete(entry.record.id);
          entry.resolve(outcome);
        }
        this.#startNext();
        this.#notifyIdle();
      });
    }
  }

  /**
   * The disk is full: the run paused with what it had confirmed. Rather than end the download, hand it to the space
   * watch, which lets it go again once free space covers what it still has to write. Meanwhile it shows as paused,
   * with a message saying how much it needs and how much is free; its promise stays pending, so `get` keeps waiting.
   */
  #holdForSpace(entry: QueuedDownload, storage: EngineStorage): void {
    const id = entry.record.id;
    const hold = new AbortController();
    this.#held.set(id, { entry, hold });
    let shown: SpaceCheck | null = null;
    const onCheck = (check: SpaceCheck) => {
      if (hold.signal.aborted || (shown && !movedMuch(shown, check))) return;
      shown = check;
      this.#setStateQuietly(entry, 'paused', spaceWaitMessage(check, storage.watch.dir));
    };
    void (async () => {
      const bytes = await storage.neededBytes(entry.record).catch(() => 0);
      // A download that comes straight back with nothing written (free space that writes cannot use) waits longer each time.
      const previous = this.#spaceStrikes.get(id);
      const strikes = previous && bytes >= previous.bytes ? previous.strikes + 1 : 0;
      this.#spaceStrikes.set(id, { bytes, strikes });
      const minWaitMs = strikes === 0 ? 0 : Math.min(MAX_SPACE_BACKOFF_MS, storage.watch.intervalMs * 2 ** strikes);
      const resumed = await storage.watch.wait(id, bytes, { signal: hold.signal, minWaitMs, onCheck });
      if (!resumed || this.#held.get(id)?.hold !== hold) return;
      this.#held.delete(id);
      this.#requeue(entry, false);
    })();
  }

  /** Puts a download that waited for space back in the queue, ahead of the ones that never started. */
  #requeue(entry: QueuedDownload, byHand: boolean): void {
    entry.controller = new AbortController();
    if (byHand) this.#spaceStrikes.delete(entry.record.id);
    this.#setStateQuietly(entry, 'queued', null);
    this.#waiting.unshift(entry);
    this.#startNext();
  }

  /** Records and announces a state the engine sets itself; a full disk may refuse the catalog write, which is no reason to stop. */
  #setStateQuietly(entry: QueuedDownload, state: DownloadRecord['state'], error: string | null): void {
    entry.record.state = state;
    entry.record.error = error;
    try {
      this.#deps.journal.updateDownload(entry.record.id, { state, error });
    } catch {
      // The event still says it; the catalog catches up with the download's next write.
    }
    this.#emit({ type: 'state', downloadId: entry.record.id, fileId: entry.source.displayName, timestamp: Date.now(), state, error });
  }

  #isIdle(): boolean {
    return this.#running.size === 0 && this.#waiting.length === 0 && this.#held.size === 0;
  }

  #notifyIdle(): void {
    if (!this.#isIdle()) return;
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  #emit(event: DownloadEvent): void {
    for (const listener of this.#listeners) listener(event);
  }
}
