// The Settings every door runs with: the shape, the defaults, and the error raised for a value that is not allowed.
import { DEFAULT_API_BASE } from '../sources/files-api.ts';
import { DEFAULT_PRESET, PRESETS, type PresetName } from './presets.ts';

export interface Settings {
  /** Held in memory only: never printed, logged or written anywhere. */
  apiKey: string | null;
  apiBase: string;
  /** Where traffic moves while the primary answers 503/529; null: no failover. */
  backupApiBase: string | null;
  /** Parallel ranged requests per file. */
  connections: number;
  /** Files downloading at once; the rest wait in the queue. */
  parallelFiles: number;
  /** The request budget per endpoint and key (the Files API allows about 100 a minute). */
  requestsPerMinute: number;
  /** The network preset the timeouts came from unless set one by one. */
  preset: PresetName;
  connectTimeoutMs: number;
  /** Longest silence before a request counts as stalled. */
  readTimeoutMs: number;
  maxRetries: number;
  /** First cool-down of an endpoint that answers 503/529 `cooldownAfter` times in a row; each one opened again doubles it. */
  cooldownMs: number;
  /** Longest cool-down. */
  cooldownMaxMs: number;
  /** 503/529 answers in a row (no success between) that mean the endpoint is down, not merely busy. */
  cooldownAfter: number;
  /**
   * Floor of the silence after which a request without an answer, or a body that stopped, is sent again on another
   * connection (the first answer wins); 0: never. The real threshold adapts to the endpoint's response times.
   */
  resendAfterMs: number;
  /** Global speed cap in bytes per second; null: unlimited. */
  limitRate: number | null;
  /** Proxy for every request; null: none set here (the HTTP layer still honours HTTPS_PROXY/HTTP_PROXY). */
  proxy: string | null;
  /** Absolute path of the data directory. */
  dataDir: string;
  /** Smallest range worth its own request. */
  minSplitBytes: number;
  /** Encrypt finished files at rest (age format). */
  encrypt: boolean;
}

export type SettingName = keyof Settings;

/** Where a setting's effective value came from, lowest precedence first. */
export type SettingSource = 'default' | 'config.ini' | 'env' | 'flag';

/** Ranks sources for "flags > environment > config.ini > defaults". */
export const SOURCE_RANK: Record<SettingSource, number> = { default: 0, 'config.ini': 1, env: 2, flag: 3 };

/** Defaults; dataDir is relative here and resolved against the working directory by the loader. */
export const DEFAULT_SETTINGS: Settings = {
  apiKey: null,
  apiBase: DEFAULT_API_BASE,
  backupApiBase: null,
  connections: 8,
  parallelFiles: 3,
  requestsPerMinute: 100,
  preset: DEFAULT_PRESET,
  connectTimeoutMs: PRESETS[DEFAULT_PRESET].connectTimeoutMs,
  readTimeoutMs: PRESETS[DEFAULT_PRESET].readTimeoutMs,
  maxRetries: 5,
  cooldownMs: 30_000,
  cooldownMaxMs: 600_000,
  cooldownAfter: 5,
  resendAfterMs: 250,
  limitRate: null,
  proxy: null,
  dataDir: './data',
  minSplitBytes: 1024 * 1024,
  encrypt: false,
};

/** A setting whose value is not allowed. The message names the key, where it was set and what is allowed. */
export class SettingsError extends Error {
  readonly setting: SettingName | null;
  readonly source: SettingSource | null;
  constructor(message: string, setting: SettingName | null = null, source: SettingSource | null = null) {
    super(message);
    this.name = 'SettingsError';
    this.setting = setting;
    this.source = source;
  }
}
