// Hostile input that reaches the disk: API file names, Content-Disposition, created_at and command-line ids never escape the data dir.
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { DownloadRecord } from '../../src/shared/model.ts';
import { createArchivePort } from '../../src/main/archive/archive-port.ts';
import { dataLayout, ensureDataDirs } from '../../src/main/archive/layout.ts';
import { filenameFromDisposition } from '../../src/main/sources/url.ts';
import { makeBytes } from '../fixtures/make-bytes.ts';
import { startLyingOrigin, type LyingFile } from '../fixtures/lying-origin.ts';
import { filesUnder, killLeftoverChildren, runCli } from '../integration/run-cli.ts';
import { snapshotTree, tempDir } from './proof-helpers.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  await killLeftoverChildren();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A temp root holding data/ and a sentinel outside/ dir; the returned check proves nothing outside data/ changed. */
function guardedRoot(): { root: string; dataDir: string; unchangedOutside: () => void } {
  const temp = tempDir('filehaul-hostile-');
  cleanups.push(temp.remove);
  mkdirSync(path.join(temp.dir, 'outside', 'deeper'), { recursive: true });
  writeFileSync(path.join(temp.dir, 'outside', 'sentinel.txt'), 'keep me');
  const outside = () => snapshotTree(temp.dir).filter((entry) => !entry.startsWith('data/') && entry !== 'data/');
  const before = outside();
  return { root: temp.dir, dataDir: path.join(temp.dir, 'data'), unchangedOutside: () => expect(outside()).toEqual(before) };
}

const pathish = fc.string({ unit: fc.constantFrom('.', '/', '\\', ':', 'a', 'é', ' ', '\u0000', '\n', '\u001b', '~', 'C', '*', '?', '"', '<', '|', '😀', '\u0301'), maxLength: 40 });
const filename = fc.oneof(
  pathish,
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ unit: 'grapheme', maxLength: 120 }),
  fc.constantFrom('../../outside/sentinel.txt', '/etc/passwd', '..', '.', '', 'C:\\Windows\\win.ini', 'CON', 'nul.tar.gz', 'a/'.repeat(50), '\u202egnp.exe', `${'x'.repeat(300)}.pdf`),
  // The same names as a server would put them in Content-Disposition, through the header parser.
  fc.oneof(pathish, fc.string({ maxLength: 60 })).chain((name) =>
    fc.constantFrom(`attachment; filename="${name}"`, `attachment; filename*=UTF-8''${encodeURIComponent(name)}`, `attachment; filename=${name}`, `inline; filename*=utf-8''${name}`).map((header) => filenameFromDisposition(header)),
  ),
  fc.constant(null),
);
const createdAt = fc.oneof(
  fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.string({ maxLength: 30 }),
  fc.constantFrom(null, '2024-02-31T00:00:00Z', '9999-12-31T23:59:60-14:00', '-000001-01-01T00:00:00Z', '+275760-09-13T00:00:00Z', '2025-06', '1', '2025-06-01T25:00:00Z'),
);

describe('placement of hostile names', () => {
  it('Content-Disposition parsing never throws and yields a string or null', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), pathish.map((s) => `attachment; filename*=${s}; filename="${s}"`)), (header) => {
        const name = filenameFromDisposition(header);
        expect(name === null || typeof name === 'string').toBe(true);
      }),
      { numRuns: 500, seed: 7 },
    );
  });

  it('any API or header file name and any created_at lands as one file directly in raw/YYYY-MM, and nothing outside data/ changes', async () => {
    const { dataDir, unchangedOutside } = guardedRoot();
    const layout = dataLayout(dataDir);
    await ensureDataDirs(layout);
    // place() needs neither the catalog nor the manifests (commit() does); plaintext, as without --encrypt.
    const port = createArchivePort(layout, { db: undefined as never, manifests: undefined as never, encryption: null });
    const rawDir = path.join(dataDir, 'raw');
    let n = 0;
    await fc.assert(
      fc.asyncProperty(filename, createdAt, fc.constantFrom('files-api', 'url'), async (name, created, kind) => {
        const id = `dl_fuzz${n++}`;
        const partPath = port.partPath(id);
        writeFileSync(partPath, `part ${id}`);
        const record = { id, sourceKind: kind, sourceRef: kind === 'url' ? 'https://x.test/../../a' : '../../file', filename: name, createdAt: created } as DownloadRecord;
        const finalPath = await port.place(record, partPath);
        expect(finalPath).toMatch(/^raw\/\d{4}-\d{2}\/[^/]+$/u);
        const absolute = path.join(dataDir, finalPath);
        expect(path.dirname(path.dirname(absolute))).toBe(rawDir);
        // The archived entry is the part file itself (a hard link), not something else that happened to be there.
        expect(statSync(absolute).ino).toBe(statSync(partPath).ino);
        rmSync(partPath);
      }),
      { numRuns: 250, seed: 11 },
    );
    unchangedOutside();
    expect(await filesUnder(path.join(dataDir, 'tmp'))).toEqual([]);
  });
});

