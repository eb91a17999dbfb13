// End-to-end tests of checking and repairing the archive on a real data dir: verify (plain and encrypted at rest) and reindex after losing filehaul.db.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encryptFile } from '../../src/main/archive/encryption.ts';
import { defaultKeyFilePath, generateIdentity, recipientOf } from '../../src/main/archive/encryption-keys.ts';
import { verifyArchive } from '../../src/main/archive/verify.ts';
import { runLs, runMonths, runReindex, runVerify } from '../../src/main/cli/archive-commands.ts';
import { closeCatalog, openCatalog } from '../../src/main/store/database.ts';
import { recordArchivedFile } from '../../src/main/store/archive-entries.ts';
import { captureIo, layout, makeArchiveDir, removeArchiveDir, root, run, runJson, seed, sha256 } from './archive-harness.ts';

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

beforeEach(makeArchiveDir);
afterEach(removeArchiveDir);

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
