// From download to archive: the catalog entry, the month manifest, encryption at rest, and a catalog rebuilt after loss.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decryptFile } from '../../src/main/archive/encryption.ts';
import { readIdentityFile, defaultKeyFilePath } from '../../src/main/archive/encryption-keys.ts';
import { reindex } from '../../src/main/archive/reindex.ts';
import { verifyArchive } from '../../src/main/archive/verify.ts';
import { plaintextSha256 } from '../../src/main/archive/encryption.ts';
import { listMonthFiles, listMonths } from '../../src/main/store/archive-entries.ts';
import { makeBytes } from '../fixtures/files-api-origin.ts';
import { startHarness, TEST_KEY, type Harness } from './engine-harness.ts';

let harness: Harness;

beforeEach(async () => {
  harness = await startHarness();
  harness.origin.addFile({ id: 'file_jan', filename: 'report.pdf', bytes: makeBytes(300_000, 1), createdAt: '2025-01-15T10:00:00Z', mimeType: 'application/pdf' });
  harness.origin.addFile({ id: 'file_feb', filename: 'data.csv', bytes: makeBytes(5000, 2), createdAt: '2025-02-01T00:00:00Z' });
});
afterEach(async () => {
  await harness.close();
});

describe('archive flow', () => {
  it('records each finished file in the catalog and its month manifest', async () => {
    await harness.get(['file_jan', 'file_feb']);
    const service = await harness.open();
    try {
      expect(listMonths(service.db).map((month) => [month.month, month.fileCount])).toEqual([['2025-02', 1], ['2025-01', 1]]);
      const [entry] = listMonthFiles(service.db, '2025-01').entries;
      expect(entry).toMatchObject({ path: 'raw/2025-01/report.pdf', fileId: 'file_jan', sizeBytes: 300_000, mimeType: 'application/pdf', encrypted: false });
    } finally {
      await service.close();
    }
    const manifest = JSON.parse(readFileSync(path.join(harness.dataDir, 'meta', '2025-01.json'), 'utf8'));
    const listed = JSON.stringify(manifest);
    expect(listed).toContain('raw/2025-01/report.pdf');
    expect(listed).toContain(harness.origin.getFile('file_jan').etag!.replaceAll('"', '\\"'));
    expect(listed).not.toContain(TEST_KEY);
  });

  it('encrypts at rest so that age decrypts to the original, and verify checks the plaintext', async () => {
    const [result] = await harness.get(['file_jan'], {}, { encrypt: true });
    expect(result.outcome.state).toBe('done');
    if (result.outcome.state !== 'done') return;
    expect(result.outcome.record.finalPath).toBe('raw/2025-01/report.pdf.age');
    const archived = path.join(harness.dataDir, result.outcome.record.finalPath!);
    expect(readFileSync(archived).subarray(0, 21).toString()).toBe('age-encryption.org/v1');
    const { identity } = await readIdentityFile(defaultKeyFilePath(harness.dataDir));
    const out = path.join(harness.dataDir, 'decrypted.pdf');
    await decryptFile(archived, out, identity);
    expect(readFileSync(out).equals(harness.origin.getFile('file_jan').bytes)).toBe(true);
    rmSync(out);
    expect(existsSync(path.join(harness.dataDir, 'tmp', `${result.outcome.record.id}.age`))).toBe(false);

    const service = await harness.open();
    try {
      const report = await verifyArchive(service.db, service.layout, { plaintextHash: (file) => plaintextSha256(file, identity) });
      expect(report.ok).toBe(1);
      expect(report.changed).toEqual([]);
    } finally {
      await service.close();
    }
  });

  it('rebuilds the catalog from manifests after the database is lost, and get then downloads nothing again', async () => {
    await harness.get(['file_jan']);
    for (const suffix of ['', '-wal', '-shm']) rmSync(path.join(harness.dataDir, `filehaul.db${suffix}`), { force: true });
    const service = await harness.open();
    try {
      await reindex(service.db, service.layout);
      expect(listMonths(service.db).map((month) => month.month)).toEqual(['2025-01']);
      const [prepared] = service.prepare(['file_jan']);
      expect('alreadyDone' in prepared && prepared.alreadyDone).toBe(true);
    } finally {
      await service.close();
    }
    expect(harness.origin.contentRequests('file_jan')).toHaveLength(1);
  });
});
