// What a download run is given: its settings (with defaults), the services it uses, and how it can end.
import type { DownloadRecord } from '../../shared/model.ts';
import type { DownloadEvent } from './events.ts';
import type { HttpClient } from './http/client.ts';
import type { BackoffSettings } from './http/retry-policy.ts';
import type { ArchivePort, TransferJournal } from './ports.ts';
import type { ByteRateLimit } from './range-request.ts';

/** What one request for a download adds to the engine's settings. */
export interface RunOptions {
  /**
   * The SHA-256 the file is published with (lower-case hex). A file that hashes otherwise fails and is not archived;
   * its bytes stay in the part file, so a run with the right digest places them without downloading again (the
   * same origin would send the same bytes).
   */
  expectedSha256?: string;
}

/** A run's settings: the engine's, with what the request for this download adds (RunOptions). */
export interface DownloadSettings extends RunOptions {
  /** Concurrent ranged requests for one file. */
  connections: number;
  /** Neither half of a split may be smaller than this. */
  minSplitBytes: number;
  backoff: BackoffSettings;
  /** Clean restarts allowed in one run when the remote file keeps changing. */
  maxRestarts: number;
  /** Extra requests allowed to split ranges for idle connections, on top of one per planned segment. */
  maxSteals: number;
  /** How often written bytes are fsynced and their offsets recorded. */
  confirmIntervalMs: number;
  /** How often progress events are emitted. */
  progressIntervalMs: number;
  /**
   * Least silence mid-body before the rest of the range is asked again on a spare connection and the two race
   * (see silence-hedge.ts; the wait also scales with the request's own response time). 0: never.
   */
  hedgeAfterMs?: number;
}

export const DEFAULT_DOWNLOAD_SETTINGS: DownloadSettings = {
  connections: 8,
  minSplitBytes: 1024 * 1024,
  backoff: { baseMs: 1000, capMs: 60_000, maxRetries: 5 },
  maxRestarts: 3,
  maxSteals: 4,
  confirmIntervalMs: 1000,
  progressIntervalMs: 250,
  hedgeAfterMs: 250,
};

export interface DownloadDeps {
  http: HttpClient;
  journal: TransferJournal;
  archive: ArchivePort;
  emit: (event: DownloadEvent) => void;
  /** Scrubs secrets (the API key) from text that will be stored or shown, such as an error body echoed back. */
  redact: (text: string) => string;
  /** The global speed cap shared by every connection; absent: unlimited. */
  bandwidth?: ByteRateLimit;
  /** Connections the endpoint of a URL currently allows (AIMD after 429s); absent: no traffic control. */
  allowance?: (url: string) => number;
  /** Frees the disk space held in reserve so the catalog can still record progress when the disk is full. */
  releaseReserve?: () => Promise<void>;
}

/** How a run ended. A pause carries a message when the disk, not the user, stopped it. */
export type DownloadOutcome = { state: 'done'; record: DownloadRecord } | { state: 'paused'; message?: string; code?: string } | { state: 'failed'; message: string };
