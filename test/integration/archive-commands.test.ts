// End-to-end tests of the archive commands on a real data dir: months, ls, search, verify, and reindex after losing filehaul.db.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DownloadRecord } from '../../src/shared/model.ts';
import { encryptFile } from '../../src/main/archive/encryption.ts';
import { defaultKeyFilePath, generateIdentity, recipientOf } from '../../src/main/archive/encryption-keys.ts';
import { dataLayout, type DataLayout } from '../../src/main/archive/layout.ts';
import { archiveFinishedDownload, ManifestWriter } from '../../src/main/archive/manifest-writer.ts';
import { verifyArchive } from '../../src/main/archive/verify.ts';
import { runLs, runMonths, runReindex, runVerify } from '../../src/main/cli/archive-commands.ts';
import type { CommandIo } from '../../src/main/cli/get.ts';
import { main } from '../../src/main/cli/main.ts';
import { closeCatalog, openCatalog } from '../../src/main/store/database.ts';
import { recordArchivedFile } from '../../src/main/store/archive-entries.ts';
import { runCli } from './run-cli.ts';

let root: string;
let layout: DataLayout;

interface Seed {
  month: string;
  name: string;
  content: string;
  filename?: string;
  sourceKind?: 'files-api' | 'url';
  encrypted?: boolean;
}

const SEEDS: Seed[] = [
  { month: '2025-03', name: 'report.pdf', content: 'the quarterly report' },
  { month: '2025-03', name: 'notes.txt', content: 'some notes, longer than the report itself', sourceKind: 'url' },
  { month: '2025-03', name: 'Ünïcode Résumé.txt', content: 'ü' },
  { month: '2025-03', name: 'evil_name.txt', content: 'x', filename: 'evil\u001b[2Jname.txt' },
  { month: '2025-04', name: 'data.csv', content: 'a,b\n1,2\n' },
  { month: '2025-04', name: 'photo.jpg', content: 'not really a jpeg' },
  { month: '2024-12', name: 'old.bin', content: 'old bytes' },
];

const sha256 = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');

function record(seed: Seed, n: number): DownloadRecord {
  const url = seed.sourceKind === 'url';
  return {
    id: `dl_${n}`,
    sourceKind: url ? 'url' : 'files-api',
    sourceRef: url ? `https://example.com/${encodeURIComponent(seed.name)}` : `file_${n}`,
    apiBase: url ? null : 'https://api.anthropic.com',
    filename: seed.filename ?? seed.name,
    mimeType: url ? null : 'application/octet-stream',
    sizeBytes: Buffer.byteLength(seed.content),
    createdAt: `${seed.month}-10T12:00:00Z`,
    etag: url ? null : `"e${n}"`,
    lastModified: null,
    rangeSupported: true,
    state: 'done',
    error: null,
    addedAt: '2025-05-01T00:00:00.000Z',
    updatedAt: '2025-05-01T00:00:00.000Z',
    completedAt: `2025-05-01T00:00:0${n}.000Z`,
    finalPath: `raw/${seed.month}/${seed.name}`,
    sha256: sha256(seed.content),
    restartCount: 0,
  };
}

/** Puts the seed files on disk and archives them the way a finished download is archived, manifests included. */
async function seed(seeds: Seed[] = SEEDS): Promise<void> {
  const db = openCatalog(layout.dbPath);
  const writer = new ManifestWriter(db, layout, { debounceMs: 60_000 });
  try {
    seeds.forEach((s, n) => {
      fs.mkdirSync(path.join(layout.rawDir, s.month), { recursive: true });
      fs.writeFileSync(path.join(layout.rawDir, s.month, s.name), s.content);
      archiveFinishedDownload(db, writer, record(s, n), `raw/${s.month}/${s.name}`, s.encrypted ?? false);
    });
  } finally {
    await writer.close();
    closeCatalog(db);
  }
}

function captureIo(): CommandIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (text) => void (out += text), isTTY: false },
    stderr: { write: (text) => void (err += text), isTTY: false },
    onInterrupt: () => () => {},
    out: () => out,
    err: () => err,
  };
}

async function run(command: (args: readonly string[], io: CommandIo) => Promise<number>, ...args: string[]) {
  const io = captureIo();
  const code = await command([...args, '--dir', root], io);
  return { code, out: io.out(), err: io.err() };
}

