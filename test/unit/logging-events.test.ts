// Tests for event-log.ts: engine events and request outcomes as log lines with the article's fields, progress thinned to one per 10 s.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { DownloadEvent } from '../../src/main/engine/events.ts';
import { logDownloadEvent, logRequestOutcome, safeUrl } from '../../src/main/logging/event-log.ts';
import { closeLogger, createLogger, type FilehaulLogger } from '../../src/main/logging/logger.ts';

const ARTICLE_FIELDS = ['timestamp', 'file_id', 'bytes_downloaded', 'duration_ms', 'retry_count', 'request_id', 'status', 'level'];
const T0 = Date.UTC(2025, 3, 1, 12, 0, 0);

let root: string;
let logger: FilehaulLogger;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'filehaul-event-log-'));
  logger = createLogger(path.join(root, 'logs'));
});
afterEach(async () => {
  closeLogger(logger);
  await rm(root, { recursive: true, force: true });
});

async function lines(): Promise<Record<string, unknown>[]> {
  closeLogger(logger);
  const text = await readFile(path.join(root, 'logs', 'filehaul.log'), 'utf8');
  return text.trimEnd().split('\n').filter(Boolean).map((line) => JSON.parse(line));
}

const base = (offsetMs: number, downloadId = 'd1') => ({ downloadId, fileId: `file_${downloadId}`, timestamp: T0 + offsetMs });

function progress(offsetMs: number, bytes: number, downloadId = 'd1'): DownloadEvent {
  return { ...base(offsetMs, downloadId), type: 'progress', bytesDownloaded: bytes, sizeBytes: 1000, bytesPerSecond: 12.6, connections: 4, retryCount: 1, durationMs: offsetMs, segments: [{ start: 0, end: 1000, offset: bytes, active: true }], waitingUntil: null, waitReason: null, allowedConnections: null };
}

describe('logDownloadEvent', () => {
  it('logs a whole download with the article fields on every line, at the right levels', async () => {
    const events: DownloadEvent[] = [
      { ...base(0), type: 'state', state: 'queued', error: null },
      { ...base(5), type: 'start', filename: 'a.bin', sizeBytes: 1000, resumedBytes: 100 },
      progress(1000, 300),
      { ...base(2000), type: 'retry', attempt: 1, delayMs: 800, reason: '429 Too Many Requests', status: 429, requestId: 'req_abc', retryCount: 1 },
      { ...base(3000), type: 'restart', reason: 'ETag changed', restartCount: 1 },
      { ...base(4000), type: 'state', state: 'verifying', error: null },
      { ...base(4500), type: 'state', state: 'done', error: null },
      { ...base(4500), type: 'done', finalPath: 'raw/2025-04/a.bin', sha256: 'f'.repeat(64), sizeBytes: 1000, bytesDownloaded: 900, durationMs: 4495, retryCount: 1, requestCount: 6 },
    ];
    for (const event of events) logDownloadEvent(logger, event);
    const logged = await lines();
    expect(logged.map((line) => line.event)).toEqual(['state', 'start', 'progress', 'retry', 'restart', 'state', 'state', 'done']);
    for (const line of logged) for (const field of ARTICLE_FIELDS) expect(line).toHaveProperty(field);
    expect(logged.map((line) => line.level)).toEqual(['info', 'info', 'info', 'warn', 'warn', 'info', 'info', 'info']);
    expect(logged[0]).toMatchObject({ timestamp: new Date(T0).toISOString(), file_id: 'file_d1', download_id: 'd1', bytes_downloaded: 0, duration_ms: null, state: 'queued' });
    expect(logged[1]).toMatchObject({ bytes_downloaded: 100, duration_ms: 0, filename: 'a.bin', msg: 'download resumed' });
    expect(logged[2]).toMatchObject({ bytes_downloaded: 300, duration_ms: 1000, retry_count: 1, connections: 4, bytes_per_second: 13 });
    expect(logged[2]).not.toHaveProperty('segments');
    expect(logged[3]).toMatchObject({ status: 429, request_id: 'req_abc', retry_count: 1, bytes_downloaded: 300, duration_ms: 1995, delay_ms: 800, reason: '429 Too Many Requests' });
    expect(logged[4]).toMatchObject({ bytes_downloaded: 0, restart_count: 1 });
    expect(logged[7]).toMatchObject({ bytes_downloaded: 900, duration_ms: 4495, retry_count: 1, request_count: 6, final_path: 'raw/2025-04/a.bin', timestamp: new Date(T0 + 4500).toISOString() });
  });

  it('keeps at most one progress line per download per 10 s, and starts afresh after a pause', async () => {
    // Ticks every second for 25 s on two downloads: lines at 0 s, 10 s and 20 s for each.
    for (let second = 0; second <= 25; second++) {
      logDownloadEvent(logger, progress(second * 1000, second * 10, 'd1'));
      logDownloadEvent(logger, progress(second * 1000 + 500, second * 10, 'd2'));
    }
    logDownloadEvent(logger, { ...base(25_500), type: 'state', state: 'paused', error: null });
    logDownloadEvent(logger, progress(26_000, 260));
    const logged = (await lines()).filter((line) => line.event === 'progress');
    expect(logged.filter((line) => line.download_id === 'd1').map((line) => line.bytes_downloaded)).toEqual([0, 100, 200, 260]);
    expect(logged.filter((line) => line.download_id === 'd2').map((line) => line.bytes_downloaded)).toEqual([0, 100, 200]);
  });

  it('logs a failure at error level with its message', async () => {
    logDownloadEvent(logger, { ...base(0), type: 'state', state: 'failed', error: 'HTTP 404: file not found' });
    logDownloadEvent(logger, { ...base(0), type: 'error', message: 'HTTP 404: file not found', bytesDownloaded: 0, durationMs: 12, retryCount: 0 });
    const logged = await lines();
    expect(logged[0]).toMatchObject({ level: 'warn', state: 'failed', error: 'HTTP 404: file not found' });
    expect(logged[1]).toMatchObject({ level: 'error', event: 'error', error: 'HTTP 404: file not found', duration_ms: 12, msg: 'download failed' });
  });
});

