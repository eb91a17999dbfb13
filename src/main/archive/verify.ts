// Verifies the archive against its catalog: re-hashes every file and reports missing, changed and unknown files.
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { sha256File } from '../engine/file-hash.ts';
import { isArchiveMonth, listMonthEntriesByPath, listMonths, type ArchiveEntry } from '../store/archive-entries.ts';
import type { DataLayout } from './layout.ts';
import { scanMonthDir, scanRawMonths } from './reindex.ts';

export interface VerifyOptions {
  /** Only this month (YYYY-MM); default every month in the catalog or on disk. */
  month?: string;
  /**
   * SHA-256 of an encrypted file's plaintext, computed by decrypting as a stream (the catalog's sha256 is of the
   * plaintext), e.g. plaintextSha256 of encryption.ts with the key. Without it, encrypted entries are skipped.
   */
  plaintextHash?: (absolutePath: string) => Promise<string>;
  /** Called after each catalog entry is checked, for progress on big archives. */
  onChecked?: (entry: ArchiveEntry, outcome: 'ok' | 'missing' | 'changed' | 'skipped') => void;
}

export interface ChangedFile {
  path: string;
  /** Why: the size differs, the hash differs, or it is no longer a regular file. */
  reason: string;
  expectedBytes: number;
  actualBytes: number | null;
  expectedSha256: string;
  /** Null when the size already differed (no need to read the file) or it is not a file. */
  actualSha256: string | null;
}

export interface VerifyReport {
  months: string[];
  /** Catalog entries examined. */
  checked: number;
  ok: number;
  bytesHashed: number;
  /** In the catalog, not on disk. */
  missing: string[];
  changed: ChangedFile[];
  /** On disk under raw/, not in the catalog (run `filehaul reindex` to add them). */
  unknown: string[];
  skipped: { path: string; reason: string }[];
}

const PAGE = 500;

/** Whether a report should fail the command: anything missing, changed or unknown. */
export function verifyFailed(report: VerifyReport): boolean {
  return report.missing.length > 0 || report.changed.length > 0 || report.unknown.length > 0;
}

/**
 * Checks every catalog entry of the chosen months against the file on disk (size first, then the SHA-256 of the
 * whole content, read as a stream), and looks for files on disk that the catalog does not know.
 */
export async function verifyArchive(db: Database.Database, layout: DataLayout, options: VerifyOptions = {}): Promise<VerifyReport> {
  if (options.month !== undefined && !isArchiveMonth(options.month)) {
    throw new RangeError(`Invalid month ${JSON.stringify(options.month)}: expected YYYY-MM`);
  }
  const report: VerifyReport = { months: [], checked: 0, ok: 0, bytesHashed: 0, missing: [], changed: [], unknown: [], skipped: [] };
  const disk = await scanRawMonths(layout);
  report.months =
    options.month !== undefined
      ? [options.month]
      : [...new Set([...listMonths(db).map((m) => m.month), ...disk.months])].sort();

  for (const month of report.months) {
    const known = new Set<string>();
    // Keyset pages, each a short synchronous query: the connection is free for the engine between files.
    for (let after = ''; ; ) {
      const page = listMonthEntriesByPath(db, month, after, PAGE);
      if (page.length === 0) break;
      after = page[page.length - 1].path;
      for (const entry of page) {
        known.add(entry.path);
        const outcome = await checkEntry(layout, entry, options, report);
        report.checked++;
        if (outcome === 'ok') report.ok++;
        options.onChecked?.(entry, outcome);
      }
    }
    const scan = await scanMonthDir(layout, month);
    for (const file of scan.files) if (!known.has(file.path)) report.unknown.push(file.path);
    // Links, sockets and unsafe names under raw/ are not archive files either.
    for (const skipped of scan.skipped) report.unknown.push(skipped.path);
  }
  // So is anything beside the month folders, when the whole archive is checked.
  if (options.month === undefined) for (const skipped of disk.skipped) report.unknown.push(skipped.path);
  return report;
}

async function checkEntry(
  layout: DataLayout,
  entry: ArchiveEntry,
  options: VerifyOptions,
  report: VerifyReport,
): Promise<'ok' | 'missing' | 'changed' | 'skipped'> {
  const absolute = path.join(layout.dataDir, ...entry.path.split('/'));
  const changed = (reason: string, actualBytes: number | null, actualSha256: string | null) => {
    report.changed.push({ path: entry.path, reason, expectedBytes: entry.sizeBytes, actualBytes, expectedSha256: entry.sha256, actualSha256 });
    return 'changed' as const;
  };
  let stats;
  try {
    stats = await lstat(absolute);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      report.missing.push(entry.path);
      return 'missing';
    }
    // One unreadable file must not end a verify of a million: it is reported and the rest are checked.
    return changed(`cannot be read (${code ?? (error as Error).message})`, null, null);
  }
  if (!stats.isFile()) return changed('no longer a regular file', null, null);
  try {
    return await checkContent(absolute, stats.size, entry, options, report, changed);
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    return changed(`cannot be ${entry.encrypted ? 'decrypted' : 'read'} (${why})`, stats.size, null);
  }
}

async function checkContent(
  absolute: string,
  size: number,
  entry: ArchiveEntry,
  options: VerifyOptions,
  report: VerifyReport,
  changed: (reason: string, actualBytes: number | null, actualSha256: string | null) => 'changed',
): Promise<'ok' | 'changed' | 'skipped'> {
  if (entry.encrypted) {
    if (!options.plaintextHash) {
      report.skipped.push({ path: entry.path, reason: 'encrypted, and no key to decrypt it was given' });
      return 'skipped';
    }
    // The size on disk is the ciphertext's, so only the plaintext hash can tell.
    const actual = await options.plaintextHash(absolute);
    report.bytesHashed += size;
    return actual === entry.sha256 ? 'ok' : changed('the decrypted content has another SHA-256', size, actual);
  }

  if (size !== entry.sizeBytes) return changed(`size is ${size} bytes, the catalog says ${entry.sizeBytes}`, size, null);
  const actual = await sha256File(absolute);
  report.bytesHashed += size;
  return actual === entry.sha256 ? 'ok' : changed('the content has another SHA-256', size, actual);
}
