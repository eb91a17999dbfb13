// What a Filehaul service is opened with: the data dir, the API, timeouts, traffic limits and the engine's settings.
import { DEFAULT_DOWNLOAD_SETTINGS } from './engine/download-settings.ts';
import type { FreeSpaceProbe } from './engine/storage-watch.ts';
import type { Clock } from './engine/traffic/clock.ts';
import type { CooldownSettings } from './engine/traffic/endpoint-health.ts';
import type { EngineSettings } from './engine/transfer-engine.ts';
import { DEFAULT_API_BASE } from './sources/files-api.ts';

export interface ServiceOptions {
  dataDir: string;
  apiBase: string;
  /** Needed only for Files API ids; kept in memory, never written anywhere. */
  apiKey: string | null;
  engine: EngineSettings;
  connectTimeoutMs: number;
  readTimeoutMs: number;
  /** Proxy URL for every request; null: HTTPS_PROXY / HTTP_PROXY / NO_PROXY from the environment. */
  proxy?: string | null;
  /** Where traffic moves while the primary answers 503/529. */
  backupApiBase?: string | null;
  /** The request budget per endpoint and key. */
  requestsPerMinute?: number;
  /** Bytes per second for all downloads together; null: unlimited. */
  limitRate?: number | null;
  /** Encrypt finished files at rest (age). */
  encrypt?: boolean;
  /** Cool-down of an endpoint after 503/529 (doubling up to maxMs). */
  cooldown?: CooldownSettings;
  /** Write JSON logs under data/logs (default true). */
  logs?: boolean;
  /** The network preset the timeouts came from (shown in Settings). */
  preset?: 'lan' | 'cloud' | 'cross-border';
  /** Rebuild a lost catalog from the manifests on open (default true; `filehaul reindex` does it itself). */
  rebuildLostCatalog?: boolean;
  /**
   * A download that fills the disk waits, paused, and goes on by itself once space returns (default true). false: it
   * stays paused and its download() resolves at once with the storage message (`get --no-wait-for-space`).
   */
  waitForSpace?: boolean;
  /** How the space watch measures and paces (tests inject a fake statfs and a hand-driven clock). */
  spaceWatch?: { intervalMs?: number; freeBytes?: FreeSpaceProbe; clock?: Clock; marginBytes?: number };
  /** How long finalize waits for another process's lock on the catalog before it gives up (default 2 minutes). */
  catalogLockWaitMs?: number;
}

export const DEFAULT_SERVICE_OPTIONS: Omit<ServiceOptions, 'dataDir' | 'apiKey'> = {
  apiBase: DEFAULT_API_BASE,
  engine: { ...DEFAULT_DOWNLOAD_SETTINGS, parallelFiles: 3 },
  // The source article's "public cloud" preset: 30 s to connect, 600 s of silence before a read counts as stalled.
  connectTimeoutMs: 30_000,
  readTimeoutMs: 600_000,
  requestsPerMinute: 100,
  cooldown: { initialMs: 30_000, maxMs: 600_000 },
};
