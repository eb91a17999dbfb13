// `filehaul months | ls | verify | reindex`: browse, search, check and rebuild the archive catalog.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { plaintextSha256 } from '../archive/encryption.ts';
import { defaultKeyFilePath, KEY_FILE_NAME, readIdentityFile } from '../archive/encryption-keys.ts';
import { toManifestFile } from '../archive/manifest.ts';
import { reindex, type ReindexReport } from '../archive/reindex.ts';
import { verifyArchive, verifyFailed, type VerifyReport } from '../archive/verify.ts';
import { FilehaulService } from '../service.ts';
import {
  DEFAULT_PAGE_SIZE,
  isArchiveMonth,
  listMonthFiles,
  listMonths,
  searchArchive,
  type ArchiveEntry,
  type ArchiveSort,
  type SearchMode,
} from '../store/archive-entries.ts';
import { formatBytes } from './format.ts';
import type { CommandIo } from './get.ts';
import { serviceOptions, UsageError } from './options.ts';

const WHERE_HELP = `  --dir DIR          data directory (default ./data, or storage.base_dir of config.ini)
  --config PATH      config.ini to read (default DIR/config.ini)
`;

export const MONTHS_HELP = `Usage: filehaul months [--dir DIR] [--json]

Lists the archive's months, newest first, with their file counts and sizes.

Options:
${WHERE_HELP}  --json             one JSON object per month
`;

export const LS_HELP = `Usage: filehaul ls [--month YYYY-MM] [--search TEXT] [options]

Lists one month's files (default: the newest month), or searches file names.
Across all months, a search of 3 or more characters finds names containing it (newest first) and one of
1-2 characters finds names starting with it (by name); within --month it finds names containing it (by name).

Options:
${WHERE_HELP}  --month YYYY-MM    the month to list or search in
  --search TEXT      find files by name (case-insensitive)
  --sort KEY         name (default), downloaded (newest first) or size (largest first)
  --offset N         skip the first N rows (default 0)
  --limit N          rows per page, 1-10000 (default ${DEFAULT_PAGE_SIZE})
  --json             one JSON object with the page, the total and the entries
`;

export const VERIFY_HELP = `Usage: filehaul verify [--month YYYY-MM] [--dir DIR] [--json]

Re-hashes every archived file and reports missing files, changed files and unknown files (on disk but not in
the catalog). Exits 1 if it found any.

Encrypted files are checked by decrypting them as a stream (their sha256 is of the plaintext); without a key
file they are skipped with a note.

Options:
${WHERE_HELP}  --month YYYY-MM    only this month
  --key-file PATH    the age identity for encrypted files (default DIR/${KEY_FILE_NAME})
  --json             the report as one JSON object
`;

export const REINDEX_HELP = `Usage: filehaul reindex [--dir DIR] [--json]

Rebuilds the archive catalog from the month manifests (meta/YYYY-MM.json) and the files under raw/, e.g. after
filehaul.db was lost. Files no manifest lists are added (and reported); listed files that are gone are reported.

Options:
${WHERE_HELP}  --json             the report as one JSON object
`;

