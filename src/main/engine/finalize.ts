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

/**
 * SHA-256 of a file, read in 1 MiB pieces into one reused buffer: never the whole file in memory, and no
 * garbage buffer per piece for the collector to catch up with (a 1 GiB file would otherwise leave ~1,000 behind).
 */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(1024 * 1024);
  const handle = await open(path, 'r');
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}
