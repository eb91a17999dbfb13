// Month manifests (meta/YYYY-MM.json): the archive describing itself without the app — format, serialisation and strict parsing.
import path from 'node:path';
import type { ArchiveEntry, ArchiveSourceKind, NewArchiveEntry } from '../store/archive-entries.ts';
import { isArchiveMonth, monthOfPath } from '../store/archive-entries.ts';
import type { DataLayout } from './layout.ts';

export const MANIFEST_FORMAT = 'filehaul-month-manifest';
export const MANIFEST_VERSION = 1;

/** One file as a manifest lists it; snake_case like the rest of the on-disk and JSON output. */
export interface ManifestFile {
  /** The Files API id; null for URL downloads and unknown files. */
  file_id: string | null;
  /** The name as the source gave it. */
  filename: string;
  /** Relative to the data dir, with forward slashes: raw/YYYY-MM/<name on disk>. */
  path: string;
  size_bytes: number;
  /** SHA-256 of the content (the plaintext when encrypted). */
  sha256: string;
  mime_type: string | null;
  created_at: string | null;
  downloaded_at: string;
  source: ArchiveSourceKind;
  /** The URL of a URL download, else null. */
  url: string | null;
  etag: string | null;
  encrypted: boolean;
  /** The local download that produced it, so a reindex can link the entry back; null when unknown. */
  download_id: string | null;
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  version: typeof MANIFEST_VERSION;
  month: string;
  files: ManifestFile[];
}

const MANIFEST_NAME = /^(\d{4}-(?:0[1-9]|1[0-2]))\.json$/u;
const SHA256 = /^[0-9a-f]{64}$/u;
const SOURCES: readonly ArchiveSourceKind[] = ['files-api', 'url', 'unknown'];

export function manifestPath(layout: DataLayout, month: string): string {
  if (!isArchiveMonth(month)) throw new RangeError(`Invalid month ${JSON.stringify(month)}: expected YYYY-MM`);
  return path.join(layout.metaDir, `${month}.json`);
}

/** The month a file name in meta/ is the manifest of, or null for anything else (temp files, notes). */
export function monthOfManifestName(name: string): string | null {
  return MANIFEST_NAME.exec(name)?.[1] ?? null;
}

export function toManifestFile(entry: ArchiveEntry): ManifestFile {
  return {
    file_id: entry.fileId,
    filename: entry.filename,
    path: entry.path,
    size_bytes: entry.sizeBytes,
    sha256: entry.sha256,
    mime_type: entry.mimeType,
    created_at: entry.createdAt,
    downloaded_at: entry.downloadedAt,
    source: entry.sourceKind,
    url: entry.sourceKind === 'url' ? entry.sourceRef : null,
    etag: entry.etag,
    encrypted: entry.encrypted,
    download_id: entry.downloadId,
  };
}

export function fromManifestFile(file: ManifestFile): NewArchiveEntry {
  return {
    downloadId: file.download_id,
    sourceKind: file.source,
    sourceRef: file.source === 'url' ? file.url : file.source === 'files-api' ? file.file_id : null,
    fileId: file.file_id,
    filename: file.filename,
    path: file.path,
    sizeBytes: file.size_bytes,
    sha256: file.sha256,
    mimeType: file.mime_type,
    createdAt: file.created_at,
    downloadedAt: file.downloaded_at,
    etag: file.etag,
    encrypted: file.encrypted,
  };
}

/**
 * The text of a manifest in pieces, one file per line: readable, diffable and greppable, yet written in chunks
 * so a huge month never becomes one giant string.
 */
export function manifestHead(month: string): string {
  return `{\n  "format": ${JSON.stringify(MANIFEST_FORMAT)},\n  "version": ${MANIFEST_VERSION},\n  "month": ${JSON.stringify(month)},\n  "files": [`;
}

export function manifestLine(file: ManifestFile, first: boolean): string {
  return `${first ? '\n' : ',\n'}    ${JSON.stringify(file)}`;
}

export function manifestTail(empty: boolean): string {
  return `${empty ? '' : '\n  '}]\n}\n`;
}

/** A manifest that parsed, and what in it was unusable (each problem names the file's index or path). */
export interface ParsedManifest {
  month: string;
  files: ManifestFile[];
  problems: string[];
}

