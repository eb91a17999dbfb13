// Benchmark files: writes random source files in 8 MiB pieces, hashes files, and finds filehaul's archived output.
import { createHash, randomFillSync } from 'node:crypto';
import { closeSync, createReadStream, existsSync, openSync, readdirSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';

export const MiB = 1024 * 1024;
const PIECE = 8 * MiB;

/** Writes `size` random bytes to `file` one 8 MiB piece at a time; returns the sha256 (hex) of what was written. */
export function writeRandomFile(file: string, size: number): string {
  const hash = createHash('sha256');
  const piece = Buffer.allocUnsafe(PIECE);
  const fd = openSync(file, 'w');
  try {
    for (let done = 0; done < size; ) {
      const n = Math.min(PIECE, size - done);
      const chunk = piece.subarray(0, n);
      randomFillSync(chunk);
      hash.update(chunk);
      for (let off = 0; off < n; ) off += writeSync(fd, chunk, off, n - off);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: PIECE })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p) : e.isFile() ? [p] : [];
  });
}

/**
 * filehaul files a finished download as <dir>/raw/YYYY-MM/<name>. The month depends on the source's metadata, so
 * walk <dir>/raw: prefer a file named like the source, else the only file there.
 */
export function findFilehaulOutput(dir: string, name: string): string | null {
  const files = walk(path.join(dir, 'raw'));
  const named = files.filter((f) => path.basename(f) === name);
  if (named.length === 1) return named[0];
  const like = files.filter((f) => path.basename(f).startsWith(name));
  if (like.length === 1) return like[0];
  return files.length === 1 ? files[0] : null;
}

export function fileSize(file: string): number {
  return statSync(file).size;
}