async function runJson(command: (args: readonly string[], io: CommandIo) => Promise<number>, ...args: string[]) {
  const { code, out } = await run(command, ...args, '--json');
  expect(code).toBe(0);
  return JSON.parse(out);
}

/** Everything months and ls show, month by month: the picture reindex must restore. */
async function snapshot(): Promise<unknown> {
  const io = captureIo();
  expect(await runMonths(['--dir', root, '--json'], io)).toBe(0);
  const months = io.out().trim().split('\n').filter(Boolean).map((line) => JSON.parse(line));
  const listings = [];
  for (const { month } of months) {
    for (const sort of ['name', 'downloaded', 'size']) listings.push(await runJson(runLs, '--month', month, '--sort', sort, '--limit', '2'));
    listings.push(await runJson(runLs, '--month', month));
  }
  return { months, listings };
}

function removeCatalog(): void {
  for (const suffix of ['', '-wal', '-shm']) fs.rmSync(layout.dbPath + suffix, { force: true });
}

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'filehaul-archive-cli-'));
  layout = dataLayout(root);
});
afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

describe('months and ls', () => {
  it('lists months newest first and pages a month sorted three ways', async () => {
    await seed();
    expect((await run(runMonths)).out).toBe(
      ['2025-04           2 files        25 B', '2025-03           4 files        64 B', '2024-12            1 file         9 B', '3 months, 7 files, 98 B', ''].join('\n'),
    );
    const text = (await run(runLs)).out;
    expect(text.split('\n')[0]).toBe('2025-04: 2 files, sorted by name');
    expect(text).toContain('data.csv');
    expect(text).toContain('Showing 1-2 of 2\n');

    const byName = await runJson(runLs, '--month', '2025-03');
    expect(byName.entries.map((e: { filename: string }) => e.filename)).toEqual(['evil\u001b[2Jname.txt', 'notes.txt', 'report.pdf', 'Ünïcode Résumé.txt']);
    expect(byName.entries[2]).toEqual({
      month: '2025-03',
      file_id: 'file_0',
      filename: 'report.pdf',
      path: 'raw/2025-03/report.pdf',
      size_bytes: 20,
      sha256: sha256('the quarterly report'),
      mime_type: 'application/octet-stream',
      created_at: '2025-03-10T12:00:00Z',
      downloaded_at: '2025-05-01T00:00:00.000Z',
      source: 'files-api',
      url: null,
      etag: '"e0"',
      encrypted: false,
      download_id: 'dl_0',
    });
    const bySize = await runJson(runLs, '--month', '2025-03', '--sort', 'size');
    expect(bySize.entries.map((e: { filename: string }) => e.filename)[0]).toBe('notes.txt');
    const page = await run(runLs, '--month', '2025-03', '--limit', '1', '--offset', '1');
    expect(page.out).toContain('notes.txt');
    expect(page.out).toContain('Showing 2-2 of 4; next page: --offset 2');
    // A name with a terminal escape is shown escaped, with the safe name it has on disk.
    expect(byName.total).toBe(4);
    const plain = (await run(runLs, '--month', '2025-03')).out;
    expect(plain).not.toContain('\u001b');
    expect(plain).toContain('evil\\u001b[2Jname.txt  → raw/2025-03/evil_name.txt');
  });

  it('searches names across months and within one', async () => {
    await seed();
    const found = await runJson(runLs, '--search', 'RÉSUMÉ');
    expect(found).toMatchObject({ mode: 'substring', total: 1, total_exact: true });
    expect(found.entries[0].path).toBe('raw/2025-03/Ünïcode Résumé.txt');
    const prefix = await runJson(runLs, '--search', 'Re');
    expect(prefix.mode).toBe('prefix');
    expect(prefix.entries.map((e: { filename: string }) => e.filename)).toEqual(['report.pdf']);
    const inMonth = await runJson(runLs, '--search', 'a', '--month', '2025-04');
    expect(inMonth.entries.map((e: { filename: string }) => e.filename)).toEqual(['data.csv']);
    const text = (await run(runLs, '--search', '.txt')).out;
    expect(text.split('\n')[0]).toBe('Search ".txt" in all months: 3 matches (names containing it, newest first)');
    expect(text).toContain('2025-03 ');
  });

  it('says so when the archive is empty', async () => {
    expect((await run(runMonths)).out).toMatch(/^The archive in .* is empty\.\n$/);
    expect((await run(runLs)).out).toMatch(/is empty/);
    expect(await runJson(runLs)).toMatchObject({ month: null, total: 0, entries: [] });
  });

  it('turns bad options into usage errors (exit 2)', async () => {
    const io = captureIo();
    expect(await main(['ls', '--month', '2025-13', '--dir', root], io)).toBe(2);
    expect(await main(['ls', '--sort', 'colour', '--dir', root], io)).toBe(2);
    expect(await main(['ls', '--limit', '0', '--dir', root], io)).toBe(2);
    expect(await main(['verify', '--bogus', '--dir', root], io)).toBe(2);
    expect(await main(['months', 'extra', '--dir', root], io)).toBe(2);
    expect(io.err()).toContain('--month must be a month like 2025-03, got "2025-13"');
    expect(io.err()).toContain('--sort must be name, downloaded or size');
    expect(io.err()).toContain("Unknown option '--bogus'");
  });
});

