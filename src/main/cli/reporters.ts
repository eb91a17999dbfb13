// How `get` shows events: JSON lines for scripts, a live bar per file on a terminal, plain lines otherwise.
import type { DownloadEvent } from '../engine/events.ts';
import { SPACE_WAIT_PREFIX } from '../engine/storage-watch.ts';
import { formatBytes, formatDuration, printable } from './format.ts';

export interface Reporter {
  handle(event: DownloadEvent): void;
  /** A file that needed no work (already archived) or was refused before any request. */
  note(line: string, json: Record<string, unknown>): void;
  finish(): void;
}

export interface ReporterOptions {
  /** A full disk makes downloads wait for space (the service's default): its "paused: cannot write" line is then left to the waiting line. */
  waitForSpace?: boolean;
}

export interface Output {
  write(text: string): void;
  isTTY: boolean;
  columns?: number;
}

/**
 * One JSON object per line, with the source article's log fields (timestamp, file_id, bytes_downloaded,
 * duration_ms, retry_count) on every line. Progress is thinned to one line a second per file.
 */
export function jsonReporter(out: Output): Reporter {
  const lastProgress = new Map<string, number>();
  // The last known counters per download, so lines that do not carry them (state, retry, restart) still have every log field.
  const counters = new Map<string, { bytes_downloaded: number; duration_ms: number; retry_count: number }>();
  const write = (fields: Record<string, unknown>) => out.write(`${JSON.stringify(fields)}\n`);
  return {
    handle(event) {
      const known = counters.get(event.downloadId) ?? { bytes_downloaded: 0, duration_ms: 0, retry_count: 0 };
      if (event.type === 'progress' || event.type === 'done' || event.type === 'error') {
        Object.assign(known, { bytes_downloaded: event.bytesDownloaded, duration_ms: event.durationMs, retry_count: event.retryCount });
      } else if (event.type === 'start') {
        known.bytes_downloaded = event.resumedBytes;
      } else if (event.type === 'retry') {
        known.retry_count = event.retryCount;
      }
      counters.set(event.downloadId, known);
      const base = { event: event.type, timestamp: new Date(event.timestamp).toISOString(), file_id: event.fileId, download_id: event.downloadId, ...known };
      switch (event.type) {
        case 'progress': {
          const last = lastProgress.get(event.downloadId) ?? 0;
          if (event.timestamp - last < 1000) return;
          lastProgress.set(event.downloadId, event.timestamp);
          write({ ...base, bytes_downloaded: event.bytesDownloaded, size_bytes: event.sizeBytes, bytes_per_second: Math.round(event.bytesPerSecond), connections: event.connections, allowed_connections: event.allowedConnections, waiting_until: event.waitingUntil === null ? null : new Date(event.waitingUntil).toISOString(), wait_reason: event.waitReason, duration_ms: event.durationMs, retry_count: event.retryCount, segments: event.segments.length });
          return;
        }
        case 'start':
          write({ ...base, filename: event.filename, size_bytes: event.sizeBytes, bytes_downloaded: event.resumedBytes, duration_ms: 0, retry_count: 0 });
          return;
        case 'retry':
          write({ ...base, attempt: event.attempt, delay_ms: event.delayMs, reason: event.reason, status: event.status, request_id: event.requestId, retry_count: event.retryCount });
          return;
        case 'restart':
          write({ ...base, reason: event.reason, restart_count: event.restartCount });
          return;
        case 'state':
          write({ ...base, state: event.state, error: event.error });
          return;
        case 'done':
          write({ ...base, path: event.finalPath, sha256: event.sha256, size_bytes: event.sizeBytes, bytes_downloaded: event.bytesDownloaded, duration_ms: event.durationMs, retry_count: event.retryCount, request_count: event.requestCount });
          return;
        case 'error':
          write({ ...base, error: event.message, bytes_downloaded: event.bytesDownloaded, duration_ms: event.durationMs, retry_count: event.retryCount });
          return;
      }
    },
    note(_line, json) {
      write({ timestamp: new Date().toISOString(), ...json });
    },
    finish() {},
  };
}

