// End-to-end resume tests of `filehaul get`: kill -9 and Ctrl-C mid-download, then the same command again finishes the file.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { makeBytes, startOrigin } from '../fixtures/files-api-origin.ts';
import type { Origin, OriginFile, OriginOptions, RequestLogEntry } from '../fixtures/files-api-origin.ts';
import { filesUnder, killLeftoverChildren, makeTempDir, runCli, startCli } from './run-cli.ts';
import type { CliResult, JsonEvent } from './run-cli.ts';

const MiB = 1024 * 1024;
const KEY = 'sk-ant-test-resume-key';
const CONNECTIONS = 8;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await killLeftoverChildren();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(options: OriginOptions): Promise<{ origin: Origin; dir: string }> {
  const origin = await startOrigin(options);
  cleanups.push(() => origin.close());
  const temp = await makeTempDir();
  cleanups.push(temp.remove);
  return { origin, dir: path.join(temp.dir, 'data') };
}

function getArgs(origin: Origin, dir: string, id: string): string[] {
  return ['get', id, '--dir', dir, '--api-base', origin.url, '--connections', String(CONNECTIONS), '--json'];
}

const ENV = { ANTHROPIC_API_KEY: KEY };

function explain(result: CliResult): string {
  return `exit ${result.code} signal ${result.signal}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
}

function sentBytes(requests: RequestLogEntry[]): number {
  return requests.reduce((sum, request) => sum + request.bytesSent, 0);
}

/** Resolves once every given request has ended (the socket closed or the response finished). */
function allEnded(origin: Origin, requests: RequestLogEntry[]): Promise<unknown> {
  return Promise.all(requests.map((request) => origin.waitForRequest((entry) => entry === request && entry.endedAt !== undefined)));
}

async function statusRows(dir: string): Promise<JsonEvent[]> {
  const status = await runCli(['status', '--dir', dir, '--json']);
  expect(status.code, explain(status)).toBe(0);
  expect(status.otherLines).toEqual([]);
  return status.events;
}

function integrityCheck(dbPath: string): string {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return db.pragma('integrity_check', { simple: true }) as string;
  } finally {
    db.close();
  }
}

describe('resuming with the same command', () => {
  it('after kill -9 mid-download: finishes byte-identical, refetches only unconfirmed bytes, resumes with If-Range', async () => {
    // 32 MiB at 1 MiB/s per connection, 8 connections: ~4 s when left alone.
    const file: OriginFile = { id: 'file_011CLIkilledMidway', filename: 'big-export.parquet', bytes: makeBytes(32 * MiB, 21), createdAt: '2025-06-30T23:59:59Z' };
    const size = file.bytes.length;
    const { origin, dir } = await setup({ apiKey: KEY, bytesPerSecondPerConnection: 1 * MiB, files: [file] });

    const first = startCli(getArgs(origin, dir, file.id), { env: ENV });
    await origin.waitForBytesSent(file.id, Math.ceil(size * 0.4));
    // A progress line written after 40% was sent: by then the once-a-second confirm has run at least once.
    await first.waitForEvent((event) => event.event === 'progress' && (event.bytes_downloaded as number) >= size * 0.4);
    first.kill('SIGKILL');
    const killed = await first.exited;
    expect(killed.signal).toBe('SIGKILL');
    const firstRun = origin.contentRequests(file.id);
    await allEnded(origin, firstRun);
    const sentFirst = sentBytes(firstRun);
    expect(sentFirst).toBeLessThan(size);

    const [row] = await statusRows(dir);
    expect(row).toMatchObject({ file_id: file.id, size_bytes: size });
    const confirmedAtKill = row.confirmed_bytes as number;
    expect(confirmedAtKill).toBeGreaterThan(0);
    expect(confirmedAtKill).toBeLessThanOrEqual(sentFirst);

    const marker = origin.requests.length;
    const second = await runCli(getArgs(origin, dir, file.id), { env: ENV });
    expect(second.code, explain(second)).toBe(0);
    const start = second.events.find((event) => event.event === 'start')!;
    expect(start.bytes_downloaded).toBe(confirmedAtKill);

    const archived = await readFile(path.join(dir, 'raw/2025-06', file.filename));
    expect(archived.equals(file.bytes)).toBe(true);
    expect(integrityCheck(path.join(dir, 'filehaul.db'))).toBe('ok');
    expect((await filesUnder(path.join(dir, 'tmp'))).filter((name) => name.endsWith('.part'))).toEqual([]);

    // The refetch is what the kill cost: about what was sent but not yet confirmed when it struck.
    const secondRun = origin.requests.slice(marker).filter((request) => request.kind === 'content');
    expect(secondRun.length).toBeGreaterThan(0);
    expect(secondRun.length).toBeLessThanOrEqual(CONNECTIONS + 4);
    const sentSecond = sentBytes(secondRun);
    expect(sentSecond).toBeGreaterThanOrEqual(size - confirmedAtKill);
    const refetched = sentFirst + sentSecond - size;
    const unconfirmedAtKill = sentFirst - confirmedAtKill;
    // Slack for bytes the second run itself wastes (see the exact test below, which a product bug breaks today).
    expect(refetched).toBeLessThanOrEqual(unconfirmedAtKill + 1 * MiB);
    // Confirms run every second: each connection can lose about 1.5 s of its 1 MiB/s, plus what sat in socket buffers.
    expect(refetched).toBeLessThanOrEqual(CONNECTIONS * (1.5 * MiB + 256 * 1024));

    // Every resumed range is conditional on the same file (ETag), so a changed file could never be stitched in.
    const etag = origin.getFile(file.id).etag;
    expect(etag).toBeTruthy();
    for (const request of secondRun) {
      expect(request.ifRange).toBe(etag);
      expect(request.status).toBe(206);
      expect(request.range).toMatch(/^bytes=\d+-\d+$/);
    }
  });

  it('after Ctrl-C: exits 130 saying how to resume, status shows paused bytes, the rerun continues from them', async () => {
    const file: OriginFile = { id: 'file_011CLIinterrupted', filename: 'transcript.txt', bytes: makeBytes(16 * MiB + 5, 22), createdAt: '2025-02-01T00:00:00Z' };
    const size = file.bytes.length;
    const { origin, dir } = await setup({ apiKey: KEY, bytesPerSecondPerConnection: 1 * MiB, files: [file] });

    const first = startCli(getArgs(origin, dir, file.id), { env: ENV });
    await first.waitForEvent((event) => event.event === 'progress' && (event.bytes_downloaded as number) > 0);
    first.kill('SIGINT');
    const interrupted = await first.exited;
    expect(interrupted.code, explain(interrupted)).toBe(130);
    expect(interrupted.stderrLines).toHaveLength(1);
    expect(interrupted.stderrLines[0]).toMatch(/interrupted/i);
    expect(interrupted.stderrLines[0]).toMatch(/run the same command again to resume/i);
    expect(interrupted.events.at(-1)).toMatchObject({ event: 'state', state: 'paused' });
    await allEnded(origin, origin.contentRequests(file.id));

    const [row] = await statusRows(dir);
    expect(row).toMatchObject({ file_id: file.id, state: 'paused', size_bytes: size });
    const confirmed = row.confirmed_bytes as number;
    expect(confirmed).toBeGreaterThan(0);
    expect(confirmed).toBeLessThan(size);
    expect(await filesUnder(path.join(dir, 'raw'))).toEqual([]);

    const second = await runCli(getArgs(origin, dir, file.id), { env: ENV });
    expect(second.code, explain(second)).toBe(0);
    const start = second.events.find((event) => event.event === 'start')!;
    // A pause confirms everything written, so the rerun starts exactly where status said.
    expect(start.bytes_downloaded).toBe(confirmed);
    expect((await readFile(path.join(dir, 'raw/2025-02', file.filename))).equals(file.bytes)).toBe(true);
    expect(integrityCheck(path.join(dir, 'filehaul.db'))).toBe('ok');
    const [after] = await statusRows(dir);
    expect(after).toMatchObject({ state: 'done', confirmed_bytes: size, path: `raw/2025-02/${file.filename}` });
  });

  // Product bug: on resume (no probe response) DownloadRun.#runConnections starts connections + 1 loops
  // (`loops = [connection(probe)]` plus `index` from 0 when probe is null). The extra loop finds every segment owned and
  // at once steals half of the largest one while that segment's request is still opening; #runSegment then checks the
  // 206 against the shrunken `segment.end` (read after the await) and rejects a correct response as "bad ranged
  // response … asked up to …", retrying with backoff and refetching what was in flight. Flip to `it` once fixed.
  it('resumes with at most --connections requests at once, no retries and no byte fetched twice', async () => {
    const file: OriginFile = { id: 'file_011CLIresumeExact', filename: 'exact.bin', bytes: makeBytes(16 * MiB, 23), createdAt: '2025-02-01T00:00:00Z' };
    const size = file.bytes.length;
    const { origin, dir } = await setup({ apiKey: KEY, bytesPerSecondPerConnection: 1 * MiB, files: [file] });
    // 2 MiB segments and a 512K minimum split: after a short first run every segment still has enough left to split.
    const args = [...getArgs(origin, dir, file.id), '--min-split', '512K'];
    const first = startCli(args, { env: ENV });
    await first.waitForEvent((event) => event.event === 'progress' && (event.bytes_downloaded as number) > 0);
    first.kill('SIGINT');
    expect((await first.exited).code).toBe(130);
    await allEnded(origin, origin.contentRequests(file.id));
    const [row] = await statusRows(dir);
    const confirmed = row.confirmed_bytes as number;
    expect(confirmed).toBeGreaterThan(0);

    const marker = origin.requests.length;
    const second = await runCli(args, { env: ENV });
    expect(second.code, explain(second)).toBe(0);
    expect((await readFile(path.join(dir, 'raw/2025-02', file.filename))).equals(file.bytes)).toBe(true);
    const secondRun = origin.requests.slice(marker).filter((request) => request.kind === 'content');
    expect(second.events.filter((event) => event.event === 'retry')).toEqual([]);
    expect(maxConcurrent(secondRun)).toBeLessThanOrEqual(CONNECTIONS);
    expect(sentBytes(secondRun)).toBe(size - confirmed);
  });
});

/** Most requests open at the same moment, from the log's start and end times. */
function maxConcurrent(requests: RequestLogEntry[]): number {
  const edges = requests.flatMap((request) => [
    { at: request.startedAt, delta: 1 },
    { at: request.endedAt ?? Number.POSITIVE_INFINITY, delta: -1 },
  ]);
  // Ends before starts at the same millisecond: a connection reused for the next range is not two at once.
  edges.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let open = 0;
  let most = 0;
  for (const edge of edges) {
    open += edge.delta;
    most = Math.max(most, open);
  }
  return most;
}