describe('verify', () => {
  it('passes a clean archive and catches a flipped byte, a missing file and an unknown file', async () => {
    await seed();
    const clean = await run(runVerify);
    expect(clean.code).toBe(0);
    expect(clean.out).toContain('Checked 7 files (98 B hashed) in 3 months: 7 ok, 0 missing, 0 changed, 0 unknown, 0 skipped');

    const report = path.join(layout.rawDir, '2025-03', 'report.pdf');
    const bytes = fs.readFileSync(report);
    bytes[3] ^= 0x01;
    fs.writeFileSync(report, bytes);
    fs.rmSync(path.join(layout.rawDir, '2025-04', 'photo.jpg'));
    fs.writeFileSync(path.join(layout.rawDir, '2025-03', 'stray.bin'), 'who put this here');
    fs.writeFileSync(path.join(layout.rawDir, 'loose.txt'), 'not in a month folder');

    const broken = await run(runVerify, '--json');
    expect(broken.code).toBe(1);
    const result = JSON.parse(broken.out);
    expect(result).toMatchObject({
      failed: true,
      checked: 7,
      ok: 5,
      missing: ['raw/2025-04/photo.jpg'],
      unknown: ['raw/2025-03/stray.bin', 'raw/loose.txt'],
      skipped: [],
    });
    expect(result.changed).toEqual([
      {
        path: 'raw/2025-03/report.pdf',
        reason: 'the content has another SHA-256',
        expectedBytes: 20,
        actualBytes: 20,
        expectedSha256: sha256('the quarterly report'),
        actualSha256: sha256(bytes),
      },
    ]);
    const text = (await run(runVerify)).out;
    expect(text).toContain('changed  raw/2025-03/report.pdf: the content has another SHA-256\n');
    expect(text).toContain('missing  raw/2025-04/photo.jpg\n');
    expect(text).toContain('unknown  raw/2025-03/stray.bin');

    // One month at a time: only that month's problems, and a clean month passes.
    expect(JSON.parse((await run(runVerify, '--month', '2025-04', '--json')).out)).toMatchObject({ checked: 2, missing: ['raw/2025-04/photo.jpg'], changed: [], unknown: [] });
    expect((await run(runVerify, '--month', '2024-12')).code).toBe(0);
    // A size change is reported without reading the file.
    fs.appendFileSync(path.join(layout.rawDir, '2024-12', 'old.bin'), '!');
    expect(JSON.parse((await run(runVerify, '--month', '2024-12', '--json')).out).changed[0]).toMatchObject({ reason: 'size is 10 bytes, the catalog says 9', actualSha256: null });
  });

  it('skips encrypted files with a note unless given a plaintext hash', async () => {
    await seed([{ month: '2025-01', name: 'secret.txt.age', content: 'ciphertext stand-in', encrypted: true }]);
    const skipped = await run(runVerify);
    expect(skipped.code).toBe(0);
    expect(skipped.out).toContain('skipped  raw/2025-01/secret.txt.age: encrypted');

    const db = openCatalog(layout.dbPath);
    try {
      const seen: string[] = [];
      const ok = await verifyArchive(db, layout, {
        plaintextHash: async (file) => {
          seen.push(file);
          return sha256('ciphertext stand-in');
        },
      });
      expect(seen).toEqual([path.join(layout.rawDir, '2025-01', 'secret.txt.age')]);
      expect(ok).toMatchObject({ checked: 1, ok: 1, skipped: [], changed: [] });
      const bad = await verifyArchive(db, layout, { plaintextHash: async () => '0'.repeat(64) });
      expect(bad.changed[0]).toMatchObject({ path: 'raw/2025-01/secret.txt.age', reason: 'the decrypted content has another SHA-256' });
    } finally {
      closeCatalog(db);
    }
  });
});

