// Tests for layout.ts: data directory paths, archive months, .part paths and startup directory checks.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmod, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { archiveMonth, dataLayout, ensureDataDirs, partFilePath } from '../../src/main/archive/layout.ts';

const NOW = new Date('2026-07-04T12:00:00Z');

describe('dataLayout', () => {
  it('resolves every path absolutely under the data dir', () => {
    const layout = dataLayout('some/relative/data');
    const root = path.resolve('some/relative/data');
    expect(layout).toEqual({
      dataDir: root,
      rawDir: path.join(root, 'raw'),
      metaDir: path.join(root, 'meta'),
      tmpDir: path.join(root, 'tmp'),
      logsDir: path.join(root, 'logs'),
      dbPath: path.join(root, 'filehaul.db'),
    });
    for (const value of Object.values(layout)) expect(path.isAbsolute(value)).toBe(true);
  });
});

describe('archiveMonth', () => {
  it.each([
    ['2025-04-15T18:37:24.100435Z', '2025-04'],
    ['2025-04-30T23:59:59Z', '2025-04'],
    ['2025-12-31T23:30:00-05:00', '2026-01'], // 04:30 UTC on Jan 1
    ['2025-03-01T01:00:00+02:00', '2025-02'], // 23:00 UTC on Feb 28
    ['2025-03-01T01:00:00+0200', '2025-02'],
    ['2025-04-15', '2025-04'],
    ['2025-04-15T00:30', '2025-04'], // no offset: read as UTC, not local time
    ['2025-04-15 18:37:24z', '2025-04'],
    ['2016-12-31T23:59:60Z', '2016-12'], // leap second
    ['2024-02-29T10:00:00Z', '2024-02'],
    ['  2025-04-15T18:37:24Z  ', '2025-04'],
  ])('%j → %s', (input, expected) => {
    expect(archiveMonth(input, NOW)).toBe(expected);
  });

  it.each([null, '', 'garbage', '1', '2025-13-01', '2025-02-29', '2024-02-31', '2025-04-15T25:00:00Z',
    'Tue, 15 Apr 2025 18:37:24 GMT', '2025-04-15T18:37:24Z junk'])('%j → month of now', (input) => {
    expect(archiveMonth(input, NOW)).toBe('2026-07');
  });

  it('uses UTC for now as well', () => {
    expect(archiveMonth(null, new Date('2026-07-31T23:30:00-05:00'))).toBe('2026-08');
  });

  it('defaults now to the current time', () => {
    const expected = new Date().toISOString().slice(0, 7);
    expect(archiveMonth(null)).toBe(expected);
  });
});

describe('partFilePath', () => {
  const layout = dataLayout('/data');
  it('puts the part file in tmp/', () => {
    expect(partFilePath(layout, 'dl_01H-abc')).toBe(path.join(layout.tmpDir, 'dl_01H-abc.part'));
    expect(partFilePath(layout, 'a'.repeat(64))).toBe(path.join(layout.tmpDir, `${'a'.repeat(64)}.part`));
  });
  it.each(['', '../x', 'a/b', 'a\\b', '.', 'a.b', 'a b', 'a\u0000', 'é', 'a'.repeat(65), 'x\n'])('rejects %j', (id) => {
    expect(() => partFilePath(layout, id)).toThrow(/Invalid download id/u);
  });
});

describe('ensureDataDirs', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'filehaul-layout-'));
  });
  afterEach(async () => {
    await chmod(root, 0o700).catch(() => {});
    await rm(root, { recursive: true, force: true });
  });

  it('creates the directories and leaves no probe behind', async () => {
    const layout = dataLayout(path.join(root, 'nested', 'data'));
    await ensureDataDirs(layout);
    for (const dir of [layout.rawDir, layout.metaDir, layout.tmpDir, layout.logsDir]) {
      expect((await stat(dir)).isDirectory()).toBe(true);
      expect(await readdir(dir)).toEqual([]);
    }
    expect((await readdir(layout.dataDir)).sort()).toEqual(['logs', 'meta', 'raw', 'tmp']);
    await ensureDataDirs(layout); // idempotent
  });

  it('explains when a directory cannot be created', async () => {
    const layout = dataLayout(path.join(root, 'data'));
    await ensureDataDirs(dataLayout(path.join(root, 'data')));
    await rm(layout.tmpDir, { recursive: true });
    await writeFile(layout.tmpDir, 'in the way');
    await expect(ensureDataDirs(layout)).rejects.toThrow(`Cannot write to the data directory ${layout.dataDir}: `);
  });

  it('explains when the data dir is a file', async () => {
    const file = path.join(root, 'not-a-dir');
    await writeFile(file, 'x');
    await expect(ensureDataDirs(dataLayout(file))).rejects.toThrow(/^Cannot write to the data directory .*not-a-dir: /u);
  });

  // Root ignores permission bits, so this one only means something for ordinary users.
  it.skipIf(process.getuid?.() === 0 || process.platform === 'win32')('explains when the data dir is read-only', async () => {
    const layout = dataLayout(path.join(root, 'data'));
    await ensureDataDirs(layout);
    await chmod(layout.dataDir, 0o500);
    try {
      await expect(ensureDataDirs(layout)).rejects.toThrow(/^Cannot write to the data directory .*: .*EACCES/u);
    } finally {
      await chmod(layout.dataDir, 0o700);
    }
  });
});
