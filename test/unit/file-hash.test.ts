// SHA-256 of files on a real file: whole, and as a prefix hashed while the file is still being written.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PrefixHash, sha256File, writtenPrefix } from '../../src/main/engine/file-hash.ts';

const MiB = 1024 * 1024;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
/** Bytes that differ at every offset, so a piece hashed twice, skipped or out of order changes the digest. */
function bytesOf(size: number): Buffer {
  const bytes = Buffer.allocUnsafe(size);
  for (let index = 0; index < size; index++) bytes[index] = (index * 31 + (index >>> 11)) & 0xff;
  return bytes;
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'filehaul-hash-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A complete part file of `size` bytes in the test dir, and a PrefixHash over it. */
function completePart(name: string, size: number): { bytes: Buffer; prefix: PrefixHash } {
  const bytes = bytesOf(size);
  const file = path.join(dir, name);
  writeFileSync(file, bytes);
  return { bytes, prefix: new PrefixHash(file) };
}

describe('sha256File', () => {
  it('hashes a file of several read pieces, an uneven tail and an empty file', async () => {
    const bytes = bytesOf(5 * MiB + 77);
    writeFileSync(path.join(dir, 'a'), bytes);
    writeFileSync(path.join(dir, 'empty'), '');
    expect(await sha256File(path.join(dir, 'a'))).toBe(sha256(bytes));
    expect(await sha256File(path.join(dir, 'empty'))).toBe(sha256(Buffer.alloc(0)));
  });
});

describe('PrefixHash', () => {
  it('hashes the written prefix as it grows and only the rest at finish, to the digest of the whole file', async () => {
    const bytes = bytesOf(21 * MiB + 3);
    const file = path.join(dir, 'b.part');
    const handle = await open(file, 'w+');
    await handle.truncate(bytes.length);
    const prefix = new PrefixHash(file);
    // The first 9 MiB arrive: one background step hashes them; 5 more are too few for another step.
    await handle.write(bytes, 0, 9 * MiB, 0);
    await prefix.advance(9 * MiB);
    expect(prefix.hashedBytes).toBe(9 * MiB);
    await handle.write(bytes, 9 * MiB, 5 * MiB, 9 * MiB);
    await prefix.advance(14 * MiB);
    expect(prefix.hashedBytes).toBe(9 * MiB);
    // The rest lands out of order (as ranges do); finish hashes from 9 MiB to the end.
    await handle.write(bytes, 14 * MiB, bytes.length - 14 * MiB, 14 * MiB);
    await handle.close();
    expect(await prefix.finish()).toBe(sha256(bytes));
    expect(prefix.hashedBytes).toBe(bytes.length);
  });

  it('leaves a download arriving faster than a tenth of the hash speed to finish, where the hash runs beside the fsync', async () => {
    const { bytes, prefix } = completePart('fast.part', 16 * MiB);
    await prefix.advance(bytes.length, 500 * MiB);
    expect(prefix.hashedBytes).toBe(0);
    await prefix.advance(bytes.length, 20 * MiB);
    expect(prefix.hashedBytes).toBe(bytes.length);
    expect(await prefix.finish()).toBe(sha256(bytes));
  });

  it('goes on to a prefix announced while a step runs, once that step ends', async () => {
    // A range that ends while the hash is busy moves the prefix; waiting for the next progress tick would leave
    // that range to finalize.
    const { bytes, prefix } = completePart('moving.part', 20 * MiB);
    const first = prefix.advance(9 * MiB);
    const second = prefix.advance(18 * MiB);
    await Promise.all([first, second]);
    expect(prefix.hashedBytes).toBe(18 * MiB);
    expect(await prefix.finish()).toBe(sha256(bytes));
  });

  it('judges its speed by the hash alone, not by an event loop that is busy with the download meanwhile', async () => {
    const { bytes, prefix } = completePart('busy.part', 24 * MiB);
    // Between the reads of the first step the event loop is held 40 ms at a time (as a busy download holds it):
    // by the clock that step ran at about 2 MiB per 40 ms, 50 MiB/s.
    let busy = true;
    const hold = () => {
      const until = performance.now() + 40;
      while (performance.now() < until);
      if (busy) setImmediate(hold);
    };
    setImmediate(hold);
    await prefix.advance(8 * MiB);
    busy = false;
    expect(prefix.hashedBytes).toBe(8 * MiB);
    // 20 MiB/s is more than a tenth of that clock speed but far less than a tenth of what SHA-256 itself does
    // (over 300 MiB/s even without SHA instructions): the background must go on, not stop for good.
    await prefix.advance(24 * MiB, 20 * MiB);
    expect(prefix.hashedBytes).toBe(24 * MiB);
    expect(await prefix.finish()).toBe(sha256(bytes));
  });

  it('starts no step once finishing, so nothing is fed into the digest twice', async () => {
    const { bytes, prefix } = completePart('c.part', 17 * MiB);
    const finished = prefix.finish();
    await prefix.advance(bytes.length);
    expect(await finished).toBe(sha256(bytes));
  });

  it('falls back to hashing the whole file when a background step could not read', async () => {
    const file = path.join(dir, 'd.part');
    const prefix = new PrefixHash(file);
    await prefix.advance(16 * MiB); // the file does not exist yet: the step fails quietly
    expect(prefix.hashedBytes).toBe(0);
    const bytes = bytesOf(16 * MiB);
    writeFileSync(file, bytes);
    await prefix.advance(16 * MiB);
    expect(prefix.hashedBytes).toBe(0);
    expect(await prefix.finish()).toBe(sha256(bytes));
  });
});

describe('writtenPrefix', () => {
  it('is the lowest write position among unfinished ranges, in whatever order the ranges are listed', () => {
    const ranges = [
      { start: 50, end: 100, written: 80 },
      { start: 0, end: 50, written: 50 },
      { start: 100, end: 150, written: 120 },
    ];
    expect(writtenPrefix(ranges)).toBe(80);
  });

  it('is the end of the file when every range is finished, and 0 before any range is planned', () => {
    expect(writtenPrefix([{ end: 60, written: 60 }, { end: 30, written: 30 }])).toBe(60);
    expect(writtenPrefix([])).toBe(0);
  });
});