describe('hostile input through the command line', () => {
  const honest: LyingFile = { id: 'file_honestCli', bytes: makeBytes(300_000, 91), filename: 'fine.csv', createdAt: '2025-03-01T00:00:00Z', lie: 'honest' };
  const evilName: LyingFile = { id: 'file_evilName', bytes: makeBytes(200_000, 92), filename: '../../outside/sentinel.txt', createdAt: '2025-03-01T00:00:00Z', lie: 'honest' };
  const escName: LyingFile = { id: 'file_escName', bytes: makeBytes(100_000, 93), filename: '\u001b[2J\u001b]0;owned\u0007report\n.txt', createdAt: '../../1999-01', lie: 'honest' };

  it('every hostile id gets its own specific error, the sane ones still download, and nothing outside data/ is touched', async () => {
    const origin = await startLyingOrigin([honest, evilName, escName]);
    cleanups.push(() => origin.close());
    const { dataDir, unchangedOutside } = guardedRoot();
    // NUL cannot travel in argv, and a URL would be fetched (tested elsewhere); everything else may be typed or pasted.
    const sampled = fc.sample(fc.string({ unit: fc.constantFrom('.', '/', '\\', '%', '?', '#', 'a', '_', ':', '~', '\u0001', '\u202e', '😀', '-'), minLength: 1, maxLength: 12 }), { numRuns: 25, seed: 3 });
    const hostile = ['../../outside/sentinel.txt', '..\\..\\outside', '%2e%2e%2foutside', 'file_a?b=c', 'file#x', 'file_\u0001ctl', 'x'.repeat(300), 'ftp://example.test/f', 'https://', '-rf', '--dir=/', ...sampled];
    const inputs = [...hostile, honest.id, evilName.id, escName.id];
    const result = await runCli(['get', '--dir', dataDir, '--api-base', origin.url, '--json', '--max-retries', '0', '--', ...inputs], { env: { ANTHROPIC_API_KEY: 'sk-ant-hostile-cli' } });
    expect(result.code, result.stderr).toBe(1);
    expect(result.otherLines).toEqual([]);

    const errors = result.events.filter((event) => event.event === 'error');
    const done = result.events.filter((event) => event.event === 'done');
    expect(done.map((event) => event.file_id).sort()).toEqual([escName.id, evilName.id, honest.id].sort());
    // Each failure names its input and says why in one line: refused before any request, or the API's own 404.
    const specific = /(is not a file id: .+|is neither a file id nor a valid URL\.|Only http:\/\/ and https:\/\/ URLs can be downloaded .+|HTTP 404 not_found_error: .+|has no valid size_bytes .+)/u;
    for (const event of errors) expect(String(event.error), JSON.stringify(event)).toMatch(specific);
    expect(result.stderrLines).toHaveLength(errors.length);
    expect(errors.length).toBeGreaterThanOrEqual(hostile.length - 2);

    // Hostile names from the API land inside raw/YYYY-MM under a cleaned name; the sentinel they aimed at is untouched.
    const archived = (await filesUnder(path.join(dataDir, 'raw'))).map((file) => path.relative(dataDir, file)).sort();
    expect(archived).toHaveLength(3);
    for (const file of archived) expect(file).toMatch(/^raw\/\d{4}-\d{2}\/[^/\u0000-\u001f]+$/u);
    expect(archived).toContain('raw/2025-03/fine.csv');
    expect(archived).toContain('raw/2025-03/sentinel.txt');
    expect(readFileSync(path.join(dataDir, 'raw/2025-03/sentinel.txt')).equals(evilName.bytes)).toBe(true);
    unchangedOutside();
  });

  // Found by this suite: server-controlled text (an API error message, a file name) reached the terminal with raw
  // control characters. Now they are neutralised in API error messages and in everything get prints.
  it('text a server controls reaches the terminal without raw control characters', async () => {
    const denied: LyingFile = { id: 'file_escError', bytes: Buffer.alloc(10), filename: 'x.bin', createdAt: '2025-03-01T00:00:00Z', lie: 'honest', metadataBody: { status: 403, contentType: 'application/json', body: JSON.stringify({ type: 'error', error: { type: 'permission_error', message: '\u001b[2J\u001b]0;owned\u0007 denied' } }) } };
    const origin = await startLyingOrigin([denied]);
    cleanups.push(() => origin.close());
    const { dataDir } = guardedRoot();
    const result = await runCli(['get', denied.id, '--dir', dataDir, '--api-base', origin.url], { env: { ANTHROPIC_API_KEY: 'sk-ant-hostile-cli' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/HTTP 403 permission_error/);
    expect(result.stderr + result.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f]/u);
  });
});
