// End-to-end error tests of `filehaul get`: one clear stderr line and a non-zero exit per problem, nothing archived, the API key never leaked.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeBytes, startOrigin } from '../fixtures/files-api-origin.ts';
import type { Origin, OriginFile, OriginOptions } from '../fixtures/files-api-origin.ts';
import { filesUnder, killLeftoverChildren, makeTempDir, runCli } from './run-cli.ts';
import type { CliResult } from './run-cli.ts';

const KEY = 'sk-ant-test-errors-key';

const GOOD: OriginFile = { id: 'file_011CLIgoodOne', filename: 'chart.png', bytes: makeBytes(200_000, 31), createdAt: '2025-01-15T12:00:00Z', mimeType: 'image/png' };
const UPLOADED: OriginFile = { id: 'file_011CLIuploadedByUser', filename: 'upload.pdf', bytes: makeBytes(50_000, 32), createdAt: '2025-01-15T12:00:00Z', downloadable: false };
const MISSING = 'file_011CLInoSuchFile';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await killLeftoverChildren();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(options: OriginOptions = { apiKey: KEY, files: [GOOD, UPLOADED] }): Promise<{ origin: Origin; root: string; dir: string }> {
  const origin = await startOrigin(options);
  cleanups.push(() => origin.close());
  const temp = await makeTempDir();
  cleanups.push(temp.remove);
  return { origin, root: temp.dir, dir: path.join(temp.dir, 'data') };
}

function get(origin: Origin, dir: string, inputs: string[], extra: string[] = [], env: Record<string, string> = { ANTHROPIC_API_KEY: KEY }): Promise<CliResult> {
  return runCli(['get', ...inputs, '--dir', dir, '--api-base', origin.url, ...extra], { env });
}

