// The Filehaul service: wires the engine, the catalog and the archive into one object the command line (and later the windows) drive.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type Database from 'better-sqlite3';
import type { DownloadRecord } from '../shared/model.ts';
import { createArchivePort } from './archive/archive-port.ts';
import { defaultKeyFilePath, loadOrCreateIdentity } from './archive/encryption-keys.ts';
import { ManifestWriter } from './archive/manifest-writer.ts';
import { reindex } from './archive/reindex.ts';
import { findEntriesBySource } from './store/archive-entries.ts';
import { dataLayout, ensureDataDirs, type DataLayout } from './archive/layout.ts';
import type { DownloadOutcome } from './engine/download-run.ts';
import type { RunOptions } from './engine/download-settings.ts';
import { FatalError } from './engine/errors.ts';
import type { DownloadEvent } from './engine/events.ts';
import { createHttpClient } from './engine/http/client.ts';
import { BandwidthLimiter } from './engine/traffic/bandwidth-limiter.ts';
import { systemClock } from './engine/traffic/clock.ts';
import { StorageWatch } from './engine/storage-watch.ts';
import { hashApiKey } from './engine/traffic/request-labels.ts';
import { createTrafficClient } from './engine/traffic/traffic-client.ts';
import type { TrafficClient } from './engine/traffic/traffic-types.ts';
import { bytesStillToWrite, DownloadLocks, hasManifests, keepReserve, removeLeftoverTemporaries, reservePath } from './data-dir-upkeep.ts';
import { removeDeadTrafficFiles, startLiveTrafficFile, type LiveTrafficWriter } from './live-traffic.ts';
import { logDownloadEvent, logRequestOutcome } from './logging/event-log.ts';
import { addLogSecret, closeLogger, createLogger, type FilehaulLogger } from './logging/logger.ts';
import type { DownloadSource } from './engine/source.ts';
import { TransferEngine } from './engine/transfer-engine.ts';
import { FilesApiSource } from './sources/files-api.ts';
import { UrlSource } from './sources/url.ts';
import { DEFAULT_SERVICE_OPTIONS, type ServiceOptions } from './service-options.ts';
import { closeCatalog, createJournal, deleteDownload, findLatestBySource, getDownload, insertDownload, listDownloads, loadSegments, openCatalog, updateDownload } from './store/index.ts';

export { DEFAULT_SERVICE_OPTIONS, type ServiceOptions } from './service-options.ts';

/** What `get` asks for one input: a ready download, or why it was refused before any request. */
export type Prepared = { input: string; record: DownloadRecord; source: DownloadSource; alreadyDone: boolean } | { input: string; error: string };

export class FilehaulService {
  readonly layout: DataLayout;
  readonly #db: Database.Database;
  readonly #http: TrafficClient;
  readonly #bandwidth: BandwidthLimiter;
  readonly #logger: FilehaulLogger | null;
  /** The HTTP client every request goes through (shared so list/sync requests count against the same limits). */
  get http(): TrafficClient {
    return this.#http;
  }
  /** The open catalog, for the archive commands' read queries. */
  get db(): Database.Database {
    return this.#db;
  }
  readonly #engine: TransferEngine;
  readonly #options: ServiceOptions;
  readonly #locks: DownloadLocks;
  /** Every key this process has held: none may appear in a message, even after it was replaced. */
  readonly #secrets = new Set<string>();

  readonly #manifests: ManifestWriter;
  readonly #spaceWatch: StorageWatch;
  /** download() calls not yet settled. */
  readonly #downloads = new Set<Promise<DownloadOutcome>>();
  #closing: Promise<void> | null = null;
  /** tmp/traffic-<pid>.json for `filehaul status` in another process; made when the first download moves. */
  #liveTraffic: LiveTrafficWriter | null = null;

