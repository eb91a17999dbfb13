// End-to-end tests of `filehaul get` as a child process against the fake Files API origin: JSON lines, headers, archive layout, reruns, URLs.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeBytes, startOrigin } from '../fixtures/files-api-origin.ts';
import type { Origin, OriginFile, OriginOptions } from '../fixtures/files-api-origin.ts';
import { filesUnder, killLeftoverChildren, LOG_FIELDS, makeTempDir, runCli, utcMonth } from './run-cli.ts';
import type { CliResult } from './run-cli.ts';

const MiB = 1024 * 1024;
const KEY = 'sk-ant-test-cli-key';
const CONNECTIONS = 8;

const BIG: OriginFile = {
  id: 'file_011CLIbigDownload24MiB',
  filename: 'model-output.bin',
  bytes: makeBytes(24 * MiB, 11),
  createdAt: '2025-03-14T23:30:00Z',
};
const SMALL: OriginFile = {
  id: 'file_011CLIsmallReport',
  filename: 'report.csv',
  bytes: makeBytes(300_000, 12),
  createdAt: '2024-12-31T23:59:59.5Z',
  mimeType: 'text/csv',
};

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

function get(origin: Origin, dir: string, inputs: string[], extra: string[] = [], key: string | null = KEY): Promise<CliResult> {
  return runCli(['get', ...inputs, '--dir', dir, '--api-base', origin.url, ...extra], { env: key === null ? {} : { ANTHROPIC_API_KEY: key } });
}