// --dir and --config only: the data dir is found the way every command finds it (flags > environment >
// config.ini > defaults); the network settings mean nothing here.
const BASE_OPTIONS = {
  dir: { type: 'string' },
  config: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

interface BaseValues {
  dir?: string;
  config?: string;
  json: boolean;
  help: boolean;
}

export async function runMonths(args: readonly string[], io: CommandIo): Promise<number> {
  const values = parse(args, BASE_OPTIONS);
  if (values.help) return help(io, MONTHS_HELP);
  return withCatalog(values, async (service) => {
    const months = listMonths(service.db);
    if (values.json) {
      for (const m of months) io.stdout.write(`${JSON.stringify({ month: m.month, file_count: m.fileCount, total_bytes: m.totalBytes })}\n`);
      return 0;
    }
    if (months.length === 0) {
      io.stdout.write(`The archive in ${service.layout.dataDir} is empty.\n`);
      return 0;
    }
    for (const m of months) io.stdout.write(`${m.month}  ${plural(m.fileCount, 'file').padStart(16)}  ${formatBytes(m.totalBytes).padStart(10)}\n`);
    const files = months.reduce((sum, m) => sum + m.fileCount, 0);
    const bytes = months.reduce((sum, m) => sum + m.totalBytes, 0);
    io.stdout.write(`${plural(months.length, 'month')}, ${plural(files, 'file')}, ${formatBytes(bytes)}\n`);
    return 0;
  });
}

const LS_OPTIONS = {
  ...BASE_OPTIONS,
  month: { type: 'string' },
  search: { type: 'string' },
  sort: { type: 'string' },
  offset: { type: 'string', default: '0' },
  limit: { type: 'string', default: String(DEFAULT_PAGE_SIZE) },
} as const;

const SEARCH_DESCRIPTION: Record<SearchMode, string> = {
  substring: 'names containing it, newest first',
  'month-substring': 'names containing it, by name',
  prefix: 'names starting with it; type 3 or more characters to search inside names',
};

export async function runLs(args: readonly string[], io: CommandIo): Promise<number> {
  const values = parse(args, LS_OPTIONS) as BaseValues & { month?: string; search?: string; sort?: string; offset: string; limit: string };
  if (values.help) return help(io, LS_HELP);
  if (values.month !== undefined) checkMonth(values.month);
  const sort = values.sort ?? 'name';
  if (!['name', 'downloaded', 'size'].includes(sort)) throw new UsageError(`--sort must be name, downloaded or size, got "${sort}"`);
  const offset = wholeNumber(values.offset, 'offset', 0, Number.MAX_SAFE_INTEGER);
  const limit = wholeNumber(values.limit, 'limit', 1, 10_000);
  const search = values.search?.trim();
  if (values.search !== undefined && !search) throw new UsageError('--search needs some text');
  if (search && values.sort !== undefined) throw new UsageError('--sort applies to month listings; search results come in the order ls --help describes');

  return withCatalog(values, async (service) => {
    const db = service.db;
    let month = values.month;
    let entries: ArchiveEntry[];
    let total: number;
    let heading: string;
    let totalText: string;
    if (search) {
      const result = searchArchive(db, search, { month, offset, limit });
      ({ entries, total } = result);
      totalText = result.totalExact ? String(total) : `${total}+`;
      heading = `Search ${JSON.stringify(search)} in ${month ?? 'all months'}: ${totalText} ${total === 1 ? 'match' : 'matches'} (${SEARCH_DESCRIPTION[result.mode]})`;
      if (values.json) return json(io, { month: month ?? null, search, mode: result.mode, offset, limit, total, total_exact: result.totalExact, entries });
    } else {
      if (month === undefined) {
        month = listMonths(db)[0]?.month;
        if (month === undefined) {
          if (values.json) return json(io, { month: null, sort, offset, limit, total: 0, entries: [] });
          io.stdout.write(`The archive in ${service.layout.dataDir} is empty.\n`);
          return 0;
        }
      }
      ({ entries, total } = listMonthFiles(db, month, { sort: sort as ArchiveSort, offset, limit }));
      totalText = String(total);
      heading = `${month}: ${plural(total, 'file')}, sorted by ${sort}`;
      if (values.json) return json(io, { month, sort, offset, limit, total, entries });
    }

    io.stdout.write(`${heading}\n`);
    for (const entry of entries) io.stdout.write(`${renderEntry(entry, search !== undefined && values.month === undefined)}\n`);
    if (entries.length > 0) {
      const next = offset + entries.length < total ? `; next page: --offset ${offset + entries.length}` : '';
      io.stdout.write(`Showing ${offset + 1}-${offset + entries.length} of ${totalText}${next}\n`);
    } else if (total > 0) {
      io.stdout.write(`Nothing at offset ${offset} (${totalText} in all)\n`);
    }
    return 0;
  });
}

const VERIFY_OPTIONS = { ...BASE_OPTIONS, month: { type: 'string' }, 'key-file': { type: 'string' } } as const;

export async function runVerify(args: readonly string[], io: CommandIo): Promise<number> {
  const values = parse(args, VERIFY_OPTIONS) as BaseValues & { month?: string; 'key-file'?: string };
  if (values.help) return help(io, VERIFY_HELP);
  if (values.month !== undefined) checkMonth(values.month);
  return withCatalog(values, async (service) => {
    const plaintextHash = await plaintextHasher(values['key-file'], service.layout.dataDir);
    const report = await verifyArchive(service.db, service.layout, { month: values.month, plaintextHash });
    const failed = verifyFailed(report);
    if (values.json) {
      json(io, { failed, ...report });
    } else {
      writeVerifyReport(io, report);
    }
    return failed ? 1 : 0;
  });
}

/**
 * How encrypted files get checked: decrypted as a stream with the data dir's key file (or --key-file). Without a
 * key file they are skipped with a note; a key file that cannot be used fails each encrypted file with the reason
 * (never the key itself), so the other files are still checked.
 */
async function plaintextHasher(keyFile: string | undefined, dataDir: string): Promise<((file: string) => Promise<string>) | undefined> {
  let key: { identity: string } | Error;
  try {
    key = await readIdentityFile(keyFile ?? defaultKeyFilePath(dataDir));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') key = error as Error;
    else if (keyFile !== undefined) throw new UsageError(`--key-file: ${(error as Error).message}`);
    else return undefined;
  }
  return async (file) => {
    if (key instanceof Error) throw key;
    return plaintextSha256(file, key.identity);
  };
}

export async function runReindex(args: readonly string[], io: CommandIo): Promise<number> {
  const values = parse(args, BASE_OPTIONS);
  if (values.help) return help(io, REINDEX_HELP);
  // The rebuild is this command's whole job: the service must not do it by itself on open first.
  return withCatalog(values, async (service) => {
    const report = await reindex(service.db, service.layout);
    if (values.json) return json(io, report);
    writeReindexReport(io, report);
    return 0;
  }, { rebuildLostCatalog: false });
}

function writeVerifyReport(io: CommandIo, report: VerifyReport): void {
  for (const file of report.missing) io.stdout.write(`missing  ${printable(file)}\n`);
  for (const file of report.changed) io.stdout.write(`changed  ${printable(file.path)}: ${file.reason}\n`);
  for (const file of report.unknown) io.stdout.write(`unknown  ${printable(file)} (not in the catalog; filehaul reindex adds it)\n`);
  for (const file of report.skipped) io.stdout.write(`skipped  ${printable(file.path)}: ${file.reason}\n`);
  io.stdout.write(
    `Checked ${plural(report.checked, 'file')} (${formatBytes(report.bytesHashed)} hashed) in ${plural(report.months.length, 'month')}: ` +
      `${report.ok} ok, ${report.missing.length} missing, ${report.changed.length} changed, ${report.unknown.length} unknown, ${report.skipped.length} skipped\n`,
  );
}

function writeReindexReport(io: CommandIo, report: ReindexReport): void {
  for (const file of report.unmanifested) io.stdout.write(`added    ${printable(file.path)} (no manifest listed it; source unknown)\n`);
  for (const file of report.missingFiles) io.stdout.write(`missing  ${printable(file)} (listed in its manifest, not on disk; kept in the catalog)\n`);
  for (const file of report.sizeMismatches) io.stdout.write(`size     ${printable(file.path)}: ${file.diskBytes} bytes on disk, manifest says ${file.manifestBytes}\n`);
  for (const problem of report.manifestProblems) io.stdout.write(`problem  ${printable(problem)}\n`);
  for (const skipped of report.skipped) io.stdout.write(`skipped  ${printable(skipped)}\n`);
  io.stdout.write(
    `Reindexed ${plural(report.entries, 'file')} in ${plural(report.months.length, 'month')}: ${report.fromManifests} from manifests, ` +
      `${report.unmanifested.length} found without a manifest entry, ${report.missingFiles.length} missing on disk\n`,
  );
}

function renderEntry(entry: ArchiveEntry, showMonth: boolean): string {
  const when = entry.downloadedAt.slice(0, 16).replace('T', ' ');
  const onDisk = path.posix.basename(entry.path);
  const where = onDisk === entry.filename ? '' : `  → ${printable(entry.path)}`;
  const flags = entry.encrypted ? '  [encrypted]' : '';
  return `${showMonth ? `${entry.month}  ` : ''}${formatBytes(entry.sizeBytes).padStart(10)}  ${when}  ${printable(entry.filename)}${where}${flags}`;
}

/** Names come from remote sources: control characters (newlines, terminal escapes) must not reach the terminal raw. */
function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function json(io: CommandIo, value: Record<string, unknown> | ReindexReport): number {
  const replacer = (key: string, v: unknown) => (key === 'entries' && Array.isArray(v) ? (v as ArchiveEntry[]).map(entryJson) : v);
  io.stdout.write(`${JSON.stringify(value, replacer)}\n`);
  return 0;
}

/** An entry as JSON: the manifest's field names, plus the month. */
function entryJson(entry: ArchiveEntry): Record<string, unknown> {
  return { month: entry.month, ...toManifestFile(entry) };
}

async function withCatalog(values: BaseValues, run: (service: FilehaulService) => Promise<number>, extra: { rebuildLostCatalog?: boolean } = {}): Promise<number> {
  // The archive commands never talk to the API, so the service holds no key.
  const options = serviceOptions({ dir: values.dir, config: values.config, json: values.json, help: values.help });
  const service = await FilehaulService.open({ ...options, apiKey: null, ...extra });
  try {
    return await run(service);
  } finally {
    await service.close();
  }
}

function parse<T extends typeof BASE_OPTIONS>(args: readonly string[], options: T): BaseValues {
  try {
    return parseArgs({ args: [...args], options, allowPositionals: false, strict: true }).values as unknown as BaseValues;
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
}

function help(io: CommandIo, text: string): number {
  io.stdout.write(text);
  return 0;
}

function checkMonth(month: string): void {
  if (!isArchiveMonth(month)) throw new UsageError(`--month must be a month like 2025-03, got "${month}"`);
}

function wholeNumber(text: string, name: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/u.test(text.trim()) || value < min || value > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got "${text}"`);
  return value;
}

function plural(count: number, noun: string): string {
  return `${count.toLocaleString('en-US')} ${noun}${count === 1 ? '' : 's'}`;
}
