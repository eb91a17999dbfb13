// Integration tests of listing the account (both page shapes, retries, bad bodies) and of `filehaul list` / `filehaul sync` against the fake Files API.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runGet, type CommandIo } from '../../src/main/cli/get.ts';
import { runList } from '../../src/main/cli/list.ts';
import { runSync } from '../../src/main/cli/sync.ts';
import { FatalError } from '../../src/main/engine/errors.ts';
import { createHttpClient, type HttpClient } from '../../src/main/engine/http/client.ts';
import { fetchRemotePage, listRemoteFiles, type ListRetryInfo, type RemoteFile } from '../../src/main/sources/files-list.ts';
import { makeBytes, startOrigin } from '../fixtures/files-api-origin.ts';
import type { Origin, OriginFile, OriginOptions, RequestLogEntry } from '../fixtures/files-api-origin.ts';
import { filesUnder, killLeftoverChildren, makeTempDir, runCli } from './run-cli.ts';

const KEY = 'sk-ant-test-list-sync-key-0123456789';
const FAST_RETRY = { baseMs: 10, capMs: 50, maxRetries: 3 };
const MiB = 1024 * 1024;

/** 25 files, newest first one minute apart; every fifth one an upload (not downloadable). */
function accountFiles(count = 25): OriginFile[] {
  return Array.from({ length: count }, (_, index) => ({
    id: `file_011LS${String(index).padStart(3, '0')}`,
    filename: `result-${index}.bin`,
    bytes: makeBytes(1000 + index * 997, 100 + index),
    createdAt: new Date(Date.UTC(2025, 2, 1) - index * 60_000).toISOString(),
    downloadable: index % 5 !== 3,
  }));
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await killLeftoverChildren();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(options: OriginOptions): Promise<{ origin: Origin; dir: string; keyFile: string; http: HttpClient }> {
  const origin = await startOrigin({ apiKey: KEY, ...options });
  cleanups.push(() => origin.close());
  const temp = await makeTempDir('filehaul-list-sync-');
  cleanups.push(temp.remove);
  const keyFile = path.join(temp.dir, 'key');
  await writeFile(keyFile, `${KEY}\n`, { mode: 0o600 });
  const http = createHttpClient({ connectTimeoutMs: 5000, readTimeoutMs: 10_000 });
  cleanups.push(() => http.close());
  return { origin, dir: path.join(temp.dir, 'data'), keyFile, http };
}

interface FakeIo {
  io: CommandIo;
  readonly stdout: string;
  readonly stderr: string;
  /** Every stdout line that is a JSON object. */
  json(): Array<Record<string, unknown>>;
  /** Calls the command's Ctrl-C handler, as the process's SIGINT listener would. */
  interrupt(): void;
}

function fakeIo(): FakeIo {
  let stdout = '';
  let stderr = '';
  let handler: (() => void) | null = null;
  return {
    io: {
      stdout: { write: (text) => void (stdout += text), isTTY: false },
      stderr: { write: (text) => void (stderr += text), isTTY: false },
      onInterrupt(onInterrupt) {
        handler = onInterrupt;
        return () => {
          handler = null;
        };
      },
    },
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    json() {
      return stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    interrupt() {
      handler?.();
    },
  };
}

function explain(code: number, out: FakeIo): string {
  return `exit ${code}\nstdout:\n${out.stdout}\nstderr:\n${out.stderr}`;
}

/** The key must never leave the process through the command's output. */
function expectNoKey(out: FakeIo | { stdout: string; stderr: string }): void {
  expect(out.stdout).not.toContain(KEY);
  expect(out.stderr).not.toContain(KEY);
}

async function collect(files: AsyncIterable<RemoteFile>): Promise<RemoteFile[]> {
  const all: RemoteFile[] = [];
  for await (const file of files) all.push(file);
  return all;
}

const listRequests = (origin: Origin): RequestLogEntry[] => origin.requests.filter((request) => request.kind === 'list');
const query = (request: RequestLogEntry) => new URL(request.path, 'http://x').searchParams;

describe('listRemoteFiles', () => {
  for (const shape of ['beta', 'ga'] as const) {
    it(`follows every ${shape} page (25 files, 10 a page) in the API's order`, async () => {
      const files = accountFiles();
      const { origin, http } = await setup({ pageShape: shape, files });
      const listed = await collect(listRemoteFiles(http, origin.url, KEY, { limit: 10, retry: FAST_RETRY }));

      expect(listed.map((file) => file.id)).toEqual(files.map((file) => file.id));
      expect(listed[3]).toEqual({ id: files[3].id, filename: files[3].filename, sizeBytes: files[3].bytes.length, createdAt: files[3].createdAt, mimeType: 'application/octet-stream', downloadable: false });
      const requests = listRequests(origin);
      expect(requests).toHaveLength(3);
      for (const request of requests) {
        expect(request.status).toBe(200);
        expect(query(request).get('limit')).toBe('10');
        expect(request.headers['x-api-key']).toBe(KEY);
        expect(request.headers['anthropic-version']).toBe('2023-06-01');
      }
      // The first page carries no cursor; the next ones the shape's own parameter, never the other shape's.
      expect([...query(requests[0]).keys()]).toEqual(['limit']);
      if (shape === 'beta') {
        expect(requests.slice(1).map((request) => query(request).get('after_id'))).toEqual([files[9].id, files[19].id]);
        for (const request of requests) expect(query(request).has('page')).toBe(false);
      } else {
        for (const request of requests.slice(1)) expect(query(request).get('page')).toMatch(/^page_/);
        for (const request of requests) expect(query(request).has('after_id')).toBe(false);
      }
    });

    it(`fetchRemotePage walks the ${shape} pages with the cursor it returns`, async () => {
      const files = accountFiles();
      const { origin, http } = await setup({ pageShape: shape, files });
      const pages: string[][] = [];
      let cursor: string | null = null;
      do {
        const page: Awaited<ReturnType<typeof fetchRemotePage>> = await fetchRemotePage(http, origin.url, KEY, { limit: 10, cursor });
        pages.push(page.files.map((file) => file.id));
        cursor = page.nextCursor;
        if (cursor !== null) expect(cursor.startsWith(`${shape}:`)).toBe(true);
      } while (cursor !== null);
      expect(pages.map((ids) => ids.length)).toEqual([10, 10, 5]);
      expect(pages.flat()).toEqual(files.map((file) => file.id));
    });
  }

  it('retries a 429 on a list page after the Retry-After the server asked for, not the (huge) backoff', async () => {
    const { origin, http } = await setup({ files: accountFiles() });
    let listCount = 0;
    // The second page answers 429 once.
    origin.injectFault({ kind: 'status', status: 429, headers: { 'retry-after-ms': '300' } }, { match: (entry) => entry.kind === 'list' && ++listCount === 2 });
    const retries: ListRetryInfo[] = [];
    // A 60 s backoff: were Retry-After ignored, the test would time out rather than pass by luck.
    const listed = await collect(listRemoteFiles(http, origin.url, KEY, { limit: 10, retry: { baseMs: 60_000, capMs: 60_000, maxRetries: 2 }, onRetry: (info) => retries.push(info) }));

    expect(listed).toHaveLength(25);
    expect(retries).toHaveLength(1);
    expect(retries[0]).toMatchObject({ attempt: 1, delayMs: 300 });
    expect(retries[0].reason).toMatch(/HTTP 429 rate_limit_error.*request-id req_/);
    const requests = listRequests(origin);
    expect(requests.map((request) => request.status)).toEqual([200, 429, 200, 200]);
    // The retry asked for the same page, no sooner than the server said.
    expect(query(requests[2]).get('after_id')).toBe(query(requests[1]).get('after_id'));
    expect(requests[2].startedAt - requests[1].startedAt).toBeGreaterThanOrEqual(290);
  });

  it('gives up after --max-retries with the last error, and never retries a 401', async () => {
    const { origin, http } = await setup({ files: accountFiles(3) });
    origin.injectFault({ kind: 'status', status: 503 }, { count: 2, match: (entry) => entry.kind === 'list' });
    const error = await collect(listRemoteFiles(http, origin.url, KEY, { retry: { ...FAST_RETRY, maxRetries: 1 } })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(FatalError);
    expect((error as Error).message).toMatch(/^Listing the files at http:\/\/127\.0\.0\.1:\d+ failed after 1 retry: HTTP 503 api_error/);
    expect(listRequests(origin)).toHaveLength(2);

    const wrongKey = await collect(listRemoteFiles(http, origin.url, 'sk-ant-wrong', { retry: FAST_RETRY })).catch((caught: unknown) => caught);
    expect((wrongKey as Error).message).toMatch(/failed: HTTP 401 authentication_error: invalid x-api-key/);
    expect(listRequests(origin)).toHaveLength(3);
  });

  it('fails with the field named when a page is malformed, and does not retry it', async () => {
    const { origin, http } = await setup({ files: accountFiles(3) });
    const body = JSON.stringify({ data: [{ id: 'file_011bad', filename: 'x', size_bytes: 'many', created_at: '2025-01-01T00:00:00Z' }], has_more: false });
    origin.injectFault({ kind: 'status', status: 200, body }, { match: (entry) => entry.kind === 'list' });
    const error = await collect(listRemoteFiles(http, origin.url, KEY, { retry: FAST_RETRY })).catch((caught: unknown) => caught);
    expect((error as Error).message).toMatch(/is malformed: data\[0\] \(file_011bad\)\.size_bytes must be a whole number of bytes \(got "many"\)/);
    expect(listRequests(origin)).toHaveLength(1);
  });

  it('stops when the server hands out the same cursor twice instead of listing forever', async () => {
    const { origin, http } = await setup({ files: [] });
    const body = JSON.stringify({ data: [], next_page: 'page_same' });
    origin.injectFault({ kind: 'status', status: 200, body }, { count: 5, match: (entry) => entry.kind === 'list' });
    const error = await collect(listRemoteFiles(http, origin.url, KEY, { retry: FAST_RETRY })).catch((caught: unknown) => caught);
    expect((error as Error).message).toMatch(/does not advance/);
    expect(listRequests(origin)).toHaveLength(2);
  });
});

describe('filehaul list', () => {
  it('prints every file as JSON lines and marks the archived one', async () => {
    const files = accountFiles();
    const { origin, dir, keyFile } = await setup({ pageShape: 'ga', files });
    const got = fakeIo();
    const getCode = await runGet([files[0].id, '--dir', dir, '--api-base', origin.url, '--api-key-file', keyFile], got.io);
    expect(getCode, explain(getCode, got)).toBe(0);

    const out = fakeIo();
    const code = await runList(['--json', '--limit', '10', '--dir', dir, '--api-base', origin.url, '--api-key-file', keyFile], out.io);
    expect(code, explain(code, out)).toBe(0);
    expect(out.stderr).toBe('');
    const rows = out.json();
    expect(rows.map((row) => row.id)).toEqual(files.map((file) => file.id));
    expect(rows[0]).toEqual({ id: files[0].id, filename: files[0].filename, size_bytes: files[0].bytes.length, created_at: files[0].createdAt, mime_type: 'application/octet-stream', downloadable: true, archived: true, path: `raw/2025-03/${files[0].filename}` });
    expect(rows.filter((row) => row.archived)).toHaveLength(1);
    expect(rows[3]).toMatchObject({ downloadable: false, archived: false, path: null });
    expectNoKey(out);
    expect(listRequests(origin)).toHaveLength(3);
  });

  it('prints a table with a ✓ on archived files, and a total line', async () => {
    const files = accountFiles(4);
    const { origin, dir, keyFile } = await setup({ files });
    expect(await runGet([files[1].id, '--dir', dir, '--api-base', origin.url, '--api-key-file', keyFile], fakeIo().io)).toBe(0);
    const out = fakeIo();
    const code = await runList(['--dir', dir, '--api-base', origin.url, '--api-key-file', keyFile], out.io);
    expect(code, explain(code, out)).toBe(0);
    const lines = out.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(6);
    expect(lines[0]).toMatch(/^ {2}ID +NAME +SIZE +CREATED \(UTC\) +DOWNLOADABLE$/);
    const row = (id: string) => lines.find((line) => line.includes(id))!;
    expect(row(files[1].id)).toMatch(new RegExp(`^✓ ${files[1].id} +result-1\\.bin +1\\.95 KiB +2025-02-28 23:59 +yes$`));
    expect(row(files[0].id).startsWith('  ')).toBe(true);
    expect(row(files[3].id)).toMatch(/ no$/);
    expect(lines[5]).toMatch(/^4 files \(.+\) at http:\/\/127\.0\.0\.1:\d+: 1 archived, 1 not downloadable\.$/);
    expectNoKey(out);
  });

  it('exits 1 naming the field when the list is malformed, and retries a 429 saying so on stderr', async () => {
    const { origin, dir, keyFile } = await setup({ files: accountFiles(3) });
    origin.injectFault({ kind: 'status', status: 429, headers: { 'retry-after-ms': '20' } }, { match: (entry) => entry.kind === 'list' });
    origin.injectFault({ kind: 'status', status: 200, body: JSON.stringify({ data: [{ id: 'file_011x', filename: 'x', size_bytes: 1, created_at: 'soon' }], has_more: false }) }, { match: (entry) => entry.kind === 'list' });
    const out = fakeIo();
    const code = await runList(['--dir', dir, '--api-base', origin.url, '--api-key-file', keyFile], out.io).catch((error: Error) => error);
    // The command throws and main prints it; both the retry line and the error name what went wrong.
    expect(code).toBeInstanceOf(FatalError);
    expect((code as Error).message).toMatch(/data\[0\] \(file_011x\)\.created_at must be an RFC 3339 date \(got "soon"\)/);
    expect(out.stderr).toMatch(/^filehaul: listing: retry 1 in 0\.0 s: HTTP 429 rate_limit_error/);
    expectNoKey(out);
  });

  it('never prints the key, even when the API echoes it back in an error', async () => {
    const { origin, dir, keyFile } = await setup({ files: accountFiles(3) });
    const body = JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: `bad key header ${KEY}` }, request_id: 'req_echo' });
    origin.injectFault({ kind: 'status', status: 400, body }, { match: (entry) => entry.kind === 'list' });
    const error = (await runList(['--dir', dir, '--api-base', origin.url, '--api-key-file', keyFile], fakeIo().io).catch((caught: Error) => caught)) as Error;
    expect(error.message).toContain('bad key header [redacted]');
    expect(error.message).not.toContain(KEY);
  });

  it('runs as a child process through main: JSON lines, exit 0, usage errors exit 2', async () => {
    const files = accountFiles(3);
    const { origin, dir } = await setup({ files });
    const result = await runCli(['list', '--json', '--dir', dir, '--api-base', origin.url], { env: { ANTHROPIC_API_KEY: KEY } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.events.map((event) => event.id)).toEqual(files.map((file) => file.id));
    expectNoKey(result);

    const noKey = await runCli(['list', '--dir', dir, '--api-base', origin.url]);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/^filehaul: No API key/);
    const badLimit = await runCli(['sync', '--limit', '5000', '--dir', dir], { env: { ANTHROPIC_API_KEY: KEY } });
    expect(badLimit.code).toBe(2);
    expect(badLimit.stderr).toMatch(/--limit must be a whole number from 1 to 1000/);
  });
});

