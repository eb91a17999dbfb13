// The one contract every door speaks (Electron IPC, HTTP + WebSocket): requests with their replies, and events.
import type { DownloadState, SourceKind } from './model.ts';

/** A segment as the windows draw it: one bar per chunk, including chunks born from splits. */
export interface SegmentView {
  start: number;
  end: number;
  /** Bytes of this segment written so far end at this offset. */
  offset: number;
  active: boolean;
}

/** One download as the windows show it. Never carries the API key. */
export interface DownloadView {
  id: string;
  sourceKind: SourceKind;
  /** File id, or the URL without credentials and query string. */
  source: string;
  filename: string | null;
  sizeBytes: number | null;
  state: DownloadState;
  /** Why it failed (or a note while waiting). */
  error: string | null;
  bytesDownloaded: number;
  bytesPerSecond: number;
  connections: number;
  retryCount: number;
  /** Epoch ms until which the download waits for a rate limit, a Retry-After or an endpoint cool-down; null when not waiting. */
  waitingUntil: number | null;
  segments: SegmentView[];
  addedAt: string;
  completedAt: string | null;
  /** Relative to the data dir, once archived. */
  finalPath: string | null;
  sha256: string | null;
}

export interface RemoteFileView {
  id: string;
  filename: string;
  sizeBytes: number;
  createdAt: string;
  downloadable: boolean | null;
  /** A finished download of this id is in the archive. */
  archived: boolean;
}

export interface ArchiveMonthView {
  /** YYYY-MM */
  month: string;
  fileCount: number;
  totalBytes: number;
}

export interface ArchiveEntryView {
  path: string;
  filename: string;
  fileId: string | null;
  sizeBytes: number;
  sha256: string;
  mimeType: string | null;
  createdAt: string | null;
  downloadedAt: string;
  encrypted: boolean;
}

export interface VerifyReportView {
  checked: number;
  ok: number;
  missing: string[];
  changed: string[];
  unknown: string[];
}

export type NetworkPreset = 'lan' | 'cloud' | 'cross-border';

/** Settings as the windows see them: the key only as set / not set. */
export interface SettingsView {
  apiKeySet: boolean;
  apiBase: string;
  backupApiBase: string | null;
  connections: number;
  parallelFiles: number;
  requestsPerMinute: number;
  /** Bytes per second for all downloads together; null = unlimited. */
  limitRate: number | null;
  dataDir: string;
  preset: NetworkPreset;
  encrypt: boolean;
  /** The demo origin is in use: the UI labels everything as sample data. */
  demo: boolean;
}

/** What a window may change. apiKey is write-only: it is stored (keychain / config) and never read back. */
export interface SettingsPatch {
  apiKey?: string | null;
  apiBase?: string;
  backupApiBase?: string | null;
  connections?: number;
  parallelFiles?: number;
  requestsPerMinute?: number;
  limitRate?: number | null;
  preset?: NetworkPreset;
  encrypt?: boolean;
}

/** Every request a door can make, with its argument and reply. */
export interface Requests {
  add: { args: { inputs: string[] }; reply: { added: DownloadView[]; errors: { input: string; error: string }[] } };
  pause: { args: { id: string }; reply: void };
  resume: { args: { id: string }; reply: void };
  cancel: { args: { id: string }; reply: void };
  retry: { args: { id: string }; reply: void };
  pauseAll: { args: Record<string, never>; reply: void };
  resumeAll: { args: Record<string, never>; reply: void };
  listDownloads: { args: Record<string, never>; reply: DownloadView[] };
  listRemote: { args: { cursor?: string | null; limit?: number }; reply: { files: RemoteFileView[]; nextCursor: string | null } };
  archiveMonths: { args: Record<string, never>; reply: ArchiveMonthView[] };
  archiveFiles: { args: { month: string; offset?: number; limit?: number; sort?: 'name' | 'downloaded' | 'size' }; reply: { entries: ArchiveEntryView[]; total: number } };
  search: { args: { text: string; month?: string; offset?: number; limit?: number }; reply: { entries: ArchiveEntryView[]; total: number } };
  verify: { args: { month?: string }; reply: VerifyReportView };
  getSettings: { args: Record<string, never>; reply: SettingsView };
  setSettings: { args: SettingsPatch; reply: SettingsView };
}

export type RequestName = keyof Requests;

/** Events pushed to every window. Progress comes in batches (at most ~10 a second), never one message per chunk. */
export interface Events {
  progress: { downloads: DownloadView[] };
  /** A download was added, removed or changed state. */
  changed: { download: DownloadView };
  removed: { id: string };
  /** A problem worth a notification (a download failed, the catalog is unreadable…). */
  notice: { level: 'info' | 'error'; message: string; downloadId?: string };
}

export type EventName = keyof Events;

/** The surface a window talks to; implemented over IPC (desktop) and over HTTP + WebSocket (browser). */
export interface FilehaulApi {
  request<Name extends RequestName>(name: Name, args: Requests[Name]['args']): Promise<Requests[Name]['reply']>;
  on<Name extends EventName>(name: Name, listener: (payload: Events[Name]) => void): () => void;
}

export const REQUEST_NAMES: readonly RequestName[] = [
  'add', 'pause', 'resume', 'cancel', 'retry', 'pauseAll', 'resumeAll', 'listDownloads', 'listRemote',
  'archiveMonths', 'archiveFiles', 'search', 'verify', 'getSettings', 'setSettings',
];