/**
 * Parses and checks a manifest. A manifest is input like any other: it may be old, hand-edited or hostile, so
 * every field is checked and every path must stay inside raw/<its month>/ — a bad entry is dropped with a
 * problem, never followed. Throws only when the document as a whole is unusable.
 */
export function parseManifest(text: string, expectedMonth: string): ParsedManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new Error(`not valid JSON (${(error as Error).message})`, { cause: error });
  }
  if (!isObject(doc)) throw new Error('not a JSON object');
  if (doc.format !== MANIFEST_FORMAT) throw new Error(`format is ${JSON.stringify(doc.format)}, expected "${MANIFEST_FORMAT}"`);
  if (doc.version !== MANIFEST_VERSION) {
    throw new Error(`version ${JSON.stringify(doc.version)} is not one this Filehaul reads (it reads version ${MANIFEST_VERSION})`);
  }
  if (doc.month !== expectedMonth) throw new Error(`it says month ${JSON.stringify(doc.month)} but is named ${expectedMonth}.json`);
  if (!Array.isArray(doc.files)) throw new Error('"files" is not an array');

  const files: ManifestFile[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  doc.files.forEach((item: unknown, index: number) => {
    const problem = checkFile(item, expectedMonth);
    if (problem !== null) {
      const where = isObject(item) && typeof item.path === 'string' ? JSON.stringify(item.path) : `#${index}`;
      problems.push(`file ${where}: ${problem}`);
      return;
    }
    const file = item as ManifestFile;
    if (seen.has(file.path)) {
      problems.push(`file ${JSON.stringify(file.path)}: listed twice; the first listing is kept`);
      return;
    }
    seen.add(file.path);
    files.push(normalise(file));
  });
  return { month: expectedMonth, files, problems };
}

/** Why an item is not a usable manifest file, or null when it is. */
function checkFile(item: unknown, month: string): string | null {
  if (!isObject(item)) return 'not an object';
  if (typeof item.path !== 'string' || !isSafeArchivePath(item.path)) return 'path is not a plain raw/YYYY-MM/<name> path';
  if (monthOfPath(item.path) !== month) return `path is not under raw/${month}/`;
  if (typeof item.filename !== 'string' || item.filename === '') return 'filename is missing';
  if (!Number.isSafeInteger(item.size_bytes) || (item.size_bytes as number) < 0) return 'size_bytes is not a byte count';
  if (typeof item.sha256 !== 'string' || !SHA256.test(item.sha256)) return 'sha256 is not 64 lowercase hex digits';
  if (typeof item.downloaded_at !== 'string' || item.downloaded_at === '') return 'downloaded_at is missing';
  if (!SOURCES.includes(item.source as ArchiveSourceKind)) return `source ${JSON.stringify(item.source)} is unknown`;
  if (typeof item.encrypted !== 'boolean') return 'encrypted is not true or false';
  for (const key of ['file_id', 'mime_type', 'created_at', 'url', 'etag', 'download_id'] as const) {
    // Older or hand-written manifests may leave optional fields out; present ones must be strings or null.
    if (item[key] !== undefined && item[key] !== null && typeof item[key] !== 'string') return `${key} is not a string or null`;
  }
  return null;
}

function normalise(file: ManifestFile): ManifestFile {
  return {
    file_id: file.file_id ?? null,
    filename: file.filename,
    path: file.path,
    size_bytes: file.size_bytes,
    sha256: file.sha256,
    mime_type: file.mime_type ?? null,
    created_at: file.created_at ?? null,
    downloaded_at: file.downloaded_at,
    source: file.source,
    url: file.url ?? null,
    etag: file.etag ?? null,
    encrypted: file.encrypted,
    download_id: file.download_id ?? null,
  };
}

/**
 * True for raw/YYYY-MM/<one or more plain components>: no empty, `.` or `..` component, no backslash, drive,
 * control character or NUL, so joining it to the data dir can only ever land inside raw/.
 */
export function isSafeArchivePath(archivePath: string): boolean {
  if (monthOfPath(archivePath) === null) return false;
  if (/[\\\u0000-\u001f\u007f]/u.test(archivePath)) return false;
  return archivePath.split('/').every((part) => part !== '' && part !== '.' && part !== '..' && !/^[A-Za-z]:/u.test(part));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
