// `filehaul get <file_id|url>...`: download files into the archive, resumably, and exit 0 only if every one is verified.
import { FilehaulService } from '../service.ts';
import { parseCommand, serviceOptions, UsageError } from './options.ts';
import { printable } from './format.ts';
import { jsonReporter, lineReporter, ttyReporter, type Output, type Reporter } from './reporters.ts';

export const GET_HELP = `Usage: filehaul get <file_id|url>... [options]

Downloads Files API ids (needs ANTHROPIC_API_KEY or --api-key-file) and http(s) URLs into DIR/raw/YYYY-MM/.
Interrupted downloads resume when the same command runs again.

Options (each also settable in DIR/config.ini or the environment; see filehaul config):
  --dir DIR              data directory (default ./data)
  --config PATH          config.ini to read (default DIR/config.ini)
  --connections N        parallel ranged requests per file, 1-32 (default 8)
  --parallel-files N     files downloading at once (default 3)
  --rpm N                request budget per endpoint and key, per minute (default 100)
  --limit-rate SIZE      speed cap for all downloads together, e.g. 5M (default unlimited)
  --min-split SIZE       smallest range worth its own request (default 1M)
  --max-retries N        retries per request before the file fails (default 5; 429/503/529 waits do not count)
  --preset NAME          timeouts: lan (10 s/300 s), cloud (30 s/600 s, default), cross-border (60 s/900 s)
  --connect-timeout S    seconds to connect (overrides the preset)
  --read-timeout S       seconds of silence before a request counts as stalled (overrides the preset)
  --api-base URL         Files API base (default https://api.anthropic.com)
  --backup-api-base URL  where traffic moves while the primary answers 503/529
  --proxy URL            proxy for every request (default: HTTPS_PROXY / HTTP_PROXY / NO_PROXY)
  --api-key-file PATH    read the API key from a file instead of ANTHROPIC_API_KEY
  --encrypt              encrypt finished files at rest (age; key in DIR/filehaul-identity.txt)
  --no-wait-for-space    on a full disk, stop (exit 1) instead of waiting for space to return
  --sha256 HEX           the SHA-256 the file is published with (one file only): a file that hashes otherwise
                         fails and is not archived; its bytes are kept, so the right digest archives them at once
  --json                 one JSON object per line per event

A full disk pauses a download with a line saying how much space it needs; it resumes by itself once that much is
free (checked every few seconds). Ctrl-C while it waits saves the progress, as always.
`;

export interface CommandIo {
  stdout: Output;
  stderr: Output;
  /** Registers the Ctrl-C handler; returns the function that removes it. */
  onInterrupt(handler: () => void): () => void;
}