  private constructor(options: ServiceOptions, layout: DataLayout, db: Database.Database, encryption: { recipient: string; identity: string } | null) {
    this.#options = options;
    this.layout = layout;
    this.#locks = new DownloadLocks(layout.tmpDir);
    this.#db = db;
    const key = options.apiKey;
    // A log line that cannot be written (full disk) is not worth a second error line: the download says what is wrong.
    this.#logger = options.logs === false ? null : createLogger(layout.logsDir, { secrets: key ? [key] : [], onWriteError: () => {} });
    const logger = this.#logger;
    const direct = createHttpClient({ connectTimeoutMs: options.connectTimeoutMs, readTimeoutMs: options.readTimeoutMs, proxy: options.proxy });
    // Every request of every download (and list/sync) shares one budget, one allowance and one cool-down per endpoint.
    this.#http = createTrafficClient(direct, {
      primaryBase: options.apiBase,
      backupBase: options.backupApiBase ?? null,
      requestsPerMinute: withHeadroom(options.requestsPerMinute ?? DEFAULT_SERVICE_OPTIONS.requestsPerMinute!),
      maxConnectionsPerEndpoint: Math.min(32, options.engine.connections * options.engine.parallelFiles),
      cooldown: options.cooldown ?? DEFAULT_SERVICE_OPTIONS.cooldown!,
      // One setting for both kinds of re-send (silent request, silent body): 0 turns them off.
      hedgeAfterMs: options.engine.hedgeAfterMs,
      apiKeyHash: key ? hashApiKey(key) : undefined,
      onRequest: logger ? (outcome) => logRequestOutcome(logger, outcome) : undefined,
    });
    this.#bandwidth = new BandwidthLimiter({ bytesPerSecond: options.limitRate ?? null, clock: systemClock });
    if (key) this.#secrets.add(key);
    const redact = (text: string) => {
      let clean = text;
      for (const secret of this.#secrets) if (clean.includes(secret)) clean = clean.split(secret).join('[redacted]');
      return clean;
    };
    this.#manifests = new ManifestWriter(db, layout, { debounceMs: 2000, onError: (error, month) => logger?.error({ month, err: error.message }, 'manifest write failed') });
    const archive = createArchivePort(layout, { db, manifests: this.#manifests, encryption, lockWaitMs: options.catalogLockWaitMs });
    const allowance = (url: string) => this.#http.allowance(url);
    const releaseReserve = () => rm(reservePath(layout), { force: true });
    const watchOptions = options.spaceWatch ?? {};
    // The reserve was given up when the disk filled; it comes back before anything resumes (the margin leaves room for it).
    // Measured at the data dir: tmp/ and raw/ must share its file system anyway (finished files are hard-linked).
    this.#spaceWatch = new StorageWatch({ dir: layout.dataDir, ...watchOptions, beforeResume: () => keepReserve(layout) });
    const storage = options.waitForSpace === false ? undefined : { watch: this.#spaceWatch, neededBytes: (record: DownloadRecord) => bytesStillToWrite(record, archive.partPath(record.id), encryption !== null) };
    this.#engine = new TransferEngine({ http: this.#http, journal: createJournal(db), archive, redact, bandwidth: this.#bandwidth, allowance, releaseReserve, storage }, options.engine);
    if (logger) this.#engine.onEvent((event) => logDownloadEvent(logger, event));
    // Only a process that downloads shares its traffic: `status` and `list` open a service too, and have none to show.
    this.#engine.onEvent(() => {
      if (this.#closing) return;
      this.#liveTraffic ??= startLiveTrafficFile(layout.tmpDir, () => this.#http.stats());
      this.#liveTraffic.refresh();
    });
  }

  /** Opens the data dir (creating and write-testing it) and its catalog; fails with one plain sentence if it cannot. */
  static async open(options: ServiceOptions): Promise<FilehaulService> {
    const layout = dataLayout(options.dataDir);
    await ensureDataDirs(layout);
    // Encryption at rest: the age identity lives in a 0600 key file in the data dir (the desktop may pass its own).
    const encryption = options.encrypt ? await loadOrCreateIdentity(defaultKeyFilePath(layout.dataDir)) : null;
    const catalogExisted = existsSync(layout.dbPath);
    const db = openCatalog(layout.dbPath);
    const service = new FilehaulService(options, layout, db, encryption && { recipient: encryption.recipient, identity: encryption.identity });
    // A catalog that is gone while manifests remain was lost, not never made: rebuild it before anything else,
    // so no archived file is downloaded again and no manifest is rewritten without the files it lists.
    if (!catalogExisted && options.rebuildLostCatalog !== false && (await hasManifests(layout.metaDir))) {
      const report = await reindex(db, layout);
      service.#logger?.warn({ entries: report.entries, months: report.months.length, missing_files: report.missingFiles.length }, 'catalog was missing: rebuilt from the manifests');
    }
    await removeLeftoverTemporaries(layout.tmpDir, db);
    removeDeadTrafficFiles(layout.tmpDir);
    await keepReserve(layout);
    return service;
  }

  onEvent(listener: (event: DownloadEvent) => void): () => void {
    // Defence in depth: no message that leaves the engine may carry a key, whatever an error echoed back.
    return this.#engine.onEvent((event) => listener(this.#secrets.size > 0 ? redactEvent(event, this.#secrets) : event));
  }

  /** Turns inputs (file ids or URLs) into downloads: resumes what the catalog knows, refuses what is malformed. */
  prepare(inputs: readonly string[]): Prepared[] {
    return inputs.map((input) => {
      try {
        const source = this.#sourceFor(input);
        const existing = findLatestBySource(this.#db, source.kind, source.ref, source.apiBase);
        if (existing?.state === 'done' && existing.finalPath && existsSync(path.join(this.layout.dataDir, existing.finalPath))) {
          return { input, record: existing, source, alreadyDone: true };
        }
        // After a reindex the catalog knows archived files without their download rows.
        const archived = existing ? undefined : this.#archivedCopy(source.ref);
        if (archived) return { input, record: archived, source, alreadyDone: true };
        if (existing && existing.state !== 'done') return { input, record: existing, source, alreadyDone: false };
        const now = new Date().toISOString();
        const record: DownloadRecord = {
          id: `dl_${randomBytes(9).toString('base64url')}`,
          sourceKind: source.kind,
          sourceRef: source.ref,
          apiBase: source.apiBase,
          filename: null,
          mimeType: null,
          sizeBytes: null,
          createdAt: null,
          etag: null,
          lastModified: null,
          rangeSupported: null,
          state: 'queued',
          error: null,
          addedAt: now,
          updatedAt: now,
          completedAt: null,
          finalPath: null,
          sha256: null,
          restartCount: 0,
        };
        insertDownload(this.#db, record);
        return { input, record, source, alreadyDone: false };
      } catch (error) {
        return { input, error: error instanceof Error ? error.message : String(error) };
      }
    });
  }

  /** Downloads one prepared file; refuses to run it twice at once (another process may hold it). */
  download(record: DownloadRecord, source: DownloadSource, options: RunOptions = {}): Promise<DownloadOutcome> {
    const run = this.#downloadLocked(record, source, options);
    // close() waits for these, so what callers do with the outcome (read the catalog) happens before it closes.
    this.#downloads.add(run);
    void run.finally(() => this.#downloads.delete(run)).catch(() => {});
    return run;
  }

  async #downloadLocked(record: DownloadRecord, source: DownloadSource, options: RunOptions): Promise<DownloadOutcome> {
    const lock = this.#locks.take(record.id);
    if (lock) return { state: 'failed', message: lock };
    try {
      return await this.#engine.enqueue(record, source, options);
    } finally {
      await this.#locks.release(record.id);
    }
  }

  pauseAll(): void {
    this.#engine.pauseAll();
  }

  /** Pauses one download, running, queued or waiting for disk space; a paused download is never resumed by itself. */
  pause(downloadId: string): void {
    this.#engine.pause(downloadId);
  }

  /** Whether a download is paused for a full disk and will go on by itself when space returns. */
  isWaitingForSpace(downloadId: string): boolean {
    return this.#engine.isWaitingForSpace(downloadId);
  }

  /** Tries a download that waits for disk space again now, without waiting for the next check; false if it was not waiting. */
  resumeWaitingForSpace(downloadId: string): boolean {
    return this.#engine.resumeNow(downloadId);
  }

  /** The source of a download the catalog knows (to resume or retry it); throws when a Files API key is missing. */
  sourceForRecord(record: DownloadRecord): DownloadSource {
    if (record.sourceKind === 'url') return new UrlSource(record.sourceRef);
    const apiKey = this.#options.apiKey;
    if (!apiKey) throw new FatalError('No API key: set ANTHROPIC_API_KEY or pass --api-key-file PATH to download Files API ids.');
    return new FilesApiSource(record.sourceRef, record.apiBase ?? this.#options.apiBase, apiKey);
  }

  getRecord(downloadId: string): DownloadRecord | undefined {
    return getDownload(this.#db, downloadId);
  }

  /** Forgets a download that is not running: its catalog row, its segments and its part file. */
  async forget(downloadId: string): Promise<void> {
    deleteDownload(this.#db, downloadId);
    await rm(path.join(this.layout.tmpDir, `${downloadId}.part`), { force: true });
  }

  /** Marks a stopped download to start again by itself at the next open (the app closed while it ran). */
  requeue(downloadId: string): void {
    updateDownload(this.#db, downloadId, { state: 'queued' });
  }

  /** Bytes confirmed on disk for an unfinished download. */
  confirmedBytes(downloadId: string): number {
    return loadSegments(this.#db, downloadId).reduce((sum, segment) => sum + segment.confirmedOffset - segment.start, 0);
  }

  /** Every download the catalog holds, with the bytes confirmed on disk for unfinished ones. */
  status(): { record: DownloadRecord; confirmedBytes: number }[] {
    return listDownloads(this.#db).map((record) => ({
      record,
      confirmedBytes: record.state === 'done' ? (record.sizeBytes ?? 0) : loadSegments(this.#db, record.id).reduce((sum, segment) => sum + segment.confirmedOffset - segment.start, 0),
    }));
  }

  /** A new API key (desktop Settings): used by downloads that start from now on, and scrubbed from everything written. */
  setApiKey(apiKey: string | null): void {
    this.#options.apiKey = apiKey;
    if (apiKey) {
      this.#secrets.add(apiKey);
      if (this.#logger) addLogSecret(this.#logger, apiKey);
    }
  }

  /** Connections per file and files at once, for downloads that start from now on. */
  setEngineLimits(limits: { connections?: number; parallelFiles?: number }): void {
    this.#engine.setLimits(limits);
  }

  /** Changes the speed cap for all downloads at once, while they run (null: unlimited). */
  setLimitRate(bytesPerSecond: number | null): void {
    this.#bandwidth.setRate(bytesPerSecond);
  }

  /** Changes the request budget of every endpoint, while downloads run. */
  setRequestsPerMinute(requestsPerMinute: number): void {
    this.#http.setRequestsPerMinute(withHeadroom(requestsPerMinute));
  }

  /**
   * Stops every download first (paused: bytes written are confirmed and recorded, as with Ctrl-C), then closes the
   * network, the manifests and the catalog. Closing the catalog under running downloads used to fail them with "The
   * database connection is not open" and lose their state. Never throws: a shutdown must always complete; a step
   * that fails is logged. Safe to call twice.
   */
  close(): Promise<void> {
    this.#closing ??= this.#closeOnce();
    return this.#closing;
  }

  async #closeOnce(): Promise<void> {
    const step = async (what: string, action: () => unknown) => {
      try {
        await action();
      } catch (error) {
        this.#logger?.error({ err: (error as Error).message }, `${what} failed while closing`);
      }
    };
    await step('pausing downloads', async () => {
      this.#engine.pauseAll();
      // A pause settles within a confirm (an fsync and one catalog write); a stuck disk must not hold the shutdown forever.
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), CLOSE_WAIT_MS)));
      const stopped = this.#engine.idle().then(() => Promise.allSettled([...this.#downloads]));
      const result = await Promise.race([stopped, timeout]).finally(() => clearTimeout(timer));
      if (result === 'timeout') this.#logger?.warn({ waited_ms: CLOSE_WAIT_MS }, 'downloads did not stop in time; closing anyway');
    });
    this.#spaceWatch.close();
    this.#liveTraffic?.stop();
    await step('stopping the speed cap', () => this.#bandwidth.close(new DOMException('Filehaul is closing', 'AbortError')));
    await step('closing the network', () => this.#http.close());
    // Manifests still waiting out their debounce are written before the catalog closes.
    await step('flushing the manifests', () => this.#manifests.close());
    await step('closing the catalog', () => closeCatalog(this.#db));
    if (this.#logger) await step('closing the log', () => closeLogger(this.#logger!));
  }

  /** A download record standing for a file the archive already holds (rebuilt from manifests), or undefined. */
  #archivedCopy(sourceRef: string): DownloadRecord | undefined {
    const entry = findEntriesBySource(this.#db, sourceRef).find((candidate) => existsSync(path.join(this.layout.dataDir, candidate.path)));
    if (!entry) return undefined;
    return {
      id: entry.downloadId ?? `archived-${entry.id}`,
      sourceKind: entry.sourceKind === 'url' ? 'url' : 'files-api',
      sourceRef,
      apiBase: null,
      filename: entry.filename,
      mimeType: entry.mimeType,
      sizeBytes: entry.sizeBytes,
      createdAt: entry.createdAt,
      etag: entry.etag,
      lastModified: null,
      rangeSupported: null,
      state: 'done',
      error: null,
      addedAt: entry.downloadedAt,
      updatedAt: entry.downloadedAt,
      completedAt: entry.downloadedAt,
      finalPath: entry.path,
      sha256: entry.sha256,
      restartCount: 0,
    };
  }

  #sourceFor(input: string): DownloadSource {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(input)) return new UrlSource(input);
    const apiKey = this.#options.apiKey;
    if (!apiKey) throw new FatalError('No API key: set ANTHROPIC_API_KEY or pass --api-key-file PATH to download Files API ids.');
    return new FilesApiSource(input, this.#options.apiBase, apiKey);
  }

}

/**
 * The budget paces 5% below the configured rate: requests leave on time but arrive with jitter (the first, on a fresh
 * connection, later than the rest), and an origin limiting at exactly that rate would otherwise see one request too
 * many in a window and answer 429 — which also halves the connection allowance.
 */
function withHeadroom(requestsPerMinute: number): number {
  return requestsPerMinute / 1.05;
}

/** How long close() waits for paused downloads to record their state before closing the catalog anyway. */
const CLOSE_WAIT_MS = 10_000;


/** Only events that carry text can carry a key; progress events (the hot path) pass untouched. */
function redactEvent(event: DownloadEvent, secrets: ReadonlySet<string>): DownloadEvent {
  if (event.type === 'progress' || event.type === 'start' || event.type === 'done') return event;
  let text = JSON.stringify(event);
  let changed = false;
  for (const secret of secrets) {
    if (!text.includes(secret)) continue;
    text = text.split(secret).join('[redacted]');
    changed = true;
  }
  return changed ? (JSON.parse(text) as DownloadEvent) : event;
}