describe('logRequestOutcome', () => {
  it('logs every request with endpoint, status, request id, range, segment and the article fields', async () => {
    logRequestOutcome(logger, { url: 'https://api.anthropic.com/v1/files/file_1/content', endpoint: 'https://api.anthropic.com', status: 206, requestId: 'req_1', range: 'bytes=0-99', durationMs: 41.7, bytes: 100, fileId: 'file_1', segment: { start: 0, end: 100 } });
    logRequestOutcome(logger, { url: 'https://api.anthropic.com/v1/files/file_1/content', endpoint: 'https://api.anthropic.com', status: 529, requestId: 'req_2', range: 'bytes=100-', durationMs: 5, bytes: 0, fileId: 'file_1' });
    logRequestOutcome(logger, { url: 'https://example.com/big.iso', endpoint: 'https://example.com', status: null, requestId: null, range: null, durationMs: 30_000, bytes: 0, error: 'connect timeout' });
    const logged = await lines();
    expect(logged[0]).toMatchObject({ event: 'request', level: 'info', endpoint: 'https://api.anthropic.com', url: 'https://api.anthropic.com/v1/files/file_1/content', status: 206, request_id: 'req_1', range: 'bytes=0-99', segment: { start: 0, end: 100 }, bytes_downloaded: 100, duration_ms: 42, file_id: 'file_1', error: null });
    expect(logged[1]).toMatchObject({ level: 'warn', status: 529, segment: null });
    expect(logged[2]).toMatchObject({ level: 'warn', status: null, file_id: null, error: 'connect timeout', msg: 'request failed' });
    for (const line of logged) for (const field of ARTICLE_FIELDS.filter((name) => name !== 'retry_count')) expect(line).toHaveProperty(field);
  });

  it('logs URLs without query string, fragment or credentials', async () => {
    logRequestOutcome(logger, { url: 'https://user:pw@cdn.example/f.bin?X-Amz-Signature=abc#part', endpoint: 'https://user:pw@cdn.example', status: 200, requestId: null, range: null, durationMs: 1, bytes: 1 });
    const [line] = await lines();
    expect(line).toMatchObject({ url: 'https://cdn.example/f.bin', endpoint: 'https://cdn.example' });
  });
});

describe('safeUrl', () => {
  it('cuts text that is not a URL at its query string and drops user info', () => {
    expect(safeUrl('not a url?token=1')).toBe('not a url');
    expect(safeUrl('//user:pw@host/path?q')).toBe('//host/path');
  });
});