describe('verify with encryption at rest', () => {
  it('checks an age-encrypted file by decrypting it with the data dir key, and catches a damaged one', async () => {
    const identity = await generateIdentity();
    fs.mkdirSync(root, { recursive: true });
    fs.writeFileSync(defaultKeyFilePath(root), `${identity}\n`, { mode: 0o600 });
    const plain = path.join(root, 'plain.txt');
    fs.writeFileSync(plain, 'the secret plans, long enough to span a little ciphertext');
    fs.mkdirSync(path.join(layout.rawDir, '2025-01'), { recursive: true });
    const target = path.join(layout.rawDir, '2025-01', 'plans.txt.age');
    const { plaintextSha256, bytes } = await encryptFile(plain, target, await recipientOf(identity));
    fs.rmSync(plain);
    const db = openCatalog(layout.dbPath);
    try {
      recordArchivedFile(db, {
        downloadId: 'dl_secret', sourceKind: 'files-api', sourceRef: 'file_secret', fileId: 'file_secret', filename: 'plans.txt', path: 'raw/2025-01/plans.txt.age',
        sizeBytes: bytes, sha256: plaintextSha256, mimeType: 'text/plain', createdAt: null, downloadedAt: '2025-01-05T00:00:00Z', etag: null, encrypted: true,
      });
    } finally {
      closeCatalog(db);
    }

    const good = await run(runVerify, '--json');
    expect(good.code).toBe(0);
    expect(JSON.parse(good.out)).toMatchObject({ checked: 1, ok: 1, skipped: [], changed: [] });
    // Without the key the file is skipped, not failed.
    fs.renameSync(defaultKeyFilePath(root), path.join(root, 'elsewhere.txt'));
    expect(JSON.parse((await run(runVerify, '--json')).out).skipped).toEqual([{ path: 'raw/2025-01/plans.txt.age', reason: 'encrypted, and no key to decrypt it was given' }]);
    expect((await run(runVerify, '--key-file', path.join(root, 'elsewhere.txt'))).code).toBe(0);

    const ciphertext = fs.readFileSync(target);
    ciphertext[ciphertext.length - 5] ^= 0xff;
    fs.writeFileSync(target, ciphertext);
    const bad = await run(runVerify, '--key-file', path.join(root, 'elsewhere.txt'), '--json');
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.out).changed).toEqual([expect.objectContaining({ path: 'raw/2025-01/plans.txt.age', reason: expect.stringMatching(/^cannot be decrypted/) })]);
    expect(bad.out).not.toContain(identity);
  });
});