export async function runGet(args: readonly string[], io: CommandIo): Promise<number> {
  const { waitForSpace, expectedSha256, rest } = takeGetFlags(args);
  const { values, positionals } = parseCommand(rest);
  if (values.help) {
    io.stdout.write(GET_HELP);
    return 0;
  }
  const inputs = splitInputs(positionals);
  if (inputs.length === 0) throw new UsageError('get needs at least one file id or URL (see filehaul get --help)');
  if (expectedSha256 !== undefined && inputs.length > 1) throw new UsageError(`--sha256 is the digest of one file, and ${inputs.length} were given: run get once per file`);
  const service = await FilehaulService.open({ ...serviceOptions(values), waitForSpace });
  const reporter: Reporter = values.json ? jsonReporter(io.stdout) : io.stdout.isTTY ? ttyReporter(io.stdout, { waitForSpace }) : lineReporter(io.stdout, { waitForSpace });
  const stopListening = service.onEvent((event) => reporter.handle(event));
  let interrupted = false;
  const removeInterrupt = io.onInterrupt(() => {
    interrupted = true;
    service.pauseAll();
  });
  const failures: string[] = [];
  try {
    const prepared = service.prepare(inputs);
    const runs = prepared.map(async (item) => {
      if ('error' in item) {
        failures.push(`${item.input}: ${item.error}`);
        reporter.note(`${item.input}: refused: ${item.error}`, { event: 'error', file_id: item.input, error: item.error, bytes_downloaded: 0, duration_ms: 0, retry_count: 0 });
        return;
      }
      if (item.alreadyDone) {
        const { record } = item;
        if (expectedSha256 !== undefined && record.sha256 !== expectedSha256) {
          const error = `already in the archive at ${record.finalPath}, but its SHA-256 is ${record.sha256}, not the expected ${expectedSha256}`;
          failures.push(`${item.source.displayName}: ${error}`);
          reporter.note(`${item.source.displayName}: ${error}`, { event: 'error', file_id: item.source.displayName, download_id: record.id, error, bytes_downloaded: 0, duration_ms: 0, retry_count: 0 });
          return;
        }
        reporter.note(`${item.source.displayName}: already in the archive at ${record.finalPath}`, {
          event: 'done', file_id: item.source.displayName, download_id: record.id, path: record.finalPath, sha256: record.sha256, size_bytes: record.sizeBytes, bytes_downloaded: 0, duration_ms: 0, retry_count: 0, already_archived: true,
        });
        return;
      }
      const outcome = await service.download(item.record, item.source, expectedSha256 === undefined ? {} : { expectedSha256 });
      if (outcome.state === 'failed') failures.push(`${item.source.displayName}: ${outcome.message}`);
      if (outcome.state === 'paused' && !interrupted) failures.push(`${item.source.displayName}: ${outcome.message ?? 'paused'}`);
    });
    await Promise.all(runs);
  } finally {
    removeInterrupt();
    stopListening();
    reporter.finish();
    await service.close();
  }
  for (const failure of failures) io.stderr.write(`filehaul: ${printable(failure)}\n`);
  if (interrupted) {
    io.stderr.write('filehaul: interrupted; progress is saved, run the same command again to resume\n');
    return 130;
  }
  return failures.length > 0 ? 1 : 0;
}

/**
 * `get` waits for disk space by default: on a server a full disk is usually freed by someone (or a cleanup job) while
 * the transfer should simply go on, and a long `get` that exits half-way means somebody must notice and run it again.
 * Waiting costs nothing: the bytes are confirmed, the process only checks free space every few seconds, and Ctrl-C
 * still stops it with everything saved. A script that would rather fail fast on a full disk passes
 * --no-wait-for-space (exit 1 with the ENOSPC line, as before). That flag and --sha256 belong to `get` alone, so
 * they are taken out here before the shared options are parsed; after `--` everything is an input.
 */
function takeGetFlags(args: readonly string[]): { waitForSpace: boolean; expectedSha256: string | undefined; rest: string[] } {
  let waitForSpace = true;
  let expectedSha256: string | undefined;
  const rest: string[] = [];
  let inputsOnly = false;
  for (let index = 0; index < args.length; index++) {
    const arg = args[index];
    if (!inputsOnly && arg === '--no-wait-for-space') waitForSpace = false;
    else if (!inputsOnly && arg === '--wait-for-space') waitForSpace = true;
    else if (!inputsOnly && (arg === '--sha256' || arg.startsWith('--sha256='))) {
      expectedSha256 = parseSha256(arg === '--sha256' ? args[++index] : arg.slice('--sha256='.length));
    } else {
      if (arg === '--') inputsOnly = true;
      rest.push(arg);
    }
  }
  return { waitForSpace, expectedSha256, rest };
}

/** A SHA-256 as sha256sum prints it (64 hex digits, either case), or an optional `sha-256=` prefix as aria2 takes it. */
function parseSha256(text: string | undefined): string {
  const hex = text?.trim().replace(/^sha-?256[=:]/i, '');
  if (!hex || !/^[0-9a-f]{64}$/i.test(hex)) {
    throw new UsageError(`--sha256 takes the file's SHA-256 as 64 hex digits${text ? ` (got ${text.length > 80 ? `${text.slice(0, 80)}…` : `"${text}"`})` : ''}`);
  }
  return hex.toLowerCase();
}

/**
 * Ids may come as one pasted list: split on white space, and on commas except inside URLs (a URL may hold commas).
 */
export function splitInputs(texts: readonly string[]): string[] {
  return texts
    .flatMap((text) => text.split(/\s+/))
    .flatMap((token) => (/^[a-z][a-z0-9+.-]*:\/\//i.test(token) ? [token] : token.split(',')))
    .filter(Boolean);
}
