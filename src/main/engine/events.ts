// Events a download emits while it runs: what the command line prints and the windows will draw.
import type { DownloadState } from '../../shared/model.ts';

/** One segment as progress shows it: its range and how far its bytes have been written. */
export interface SegmentProgress {
  start: number;
  end: number;
  offset: number;
  /** A connection is streaming this segment right now. */
  active: boolean;
}

interface EventBase {
  downloadId: string;
  /** The file id or URL (URLs shown without credentials or query). */
  fileId: string;
  /** Milliseconds since epoch when the event happened. */
  timestamp: number;
}

export type DownloadEvent =
  | (EventBase & { type: 'start'; filename: string | null; sizeBytes: number | null; resumedBytes: number })
  | (EventBase & {
      type: 'progress';
      bytesDownloaded: number;
      sizeBytes: number | null;
      bytesPerSecond: number;
      connections: number;
      retryCount: number;
      durationMs: number;
      segments: SegmentProgress[];
      /** Held back until this time (ms epoch) by a rate limit, Retry-After, cool-down or retry backoff; null while flowing. */
      waitingUntil: number | null;
      /** Why it waits: 'budget', 'cooldown', 'connections', 'rate limit' or 'retry'. */
      waitReason: string | null;
      /** Connections the endpoint allows right now (halved after 429s, climbing back); null without traffic control. */
      allowedConnections: number | null;
    })
  | (EventBase & { type: 'retry'; attempt: number; delayMs: number; reason: string; status: number | null; requestId: string | null; retryCount: number })
  | (EventBase & { type: 'restart'; reason: string; restartCount: number })
  | (EventBase & { type: 'state'; state: DownloadState; error: string | null })
  | (EventBase & { type: 'done'; finalPath: string; sha256: string; sizeBytes: number; bytesDownloaded: number; durationMs: number; retryCount: number; requestCount: number })
  | (EventBase & { type: 'error'; message: string; bytesDownloaded: number; durationMs: number; retryCount: number });

export type DownloadEventListener = (event: DownloadEvent) => void;