describe('reindex', () => {
  it('restores months and listings exactly after filehaul.db is deleted', async () => {
    await seed();
    const before = await snapshot();
    removeCatalog();
    // Any command that opens a lost catalog rebuilds it from the manifests by itself…
    expect(await snapshot()).toEqual(before);
    removeCatalog();

    // …and reindex does it on demand, reporting what it found.
    const { code, out } = await run(runReindex);
    expect(code).toBe(0);
    expect(out).toBe('Reindexed 7 files in 3 months: 7 from manifests, 0 found without a manifest entry, 0 missing on disk\n');
    expect(await snapshot()).toEqual(before);
    expect((await run(runVerify)).code).toBe(0);
  });

  it('adds and reports files no manifest lists, reports listed files that are gone, and rewrites the manifest', async () => {
    await seed();
    fs.writeFileSync(path.join(layout.rawDir, '2025-04', 'added later.txt'), 'copied in by hand');
    fs.mkdirSync(path.join(layout.rawDir, '2025-07'));
    fs.writeFileSync(path.join(layout.rawDir, '2025-07', 'new month.bin'), 'a month with no manifest');
    fs.rmSync(path.join(layout.rawDir, '2024-12', 'old.bin'));
    removeCatalog();

    const report = await runJson(runReindex);
    expect(report.unmanifested).toEqual([
      { path: 'raw/2025-04/added later.txt', sizeBytes: 17, sha256: sha256('copied in by hand') },
      { path: 'raw/2025-07/new month.bin', sizeBytes: 24, sha256: sha256('a month with no manifest') },
    ]);
    expect(report.missingFiles).toEqual(['raw/2024-12/old.bin']);
    expect(report).toMatchObject({ entries: 9, fromManifests: 7, months: ['2024-12', '2025-03', '2025-04', '2025-07'], manifestsRewritten: ['2025-04', '2025-07'] });

    const added = (await runJson(runLs, '--month', '2025-04')).entries.find((e: { path: string }) => e.path.endsWith('added later.txt'));
    expect(added).toMatchObject({ source: 'unknown', file_id: null, filename: 'added later.txt', size_bytes: 17, sha256: sha256('copied in by hand') });
    const manifest = JSON.parse(fs.readFileSync(path.join(layout.metaDir, '2025-04.json'), 'utf8'));
    expect(manifest.files.map((f: { path: string }) => f.path)).toEqual(['raw/2025-04/added later.txt', 'raw/2025-04/data.csv', 'raw/2025-04/photo.jpg']);
    expect(fs.existsSync(path.join(layout.metaDir, '2025-07.json'))).toBe(true);
    // The lost file is still on record, so verify keeps saying it is missing.
    expect(JSON.parse((await run(runVerify, '--json')).out)).toMatchObject({ missing: ['raw/2024-12/old.bin'], unknown: [], changed: [] });
  });

  it('writes what only the catalog knows into the manifests before rebuilding from them', async () => {
    await seed();
    const db = openCatalog(layout.dbPath);
    try {
      // Recorded, month marked dirty, manifest not yet rewritten (as if the writer had not caught up).
      fs.writeFileSync(path.join(layout.rawDir, '2025-03', 'fresh.pdf'), 'fresh');
      recordArchivedFile(db, {
        downloadId: 'dl_fresh', sourceKind: 'files-api', sourceRef: 'file_fresh', fileId: 'file_fresh', filename: 'fresh.pdf', path: 'raw/2025-03/fresh.pdf',
        sizeBytes: 5, sha256: sha256('fresh'), mimeType: 'application/pdf', createdAt: null, downloadedAt: '2025-05-02T00:00:00Z', etag: null, encrypted: false,
      });
    } finally {
      closeCatalog(db);
    }
    const report = await runJson(runReindex);
    expect(report.unmanifested).toEqual([]);
    const fresh = (await runJson(runLs, '--search', 'fresh')).entries[0];
    expect(fresh).toMatchObject({ file_id: 'file_fresh', source: 'files-api', download_id: 'dl_fresh' });
  });

  it('reports an unreadable manifest and indexes its files as unknown', async () => {
    await seed();
    fs.writeFileSync(path.join(layout.metaDir, '2025-04.json'), '{ broken');
    removeCatalog();
    const report = await runJson(runReindex);
    expect(report.manifestProblems).toEqual([expect.stringMatching(/^meta\/2025-04\.json: not valid JSON/)]);
    expect(report.unmanifested.map((f: { path: string }) => f.path)).toEqual(['raw/2025-04/data.csv', 'raw/2025-04/photo.jpg']);
    expect(report.manifestsRewritten).toEqual(['2025-04']);
    expect(JSON.parse(fs.readFileSync(path.join(layout.metaDir, '2025-04.json'), 'utf8')).files).toHaveLength(2);
  });
});

describe('the filehaul binary', () => {
  it('runs the archive commands', async () => {
    await seed();
    const months = await runCli(['months', '--dir', root, '--json']);
    expect(months.code).toBe(0);
    expect(months.events.map((e) => e.month)).toEqual(['2025-04', '2025-03', '2024-12']);
    fs.rmSync(path.join(layout.rawDir, '2025-04', 'photo.jpg'));
    const verify = await runCli(['verify', '--dir', root]);
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain('missing  raw/2025-04/photo.jpg');
  });
});
