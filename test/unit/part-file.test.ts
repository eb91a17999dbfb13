// The part file on a real file: bytes land at their offsets, write-behind syncs start on their own, and a write-back
// error caught by one of them still fails the next sync.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { open as openHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PartFile } from '../../src/main/engine/part-file.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'filehaul-part-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Counts (and optionally fails) fdatasync calls by wrapping the real FileHandle class's method for one test. The
 * file and the calls stay real; only a failing disk cannot be made here, so that one answer is injected.
 */
async function watchDatasync(failFirst?: NodeJS.ErrnoException): Promise<{ calls: () => number; restore: () => void }> {
  const probe = await openHandle(path.join(dir, 'probe'), 'w');
  const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> };
  await probe.close();
  const real = proto.datasync;
  let calls = 0;
  proto.datasync = function (this: unknown) {
    calls++;
    if (calls === 1 && failFirst) return Promise.reject(failFirst);
    return real.call(this);
  };
  return { calls: () => calls, restore: () => (proto.datasync = real) };
}

describe('PartFile', () => {
  it('writes buffers at their offsets into a file of the announced size', async () => {
    const file = path.join(dir, 'a.part');
    const part = await PartFile.open(file, 10);
    await part.writev([Buffer.from('fgh'), Buffer.from('ij')], 5);
    await part.write(Buffer.from('abcde'), 0);
    await part.sync();
    await part.close();
    expect(readFileSync(file, 'utf8')).toBe('abcdefghij');
  });

  it('starts a sync by itself once the write-behind amount has been written since the last one', async () => {
    const watch = await watchDatasync();
    try {
      const part = await PartFile.open(path.join(dir, 'b.part'), 64 * 1024, 16 * 1024);
      await part.write(Buffer.alloc(8 * 1024, 1), 0);
      expect(watch.calls()).toBe(0);
      await part.write(Buffer.alloc(8 * 1024, 2), 8 * 1024);
      expect(watch.calls()).toBe(1);
      await part.close();
    } finally {
      watch.restore();
    }
  });

  it('writes behind nothing when the amount is 0', async () => {
    const watch = await watchDatasync();
    try {
      const part = await PartFile.open(path.join(dir, 'c.part'), 64 * 1024, 0);
      await part.write(Buffer.alloc(64 * 1024, 1), 0);
      await part.close();
      expect(watch.calls()).toBe(0);
    } finally {
      watch.restore();
    }
  });

  it('fails the next sync when a write-behind sync got the disk error, though the later fdatasync succeeds', async () => {
    const eio = Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
    const watch = await watchDatasync(eio);
    try {
      const part = await PartFile.open(path.join(dir, 'd.part'), 32 * 1024, 16 * 1024);
      await part.write(Buffer.alloc(16 * 1024, 1), 0);
      expect(watch.calls()).toBe(1);
      await expect(part.sync()).rejects.toMatchObject({ code: 'EIO' });
      expect(watch.calls()).toBe(2);
      await part.close();
    } finally {
      watch.restore();
    }
  });
});
