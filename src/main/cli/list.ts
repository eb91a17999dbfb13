// `filehaul list`: the account's files (GET /v1/files, every page) as a table or JSON lines, marking those already archived.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { isAbort } from '../engine/errors.ts';
import { FilehaulService, type ServiceOptions } from '../service.ts';
import { parseApiBase } from '../sources/files-api.ts';
import { DEFAULT_LIST_LIMIT, listRemoteFiles, MAX_LIST_LIMIT, type ListRetryInfo, type RemoteFile } from '../sources/files-list.ts';
import { findLatestBySource } from '../store/index.ts';
import { formatBytes } from './format.ts';
import type { CommandIo } from './get.ts';
import { COMMON_OPTIONS, serviceOptions, UsageError, type CommonValues } from './options.ts';

export const LIST_HELP = `Usage: filehaul list [options]

Lists every file of the account (all pages of GET /v1/files): id, name, size, created (UTC), downloadable.
A ✓ (JSON: "archived": true) marks files already complete in the archive under --dir.

Options:
  --dir DIR              data directory whose archive is checked (default ./data)
  --api-base URL         Files API base (default https://api.anthropic.com)
  --api-key-file PATH    read the API key from a file instead of ANTHROPIC_API_KEY
  --limit N              files per list request, 1-${MAX_LIST_LIMIT} (default ${DEFAULT_LIST_LIMIT})
  --max-retries N        retries per list request (default 5)
  --json                 one JSON object per file per line
`;

/** The common options plus the list page size; `sync` takes the same set. */
export const LIST_OPTIONS = { ...COMMON_OPTIONS, limit: { type: 'string' } } as const;

export type ListValues = CommonValues & { limit?: string };

export function parseListCommand(args: readonly string[]): { values: ListValues; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: [...args], options: LIST_OPTIONS, allowPositionals: true, strict: true });
    return { values: values as ListValues, positionals };
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
}

export function listLimit(values: ListValues): number {
  const text = values.limit;
  if (text === undefined) return DEFAULT_LIST_LIMIT;
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || value < 1 || value > MAX_LIST_LIMIT) throw new UsageError(`--limit must be a whole number from 1 to ${MAX_LIST_LIMIT}, got "${text}"`);
  return value;
}

/** The key and normalized base every list and sync request needs; checked before the data dir is touched. */
export function accountAccess(options: ServiceOptions): { apiKey: string; apiBase: string } {
  if (!options.apiKey) throw new UsageError('No API key: set ANTHROPIC_API_KEY or pass --api-key-file PATH.');
  return { apiKey: options.apiKey, apiBase: parseApiBase(options.apiBase) };
}

/** Where a file sits in the archive, or null: the same rule as `get` (a done download whose file is still there). */
export function archivedPath(service: FilehaulService, apiBase: string, fileId: string): string | null {
  const record = findLatestBySource(service.db, 'files-api', fileId, apiBase);
  if (record?.state !== 'done' || !record.finalPath) return null;
  return existsSync(path.join(service.layout.dataDir, record.finalPath)) ? record.finalPath : null;
}

/** Text the API echoed back could hold the key; nothing that leaves the process may. */
export function redactKey(text: string, apiKey: string): string {
  return text.includes(apiKey) ? text.split(apiKey).join('[redacted]') : text;
}

/** An error from the command with the key scrubbed from its message (main prints the message). */
export function scrubbedError(error: unknown, apiKey: string): unknown {
  if (error instanceof UsageError || !(error instanceof Error) || !error.message.includes(apiKey)) return error;
  return new Error(redactKey(error.message, apiKey));
}

export function describeRetry(info: ListRetryInfo): string {
  return `listing: retry ${info.attempt} in ${(info.delayMs / 1000).toFixed(1)} s: ${info.reason}`;
}

export async function runList(args: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseListCommand(args);
  if (values.help) {
    io.stdout.write(LIST_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`list takes no arguments, got "${positionals[0]}" (see filehaul list --help)`);
  const limit = listLimit(values);
  const options = serviceOptions(values);
  const { apiKey, apiBase } = accountAccess(options);
  const service = await FilehaulService.open(options);
  const controller = new AbortController();
  const removeInterrupt = io.onInterrupt(() => controller.abort());
  const write = (text: string) => io.stdout.write(redactKey(text, apiKey));
  const totals = { files: 0, bytes: 0, archived: 0, notDownloadable: 0 };
  try {
    if (!values.json) write(`${tableHeader()}\n`);
    const files = listRemoteFiles(service.http, apiBase, apiKey, {
      limit,
      signal: controller.signal,
      retry: options.engine.backoff,
      onRetry: (info) => io.stderr.write(`filehaul: ${redactKey(describeRetry(info), apiKey)}\n`),
    });
    for await (const file of files) {
      const archived = archivedPath(service, apiBase, file.id);
      totals.files++;
      totals.bytes += file.sizeBytes;
      if (archived) totals.archived++;
      if (file.downloadable === false) totals.notDownloadable++;
      write(values.json ? `${JSON.stringify(jsonRow(file, archived))}\n` : `${tableRow(file, archived)}\n`);
    }
    if (!values.json) {
      write(`${totals.files} ${totals.files === 1 ? 'file' : 'files'} (${formatBytes(totals.bytes)}) at ${apiBase}: ${totals.archived} archived, ${totals.notDownloadable} not downloadable.\n`);
    }
    return 0;
  } catch (error) {
    if (controller.signal.aborted && isAbort(error)) {
      io.stderr.write('filehaul: interrupted\n');
      return 130;
    }
    throw scrubbedError(error, apiKey);
  } finally {
    removeInterrupt();
    await service.close();
  }
}

function jsonRow(file: RemoteFile, archived: string | null): Record<string, unknown> {
  return {
    id: file.id,
    filename: file.filename,
    size_bytes: file.sizeBytes,
    created_at: file.createdAt,
    mime_type: file.mimeType,
    downloadable: file.downloadable,
    archived: archived !== null,
    path: archived,
  };
}

const ID_WIDTH = 30;
const NAME_WIDTH = 40;

function tableHeader(): string {
  return `  ${'ID'.padEnd(ID_WIDTH)} ${'NAME'.padEnd(NAME_WIDTH)} ${'SIZE'.padStart(10)}  ${'CREATED (UTC)'.padEnd(16)}  DOWNLOADABLE`;
}

function tableRow(file: RemoteFile, archived: string | null): string {
  // Names come from the account: control characters would move the cursor or fake lines on the terminal.
  const clean = file.filename.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  const name = clean.length > NAME_WIDTH ? `${clean.slice(0, NAME_WIDTH - 1)}…` : clean.padEnd(NAME_WIDTH);
  const created = `${file.createdAt.slice(0, 10)} ${file.createdAt.slice(11, 16)}`;
  const downloadable = file.downloadable === null ? '?' : file.downloadable ? 'yes' : 'no';
  // Ids are never cut: people copy them into `filehaul get`.
  return `${archived ? '✓' : ' '} ${file.id.padEnd(ID_WIDTH)} ${name} ${formatBytes(file.sizeBytes).padStart(10)}  ${created.padEnd(16)}  ${downloadable}`;
}
