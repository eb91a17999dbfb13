// Turns engine events and HTTP request outcomes into log lines with the source article's fields (and a few more).
import type { DownloadEvent } from '../engine/events.ts';
import type { FilehaulLogger } from './logger.ts';
import { publicUrl, UNPARSEABLE_URL } from '../engine/traffic/request-labels.ts';
import type { RequestOutcome as TrafficRequestOutcome } from '../engine/traffic/traffic-types.ts';

/** Progress ticks come several times a second; the log keeps one per download per this interval. */
export const PROGRESS_LOG_INTERVAL_MS = 10_000;

/** What the log remembers of a running download, so that every line can carry the article's five fields. */
interface DownloadMemo {
  startedAt: number | null;
  bytesDownloaded: number;
  retryCount: number;
  lastProgressLoggedAt: number | null;
}

const memos = new WeakMap<FilehaulLogger, Map<string, DownloadMemo>>();

/**
 * Logs one engine event. Every line has timestamp (the event's), file_id, download_id, bytes_downloaded,
 * duration_ms, retry_count, request_id and status (null where the event has none) and a level.
 */
export function logDownloadEvent(logger: FilehaulLogger, event: DownloadEvent): void {
  const memo = memoFor(logger, event);
  const base = {
    event: event.type,
    timestamp: new Date(event.timestamp).toISOString(),
    file_id: event.fileId,
    download_id: event.downloadId,
  };
  const durationSoFar = memo.startedAt === null ? null : event.timestamp - memo.startedAt;
  const article = (bytes: number, duration: number | null, retries: number, requestId: string | null = null, status: number | null = null) => ({
    bytes_downloaded: bytes,
    duration_ms: duration,
    retry_count: retries,
    request_id: requestId,
    status,
  });

  switch (event.type) {
    case 'start':
      memo.startedAt = event.timestamp;
      memo.bytesDownloaded = event.resumedBytes;
      memo.lastProgressLoggedAt = null;
      logger.info({ ...base, ...article(event.resumedBytes, 0, memo.retryCount), filename: event.filename, size_bytes: event.sizeBytes }, event.resumedBytes > 0 ? 'download resumed' : 'download started');
      return;
    case 'progress': {
      memo.bytesDownloaded = event.bytesDownloaded;
      memo.retryCount = event.retryCount;
      if (memo.lastProgressLoggedAt !== null && event.timestamp - memo.lastProgressLoggedAt < PROGRESS_LOG_INTERVAL_MS) return;
      memo.lastProgressLoggedAt = event.timestamp;
      logger.info(
        { ...base, ...article(event.bytesDownloaded, event.durationMs, event.retryCount), size_bytes: event.sizeBytes, bytes_per_second: Math.round(event.bytesPerSecond), connections: event.connections },
        'progress',
      );
      return;
    }
    case 'retry':
      memo.retryCount = event.retryCount;
      logger.warn(
        { ...base, ...article(memo.bytesDownloaded, durationSoFar, event.retryCount, event.requestId, event.status), attempt: event.attempt, delay_ms: event.delayMs, reason: event.reason },
        'request will be retried',
      );
      return;
    case 'restart':
      memo.bytesDownloaded = 0;
      logger.warn({ ...base, ...article(0, durationSoFar, memo.retryCount), reason: event.reason, restart_count: event.restartCount }, 'remote file changed: starting over');
      return;
    case 'state': {
      const fields = { ...base, ...article(memo.bytesDownloaded, durationSoFar, memo.retryCount), state: event.state, error: event.error };
      // The error event that follows a failure carries the error level; this line only records the transition.
      if (event.state === 'failed') logger.warn(fields, `state ${event.state}`);
      else logger.info(fields, `state ${event.state}`);
      if (event.state === 'paused' || event.state === 'failed' || event.state === 'done') forget(logger, event.downloadId);
      return;
    }
    case 'done':
      logger.info(
        { ...base, ...article(event.bytesDownloaded, event.durationMs, event.retryCount), size_bytes: event.sizeBytes, sha256: event.sha256, final_path: event.finalPath, request_count: event.requestCount },
        'download verified and archived',
      );
      forget(logger, event.downloadId);
      return;
    case 'error':
      logger.error({ ...base, ...article(event.bytesDownloaded, event.durationMs, event.retryCount), error: event.message }, 'download failed');
      forget(logger, event.downloadId);
      return;
  }
}

/**
 * One HTTP request as the traffic client reports it at the end of its body, with what a caller may add: the file it
 * was for and the segment it carried.
 */
export type RequestOutcome = Pick<TrafficRequestOutcome, 'url' | 'endpoint' | 'status' | 'requestId' | 'range' | 'durationMs' | 'bytes' | 'error'> & {
  fileId?: string;
  segment?: { start: number; end: number };
};

/** Logs one request's outcome; URLs lose their query string and credentials (signed URLs carry tokens there). */
export function logRequestOutcome(logger: FilehaulLogger, outcome: RequestOutcome): void {
  const fields = {
    event: 'request',
    file_id: outcome.fileId ?? null,
    endpoint: safeEndpoint(outcome.endpoint),
    url: safeUrl(outcome.url),
    status: outcome.status,
    request_id: outcome.requestId,
    range: outcome.range,
    segment: outcome.segment ? { start: outcome.segment.start, end: outcome.segment.end } : null,
    bytes_downloaded: outcome.bytes,
    duration_ms: Math.round(outcome.durationMs),
    error: outcome.error ?? null,
  };
  const failed = outcome.error !== undefined || outcome.status === null || outcome.status >= 400;
  if (failed) logger.warn(fields, outcome.status === null ? 'request failed' : `request answered ${outcome.status}`);
  else logger.info(fields, `request answered ${outcome.status}`);
}

/** The URL without user:password, query string or fragment; text that does not parse is cut at the first ? or #. */
export function safeUrl(text: string): string {
  const url = publicUrl(text);
  return url === UNPARSEABLE_URL ? text.replace(/[?#].*$/s, '').replace(/\/\/[^/@]*@/, '//') : url;
}

/** An endpoint as people write it: https://api.anthropic.com, without the slash URL adds to a bare origin. */
function safeEndpoint(text: string): string {
  const cleaned = safeUrl(text);
  return cleaned.endsWith('/') && !text.replace(/[?#].*$/s, '').endsWith('/') ? cleaned.slice(0, -1) : cleaned;
}

function memoFor(logger: FilehaulLogger, event: DownloadEvent): DownloadMemo {
  let byDownload = memos.get(logger);
  if (!byDownload) {
    byDownload = new Map();
    memos.set(logger, byDownload);
  }
  let memo = byDownload.get(event.downloadId);
  if (!memo) {
    memo = { startedAt: null, bytesDownloaded: 0, retryCount: 0, lastProgressLoggedAt: null };
    byDownload.set(event.downloadId, memo);
  }
  return memo;
}

/** A finished, failed or paused download starts a fresh memo next time, so the map never grows without bound. */
function forget(logger: FilehaulLogger, downloadId: string): void {
  memos.get(logger)?.delete(downloadId);
}
