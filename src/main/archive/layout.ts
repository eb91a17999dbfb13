// Data directory layout: where finished files, manifests, in-flight parts, logs and the catalog live.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

/** Absolute paths of everything under one data directory. */
export interface DataLayout {
  dataDir: string;
  /** Finished files, by archive month: raw/YYYY-MM/<file>. */
  rawDir: string;
  /** Month manifests: meta/YYYY-MM.json. */
  metaDir: string;
  /** In-flight downloads only: tmp/<download>.part. */
  tmpDir: string;
  logsDir: string;
  dbPath: string;
}

// Download ids name files, so they are kept to characters every file system accepts and no path can hide in.
const DOWNLOAD_ID = /^[A-Za-z0-9_-]{1,64}$/u;

// RFC 3339 / ISO 8601 as the Files API sends it (`2025-04-15T18:37:24.100435Z`). Date.parse alone is too lenient
// (`"1"` parses as 2001), so only this shape is trusted; anything else files under the current month.
const ISO_TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?)?$/u;

export function dataLayout(dataDir: string): DataLayout {
  const root = path.resolve(dataDir);
  return {
    dataDir: root,
    rawDir: path.join(root, 'raw'),
    metaDir: path.join(root, 'meta'),
    tmpDir: path.join(root, 'tmp'),
    logsDir: path.join(root, 'logs'),
    dbPath: path.join(root, 'filehaul.db'),
  };
}

/**
 * The archive month (YYYY-MM, UTC) of a source creation time. A missing or unparsable time falls back to the
 * month of `now`, so a file without metadata still gets a stable, sensible home.
 */
export function archiveMonth(createdAt: string | null, now: Date = new Date()): string {
  const parsed = createdAt == null ? null : parseTimestamp(createdAt.trim());
  const when = parsed ?? now;
  if (Number.isNaN(when.getTime())) throw new RangeError('archiveMonth: `now` is an invalid Date');
  return formatMonth(when);
}

function formatMonth(when: Date): string {
  const year = when.getUTCFullYear();
  const month = when.getUTCMonth() + 1;
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}`;
}

function parseTimestamp(text: string): Date | null {
  const m = ISO_TIMESTAMP.exec(text);
  if (m === null) return null;
  const [, y, mo, d, hh, mm, ss, zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  // Date.parse rolls 2024-02-31 over to March; a date that does not exist is not trusted at all.
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hh !== undefined && (Number(hh) > 23 || Number(mm) > 59 || (ss !== undefined && Number(ss) > 60))) return null;
  // Without an offset Date.parse would use local time for date-times; the archive is UTC, so say so.
  let iso = text.replace(/^(\d{4}-\d{2}-\d{2})[t ]/iu, '$1T');
  if (hh !== undefined && zone === undefined) iso += 'Z';
  // Leap seconds (:60) are legal RFC 3339 but Date.parse rejects them; the month is unaffected by a second.
  if (ss === '60') iso = iso.slice(0, 17) + '59' + iso.slice(19);
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return null;
  const when = new Date(ms);
  // An offset can push year 9999 into year 10000, which no longer fits YYYY-MM.
  return when.getUTCFullYear() > 9999 ? null : when;
}

function daysInMonth(year: number, month: number): number {
  // Computed by hand: Date.UTC maps years 0-99 to 1900-1999, which gets year 0's leap day wrong.
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
}

/** tmp/<downloadId>.part; the id is checked so a corrupt row can never point outside tmp/. */
export function partFilePath(layout: DataLayout, downloadId: string): string {
  if (typeof downloadId !== 'string' || !DOWNLOAD_ID.test(downloadId)) {
    throw new Error(`Invalid download id ${JSON.stringify(downloadId)}: expected 1-64 characters of A-Z, a-z, 0-9, _ or -`);
  }
  return path.join(layout.tmpDir, `${downloadId}.part`);
}

/**
 * Creates raw/, meta/, tmp/ and logs/ and proves each (and the data dir itself) is writable, so a read-only
 * or full disk fails at startup with one clear sentence instead of mid-download.
 */
export async function ensureDataDirs(layout: DataLayout): Promise<void> {
  const dirs = [layout.dataDir, layout.rawDir, layout.metaDir, layout.tmpDir, layout.logsDir];
  try {
    for (const dir of dirs) await mkdir(dir, { recursive: true });
    for (const dir of dirs) await probeWritable(dir);
  } catch (error) {
    throw new Error(`Cannot write to the data directory ${layout.dataDir}: ${reason(error)}`, { cause: error });
  }
}

async function probeWritable(dir: string): Promise<void> {
  // A unique name so two processes starting at once never trip over each other's probe.
  const probe = path.join(dir, `.filehaul-probe-${process.pid}-${randomBytes(6).toString('hex')}`);
  await writeFile(probe, 'ok', { flag: 'wx' });
  await rm(probe, { force: true });
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
