// Rebuilds the archive catalog from the month manifests and the files under raw/, so losing filehaul.db loses nothing.
import { lstat, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { sha256File } from '../engine/file-hash.ts';
import { clearArchiveEntries, isArchiveMonth, listMonths, recordArchivedFile, type NewArchiveEntry } from '../store/archive-entries.ts';
import { claimManifestWrite, monthGenerations } from '../store/dirty-months.ts';
import type { DataLayout } from './layout.ts';
import { fromManifestFile, isSafeArchivePath, manifestPath, monthOfManifestName, parseManifest, type ManifestFile } from './manifest.ts';
import { writeDirtyManifests, writeMonthManifest } from './manifest-writer.ts';

export interface ReindexReport {
  /** Months the rebuilt catalog holds, oldest first. */
  months: string[];
  /** Rows in the rebuilt catalog. */
  entries: number;
  /** Of those, taken from manifests. */
  fromManifests: number;
  /** Files on disk that no manifest listed: added with their sha256 computed and source 'unknown'. */
  unmanifested: { path: string; sizeBytes: number; sha256: string }[];
  /** Manifest entries whose file is gone. They stay in the catalog (verify reports them) so the record is not lost. */
  missingFiles: string[];
  /** Manifest entries whose file has another size now (verify tells whether the content changed). */
  sizeMismatches: { path: string; manifestBytes: number; diskBytes: number }[];
  /** Unreadable manifests and dropped manifest entries, one sentence each. */
  manifestProblems: string[];
  /** Things under raw/ that cannot be archive files (not a month folder, not a regular file, an unsafe name). */
  skipped: string[];
  /** Months whose manifest was rewritten because the catalog now knows more (or less) than it listed. */
  manifestsRewritten: string[];
}

/** Something under raw/ that cannot be an archive file, and why. */
export interface SkippedPath {
  path: string;
  reason: string;
}

/** What scanning raw/ found. */
export interface DiskScan {
  /** Month folders, oldest first. */
  months: string[];
  skipped: SkippedPath[];
}

// Files operating systems drop into any folder someone browses (Finder, Explorer): never archive files.
const OS_METADATA = /^(?:\.DS_Store|\._.*|Thumbs\.db|desktop\.ini|\.Spotlight-V100|\.Trashes|\.fseventsd)$/u;

/** One regular file in a month folder: its archive path and size. */
export interface DiskFile {
  path: string;
  sizeBytes: number;
  mtime: Date;
}

/**
 * Rebuilds archive_entries. The catalog is the newer truth while it exists, so months it holds that are not yet
 * in their manifests are written out first; then every row is replaced by what the manifests list, plus the
 * files on disk that no manifest lists. Safe to run again at any time.
 */
export async function reindex(db: Database.Database, layout: DataLayout): Promise<ReindexReport> {
  const flushed = await writeDirtyManifests(db, layout);
  if (flushed.failed.length > 0) {
    const { month, error } = flushed.failed[0];
    // Rebuilding now would drop what only the catalog knows about that month.
    throw new Error(`Cannot reindex: the manifest of ${month} could not be brought up to date first (${error.message})`, { cause: error });
  }

  const report: ReindexReport = {
    months: [],
    entries: 0,
    fromManifests: 0,
    unmanifested: [],
    missingFiles: [],
    sizeMismatches: [],
    manifestProblems: [],
    skipped: [],
    manifestsRewritten: [],
  };
  const disk = await scanRawMonths(layout);
  report.skipped.push(...disk.skipped.map(describeSkipped));
  const manifestMonths = await listManifestMonths(layout);
  const months = [...new Set([...disk.months, ...manifestMonths])].sort();

  db.transaction(() => clearArchiveEntries(db))();
  const rewrite: string[] = [];
  for (const month of months) {
    const changed = await reindexMonth(db, layout, month, manifestMonths.includes(month), report);
    if (changed) rewrite.push(month);
  }
  for (const month of rewrite) {
    const result = await writeMonthManifest(db, layout, month);
    if (result === 'written' || result === 'removed') report.manifestsRewritten.push(month);
  }
  const summary = listMonths(db).reverse();
  report.months = summary.map((row) => row.month);
  report.entries = summary.reduce((sum, row) => sum + row.fileCount, 0);
  return report;
}

/** Rebuilds one month; returns true when the catalog now differs from the month's manifest. */
async function reindexMonth(db: Database.Database, layout: DataLayout, month: string, hasManifest: boolean, report: ReindexReport): Promise<boolean> {
  let listed: ManifestFile[] = [];
  let manifestUsable = false;
  if (hasManifest) {
    try {
      const parsed = parseManifest(await readFile(manifestPath(layout, month), 'utf8'), month);
      listed = parsed.files;
      manifestUsable = parsed.problems.length === 0;
      report.manifestProblems.push(...parsed.problems.map((problem) => `meta/${month}.json: ${problem}`));
    } catch (error) {
      report.manifestProblems.push(`meta/${month}.json: ${(error as Error).message}; its files are indexed as unknown`);
    }
  }

  const scan = await scanMonthDir(layout, month);
  report.skipped.push(...scan.skipped.map(describeSkipped));
  const onDisk = new Map(scan.files.map((file) => [file.path, file]));
  const entries: NewArchiveEntry[] = [];
  for (const file of listed) {
    const found = onDisk.get(file.path);
    if (!found) report.missingFiles.push(file.path);
    else if (found.sizeBytes !== file.size_bytes) report.sizeMismatches.push({ path: file.path, manifestBytes: file.size_bytes, diskBytes: found.sizeBytes });
    onDisk.delete(file.path);
    entries.push(fromManifestFile(file));
  }
  report.fromManifests += entries.length;
  // What is left on disk is unknown to every manifest: hash it (streaming) before the transaction.
  for (const file of onDisk.values()) {
    const sha256 = await sha256File(path.join(layout.dataDir, file.path));
    report.unmanifested.push({ path: file.path, sizeBytes: file.sizeBytes, sha256 });
    entries.push(unknownEntry(file, sha256));
  }

  const differs = !manifestUsable || onDisk.size > 0;
  db.transaction(() => {
    for (const entry of entries) recordArchivedFile(db, entry);
    // Recording marked the month dirty; when the manifest already says exactly this, say so instead of rewriting it.
    if (!differs) claimManifestWrite(db, month, monthGenerations(db, month).generation);
  })();
  return differs;
}

function unknownEntry(file: DiskFile, sha256: string): NewArchiveEntry {
  return {
    downloadId: null,
    sourceKind: 'unknown',
    sourceRef: null,
    fileId: null,
    filename: path.posix.basename(file.path),
    path: file.path,
    sizeBytes: file.sizeBytes,
    sha256,
    mimeType: null,
    createdAt: null,
    // The best guess of when it arrived.
    downloadedAt: file.mtime.toISOString(),
    etag: null,
    encrypted: false,
  };
}

/** The month folders under raw/ (YYYY-MM), and anything else found there. */
export async function scanRawMonths(layout: DataLayout): Promise<DiskScan> {
  const scan: DiskScan = { months: [], skipped: [] };
  for (const entry of await readdirOrEmpty(layout.rawDir)) {
    if (entry.isDirectory() && isArchiveMonth(entry.name)) scan.months.push(entry.name);
    else scan.skipped.push({ path: `raw/${entry.name}`, reason: 'not a month folder (YYYY-MM)' });
  }
  scan.months.sort();
  return scan;
}

/**
 * Every regular file under raw/YYYY-MM/ (sub-folders included), in path order. Symbolic links are not followed:
 * an archive holds files, and a link could point anywhere. Operating-system litter (.DS_Store, Thumbs.db…) is
 * passed over silently.
 */
export async function scanMonthDir(layout: DataLayout, month: string): Promise<{ files: DiskFile[]; skipped: SkippedPath[] }> {
  const files: DiskFile[] = [];
  const skipped: SkippedPath[] = [];
  const walk = async (relative: string): Promise<void> => {
    for (const entry of await readdirOrEmpty(path.join(layout.dataDir, ...relative.split('/')))) {
      const child = `${relative}/${entry.name}`;
      if (OS_METADATA.test(entry.name)) {
        continue;
      } else if (entry.isDirectory()) {
        await walk(child);
      } else if (!entry.isFile()) {
        skipped.push({ path: child, reason: 'not a regular file' });
      } else if (!isSafeArchivePath(child)) {
        skipped.push({ path: child, reason: 'a name Filehaul cannot index safely' });
      } else {
        const stats = await lstat(path.join(layout.dataDir, ...child.split('/')));
        files.push({ path: child, sizeBytes: stats.size, mtime: stats.mtime });
      }
    }
  };
  await walk(`raw/${month}`);
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files, skipped };
}

function describeSkipped(skipped: SkippedPath): string {
  return `${skipped.path}: ${skipped.reason}`;
}

async function listManifestMonths(layout: DataLayout): Promise<string[]> {
  const months: string[] = [];
  for (const entry of await readdirOrEmpty(layout.metaDir)) {
    const month = entry.isFile() ? monthOfManifestName(entry.name) : null;
    if (month) months.push(month);
  }
  return months.sort();
}

async function readdirOrEmpty(dir: string) {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}
