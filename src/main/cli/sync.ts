// `filehaul sync`: downloads every downloadable file of the account that is not yet in the archive, through the same path as `get`.
import { isAbort } from '../engine/errors.ts';
import type { DownloadSource, SourceDetails } from '../engine/source.ts';
import { FilehaulService } from '../service.ts';
import { listRemoteFiles, type RemoteFile } from '../sources/files-list.ts';
import type { CommandIo } from './get.ts';
import { accountAccess, describeRetry, listLimit, parseListCommand, redactKey, scrubbedError } from './list.ts';
import { serviceOptions, UsageError } from './options.ts';
import { jsonReporter, lineReporter, ttyReporter, type Reporter } from './reporters.ts';

export const SYNC_HELP = `Usage: filehaul sync [options]

Lists every file of the account and downloads each downloadable one that is not yet in DIR/raw/YYYY-MM/.
Files that are not downloadable (uploads) are skipped and counted. A second run fetches nothing new;
an interrupted run resumes where it stopped when run again. Exit 0 when every wanted file is archived.

Options:
  --dir DIR              data directory (default ./data)
  --connections N        parallel ranged requests per file, 1-32 (default 8)
  --parallel-files N     files downloading at once (default 3)
  --min-split SIZE       smallest range worth its own request (default 1M)
  --max-retries N        retries per request before the file (or the listing) fails (default 5)
  --connect-timeout S    seconds to connect (default 30)
  --read-timeout S       seconds of silence before a request counts as stalled (default 600)
  --api-base URL         Files API base (default https://api.anthropic.com)
  --api-key-file PATH    read the API key from a file instead of ANTHROPIC_API_KEY
  --limit N              files per list request, 1-1000 (default 100)
  --json                 one JSON object per line per event, and a closing "summary" line
`;

interface Counts {
  remote: number;
  downloaded: number;
  alreadyArchived: number;
  skipped: number;
  failed: number;
  unfinished: number;
}