function explain(result: CliResult): string {
  return `exit ${result.code} signal ${result.signal}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
}

describe('filehaul get <file_id> --json', () => {
  it('downloads a Files API file byte-identical into raw/YYYY-MM/ with the API headers and few requests', async () => {
    // 2 MiB/s per connection: 8 connections take ~1.5 s for 24 MiB.
    const { origin, dir } = await setup({ apiKey: KEY, bytesPerSecondPerConnection: 2 * MiB, files: [BIG] });
    const result = await get(origin, dir, [BIG.id], ['--json', '--connections', String(CONNECTIONS)]);
    expect(result.code, explain(result)).toBe(0);
    expect(result.stderr).toBe('');

    // The archive: month of created_at (UTC), the API's filename, the exact bytes.
    const relative = `raw/2025-03/${BIG.filename}`;
    const archived = await readFile(path.join(dir, relative));
    expect(archived.length).toBe(BIG.bytes.length);
    expect(archived.equals(BIG.bytes)).toBe(true);
    expect(await filesUnder(path.join(dir, 'raw'))).toEqual([path.join(dir, relative)]);
    // Only the disk space Filehaul holds back on purpose (tmp/.reserve) stays: no part, lock or temporary copy.
    expect((await filesUnder(path.join(dir, 'tmp'))).filter((name) => !name.endsWith('.reserve'))).toEqual([]);

    // Every stdout line is a JSON object with a timestamp and the file id.
    expect(result.otherLines).toEqual([]);
    expect(result.events.length).toBeGreaterThan(2);
    for (const event of result.events) {
      expect(event.file_id).toBe(BIG.id);
      expect(typeof event.timestamp).toBe('string');
      expect(new Date(event.timestamp as string).toISOString()).toBe(event.timestamp);
    }
    const start = result.events.find((event) => event.event === 'start')!;
    expect(start).toMatchObject({ filename: BIG.filename, size_bytes: BIG.bytes.length, bytes_downloaded: 0, retry_count: 0 });
    const done = result.events.at(-1)!;
    expect(done).toMatchObject({ event: 'done', path: relative, size_bytes: BIG.bytes.length, bytes_downloaded: BIG.bytes.length, retry_count: 0 });
    for (const field of LOG_FIELDS) expect(done, field).toHaveProperty(field);
    expect(done.duration_ms as number).toBeGreaterThan(0);
    const progress = result.events.filter((event) => event.event === 'progress');
    expect(progress.length).toBeGreaterThan(0);
    for (const line of progress) for (const field of LOG_FIELDS) expect(line, field).toHaveProperty(field);

    // Every API request carried the key and the version and beta headers.
    expect(origin.requests.length).toBeGreaterThan(0);
    for (const request of origin.requests) {
      expect(request.path.startsWith('/v1/files/')).toBe(true);
      expect(request.headers['x-api-key']).toBe(KEY);
      expect(request.headers['anthropic-version']).toBe('2023-06-01');
      expect(request.headers['anthropic-beta']).toBe('files-api-2025-04-14');
      expect(request.status).toBe(request.kind === 'content' ? 206 : 200);
    }
    const content = origin.contentRequests(BIG.id);
    expect(content[0].range).toBe('bytes=0-');
    expect(content.length).toBeLessThanOrEqual(CONNECTIONS + 4);
    expect(done.request_count).toBe(content.length);
    // Each byte was sent once: no overlap between ranges, no retries.
    expect(content.reduce((sum, request) => sum + request.bytesSent, 0)).toBe(BIG.bytes.length);

    // The request log has one line per content request with the body bytes it received: a closed range exactly its
    // length; the probe (bytes=0-) what came before its range was cut.
    const logged = (await readFile(path.join(dir, 'logs', 'filehaul.log'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.event === 'request' && typeof line.range === 'string');
    expect(logged.length).toBe(content.length);
    for (const line of logged) {
      const [, from, to] = /^bytes=(\d+)-(\d*)$/.exec(line.range as string)!;
      if (to === '') expect(line.bytes_downloaded as number).toBeGreaterThan(0);
      else expect(line.bytes_downloaded, line.range as string).toBe(Number(to) - Number(from) + 1);
    }
    expect(logged.reduce((sum, line) => sum + (line.bytes_downloaded as number), 0)).toBeGreaterThanOrEqual(BIG.bytes.length);
  });

  it('fails with one line when the key is wrong (the origin enforces x-api-key)', async () => {
    const { origin, dir } = await setup({ apiKey: KEY, files: [SMALL] });
    const result = await get(origin, dir, [SMALL.id], [], 'sk-ant-test-wrong-key');
    expect(result.code, explain(result)).toBe(1);
    expect(result.stderrLines).toHaveLength(1);
    expect(result.stderrLines[0]).toMatch(/^filehaul: /);
    expect(result.stderrLines[0]).toContain(SMALL.id);
    expect(result.stderrLines[0]).toContain('401');
    expect(result.stderrLines[0]).toContain('invalid x-api-key');
    expect(origin.contentRequests()).toHaveLength(0);
    expect(await filesUnder(path.join(dir, 'raw'))).toEqual([]);
  });

  // Product bug: the JSON reporter documents timestamp/file_id/bytes_downloaded/duration_ms/retry_count on every
  // line, but `state` lines carry only timestamp and file_id (src/main/cli/reporters.ts, case 'state'; also 'retry'
  // and 'restart'). Flip to `it` once every line has all five fields.
  it('puts timestamp, file_id, bytes_downloaded, duration_ms and retry_count on every JSON line', async () => {
    const { origin, dir } = await setup({ apiKey: KEY, files: [SMALL] });
    const result = await get(origin, dir, [SMALL.id], ['--json']);
    expect(result.code, explain(result)).toBe(0);
    expect(result.events.map((event) => event.event)).toContain('state');
    for (const event of result.events) {
      for (const field of LOG_FIELDS) expect(event, `${field} in ${JSON.stringify(event)}`).toHaveProperty(field);
    }
  });
});

describe('reruns and mixed runs', () => {
  it('exits 1 for one good and one unknown id, archives the good one and names the failed one on stderr', async () => {
    const { origin, dir } = await setup({ apiKey: KEY, files: [SMALL] });
    const missing = 'file_011CLIdoesNotExist';
    const result = await get(origin, dir, [SMALL.id, missing]);
    expect(result.code, explain(result)).toBe(1);
    expect((await readFile(path.join(dir, 'raw/2024-12', SMALL.filename))).equals(SMALL.bytes)).toBe(true);
    expect(result.stderrLines).toHaveLength(1);
    expect(result.stderrLines[0]).toContain(missing);
    expect(result.stderrLines[0]).not.toContain(SMALL.id);
    expect(origin.contentRequests(missing)).toHaveLength(0);
  });

  it('exits 0 without any content request when the file is already archived', async () => {
    const { origin, dir } = await setup({ apiKey: KEY, files: [SMALL] });
    const first = await get(origin, dir, [SMALL.id]);
    expect(first.code, explain(first)).toBe(0);
    const contentBefore = origin.contentRequests().length;
    expect(contentBefore).toBeGreaterThan(0);

    const again = await get(origin, dir, [SMALL.id], ['--json']);
    expect(again.code, explain(again)).toBe(0);
    expect(again.stderr).toBe('');
    expect(origin.contentRequests()).toHaveLength(contentBefore);
    expect(again.events).toHaveLength(1);
    expect(again.events[0]).toMatchObject({ event: 'done', file_id: SMALL.id, already_archived: true, path: `raw/2024-12/${SMALL.filename}` });
    // Still one copy, no "report (2).csv".
    expect(await filesUnder(path.join(dir, 'raw'))).toEqual([path.join(dir, 'raw/2024-12', SMALL.filename)]);
  });
});

describe('filehaul get <url>', () => {
  it('archives a plain URL under its Content-Disposition filename in the current UTC month', async () => {
    const file: OriginFile = { id: 'plain-1', filename: 'quarterly report été.csv', bytes: makeBytes(3 * MiB + 17, 13), createdAt: '2021-01-01T00:00:00Z' };
    const { origin, dir } = await setup({ files: [file] });
    const before = utcMonth(new Date());
    const result = await runCli(['get', `${origin.url}/dl/${file.id}`, '--dir', dir, '--json']);
    const after = utcMonth(new Date());
    expect(result.code, explain(result)).toBe(0);
    const done = result.events.find((event) => event.event === 'done')!;
    // No created_at for a URL: the month it was downloaded (either side of a month boundary during the run).
    expect([`raw/${before}/${file.filename}`, `raw/${after}/${file.filename}`]).toContain(done.path);
    expect((await readFile(path.join(dir, done.path as string))).equals(file.bytes)).toBe(true);
    expect(await filesUnder(path.join(dir, 'raw'))).toEqual([path.join(dir, done.path as string)]);
    // No API headers go to a plain URL.
    for (const request of origin.contentRequests(file.id)) expect(request.headers['x-api-key']).toBeUndefined();
  });
});
