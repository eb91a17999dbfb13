// `filehaul get --sha256`: a file is archived only when it hashes to the digest it is published with.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeBytes, startOrigin } from '../fixtures/files-api-origin.ts';
import type { Origin, OriginFile } from '../fixtures/files-api-origin.ts';
import { filesUnder, killLeftoverChildren, makeTempDir, runCli } from './run-cli.ts';
import type { CliResult } from './run-cli.ts';

const KEY = 'sk-ant-test-sha256-key';
const FILE: OriginFile = { id: 'file_011Sha256Checked', filename: 'release.tar.gz', bytes: makeBytes(3 * 1024 * 1024, 41), createdAt: '2025-06-01T12:00:00Z' };
const RIGHT = createHash('sha256').update(FILE.bytes).digest('hex');
const WRONG = createHash('sha256').update('something else').digest('hex');

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await killLeftoverChildren();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(): Promise<{ origin: Origin; dir: string }> {
  const origin = await startOrigin({ apiKey: KEY, files: [FILE] });
  cleanups.push(() => origin.close());
  const temp = await makeTempDir();
  cleanups.push(temp.remove);
  return { origin, dir: path.join(temp.dir, 'data') };
}

function get(origin: Origin, dir: string, extra: string[], inputs: string[] = [FILE.id]): Promise<CliResult> {
  return runCli(['get', ...inputs, '--dir', dir, '--api-base', origin.url, '--connections', '4', ...extra], { env: { ANTHROPIC_API_KEY: KEY } });
}

const explain = (result: CliResult) => `exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;

describe('filehaul get --sha256', () => {
  it('archives a file that hashes to the digest, given in upper case with an aria2-style prefix', async () => {
    const { origin, dir } = await setup();
    const result = await get(origin, dir, ['--json', `--sha256=sha-256=${RIGHT.toUpperCase()}`]);
    expect(result.code, explain(result)).toBe(0);
    expect(result.events.at(-1)).toMatchObject({ event: 'done', sha256: RIGHT });
    expect((await readFile(path.join(dir, 'raw/2025-06', FILE.filename))).equals(FILE.bytes)).toBe(true);
  });

  it('refuses to archive a file that hashes otherwise, keeps its bytes, and archives them with the right digest without downloading again', async () => {
    const { origin, dir } = await setup();
    const wrong = await get(origin, dir, ['--json', '--sha256', WRONG]);
    expect(wrong.code, explain(wrong)).toBe(1);
    expect(wrong.stderrLines).toHaveLength(1);
    expect(wrong.stderrLines[0]).toContain(FILE.id);
    expect(wrong.stderrLines[0]).toContain(`hashes to ${RIGHT}, not the expected ${WRONG}`);
    expect(wrong.events.at(-1)).toMatchObject({ event: 'error' });
    // Nothing unverified in the archive.
    expect(await filesUnder(path.join(dir, 'raw'))).toEqual([]);

    const fetched = origin.contentRequests(FILE.id).length;
    const right = await get(origin, dir, ['--json', '--sha256', RIGHT]);
    expect(right.code, explain(right)).toBe(0);
    expect(right.events.at(-1)).toMatchObject({ event: 'done', sha256: RIGHT });
    expect(origin.contentRequests(FILE.id).length).toBe(fetched);
    expect((await readFile(path.join(dir, 'raw/2025-06', FILE.filename))).equals(FILE.bytes)).toBe(true);
  });

  it('checks a file already in the archive against the digest too', async () => {
    const { origin, dir } = await setup();
    expect((await get(origin, dir, [])).code).toBe(0);
    const again = await get(origin, dir, ['--sha256', WRONG]);
    expect(again.code, explain(again)).toBe(1);
    expect(again.stderr).toContain(`its SHA-256 is ${RIGHT}, not the expected ${WRONG}`);
    expect((await get(origin, dir, ['--sha256', RIGHT])).code).toBe(0);
  });

  it('refuses a malformed digest, and one digest for two files, before any request', async () => {
    const { origin, dir } = await setup();
    const malformed = await get(origin, dir, ['--sha256', 'abc123']);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('--sha256 takes the file\'s SHA-256 as 64 hex digits (got "abc123")');
    const missing = await get(origin, dir, ['--sha256']);
    expect(missing.code).toBe(2);
    const two = await get(origin, dir, ['--sha256', RIGHT], [FILE.id, 'file_011Another']);
    expect(two.code).toBe(2);
    expect(two.stderr).toContain('--sha256 is the digest of one file, and 2 were given');
    expect(origin.requests).toEqual([]);
  });
});