export async function runSync(args: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseListCommand(args);
  if (values.help) {
    io.stdout.write(SYNC_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`sync takes no file ids, got "${positionals[0]}" (use filehaul get for single files)`);
  const limit = listLimit(values);
  const options = serviceOptions(values);
  const { apiKey, apiBase } = accountAccess(options);
  const service = await FilehaulService.open(options);
  const out = { ...io.stdout, write: (text: string) => io.stdout.write(redactKey(text, apiKey)) };
  const reporter: Reporter = values.json ? jsonReporter(out) : io.stdout.isTTY ? ttyReporter(out) : lineReporter(out);
  const stopListening = service.onEvent((event) => reporter.handle(event));
  const controller = new AbortController();
  let interrupted = false;
  const removeInterrupt = io.onInterrupt(() => {
    interrupted = true;
    controller.abort();
    service.pauseAll();
  });
  const counts: Counts = { remote: 0, downloaded: 0, alreadyArchived: 0, skipped: 0, failed: 0, unfinished: 0 };
  const failures: string[] = [];
  const quiet = { bytes_downloaded: 0, duration_ms: 0, retry_count: 0 };

  /** One listed file through prepare + download, exactly as `get` would take its id. */
  const syncOne = async (file: RemoteFile): Promise<void> => {
    const [item] = service.prepare([file.id]);
    if ('error' in item) {
      counts.failed++;
      failures.push(`${file.id}: ${item.error}`);
      reporter.note(`${file.id}: refused: ${item.error}`, { event: 'error', file_id: file.id, error: item.error, ...quiet });
      return;
    }
    if (item.alreadyDone) {
      counts.alreadyArchived++;
      // One line per archived file on every run would bury the news in text mode; scripts still get them.
      if (values.json) {
        reporter.note('', { event: 'done', file_id: file.id, download_id: item.record.id, path: item.record.finalPath, sha256: item.record.sha256, size_bytes: item.record.sizeBytes, ...quiet, already_archived: true });
      }
      return;
    }
    const outcome = await service.download(item.record, withListedDetails(item.source, file));
    if (outcome.state === 'done') counts.downloaded++;
    else if (outcome.state === 'failed') {
      counts.failed++;
      failures.push(`${file.id}: ${outcome.message}`);
    } else if (!interrupted) {
      counts.failed++;
      failures.push(`${file.id}: paused`);
    } else counts.unfinished++;
  };

  try {
    // The whole list first: it costs one request per --limit files, and a listing that fails stops the sync before any download.
    const wanted: RemoteFile[] = [];
    const files = listRemoteFiles(service.http, apiBase, apiKey, {
      limit,
      signal: controller.signal,
      retry: options.engine.backoff,
      // Text mode says it on stderr at once (a live view would only draw it at the end); JSON mode keeps it in the event stream.
      onRetry: (info) => {
        if (values.json) reporter.note('', { event: 'retry', file_id: null, scope: 'list', attempt: info.attempt, delay_ms: info.delayMs, reason: info.reason, ...quiet });
        else io.stderr.write(`filehaul: ${redactKey(describeRetry(info), apiKey)}\n`);
      },
    });
    try {
      for await (const file of files) {
        counts.remote++;
        if (file.downloadable === false) {
          counts.skipped++;
          if (values.json) reporter.note('', { event: 'skipped', file_id: file.id, filename: file.filename, reason: 'not downloadable (the Files API only lets you download files created by Claude)', ...quiet });
          continue;
        }
        wanted.push(file);
      }
    } catch (error) {
      if (!(interrupted && isAbort(error))) throw error;
    }
    // A small pool of `parallel-files` workers rather than queueing everything in the engine: an interrupt then
    // stops at the files in flight, and no lock files or queued rows pile up for files not yet reached.
    let next = 0;
    const worker = async () => {
      while (!interrupted && next < wanted.length) await syncOne(wanted[next++]);
    };
    await Promise.all(Array.from({ length: Math.min(options.engine.parallelFiles, wanted.length) }, worker));
    counts.unfinished += wanted.length - next;
  } catch (error) {
    throw scrubbedError(error, apiKey);
  } finally {
    removeInterrupt();
    stopListening();
    reporter.finish();
    await service.close();
  }

  writeSummary(out, values.json, counts, interrupted, apiBase);
  for (const failure of failures) io.stderr.write(`filehaul: ${redactKey(failure, apiKey)}\n`);
  if (interrupted) {
    io.stderr.write('filehaul: interrupted; progress is saved, run filehaul sync again to resume\n');
    return 130;
  }
  return counts.failed > 0 ? 1 : 0;
}

function writeSummary(out: { write(text: string): void }, json: boolean, counts: Counts, interrupted: boolean, apiBase: string): void {
  if (json) {
    out.write(`${JSON.stringify({ event: 'summary', timestamp: new Date().toISOString(), api_base: apiBase, remote_files: counts.remote, downloaded: counts.downloaded, already_archived: counts.alreadyArchived, skipped_not_downloadable: counts.skipped, failed: counts.failed, unfinished: counts.unfinished, interrupted })}\n`);
    return;
  }
  const parts = [`${counts.downloaded} downloaded`, `${counts.alreadyArchived} already archived`, `${counts.skipped} skipped (not downloadable)`, `${counts.failed} failed`];
  if (counts.unfinished > 0) parts.push(`${counts.unfinished} not finished`);
  out.write(`sync: ${counts.remote} ${counts.remote === 1 ? 'file' : 'files'} at ${apiBase}${interrupted ? ' (interrupted)' : ''}: ${parts.join(', ')}.\n`);
}

/**
 * The list already carried the metadata the engine's first describe() would fetch; using it saves one request per
 * file under the ~100 requests a minute budget. Only for files the list called downloadable (otherwise the metadata
 * endpoint must refuse them plainly), and only once: a restart after a change asks the API afresh.
 */
function withListedDetails(source: DownloadSource, file: RemoteFile): DownloadSource {
  if (file.downloadable !== true) return source;
  let listed: SourceDetails | null = {
    filename: file.filename.length > 0 ? file.filename : null,
    mimeType: file.mimeType,
    sizeBytes: file.sizeBytes,
    createdAt: file.createdAt,
  };
  return {
    kind: source.kind,
    ref: source.ref,
    apiBase: source.apiBase,
    displayName: source.displayName,
    async describe(http, signal) {
      const details = listed;
      listed = null;
      return details ?? source.describe(http, signal);
    },
    contentRequest: () => source.contentRequest(),
    detailsFromResponse: (response) => source.detailsFromResponse(response),
  };
}
