// SHA-256 of files: of a whole file, and of a part file as its written prefix grows, so finalize hashes only the rest.
import { createHash, type Hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';

/** Size of each read while hashing: large enough that a read is one cheap page-cache copy, small enough to stay in cache. */
const HASH_PIECE_BYTES = 2 * 1024 * 1024;

/**
 * Feeds bytes [from, to) of an open file into `hash` (to = Infinity: up to the end), read in pieces into two reused
 * buffers: while one piece is hashed on this thread, the next is read on the thread pool, so the disk (or page
 * cache) and the hash overlap instead of taking turns. Never the whole file in memory. Returns where it stopped
 * and the hash's own speed (bytes/s): that of its fastest whole piece, timed around the update alone (the waits for
 * reads, and whatever else the event loop ran meanwhile, are not the hash's cost). Other pieces can only look
 * slower, never faster: the first pass over each new buffer (its fresh pages made it 10-20 times slower in a
 * Firecracker VM) and an update during which a busy machine ran another process. Null when no whole piece was hashed.
 */
async function hashRange(handle: FileHandle, hash: Hash, from: number, to: number, buffers: readonly Buffer[] = pieceBuffers()): Promise<{ position: number; bytesPerSecond: number | null }> {
  const readAt = (buffer: Buffer, position: number) => handle.read(buffer, 0, Math.min(HASH_PIECE_BYTES, to - position), position);
  let position = from;
  let current = 0;
  let fastestPieceMs = Infinity;
  let pending: Promise<{ bytesRead: number }> | null = position < to ? readAt(buffers[current], position) : null;
  try {
    while (pending) {
      const { bytesRead } = await pending;
      pending = null;
      if (bytesRead === 0) break;
      position += bytesRead;
      // Start the next read into the other buffer before hashing this one; the buffer being hashed is never read into.
      const next = 1 - current;
      if (position < to) pending = readAt(buffers[next], position);
      const began = performance.now();
      hash.update(buffers[current].subarray(0, bytesRead));
      if (bytesRead === HASH_PIECE_BYTES) fastestPieceMs = Math.min(fastestPieceMs, performance.now() - began);
      current = next;
    }
  } finally {
    // A read still in flight (the loop left by an error) must end before its caller closes the file under it.
    await pending?.catch(() => {});
  }
  return { position, bytesPerSecond: fastestPieceMs === Infinity ? null : (HASH_PIECE_BYTES * 1000) / Math.max(0.01, fastestPieceMs) };
}

/** The two buffers hashRange reads into by turns. */
function pieceBuffers(): Buffer[] {
  return [Buffer.allocUnsafe(HASH_PIECE_BYTES), Buffer.allocUnsafe(HASH_PIECE_BYTES)];
}

/** SHA-256 (hex) of a whole file. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  const handle = await open(path, 'r');
  try {
    await hashRange(handle, hash, 0, Infinity);
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

/** Hash no fewer bytes than this per background step: small steps would cost a read and a wake-up for little. */
const MIN_STEP_BYTES = 8 * 1024 * 1024;

/**
 * Background steps run only while the download arrives slower than this share of the hash's own speed, i.e. while
 * keeping up costs under a tenth of a core. A fast download is CPU-bound already (1 GiB over loopback on 2 cores:
 * hashing along slowed the transfer by more than it saved at the end); it is hashed at finish, beside the fsync.
 */
const MAX_CPU_SHARE = 0.1;
/** The hash speed assumed until a step has measured it (bytes/s): low, so a fast download is not hashed along. */
const ASSUMED_HASH_BYTES_PER_SECOND = 1e9;

/**
 * The SHA-256 of a part file, computed while it downloads. The hash can only run front to back, so it follows the
 * written prefix (every byte below it on disk, see `writtenPrefix`) in the background; finalize then hashes only
 * what was not contiguous yet. On loopback, where ranges finish at different times, that is a good part of the
 * file; with equal throttled ranges, the first range. Bytes below the prefix never change while a part file lives
 * (a changed remote file restarts with a new part file and a new PrefixHash), so what was hashed stays right.
 * Any read error is not fatal: finish() then hashes the whole file itself.
 */
export class PrefixHash {
  readonly #path: string;
  readonly #hash = createHash('sha256');
  #handle: FileHandle | null = null;
  #hashed = 0;
  /** How far the background should hash: the highest prefix it was told of. */
  #target = 0;
  #running: Promise<void> | null = null;
  #broken = false;
  #closed = false;
  #hashBytesPerSecond = ASSUMED_HASH_BYTES_PER_SECOND;
  /**
   * The read buffers, kept from step to step and for finish(): 4 MiB while the download runs. Fresh ones cost their
   * first pass (page faults: in this VM an 8 MiB step took 30-108 ms with new buffers and 6-18 ms with reused ones),
   * and finish() runs on the path to done.
   */
  #buffers: Buffer[] | null = null;

  constructor(path: string) {
    this.#path = path;
  }

  /** Bytes hashed so far (the start of the file up to here). */
  get hashedBytes(): number {
    return this.#hashed;
  }

  /**
   * Hashes on towards `prefix` in the background, unless too little is waiting or the download (`bytesPerSecond`
   * now) is too fast to keep up with cheaply. A call while a step runs raises its target: the background goes on
   * to it when the step ends, so a range that finishes meanwhile is not left for the next call. The returned
   * promise (never rejected) is for tests; the engine does not wait for it.
   */
  advance(prefix: number, bytesPerSecond = 0): Promise<void> {
    if (prefix > this.#target) this.#target = prefix;
    if (this.#running) return this.#running;
    if (this.#broken || this.#closed || this.#target - this.#hashed < MIN_STEP_BYTES) return Promise.resolve();
    if (bytesPerSecond > this.#hashBytesPerSecond * MAX_CPU_SHARE) return Promise.resolve();
    this.#running = this.#catchUp().finally(() => (this.#running = null));
    return this.#running;
  }

  /** Steps until the hash is within a step of the target; finish() and close() stop it between steps. */
  async #catchUp(): Promise<void> {
    while (!this.#broken && !this.#closed && this.#target - this.#hashed >= MIN_STEP_BYTES) await this.#step(this.#target);
  }

  async #step(to: number): Promise<void> {
    try {
      this.#handle ??= await open(this.#path, 'r');
      const { position, bytesPerSecond } = await hashRange(this.#handle, this.#hash, this.#hashed, to, (this.#buffers ??= pieceBuffers()));
      this.#hashed = position;
      // By the hash's own time: timed by the clock, a step shares the event loop with the download (and the CPU
      // with other processes) and would seem several times slower, and would then stop the background for good.
      if (bytesPerSecond !== null) this.#hashBytesPerSecond = bytesPerSecond;
    } catch {
      this.#broken = true;
    }
  }

  /** The SHA-256 (hex) of the whole file, hashing what the background has not; the file must be complete. */
  async finish(): Promise<string> {
    // No background step may start now: it would feed the same hash at the same time.
    this.#closed = true;
    await this.#running;
    try {
      if (this.#broken) return await sha256File(this.#path);
      this.#handle ??= await open(this.#path, 'r');
      this.#hashed = (await hashRange(this.#handle, this.#hash, this.#hashed, Infinity, (this.#buffers ??= pieceBuffers()))).position;
      return this.#hash.digest('hex');
    } finally {
      await this.close();
    }
  }

  /** Stops hashing and closes the file (after a step still running ends). Safe to call twice. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#running;
    const handle = this.#handle;
    this.#handle = null;
    this.#buffers = null;
    await handle?.close().catch(() => {});
  }
}

/**
 * How far from the start every byte is written: the lowest write position among unfinished ranges. Ranges cover
 * the file without overlap and each fills from its start, so every byte below that is in a finished range or in
 * the written start of an unfinished one; the last range's end when all are finished, and 0 when there are none
 * yet (a preallocated part file is all zeros until its ranges are planned).
 */
export function writtenPrefix(segments: readonly { end: number; written: number }[]): number {
  let prefix = Infinity;
  let end = 0;
  for (const segment of segments) {
    if (segment.written < segment.end && segment.written < prefix) prefix = segment.written;
    if (segment.end > end) end = segment.end;
  }
  return prefix === Infinity ? end : prefix;
}
