// Finalize: prove the part file is complete (every range written, size right), hash it, and hand it to the archive.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { DownloadRecord } from '../../shared/model.ts';
import { FatalError } from './errors.ts';
import type { PartFile } from './part-file.ts';
import type { ArchivePort } from './ports.ts';
import type { LiveSegment } from './range-request.ts';

export async function finalizeDownload(
  record: DownloadRecord,
  part: PartFile,
  segments: readonly LiveSegment[],
  archive: ArchivePort,
): Promise<{ finalPath: string; sha256: string }> {
  const gap = segments.find((segment) => segment.written < segment.end);
  if (gap) throw new FatalError(`internal error: bytes ${gap.written}-${gap.end - 1} were never written`);
  const size = await part.size();
  if (record.sizeBytes !== null && size !== record.sizeBytes) {
    throw new FatalError(`the downloaded file has ${size} bytes but the source announced ${record.sizeBytes}`);
  }
  record.sizeBytes = size;
  // The sync waits on the disk and the hash on the CPU, and nothing writes the file any more: run them side by side.
  // Both must finish before the file is placed, so the archive still only ever receives durable, hashed bytes.
  const [, sha256] = await Promise.all([part.sync(), sha256File(part.path)]);
  record.sha256 = sha256;
  const finalPath = await archive.place(record, part.path);
  return { finalPath, sha256 };
}

/** Size of each read while hashing: large enough that a read is one cheap page-cache copy, small enough to stay in cache. */
const HASH_PIECE_BYTES = 2 * 1024 * 1024;

/**
 * SHA-256 of a file, read in pieces into two reused buffers: while one piece is hashed on this thread, the next is
 * read on the thread pool, so the disk (or page cache) and the hash overlap instead of taking turns. Never the whole
 * file in memory, and no garbage buffer per piece for the collector to catch up with.
 */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  const buffers = [Buffer.allocUnsafe(HASH_PIECE_BYTES), Buffer.allocUnsafe(HASH_PIECE_BYTES)];
  const handle = await open(path, 'r');
  let pending: Promise<{ bytesRead: number }> | null = null;
  try {
    let position = 0;
    let current = 0;
    pending = handle.read(buffers[current], 0, HASH_PIECE_BYTES, position);
    for (;;) {
      const { bytesRead } = await pending;
      if (bytesRead === 0) break;
      position += bytesRead;
      // Start the next read into the other buffer before hashing this one; the buffer being hashed is never read into.
      const next = 1 - current;
      pending = handle.read(buffers[next], 0, HASH_PIECE_BYTES, position);
      hash.update(buffers[current].subarray(0, bytesRead));
      current = next;
    }
  } finally {
    // A read still in flight (the loop left by an error) must end before its file handle closes under it.
    await pending?.catch(() => {});
    await handle.close();
  }
  return hash.digest('hex');
}