/** Plain lines for logs and pipes: one when a file starts, retries, restarts, pauses for disk space, resumes, finishes or fails. */
export function lineReporter(out: Output, options: ReporterOptions = {}): Reporter {
  const describe = describer(options);
  return {
    handle(event) {
      const line = describe(event);
      if (line) out.write(`${printable(line)}\n`);
    },
    note(line) {
      out.write(`${printable(line)}\n`);
    },
    finish() {},
  };
}

interface Row {
  name: string;
  size: number | null;
  bytes: number;
  speed: number;
  connections: number;
  retries: number;
  status: string;
  /** Once done: how long this run took and what it fetched (a resumed run fetched less than the size). */
  finished: { durationMs: number; bytesThisRun: number } | null;
}

/** A live bar per file, redrawn in place about five times a second. */
export function ttyReporter(out: Output, options: ReporterOptions = {}): Reporter {
  const rows = new Map<string, Row>();
  const describe = describer(options);
  let drawnLines = 0;
  let timer: NodeJS.Timeout | null = null;
  const log: string[] = [];
  const row = (event: DownloadEvent): Row => {
    let existing = rows.get(event.downloadId);
    if (!existing) {
      existing = { name: event.fileId, size: null, bytes: 0, speed: 0, connections: 0, retries: 0, status: 'queued', finished: null };
      rows.set(event.downloadId, existing);
    }
    return existing;
  };
  const draw = () => {
    const width = Math.max(60, out.columns ?? 100);
    let text = drawnLines > 0 ? `\x1b[${drawnLines}A\x1b[0J` : '';
    for (const line of log.splice(0)) text += `${line}\n`;
    const lines = renderRows([...rows.values()], width);
    text += lines.map((line) => `${line}\n`).join('');
    drawnLines = lines.length;
    out.write(text);
  };
  return {
    handle(event) {
      const entry = row(event);
      switch (event.type) {
        case 'start':
          if (event.filename) entry.name = printable(event.filename);
          entry.size = event.sizeBytes;
          entry.bytes = event.resumedBytes;
          break;
        case 'progress':
          Object.assign(entry, { bytes: event.bytesDownloaded, size: event.sizeBytes, speed: event.bytesPerSecond, connections: event.connections, retries: event.retryCount });
          break;
        case 'retry':
          entry.retries = event.retryCount;
          entry.status = `retry in ${formatDuration(event.delayMs)}`;
          break;
        case 'state':
          entry.status = event.state === 'paused' && waitsForSpace(event.error) ? 'waiting for disk space' : event.state;
          // Verifying starts only once every byte is written: the last progress tick may have been short of them.
          if (event.state === 'verifying' && entry.size !== null) Object.assign(entry, { bytes: entry.size, speed: 0, connections: 0 });
          break;
        case 'done':
          Object.assign(entry, { bytes: event.sizeBytes, size: event.sizeBytes, speed: 0, connections: 0, status: 'done', finished: { durationMs: event.durationMs, bytesThisRun: event.bytesDownloaded } });
          break;
        default:
          break;
      }
      const line = event.type === 'retry' || event.type === 'start' ? null : describe(event);
      if (line) log.push(printable(line));
      timer ??= setInterval(draw, 200);
    },
    note(line) {
      log.push(printable(line));
    },
    finish() {
      if (timer) clearInterval(timer);
      draw();
    },
  };
}

/** Room a name keeps before the bar gives up its width: enough for a host and a file name cut in the middle. */
const NAME_MIN_WIDTH = 24;
const BAR_WIDTH = { min: 8, max: 24 };

/**
 * The rows of every file, in columns: one name width and one bar width for all, so the bars line up. The figures are
 * what a bar is for and the name says whose they are; the bar takes what is left, down to BAR_WIDTH.min.
 */
