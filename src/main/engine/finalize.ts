// Finalize: prove the part file is complete (every range written, size right), hash it, and hand it to the archive.
import type { DownloadRecord } from '../../shared/model.ts';
import { FatalError } from './errors.ts';
import { sha256File, type PrefixHash } from './file-hash.ts';
import type { PartFile } from './part-file.ts';
import type { ArchivePort } from './ports.ts';
import type { LiveSegment } from './range-request.ts';

export async function finalizeDownload(
  record: DownloadRecord,
  part: PartFile,
  segments: readonly LiveSegment[],
  archive: ArchivePort,
  prefixHash: PrefixHash | null = null,
  /** Other work that must end well before the file is placed (the run's last confirm); it runs beside the hash. */
  alongside: Promise<unknown> = Promise.resolve(),
  /** The digest the file is published with, if the user gave one (lower-case hex). */
  expectedSha256: string | null = null,
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
  // The prefix hash has already read what was contiguous during the transfer; it hashes only the rest now.
  const [, sha256] = await Promise.all([part.sync(), prefixHash ? prefixHash.finish() : sha256File(part.path), alongside]);
  if (expectedSha256 !== null && sha256 !== expectedSha256) {
    // The part file and its confirmed ranges stay: the same origin sends the same bytes, so downloading them again
    // would not help, while a run with the right digest (a mistyped or stale one is the likelier cause) places them at once.
    throw new FatalError(
      `SHA-256 mismatch: the file hashes to ${sha256}, not the expected ${expectedSha256}; it was not archived ` +
        '(its bytes are kept: a run with the right SHA-256 archives them without downloading again)',
    );
  }
  record.sha256 = sha256;
  const finalPath = await archive.place(record, part.path);
  return { finalPath, sha256 };
}