describe('filehaul sync', () => {
  it('downloads every downloadable file byte-identical, skips uploads, and a second run fetches nothing', async () => {
    const files = accountFiles();
    const wanted = files.filter((file) => file.downloadable);
    const { origin, dir, keyFile } = await setup({ files });
    const args = ['--json', '--limit', '10', '--dir', dir, '--api-base', origin.url, '--api-key-file', keyFile];
    const first = fakeIo();
    const code = await runSync(args, first.io);
    expect(code, explain(code, first)).toBe(0);
    expect(first.stderr).toBe('');
    expectNoKey(first);

    const archived = await filesUnder(path.join(dir, 'raw'));
    expect(archived).toHaveLength(wanted.length);
    for (const file of wanted) {
      const month = file.createdAt.slice(0, 7);
      expect((await readFile(path.join(dir, 'raw', month, file.filename))).equals(file.bytes), file.id).toBe(true);
    }
    expect((await filesUnder(path.join(dir, 'tmp'))).filter((name) => !name.endsWith('.reserve'))).toEqual([]);
    // Uploads cost no content request; the list's metadata spared every per-file metadata request.
    for (const file of files.filter((file) => !file.downloadable)) expect(origin.contentRequests(file.id)).toHaveLength(0);
    expect(origin.requests.filter((request) => request.kind === 'metadata')).toHaveLength(0);
    const events = first.json();
    expect(events.filter((event) => event.event === 'skipped').map((event) => event.file_id)).toEqual(files.filter((file) => !file.downloadable).map((file) => file.id));
    expect(events.filter((event) => event.event === 'done').map((event) => event.file_id).sort()).toEqual(wanted.map((file) => file.id).sort());
    expect(events.at(-1)).toMatchObject({ event: 'summary', remote_files: 25, downloaded: 20, already_archived: 0, skipped_not_downloadable: 5, failed: 0, unfinished: 0, interrupted: false });

    const requestsBefore = origin.requests.length;
    const again = fakeIo();
    const againCode = await runSync(args, again.io);
    expect(againCode, explain(againCode, again)).toBe(0);
    const secondRun = origin.requests.slice(requestsBefore);
    expect(secondRun.map((request) => request.kind)).toEqual(['list', 'list', 'list']);
    expect(again.json().at(-1)).toMatchObject({ event: 'summary', downloaded: 0, already_archived: 20, skipped_not_downloadable: 5, failed: 0 });
    expect(await filesUnder(path.join(dir, 'raw'))).toEqual(archived);
    expectNoKey(again);
  });

  it('prints a plain summary, exits 1 when a file fails, and names it on stderr', async () => {
    const files = accountFiles(6);
    const { origin, dir, keyFile } = await setup({ files });
    origin.injectFault({ kind: 'status', status: 403 }, { match: (entry) => entry.kind === 'content' && entry.fileId === files[2].id });
    const out = fakeIo();
    const code = await runSync(['--dir', dir, '--api-base', origin.url, '--api-key-file', keyFile], out.io);
    expect(code, explain(code, out)).toBe(1);
    expect(out.stdout).toMatch(/sync: 6 files at http:\/\/127\.0\.0\.1:\d+: 4 downloaded, 0 already archived, 1 skipped \(not downloadable\), 1 failed\.\n$/);
    expect(out.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(new RegExp(`^filehaul: ${files[2].id}: .*HTTP 403 permission_error`))]);
    expectNoKey(out);

    // The failed file is picked up again by the next sync.
    const retry = fakeIo();
    expect(await runSync(['--dir', dir, '--api-base', origin.url, '--api-key-file', keyFile], retry.io)).toBe(0);
    expect(retry.stdout).toMatch(/1 downloaded, 4 already archived, 1 skipped \(not downloadable\), 0 failed\./);
    expect((await readFile(path.join(dir, 'raw', files[2].createdAt.slice(0, 7), files[2].filename))).equals(files[2].bytes)).toBe(true);
  });

  it('is interrupted mid-download and the rerun resumes without losing what was on disk', async () => {
    const big: OriginFile = { id: 'file_011LSbig', filename: 'big.bin', bytes: makeBytes(8 * MiB, 7), createdAt: '2025-04-02T10:00:00Z' };
    const files = [big, ...accountFiles(4)];
    // 2 MiB/s per connection, 2 connections: the big file takes about 2 s, time enough to interrupt it.
    const { origin, dir, keyFile } = await setup({ files, bytesPerSecondPerConnection: 2 * MiB });
    const args = ['--json', '--connections', '2', '--dir', dir, '--api-base', origin.url, '--api-key-file', keyFile];
    const first = fakeIo();
    const running = runSync(args, first.io);
    await origin.waitForBytesSent(big.id, 2 * MiB);
    first.interrupt();
    const code = await running;
    expect(code, explain(code, first)).toBe(130);
    expect(first.stderr).toMatch(/interrupted; progress is saved/);
    expect(first.json().at(-1)).toMatchObject({ event: 'summary', interrupted: true });
    const sentBefore = origin.contentRequests(big.id).reduce((sum, request) => sum + request.bytesSent, 0);

    const again = fakeIo();
    const againCode = await runSync(args, again.io);
    expect(againCode, explain(againCode, again)).toBe(0);
    // The big file resumed from the bytes confirmed on disk instead of starting over.
    const start = again.json().find((event) => event.event === 'start' && event.file_id === big.id)!;
    expect(start.bytes_downloaded as number).toBeGreaterThan(0);
    const sentTotal = origin.contentRequests(big.id).reduce((sum, request) => sum + request.bytesSent, 0);
    expect(sentTotal - sentBefore).toBeLessThan(big.bytes.length);
    for (const file of files.filter((file) => file.downloadable !== false)) {
      expect((await readFile(path.join(dir, 'raw', file.createdAt.slice(0, 7), file.filename))).equals(file.bytes), file.id).toBe(true);
    }
    expect(again.json().at(-1)).toMatchObject({ event: 'summary', failed: 0, interrupted: false });
    expectNoKey(first);
    expectNoKey(again);
  });
});
