// Tests for place.ts: moving finished files into the archive without overwriting, including crash recovery.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { link, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { findPlacedCopy, fsyncDirectory, placeIntoArchive } from '../../src/main/archive/place.ts';

let root: string;
let tmpDir: string;
let monthDir: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'filehaul-place-'));
  tmpDir = path.join(root, 'tmp');
  monthDir = path.join(root, 'raw', '2025-04');
  await mkdir(tmpDir, { recursive: true });
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function part(id: string, content: string): Promise<string> {
  const file = path.join(tmpDir, `${id}.part`);
  await writeFile(file, content);
  return file;
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(() => true, () => false);
}

function expectInside(dir: string, file: string): void {
  expect(path.isAbsolute(file)).toBe(true);
  expect(path.dirname(file)).toBe(path.resolve(dir));
}

describe('placeIntoArchive', () => {
  it('moves the file into a freshly created month dir', async () => {
    const source = await part('a', 'hello');
    const placed = await placeIntoArchive(source, monthDir, 'report.pdf');
    expect(placed).toBe(path.join(monthDir, 'report.pdf'));
    expectInside(monthDir, placed);
    expect(await readFile(placed, 'utf8')).toBe('hello');
    expect(await exists(source)).toBe(false);
    expect((await stat(placed)).nlink).toBe(1);
  });

  it('gives a second file with the same name a copy suffix and never overwrites', async () => {
    const first = await placeIntoArchive(await part('a', 'first'), monthDir, 'report.pdf');
    const second = await placeIntoArchive(await part('b', 'second'), monthDir, 'report.pdf');
    const third = await placeIntoArchive(await part('c', 'third'), monthDir, 'report.pdf');
    expect(second).toBe(path.join(monthDir, 'report (2).pdf'));
    expect(third).toBe(path.join(monthDir, 'report (3).pdf'));
    expect(await readFile(first, 'utf8')).toBe('first');
    expect(await readFile(second, 'utf8')).toBe('second');
    expect(await readFile(third, 'utf8')).toBe('third');
  });

  it('keeps double extensions together in copies', async () => {
    await placeIntoArchive(await part('a', '1'), monthDir, 'backup.tar.gz');
    const copy = await placeIntoArchive(await part('b', '2'), monthDir, 'backup.tar.gz');
    expect(path.basename(copy)).toBe('backup (2).tar.gz');
  });

  it('does not overwrite a file that is not a regular file either', async () => {
    await mkdir(path.join(monthDir, 'data.bin'), { recursive: true });
    const placed = await placeIntoArchive(await part('a', 'x'), monthDir, 'data.bin');
    expect(path.basename(placed)).toBe('data (2).bin');
    expect((await stat(path.join(monthDir, 'data.bin'))).isDirectory()).toBe(true);
  });

  it('accepts the link an interrupted run already made, without a duplicate', async () => {
    const source = await part('a', 'payload');
    await mkdir(monthDir, { recursive: true });
    const target = path.join(monthDir, 'report.pdf');
    await link(source, target); // the crash happened right after linking, before the unlink
    const placed = await placeIntoArchive(source, monthDir, 'report.pdf');
    expect(placed).toBe(target);
    expect(await readdir(monthDir)).toEqual(['report.pdf']);
    expect(await exists(source)).toBe(false);
    expect((await stat(placed)).nlink).toBe(1);
  });

  it('recognises an interrupted placement under a copy-suffixed name', async () => {
    await placeIntoArchive(await part('a', 'other'), monthDir, 'report.pdf');
    const source = await part('b', 'mine');
    await link(source, path.join(monthDir, 'report (2).pdf'));
    const placed = await placeIntoArchive(source, monthDir, 'report.pdf');
    expect(path.basename(placed)).toBe('report (2).pdf');
    expect((await readdir(monthDir)).sort()).toEqual(['report (2).pdf', 'report.pdf']);
  });

  it('finds the earlier link even when a lower-numbered name has become free', async () => {
    const source = await part('a', 'mine');
    await mkdir(monthDir, { recursive: true });
    await link(source, path.join(monthDir, 'report (3).pdf')); // report.pdf and (2) were taken then, since removed
    expect(await findPlacedCopy(source, monthDir)).toBe(path.join(monthDir, 'report (3).pdf'));
    const placed = await placeIntoArchive(source, monthDir, 'report.pdf');
    expect(path.basename(placed)).toBe('report (3).pdf');
    expect(await readdir(monthDir)).toEqual(['report (3).pdf']);
  });

  it('can keep the source for the caller to remove, and repeating then finds the same entry', async () => {
    const source = await part('a', 'payload');
    await placeIntoArchive(await part('z', 'other'), monthDir, 'report.pdf');
    const placed = await placeIntoArchive(source, monthDir, 'report.pdf', { keepSource: true });
    expect(path.basename(placed)).toBe('report (2).pdf');
    expect(await readFile(source, 'utf8')).toBe('payload');
    expect((await stat(source)).nlink).toBe(2);
    const again = await placeIntoArchive(source, monthDir, 'report.pdf', { keepSource: true });
    expect(again).toBe(placed);
    expect((await readdir(monthDir)).sort()).toEqual(['report (2).pdf', 'report.pdf']);
  });

  it('gives up after the configured number of names', async () => {
    await mkdir(monthDir, { recursive: true });
    for (const name of ['x.txt', 'x (2).txt', 'x (3).txt']) await writeFile(path.join(monthDir, name), 'taken');
    const source = await part('a', 'new');
    await expect(placeIntoArchive(source, monthDir, 'x.txt', { maxAttempts: 3 })).rejects.toThrow(/3 names are already taken/u);
    expect(await readFile(source, 'utf8')).toBe('new'); // nothing lost
    for (const name of ['x.txt', 'x (2).txt', 'x (3).txt']) {
      expect(await readFile(path.join(monthDir, name), 'utf8')).toBe('taken');
    }
  });

  it.each(['', '.', '..', '../escape.txt', 'a/b.txt', 'a\\b.txt', 'nul\u0000.txt'])(
    'refuses the non-component name %j and stays inside monthDir',
    async (name) => {
      const source = await part('a', 'x');
      await expect(placeIntoArchive(source, monthDir, name)).rejects.toThrow(/single path component/u);
      expect(await exists(source)).toBe(true);
      expect(await exists(path.join(root, 'raw', 'escape.txt'))).toBe(false);
    },
  );

  it('keeps every result directly inside monthDir, even given a relative monthDir', async () => {
    const relative = path.relative(process.cwd(), monthDir);
    const placed = await placeIntoArchive(await part('a', 'x'), relative, '..hidden..name');
    expectInside(monthDir, placed);
    expect(path.basename(placed)).toBe('..hidden..name');
  });

  it('reports a missing source without touching the archive', async () => {
    await expect(placeIntoArchive(path.join(tmpDir, 'missing.part'), monthDir, 'a.txt')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readdir(monthDir)).toEqual([]);
  });
});

describe('findPlacedCopy', () => {
  it('returns null when the source is gone or was never linked', async () => {
    expect(await findPlacedCopy(path.join(tmpDir, 'missing.part'), monthDir)).toBeNull();
    const source = await part('a', 'x');
    expect(await findPlacedCopy(source, monthDir)).toBeNull(); // month dir does not exist yet
    await placeIntoArchive(await part('b', 'y'), monthDir, 'other.txt');
    expect(await findPlacedCopy(source, monthDir)).toBeNull();
  });
});

describe('fsyncDirectory', () => {
  it('syncs an existing directory and fails on a missing one', async () => {
    await fsyncDirectory(root);
    await expect(fsyncDirectory(path.join(root, 'nope'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