function renderRows(entries: readonly Row[], width: number): string[] {
  const names = entries.map((entry) => entry.name.replace(/^https?:\/\//u, '')); // A URL's scheme says nothing its host does not.
  const figures = entries.map(rowFigures);
  const room = width - 1 - Math.max(0, ...figures.map((text) => text.length));
  const barWidth = Math.min(BAR_WIDTH.max, Math.max(BAR_WIDTH.min, room - NAME_MIN_WIDTH - 3));
  const nameWidth = Math.min(Math.max(0, ...names.map((name) => name.length)), Math.max(10, room - barWidth - 3));
  return entries.map((entry, index) => {
    const filled = Math.round(fractionDone(entry) * barWidth);
    const bar = ` [${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}]`;
    return `${fitName(names[index], nameWidth)}${bar}${figures[index]}`.slice(0, width - 1);
  });
}

/** What a row says after its bar: progress, speed, ETA and state; or, once done, what the file took. */
function rowFigures(entry: Row): string {
  const percent = `${(fractionDone(entry) * 100).toFixed(0).padStart(3)}%`;
  const retries = entry.retries ? ` retries ${entry.retries}` : '';
  if (entry.finished) {
    const { durationMs, bytesThisRun } = entry.finished;
    const average = durationMs > 0 ? ` ${formatBytes(Math.round((bytesThisRun * 1000) / durationMs))}/s avg` : '';
    return ` ${percent} ${formatBytes(entry.bytes)} in ${formatDuration(durationMs)}${average} done${retries}`;
  }
  const eta = entry.size && entry.speed > 0 ? formatDuration(((entry.size - entry.bytes) / entry.speed) * 1000) : '--:--';
  const sizes = `${formatBytes(entry.bytes)}/${entry.size === null ? '?' : formatBytes(entry.size)}`;
  return ` ${percent} ${sizes} ${formatBytes(Math.round(entry.speed))}/s ETA ${eta} conn ${entry.connections} ${entry.status}${retries}`;
}

/** How much of a file is there, 0 to 1 (0 while its size is unknown). */
function fractionDone(entry: Row): number {
  return entry.size ? Math.min(1, entry.bytes / entry.size) : 0;
}

/**
 * A name cut to `width` in the middle, not at the end: a URL's file name is at its end and its host at its start,
 * and both say which download a bar is ("http://127.0.0.1:8080/files…" said neither).
 */
export function fitName(name: string, width: number): string {
  if (name.length <= width) return name.padEnd(width);
  const head = Math.floor((width - 1) * 0.4);
  return `${name.slice(0, head)}…${name.slice(name.length - (width - 1 - head))}`;
}

/** True for the message of a download paused by a full disk that resumes by itself. */
function waitsForSpace(error: string | null): boolean {
  return error !== null && error.startsWith(SPACE_WAIT_PREFIX);
}

/**
 * One line per event worth a line. It remembers each download's last state: a full disk pauses a download (its
 * error event then says "paused", not "failed", since nothing is lost), the wait for space gets a line each time
 * what it needs or what is free changes, and the resume after it gets its own line.
 */
function describer(options: ReporterOptions): (event: DownloadEvent) => string | null {
  const last = new Map<string, { state: string; error: string | null }>();
  return (event) => {
    const before = last.get(event.downloadId);
    switch (event.type) {
      case 'start':
        return `${event.fileId}: starting${event.resumedBytes > 0 ? ` (resuming at ${formatBytes(event.resumedBytes)})` : ''}`;
      case 'retry':
        return `${event.fileId}: retry ${event.attempt} in ${formatDuration(event.delayMs)}: ${event.reason}`;
      case 'restart':
        return `${event.fileId}: starting over: ${event.reason}`;
      case 'done':
        return `${event.fileId}: done → ${event.finalPath} (${formatBytes(event.sizeBytes)}, sha256 ${event.sha256.slice(0, 16)}…, ${formatDuration(event.durationMs)})`;
      case 'error':
        if (before?.state !== 'paused') return `${event.fileId}: failed: ${event.message}`;
        // Its advice ("run the same command again") is not what happens when the process waits: the next line says that.
        if (options.waitForSpace && /\(ENOSPC\)/.test(event.message)) return null;
        return `${event.fileId}: paused: ${event.message}`;
      case 'state': {
        last.set(event.downloadId, { state: event.state, error: event.error });
        if (event.state === 'paused' && waitsForSpace(event.error)) return `${event.fileId}: paused, ${event.error}`;
        if (event.state === 'queued' && before?.state === 'paused' && waitsForSpace(before.error)) return `${event.fileId}: disk space is back: resuming`;
        return null;
      }
      default:
        return null;
    }
  };
}