function explain(result: CliResult): string {
  return `exit ${result.code} signal ${result.signal}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
}

/** One `filehaul: …` line on stderr, returned for further checks. */
function oneLine(result: CliResult): string {
  expect(result.stderrLines, explain(result)).toHaveLength(1);
  expect(result.stderrLines[0]).toMatch(/^filehaul: \S/);
  return result.stderrLines[0];
}

async function nothingArchived(dir: string): Promise<void> {
  expect(await filesUnder(path.join(dir, 'raw'))).toEqual([]);
}

describe('filehaul get errors', () => {
  it('refuses a file id without an API key before any request', async () => {
    const { origin, dir } = await setup();
    const result = await get(origin, dir, [GOOD.id], [], {});
    expect(result.code, explain(result)).toBe(1);
    const line = oneLine(result);
    expect(line).toContain(GOOD.id);
    expect(line).toContain('ANTHROPIC_API_KEY');
    expect(origin.requests).toEqual([]);
    await nothingArchived(dir);
  });

  it('names an unknown id with the API message and request-id', async () => {
    const { origin, dir } = await setup();
    const result = await get(origin, dir, [MISSING]);
    expect(result.code, explain(result)).toBe(1);
    const line = oneLine(result);
    const answered = origin.requests.find((request) => request.fileId === MISSING && request.status === 404)!;
    expect(answered).toBeDefined();
    expect(line).toContain(MISSING);
    expect(line).toContain('404');
    expect(line).toContain(`File not found: ${MISSING}`);
    expect(line).toContain(answered.requestId);
    expect(origin.contentRequests()).toEqual([]);
    await nothingArchived(dir);
  });

  it('refuses a file that is not downloadable without asking for its content', async () => {
    const { origin, dir } = await setup();
    const result = await get(origin, dir, [UPLOADED.id]);
    expect(result.code, explain(result)).toBe(1);
    const line = oneLine(result);
    expect(line).toContain(UPLOADED.id);
    expect(line).toMatch(/not downloadable/);
    expect(origin.requests.filter((request) => request.fileId === UPLOADED.id).map((request) => request.kind)).toEqual(['metadata']);
    await nothingArchived(dir);
  });

  it('refuses malformed inputs with one line each and no request', async () => {
    const { origin, dir } = await setup();
    // Spaces and commas separate inputs (a pasted list), so malformed inputs here have none.
    const inputs = ['ftp://x/y', 'not-a-url://x', 'http://[::1', 'file_x/../y'];
    const result = await get(origin, dir, inputs);
    expect(result.code, explain(result)).toBe(1);
    expect(result.stderrLines).toHaveLength(inputs.length);
    for (const input of inputs) {
      const lines = result.stderrLines.filter((line) => line.startsWith(`filehaul: ${input}: `));
      expect(lines, `${input} in\n${result.stderr}`).toHaveLength(1);
    }
    expect(result.stderr).toMatch(/Only http:\/\/ and https:\/\/ URLs/);
    expect(result.stderr).toMatch(/neither a file id nor a valid URL/);
    expect(result.stderr).toMatch(/is not a file id/);
    expect(origin.requests).toEqual([]);
    await nothingArchived(dir);
  });

  it('fails with one line when --dir cannot be created (a path under a regular file)', async () => {
    const { origin, root } = await setup();
    const blocker = path.join(root, 'not-a-directory');
    await writeFile(blocker, 'just a file');
    const result = await get(origin, path.join(blocker, 'data'), [GOOD.id]);
    expect(result.code, explain(result)).toBe(1);
    const line = oneLine(result);
    expect(line).toContain('Cannot write to the data directory');
    expect(line).toContain(blocker);
    expect(origin.requests).toEqual([]);
    expect(await readFile(blocker, 'utf8')).toBe('just a file');
  });

  it.each([
    { name: 'no ids', args: [] as string[], says: /at least one file id or URL/ },
    { name: '--connections 99', args: [GOOD.id, '--connections', '99'], says: /--connections 99 on the command line: must be a whole number from 1 to 32/ },
  ])('exits 2 on a usage error: $name', async ({ args, says }) => {
    const { origin, dir } = await setup();
    const result = await get(origin, dir, args);
    expect(result.code, explain(result)).toBe(2);
    expect(oneLine(result)).toMatch(says);
    expect(origin.requests).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  });
});

describe('the API key', () => {
  it('never appears in stdout, stderr, the catalog or any file under --dir', async () => {
    const key = `sk-ant-test-PLANTED-${randomBytes(12).toString('hex')}`;
    const { origin, root, dir } = await setup({ apiKey: key, files: [GOOD, UPLOADED] });
    const first = await get(origin, dir, [GOOD.id, MISSING, UPLOADED.id, `${origin.url}/dl/${GOOD.id}`], ['--json'], { ANTHROPIC_API_KEY: key });
    expect(first.code, explain(first)).toBe(1);
    expect(first.stderrLines).toHaveLength(2);
    // The same again through --api-key-file (kept outside --dir), with plain-line output.
    const keyFile = path.join(root, 'key.txt');
    await writeFile(keyFile, `${key}\n`);
    const second = await get(origin, dir, [GOOD.id, MISSING], ['--api-key-file', keyFile], {});
    expect(second.code, explain(second)).toBe(1);
    const status = await runCli(['status', '--dir', dir, '--json']);
    expect(status.code, explain(status)).toBe(0);

    // The key was really used, so it had every chance to leak.
    expect(origin.requests.some((request) => request.headers['x-api-key'] === key)).toBe(true);
    for (const request of origin.contentRequests()) if (request.kind === 'plain') expect(request.headers['x-api-key']).toBeUndefined();
    expect((await readFile(path.join(dir, 'raw/2025-01', GOOD.filename))).equals(GOOD.bytes)).toBe(true);

    for (const [name, result] of Object.entries({ first, second, status })) {
      expect(result.stdout.includes(key), `${name} stdout`).toBe(false);
      expect(result.stderr.includes(key), `${name} stderr`).toBe(false);
    }
    const files = await filesUnder(dir);
    expect(files).toContain(path.join(dir, 'filehaul.db'));
    for (const file of files) expect((await readFile(file)).includes(key), file).toBe(false);
  });

  // Product bug: service.ts promises "no message that leaves the engine may carry the key, whatever an error echoed
  // back", but only events are redacted (FilehaulService.onEvent → redactEvent). The failure message itself is stored
  // in downloads.error (DownloadRun.#settle → #setState('failed', message)) and printed by get.ts from
  // outcome.message, so an error body echoing the key lands in stderr and in filehaul.db. Flip to `it` once fixed.
  it('is not leaked when an error response echoes it back', async () => {
    const key = `sk-ant-test-PLANTED-${randomBytes(12).toString('hex')}`;
    const { origin, dir } = await setup({ apiKey: key, files: [GOOD] });
    const echoing = 'file_011CLIechoesTheKey';
    origin.injectFault(
      { kind: 'status', status: 400, body: JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: `bad request for key ${key}` } }) },
      { match: (entry) => entry.fileId === echoing },
    );
    const result = await get(origin, dir, [GOOD.id, echoing], ['--json'], { ANTHROPIC_API_KEY: key });
    expect(result.code, explain(result)).toBe(1);
    expect(origin.requests.some((request) => request.fault === 'status')).toBe(true);
    expect(result.stdout.includes(key), 'stdout').toBe(false);
    expect(result.stderr.includes(key), 'stderr').toBe(false);
    for (const file of await filesUnder(dir)) expect((await readFile(file)).includes(key), file).toBe(false);
  });
});
